import pytest

from audiox_bench.core.errors import SpecError
from audiox_bench.core.registry import explainers, tasks
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
    assert explainers.canonical("audiolime:separator=oracle") == "audiolime"
    assert explainers.canonical("audiolime:separator=hpss,n_segments=1") == "audiolime:separator=hpss"


@pytest.mark.parametrize(
    "spellings",
    [
        ("occlusion", "occlusion:separator=oracle", "occlusion:over=audiolime,n_segments=1"),
        ("random:over=slime", "random:over=slime,content=zero,segmentation=temporal"),
        ("gradient", "gradient:over=slime", "gradient:aggregate=sum,n_segments=10"),
        ("slime:segmentation=spectral", "slime:segmentation=spectral,n_bands=10,n_time=3,n_segments=4"),
        ("slime:n_samples=500", "slime:n_samples=500,max_exhaustive=8"),
        ("audiolime:separator=hpss", "audiolime:separator=hpss,n_components=3"),
        ("captum:method=Saliency", "captum:method=Saliency,n_steps=20,base=DeepLift,nt_type=vargrad"),
        ("captum:method=Lime", "captum:method=Lime,aggregate=mean,abs=false,stdevs=0.5"),
        ("kernelshap:over=slime", "kernelshap:over=slime,content=zero"),
    ],
    ids=lambda spellings: spellings[0],
)
def test_equal_configurations_have_one_canonical_form(spellings):
    """The canonical SPEC comes from the built object: every spelling of a configuration gives one form."""
    assert {explainers.canonical(text) for text in spellings} == {spellings[0]}


def test_parameters_that_matter_stay_in_the_canonical_form():
    assert explainers.canonical("captum:method=NoiseTunnel,base=Saliency") == "captum:base=Saliency,method=NoiseTunnel"
    assert explainers.canonical("captum:method=Saliency,abs=false") == "captum:abs=false,method=Saliency"
    assert explainers.canonical("slime:segmentation=spectral,n_bands=6") == "slime:n_bands=6,segmentation=spectral"
    assert tasks.canonical("confound:n_train=1600,split=t_dr-pno") == "confound"


def test_a_key_that_means_nothing_to_a_borrowed_factorization_is_refused():
    with pytest.raises(SpecError, match="'kernel_width' configures audiolime's own explanation") as error:
        explainers.build("occlusion:kernel_width=0.5")
    assert "\n" not in str(error.value) and "separator" in str(error.value)


def test_the_command_line_refuses_it_in_one_line(capsys):
    from audiox_bench.cli import main

    assert main(["run", "--explainer", "occlusion:kernel_width=0.5", "--n-examples", "1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: bad parameters for explainer 'occlusion:kernel_width=0.5'")
