"""Placing an explainer on an earlier run's board (``audiox run --explainer X --against DIR``): only X
runs, on the same examples, and it is ranked among the run's explainers; a run whose examples differ is
refused in one line before anything is written."""

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from audiox_bench.cli import main
from audiox_bench.results.store import read_records
from tests.conftest import TINY_CONFOUND_SPEC

EXAMPLE_PLUGIN = str(Path(__file__).resolve().parents[2] / "examples" / "my_explainer.py")


def run(*argv: str) -> int:
    return main(["run", "--no-progress", "--format", "csv", *argv])


@pytest.fixture(scope="module")
def earlier(tiny_confound, tmp_path_factory):
    """An earlier run of two explainers: the board to place others on."""
    out = tmp_path_factory.mktemp("earlier") / "run"
    argv = ["--task", TINY_CONFOUND_SPEC, "--explainer", "audiolime", "--explainer", "random"]
    assert run(*argv, "--metric", "topk_overlap", "--n-examples", "8", "--out", str(out)) == 0
    return out


def test_only_the_new_explainer_runs_and_is_ranked_with_the_others(earlier, tmp_path):
    before = {r.key: r for r in read_records(earlier)}
    files = {p: p.read_bytes() for p in earlier.rglob("*") if p.is_file()}
    out = tmp_path / "placed"
    assert run("--plugin", EXAMPLE_PLUGIN, "--explainer", "peak", "--against", str(earlier), "--out", str(out)) == 0
    after = {r.key: r for r in read_records(out)}
    new = {key for key in after if key[1] == "peak"}
    assert set(after) == set(before) | new and len(new) == 8
    assert all(after[key] == before[key] for key in before)  # copied, timing included: not rerun
    table = pd.read_csv(out / "leaderboard.csv")
    ranked = table[(table["metric"] == "topk_overlap") & (table["status"] == "ranked")]
    assert set(ranked["explainer"]) == {"audiolime", "random", "peak"}
    assert json.loads((out / "run.json").read_text())["spec"]["n_examples"] == 8
    assert {p: p.read_bytes() for p in earlier.rglob("*") if p.is_file()} == files  # only read


def test_an_explainer_the_run_had_is_made_afresh_and_gives_the_same_records(earlier, tmp_path):
    out = tmp_path / "again"
    assert run("--explainer", "audiolime", "--against", str(earlier), "--out", str(out)) == 0
    before = {r.key: r.without_timing() for r in read_records(earlier)}
    after = {r.key: r.without_timing() for r in read_records(out)}
    assert after == before  # the same seed and examples: the same explanations, bit for bit
    assert (out / "leaderboard.csv").read_bytes() == (earlier / "leaderboard.csv").read_bytes()


def test_a_run_whose_examples_differ_is_refused_before_anything_is_written(earlier, tmp_path, capsys):
    tampered = tmp_path / "tampered"
    shutil.copytree(earlier, tampered)
    validity = json.loads((tampered / "validity.json").read_text())
    (entry,) = validity.values()
    first = sorted(entry["examples"])[0]
    entry["examples"][first]["audio"] = "0" * 16
    (tampered / "validity.json").write_text(json.dumps(validity))
    out = tmp_path / "refused"
    assert run("--explainer", "random", "--against", str(tampered), "--out", str(out)) == 2
    error = capsys.readouterr().err
    assert f"the audio of 1 of its 8 examples differs from the run's (first {first!r}" in error
    assert error.count("\n") == 1 and not out.exists()
    entry["examples"][first]["output"] += 1e-3  # the same audio, another model
    entry["examples"][first]["audio"] = json.loads((earlier / "validity.json").read_text())[next(iter(validity))][
        "examples"
    ][first]["audio"]
    (tampered / "validity.json").write_text(json.dumps(validity))
    assert run("--explainer", "random", "--against", str(tampered), "--out", str(out)) == 2
    assert "the model's output differs from the run's by up to 0.001" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--n-examples", "4"], "leave out --n-examples"),
        (["--task", "confound"], "leave out --task"),
        ([], "needs the explainers to place"),
    ],
)
def test_options_that_change_the_run_are_refused(earlier, tmp_path, capsys, extra, message):
    explainer = [] if not extra else ["--explainer", "random"]
    assert run(*explainer, *extra, "--against", str(earlier), "--out", str(tmp_path / "x")) == 2
    assert message in capsys.readouterr().err


def test_the_run_directory_is_never_written_into(earlier, capsys):
    assert run("--explainer", "random", "--against", str(earlier), "--out", str(earlier)) == 2
    assert "only read" in capsys.readouterr().err


def test_a_run_without_fingerprints_is_refused(earlier, tmp_path, capsys):
    old = tmp_path / "old"
    shutil.copytree(earlier, old)
    validity = json.loads((old / "validity.json").read_text())
    for entry in validity.values():
        del entry["examples"]
    (old / "validity.json").write_text(json.dumps(validity))
    assert run("--explainer", "random", "--against", str(old)) == 2
    assert "no example fingerprints" in capsys.readouterr().err
