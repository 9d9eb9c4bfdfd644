"""Scoring a finished run again (for audiox meta) reproduces its values, and refuses other examples."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from audiox_bench.cli import main
from audiox_bench.engine.rescore import DISRUPTIVE, ORIGINAL, rescore
from audiox_bench.results.store import read_records
from tests.conftest import TINY_VOCALS_SPEC

EXPLAINERS = ("occlusion:over=slime", "random:over=slime", "energy:over=slime", "shuffled:over=slime")
METRICS = ("topk_overlap", "relevance_mass", "deletion")


@pytest.fixture(scope="module")
def finished_run(tiny_vocals, tmp_path_factory):
    out = tmp_path_factory.mktemp("rescore") / "run"
    args = ["run", "--task", TINY_VOCALS_SPEC, "--n-examples", "4", "--out", str(out), "--no-progress"]
    for explainer in EXPLAINERS:
        args += ["--explainer", explainer]
    for metric in METRICS:
        args += ["--metric", metric]
    assert main(args) == 0
    return out


def test_the_runs_settings_on_its_weights_give_its_values_bit_for_bit(finished_run):
    out = finished_run
    values = rescore(out, progress=False)
    assert set(values.family) == {"segmentation"}
    original = values[(values.variant == ORIGINAL) & (values.setting == values.metric)]
    recorded = {
        (r.explainer, r.example_id, m): v for r in read_records(out) for m, v in r.metrics.items() if m in METRICS
    }
    compared = 0
    for row in original.itertuples():
        value = recorded[(row.explainer, row.example, row.metric)]
        assert (np.isnan(row.value) and value is None) or row.value == value
        compared += value is not None
    assert compared >= 40
    assert {"deletion:order=lerf", "deletion:baseline=mean_inp", "relevance_mass:sign=abs"} <= set(values.setting)
    disrupted = values[(values.variant == DISRUPTIVE) & (values.metric == "topk_overlap")]
    occlusion = original[(original.metric == "topk_overlap") & (original.explainer == EXPLAINERS[0])]
    assert disrupted[disrupted.explainer == EXPLAINERS[0]].value.mean() < occlusion.value.mean()


def test_audiox_meta_writes_its_table_and_refuses_a_run_whose_examples_changed(finished_run, tmp_path, capsys):
    out = Path(shutil.copytree(finished_run, tmp_path / "run"))
    assert main(["meta", str(out), "--n-examples", "3", "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "| relevance_mass |" in printed and "truth agreement" in printed
    assert {"meta.csv", "meta_values.csv.gz"} <= {p.name for p in (out / "meta").iterdir()}
    written = (out / "meta" / "meta.csv").read_text()
    assert main(["meta", str(out), "--again"]) == 0  # evaluated again from the published values
    assert (out / "meta" / "meta.csv").read_text() == written and capsys.readouterr().out == printed
    validity = json.loads((out / "validity.json").read_text())
    entry = next(iter(validity.values()))
    first = next(iter(entry["examples"]))
    entry["examples"][first]["audio"] = "0" * 16
    (out / "validity.json").write_text(json.dumps(validity))
    assert main(["meta", str(out), "--n-examples", "3", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "differs from the run's" in err and "needs the run's examples" in err
