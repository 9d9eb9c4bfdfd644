import pytest

from audiox_bench.core.errors import SpecError
from audiox_bench.core.registry import canonical_spec, explainers
from audiox_bench.core.spec import Spec, parse_spec


def test_parse_name_only():
    assert parse_spec("audiolime") == Spec("audiolime", {})


def test_parse_values_are_typed():
    spec = parse_spec("x:a=1,b=0.5,c=true,d=none,e=hpss,f=t_dr-pno")
    assert spec.params == {"a": 1, "b": 0.5, "c": True, "d": None, "e": "hpss", "f": "t_dr-pno"}


def test_str_round_trips_sorted():
    assert str(parse_spec("x:b=2,a=true")) == "x:a=true,b=2"
    assert parse_spec(str(parse_spec("x:b=2,a=true"))) == parse_spec("x:a=true,b=2")


@pytest.mark.parametrize("text", ["", "  ", "x:", "x:a", "x:=1", "x:a=1,a=2", "1x", "x:a b=1", "x:a=1,"])
def test_bad_specs_raise_spec_error(text):
    with pytest.raises(SpecError):
        parse_spec(text)


def test_canonical_drops_defaults():
    assert canonical_spec(explainers, "audiolime:separator=oracle") == "audiolime"
    assert canonical_spec(explainers, "audiolime:separator=hpss,n_segments=1") == "audiolime:separator=hpss"
