"""Difficulty sweeps: a task at several settings of one knob is one command; the page and sweeps.csv read each
explainer's score against the setting with the leaderboard's tests per setting."""

import pandas as pd
import pytest

from audiox_bench.cli import main
from audiox_bench.results.sweeps import find_sweeps
from tests.conftest import TINY_VOCALS_SPEC


def test_sweeps_are_task_specs_that_differ_in_one_parameter():
    sweeps = find_sweeps(["confound:strength=0.75", "confound", "confound:strength=0.9", "vocals", "tags:mix=a"])
    assert len(sweeps) == 1 and sweeps[0].knob == "strength"
    assert [value for value, _ in sweeps[0].settings] == [0.75, 0.9, 1.0]  # the default read from the task
    assert find_sweeps(["confound:mix=gpdbs,strength=0.9", "confound:strength=0.75"]) == []  # two keys vary
    numeric = find_sweeps(["vocals:level_db=-6", "vocals:level_db=-12", "vocals:level_db=0"])[0]
    assert [v for v, _ in numeric.settings] == [-12, -6, 0]


@pytest.fixture(scope="module")
def swept(tiny_vocals, tmp_path_factory):
    out = tmp_path_factory.mktemp("sweep") / "run"
    task = f"{TINY_VOCALS_SPEC},level_db=0|-3"
    args = ["run", "--task", task, "--n-examples", "4", "--out", str(out), "--no-progress"]
    for explainer in ("occlusion:over=slime", "random:over=slime", "energy:over=slime"):
        args += ["--explainer", explainer]
    assert main([*args, "--metric", "topk_overlap", "--metric", "faithfulness_correlation"]) == 0
    return out


def test_a_sweep_is_one_command_and_the_page_plots_it(swept):
    table = pd.read_csv(swept / "sweeps.csv")
    assert set(table["setting"].astype(str)) == {"-3.0", "0.0"} and set(table["knob"]) == {"level_db"}
    assert {"topk_overlap", "faithfulness_correlation"} <= set(table["metric"])
    assert set(table["explainer"]) == {"occlusion:over=slime", "random:over=slime", "energy:over=slime"}
    assert table["n"].gt(0).all() and table["best"].notna().all()
    topk = table[table["metric"] == "topk_overlap"]
    assert topk["separated_from_best"].notna().all()  # every ranked explainer: the tests' word per setting
    assert not topk[topk["explainer"] == topk["best"]]["separated_from_best"].astype(bool).any()
    page = (swept / "leaderboard.html").read_text()
    assert "Difficulty sweeps" in page and "vocals: level_db" in page
    assert any(p.name.startswith("sweep_vocals_level_db") for p in (swept / "figures").iterdir())
    validity = (swept / "validity.json").read_text()
    assert "level_db=-3" in validity and "hybrid_detection_rate" in validity  # each setting checked
