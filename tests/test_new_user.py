"""What a new user meets (issue 14), each through the command line or API they would use."""

import json
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

import audiox_bench
from audiox_bench.cli import main
from audiox_bench.core.data import Explanation
from audiox_bench.core.records import Record
from audiox_bench.explain_file import uninformative_because
from audiox_bench.metrics.topk import top_positive
from audiox_bench.results.store import read_records
from tests.conftest import TINY_CONFOUND_SPEC, TINY_VOCALS_SPEC

ROOT = Path(__file__).resolve().parents[1]
PERMIMP = str(ROOT / "examples" / "my_perturbation_explainer.py")
FLAKY_PLUGIN = """
import numpy as np
from audiox_bench import Explanation, register_explainer
from audiox_bench.explainers.audiolime import AudioLIME

@register_explainer("mine")
class Mine(AudioLIME):
    def explain(self, model, example, factorization, target, seed):
        weights = np.ones({n_weights})
        return Explanation(factorization.names, weights, target)
"""


def run(*argv):
    return main(["run", "--task", TINY_CONFOUND_SPEC, "--n-examples", "2", "--no-progress", *argv])


def test_a_fixed_plugin_is_rerun_and_an_added_explainer_extends_the_run(tiny_confound, tmp_path, capsys):
    plugin, out = tmp_path / "mine.py", tmp_path / "run"
    plugin.write_text(FLAKY_PLUGIN.format(n_weights=1))  # wrong length: every item fails
    assert run("--plugin", str(plugin), "--explainer", "mine", "--out", str(out)) == 3
    assert all(r.error for r in read_records(out))
    run_info = json.loads((out / "run.json").read_text())
    assert "sha256" in next(iter(run_info["origins"]["explainers"].values()))
    plugin.write_text(FLAKY_PLUGIN.format(n_weights="factorization.n_components"))  # fixed
    assert run("--plugin", str(plugin), "--explainer", "mine", "--out", str(out)) == 0  # failed items retried
    fixed = read_records(out)
    assert len(fixed) == 2 and not any(r.error for r in fixed)
    # Adding an explainer extends the run: the plugin's records are kept as they were.
    assert run("--plugin", str(plugin), "--explainer", "mine", "--explainer", "random", "--out", str(out)) == 0
    extended = {r.key: r for r in read_records(out)}
    assert len(extended) == 4 and all(extended[r.key].seconds == r.seconds for r in fixed)
    # Changed plugin code: its items are redone, the built-in's kept.
    plugin.write_text(FLAKY_PLUGIN.format(n_weights="factorization.n_components") + "\n# edited\n")
    capsys.readouterr()
    assert run("--plugin", str(plugin), "--explainer", "mine", "--explainer", "random", "--out", str(out)) == 0
    redone = {r.key: r for r in read_records(out)}
    random_keys = [k for k in redone if k[1] == "random"]
    assert all(redone[k].seconds == extended[k].seconds for k in random_keys)
    assert (out / "records.jsonl").read_text().count("\n") == 4  # superseded records compacted away


def test_a_refused_spec_names_every_difference(tiny_confound, tmp_path, capsys):
    out = tmp_path / "run"
    assert run("--explainer", "random", "--explainer", "audiolime", "--out", str(out)) == 0
    capsys.readouterr()
    assert run("--explainer", "random", "--seed", "3", "--out", str(out)) == 2
    error = capsys.readouterr().err
    assert "seed 3 here, 0 in the run" in error and "explainers of the run missing here: audiolime" in error


def test_a_spec_value_of_the_wrong_type_is_one_error_before_anything_runs(tmp_path):
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "audiox_bench",
            "run",
            "--explainer",
            "slime:n_segments=abc",
            "--out",
            str(tmp_path / "r"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 2 and out.stderr.count("\n") == 1
    assert out.stderr.startswith("error: explainer 'slime': n_segments must be int, got 'abc' (str)")
    assert not (tmp_path / "r" / "run.json").exists()


def test_compare_pairs_a_plugin_with_a_builtin_in_one_run_and_across_runs(tiny_confound, tmp_path, capsys):
    a, b = tmp_path / "a", tmp_path / "b"
    for out, seed in ((a, "0"), (b, "1")):
        assert (
            run(
                "--plugin",
                PERMIMP,
                "--explainer",
                "permimp",
                "--explainer",
                "kernelshap",
                "--metric",
                "topk_overlap",
                "--seed",
                seed,
                "--n-examples",
                "4",
                "--out",
                str(out),
            )
            == 0
        )
    capsys.readouterr()
    assert main(["compare", str(a), "--a", "permimp", "--b", "kernelshap", "--format", "csv"]) == 0
    within = pd.read_csv(pd.io.common.StringIO(capsys.readouterr().out)).set_index("metric")
    assert within.loc["topk_overlap", "explainer_a"] == "permimp" and within.loc["topk_overlap", "n_pairs"] == 2
    assert main(["compare", str(a), str(b), "--a", "kernelshap", "--b", "kernelshap", "--format", "csv"]) == 0
    across = pd.read_csv(pd.io.common.StringIO(capsys.readouterr().out)).set_index("metric")
    # Exact Shapley values do not depend on the seed: equal up to round-off, so no difference at all.
    assert across.loc["topk_overlap", "delta"] == 0 and across.loc["topk_overlap", "p_value"] == 1
    assert main(["compare", str(a), "--a", "permimp", "--b", "occlusion"]) == 2
    assert "has no explainer 'occlusion'" in capsys.readouterr().err


def test_a_records_cost_is_its_own_whatever_ran_before(tiny_confound, tmp_path):
    from audiox_bench.engine.run_spec import RunSpec
    from audiox_bench.engine.runner import run_benchmark

    alone = run_benchmark(RunSpec(tasks=(TINY_CONFOUND_SPEC,), explainers=("audiolime",), n_examples=2), progress=False)
    after = run_benchmark(
        RunSpec(tasks=(TINY_CONFOUND_SPEC,), explainers=("kernelshap", "audiolime"), n_examples=2), progress=False
    )
    first = {r.example_id: r for r in alone.records}
    for record in (r for r in after.records if r.explainer == "audiolime"):
        assert record.n_model_calls == first[record.example_id].n_model_calls  # every mask it needed
        assert record.n_cache_hits == record.n_model_calls  # all answered by kernelshap's evaluations
        assert record.seconds > 0
    costs = pd.read_csv(
        pd.io.common.StringIO(
            audiox_bench.results.formats.to_csv(audiox_bench.results.tables.cost_table(after.records))
        )
    )
    assert set(costs.columns) >= {"seconds", "model_calls", "cache_hits"}


def test_randomization_cost_is_said_in_help():
    out = subprocess.run(
        [sys.executable, "-m", "audiox_bench", "run", "--help"], capture_output=True, text=True, check=True
    )
    assert "about 4x the cost of the explanations" in " ".join(out.stdout.split())


def _file(path: Path, audio: np.ndarray, sr: int = 16_000) -> Path:
    sf.write(path, audio, sr)
    return path


def test_explain_a_file_with_the_default_explainer_and_nmf(tiny_confound, tmp_path, capsys):
    clip = _file(tmp_path / "song.wav", tiny_confound.examples(2)[1].audio)
    assert main(["explain", str(clip), "--task", TINY_CONFOUND_SPEC, "--out", str(tmp_path / "hpss")]) == 0
    result = json.loads((tmp_path / "hpss" / "explanation.json").read_text())
    assert result["explainer"] == "audiolime:separator=hpss" and result["components"] == ["harmonic", "percussive"]
    assert (
        main(
            [
                "explain",
                str(clip),
                "--task",
                TINY_CONFOUND_SPEC,
                "--explainer",
                "audiolime:separator=nmf",
                "--out",
                str(tmp_path / "nmf"),
            ]
        )
        == 0
    )
    nmf = json.loads((tmp_path / "nmf" / "explanation.json").read_text())
    top = top_positive(nmf["components"], np.array(nmf["weights"]), 3)
    assert nmf["top_positive"] == top and nmf["components"] and all(c.split(".")[0] for c in nmf["components"])
    if top:  # the WAVs follow the weights: each top component, the top ones together, the rest
        expected = {f"component_{c}.wav" for c in top} | {"top_together.wav", "without_top.wav"}
        assert set(nmf["wavs"]) == expected and all((tmp_path / "nmf" / name).is_file() for name in expected)
    else:
        assert nmf["wavs"] == "none: no component has a positive weight"


def test_a_bad_file_fails_before_the_task_is_built(tmp_path, monkeypatch):
    from audiox_bench.core import registry
    from audiox_bench.core.errors import InvalidInputError
    from audiox_bench.explain_file import explain_file

    monkeypatch.setattr(registry.tasks, "build", lambda *a, **k: pytest.fail("the task was built first"))
    with pytest.raises(InvalidInputError, match="silent"):
        explain_file(_file(tmp_path / "quiet.wav", np.zeros(16_000, np.float32)), "confound", out=tmp_path / "o")


def test_an_explanation_that_moves_nothing_is_called_uninformative():
    flat = Explanation(("a", "b"), np.array([2.6e-5, -1e-6]), 0, score=0.03)
    assert "R^2 = 0.03" in uninformative_because(flat) and "2.6e-05" in uninformative_because(flat)
    assert uninformative_because(Explanation(("a", "b"), np.array([0.3, 0.1]), 0, score=0.8)) is None


def test_list_shows_parameters_and_whole_descriptions(capsys):
    assert main(["list", "explainers", "audiolime"]) == 0
    text = capsys.readouterr().out
    assert "separator (str), default 'oracle': Registered separator" in text
    assert "n_samples (int | None), default None" in text
    assert main(["list", "metrics"]) == 0
    listed = " ".join(capsys.readouterr().out.split())
    assert "Weighted R^2 of the explainer's local linear surrogate on its neighbourhood" in listed
    assert "4 components are the fewest that qualify." in listed  # the last line of a long description


def test_the_perturbation_example_passes_the_conformance_suite(tiny_confound):
    out = subprocess.run(
        [sys.executable, "-m", "audiox_bench", "check", "--plugin", PERMIMP],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stdout


def test_run_prints_a_summary_that_says_why_rows_are_empty(tiny_confound, tmp_path, capsys):
    assert run("--explainer", "gradient:over=audiolime", "--explainer", "slime", "--out", str(tmp_path / "r")) == 0
    printed = capsys.readouterr().out
    assert "2 not applicable: gradient needs a segmentation of the model input" in printed
    assert "slime: 2 undefined: the task states no ground truth for this example in these components" in printed
    assert f"full tables: {tmp_path / 'r' / 'leaderboard.html'}" in printed


def test_plot_draws_hits_against_each_examples_truth_and_lists_what_it_skipped(tiny_confound, tmp_path, capsys):
    assert (
        run(
            "--explainer",
            "random:over=slime",
            "--metric",
            "topk_overlap",
            "--metric",
            "surrogate_fidelity",
            "--out",
            str(tmp_path / "r"),
        )
        == 0
    )
    capsys.readouterr()
    assert main(["plot", str(tmp_path / "r"), "--out", str(tmp_path / "figures")]) == 0
    captured = capsys.readouterr()
    assert "skipped n_ce" in captured.err and "no explanation on this task has ground truth" in captured.err
    assert "skipped surrogate_fidelity" in captured.err


def test_written_files_respect_the_umask(tiny_confound, tmp_path):
    previous = os.umask(0o022)
    try:
        assert run("--explainer", "random", "--out", str(tmp_path / "r")) == 0
    finally:
        os.umask(previous)
    for name in ("run.json", "records.jsonl", "leaderboard.csv", "validity.json"):
        assert stat.S_IMODE((tmp_path / "r" / name).stat().st_mode) == 0o644, name


def test_nothing_a_user_reads_points_outside_the_repository():
    for path in [
        ROOT / "README.md",
        ROOT / "pyproject.toml",
        *ROOT.glob("audiox_bench/**/*.py"),
        *ROOT.glob("tasks/**/*.py"),
        *ROOT.glob("explainers/*.py"),
        *ROOT.glob("metrics/*.py"),
        *ROOT.glob("examples/*.py"),
    ]:
        assert "../shared" not in path.read_text(), path


def test_the_python_api_matches_the_cli(tiny_confound):
    frame = audiox_bench.run(
        tasks=TINY_CONFOUND_SPEC, explainers=["random", "occlusion"], n_examples=2, batch_size=16, jobs=1
    )
    assert not frame.attrs["overall"].empty and frame.attrs["failed"] == 0
    with pytest.raises(audiox_bench.AudioxError, match="did you mean 'default'"):
        audiox_bench.run(benchmark="defualt")


@pytest.mark.parametrize("spec", [TINY_VOCALS_SPEC])
def test_vocals_top1_figure_is_hit_or_miss(tiny_vocals, tmp_path, spec):
    from audiox_bench.metrics.topk import plot_top1_hits
    from audiox_bench.results.plots import pyplot

    examples = tiny_vocals.examples(2)
    records = [
        Record(
            spec,
            "slime",
            e.id,
            0,
            label=1,
            target=1,
            components=[f"t{k}" for k in range(10)],
            weights=list(np.arange(10.0)),
            ground_truth=[f"t{k}" for k in e.meta["injected_segments"]],
        )
        for e in examples
    ]
    path = plot_top1_hits(pyplot(), spec, records, tmp_path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_examples_docs_are_runnable_text():
    text = textwrap.dedent(Path(PERMIMP).read_text())
    assert "prediction_cache(model).predict(model, factorization, masks)" in text
