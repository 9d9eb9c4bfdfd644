"""audiox score adds a metric to a finished run: the values a run with the metric would have recorded, nothing
explained again, the tables rebuilt, and a second call scores nothing."""

import json

import pytest

from audiox_bench.cli import main
from audiox_bench.results.store import read_records
from tests.conftest import TINY_VOCALS_SPEC

EXPLAINERS = ("occlusion:over=slime", "random:over=slime", "captum:method=LayerGradCam")


def _run(out, metrics):
    args = ["run", "--task", TINY_VOCALS_SPEC, "--n-examples", "3", "--out", str(out), "--no-progress"]
    for explainer in EXPLAINERS:
        args += ["--explainer", explainer]
    for metric in metrics:
        args += ["--metric", metric]
    assert main(args) == 0


@pytest.fixture(scope="module")
def runs(tiny_vocals, tmp_path_factory):
    root = tmp_path_factory.mktemp("score")
    _run(root / "without", ["topk_overlap"])
    _run(root / "with", ["topk_overlap", "shapley_agreement"])
    return root


def test_an_added_metric_equals_what_the_run_would_have_recorded(runs, capsys):
    out = runs / "without"
    before = {r.key: (r.weights, r.seconds, r.metrics["topk_overlap"]) for r in read_records(out)}
    assert main(["score", str(out), "--metric", "shapley_agreement", "--no-progress"]) == 0
    assert "9 explanations scored" in capsys.readouterr().out
    added = {r.key: r for r in read_records(out)}
    direct = {r.key: r for r in read_records(runs / "with")}
    assert added.keys() == direct.keys() == before.keys()
    for key, record in added.items():
        assert (record.weights, record.seconds, record.metrics["topk_overlap"]) == before[key]  # kept as it was
        for name in ("shapley_agreement", "shapley_agreement.topk", "shapley_agreement.truth_topk"):
            assert record.metrics[name] == direct[key].metrics[name], (key, name)
    assert "shapley_agreement" in json.loads((out / "run.json").read_text())["spec"]["metrics"]
    assert "shapley_agreement" in (out / "leaderboard.csv").read_text()
    assert main(["score", str(out), "--metric", "shapley_agreement", "--no-progress"]) == 0
    assert "nothing to score" in capsys.readouterr().out


def test_a_group_metric_or_a_folder_that_is_no_run_is_one_line(runs, tmp_path, capsys):
    assert main(["score", str(tmp_path), "--metric", "shapley_agreement"]) == 2
    assert "not a run directory" in capsys.readouterr().err
    assert main(["score", str(runs / "with"), "--metric", "stability"]) == 2
    assert "per-instance metrics" in capsys.readouterr().err
