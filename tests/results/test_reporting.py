"""Leaderboard pages, compare, plots, explain-a-file, the example plugin and the Python API."""

import json
from pathlib import Path

import librosa
import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from scipy import stats

import audiox_bench
from audiox_bench.cli import main
from audiox_bench.core.data import ValueSpec
from audiox_bench.core.documents import RunInfo
from audiox_bench.core.records import Record
from audiox_bench.engine.run_spec import RunSpec
from audiox_bench.engine.runner import run_benchmark
from audiox_bench.results.compare import compare_runs
from audiox_bench.results.html import to_html
from audiox_bench.results.store import read_records
from audiox_bench.results.summary import task_summary
from audiox_bench.results.tables import build_tables
from tests.conftest import TINY_CONFOUND_SPEC

EXAMPLE_PLUGIN = str(Path(__file__).resolve().parents[2] / "examples" / "my_explainer.py")


def fake_run(path: Path, values: dict[str, list[float]]) -> Path:
    """A run directory holding records with the given topk_overlap values per explainer."""
    path.mkdir()
    (path / "run.json").write_text(json.dumps({"spec": {}, "metric_directions": {"topk_overlap": True}}))
    lines = []
    for explainer, series in values.items():
        for i, value in enumerate(series):
            lines.append(
                json.dumps(
                    {
                        "task": "t",
                        "explainer": explainer,
                        "example_id": f"e{i}",
                        "repeat": 0,
                        "metrics": {"topk_overlap": value},
                        "error": None,
                    }
                )
            )
    (path / "records.jsonl").write_text("\n".join(lines) + "\n")
    return path


SPECS = {"m1": ValueSpec("m1", primary=True), "m2": ValueSpec("m2", primary=True), "m3": ValueSpec("m3", primary=True)}


def test_the_page_opens_with_the_verdict_and_drops_empty_score_columns():
    records = [
        Record("t", e, str(i), 0, metrics={"m1": v + i, "m2": None if e == "c" else v, "m3": None})
        for e, v in (("a", 1.0), ("b", 0.0), ("c", 0.5))
        for i in range(3)
    ]
    records += [Record("t", e, "9", 0, metrics={"m3": None}) for e in "abc"]
    page = to_html(build_tables(records, SPECS), SPECS, RunInfo.from_dict({"spec": {"tasks": ["t"]}}))
    assert page.index("Which explainer should I use") < page.index("<h2>t</h2>")
    assert "No value on this task: m3" in page and "<th>m3" not in page


def test_html_page_is_self_contained_and_sortable():
    records = [Record("t", "x<script>", "e", 0, metrics={"topk_overlap": 1.0})]
    specs = {"topk_overlap": ValueSpec("topk_overlap", primary=True)}
    page = to_html(
        build_tables(records, specs),
        specs,
        RunInfo.from_dict({"spec": {"tasks": ["t"]}, "metric_descriptions": {"topk_overlap": "d"}}),
    )
    assert page.startswith("<!DOCTYPE html>") and "sortable" in page and "addEventListener" in page
    for external in ("http://", "https://", "src=", "href=", "@import"):
        assert external not in page
    assert "x&lt;script&gt;" in page  # names are escaped


def test_compare_pairs_instances_and_matches_scipy(tmp_path):
    a = fake_run(tmp_path / "a", {"x": [0.1, 0.5, 0.2, 0.9, 0.4, 0.3], "y": [1, 1, 1]})
    b = fake_run(tmp_path / "b", {"x": [0.3, 0.6, 0.25, 0.7, 0.8, 0.9, 0.5], "z": [0.0]})
    comparison = compare_runs(a, b)
    table = comparison.table[comparison.table.metric == "topk_overlap"].set_index("explainer_a")
    assert list(table.index) == ["x"]  # y and z have no partner
    row = table.loc["x"]
    assert row["n_only_b"] == 1 and comparison.notes  # the 7th value of x in B has no partner, and says so
    va, vb = np.array([0.1, 0.5, 0.2, 0.9, 0.4, 0.3]), np.array([0.3, 0.6, 0.25, 0.7, 0.8, 0.9])
    assert row["n_pairs"] == 6 and row["delta"] == pytest.approx(vb.mean() - va.mean())
    assert row["p_value"] == pytest.approx(stats.wilcoxon(va, vb).pvalue)


def test_compare_errors_and_csv_mode(tmp_path, capsys):
    a = fake_run(tmp_path / "a", {"x": [0.1, 0.2]})
    b = fake_run(tmp_path / "b", {"other": [0.1, 0.2]})
    assert main(["compare", str(a), str(b)]) == 2
    assert "share no instance" in capsys.readouterr().err
    for run in (a, b):
        (run / "leaderboard.csv").write_text(build_tables(read_records(run), {}).leaderboard.to_csv(index=False))
    b_csv = tmp_path / "b.csv"
    b_csv.write_text((a / "leaderboard.csv").read_text().replace("0.15", "0.25"))
    assert main(["compare", str(a / "leaderboard.csv"), str(b_csv), "--format", "csv"]) == 0
    captured = capsys.readouterr()
    assert "unpaired" in captured.err and "t,topk_overlap,x,x" in captured.out


@pytest.fixture(scope="module")
def plugin_runs(tiny_confound, tmp_path_factory):
    """Two CLI runs with the example plugin next to audiolime (seeds differ, instances pair)."""
    base = tmp_path_factory.mktemp("plugin")
    for name, seed in (("a", "0"), ("b", "1")):
        assert (
            main(
                [
                    "run",
                    "--plugin",
                    EXAMPLE_PLUGIN,
                    "--task",
                    TINY_CONFOUND_SPEC,
                    "--explainer",
                    "peak",
                    "--explainer",
                    "audiolime",
                    "--metric",
                    "topk_overlap",
                    "--metric",
                    "randomization_divergence:n_models=2",
                    "--n-examples",
                    "6",
                    "--repeats",
                    "2",
                    "--seed",
                    seed,
                    "--no-progress",
                    "--out",
                    str(base / name),
                ]
            )
            == 0
        )
    return base / "a", base / "b"


def test_example_plugin_end_to_end_through_the_cli(plugin_runs, capsys):
    a, b = plugin_runs
    assert main(["list", "explainers", "--plugin", EXAMPLE_PLUGIN]) == 0
    assert "peak" in capsys.readouterr().out
    table = pd.read_csv(a / "leaderboard.csv").set_index(["explainer", "metric"])
    assert table.loc[("peak", "topk_overlap"), "n"] == 6  # the 3 clips with drums x 2 repeats
    assert table.loc[("peak", "randomization_divergence"), "mean"] == pytest.approx(0, abs=1e-12)  # model-blind
    assert table.loc[("audiolime", "randomization_divergence"), "mean"] > 0.0
    assert (a / "leaderboard.html").is_file() and (a / "overall.csv").is_file()
    assert main(["compare", str(a), str(b), "--format", "csv"]) == 0
    compared = pd.read_csv(pd.io.common.StringIO(capsys.readouterr().out))
    assert "peak" in set(compared["explainer_a"]) and (compared["n_pairs"] > 0).all()


def test_plot_writes_readable_pngs(plugin_runs, tmp_path, capsys):
    a, _ = plugin_runs
    assert main(["plot", str(a), "--out", str(tmp_path / "figures")]) == 0
    written = [Path(line) for line in capsys.readouterr().out.split()]
    assert {p.name.split("_")[0] for p in written} >= {"top1", "n", "randomization"}
    for path in written:
        assert path.stat().st_size > 5_000 and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_stability_violins_are_plotted(tiny_confound, tmp_path):
    from audiox_bench.results.plots import plot_run

    spec = RunSpec(
        tasks=(TINY_CONFOUND_SPEC,),
        explainers=("slime:n_samples=300",),
        metrics=("topk_overlap", "stability"),
        n_examples=3,
        repeats=2,
    )
    run_benchmark(spec, out=tmp_path / "run", progress=False)
    names = {f.path.name for f in plot_run(tmp_path / "run", tmp_path / "figures") if f.path}
    assert any(name.startswith("stability_") for name in names)


def explain(*argv: str) -> int:
    return main(["explain", *argv, "--task", TINY_CONFOUND_SPEC])


@pytest.fixture(scope="module")
def ten_second_stereo(tiny_confound, tmp_path_factory):
    """A 10 s stereo file at 44.1 kHz: five of the tiny model's 2 s clips one after the other."""
    clips = [librosa.resample(e.audio, orig_sr=16_000, target_sr=44_100) for e in tiny_confound.examples(5)]
    mono = np.concatenate(clips)
    path = tmp_path_factory.mktemp("file") / "song.wav"
    sf.write(path, np.stack([mono, 0.5 * mono], axis=1), 44_100)
    return path


def test_explain_covers_the_whole_file_with_wavs_at_its_rate_and_a_figure(ten_second_stereo, tmp_path, capsys):
    out = tmp_path / "explained"
    assert explain(str(ten_second_stereo), "--explainer", "slime", "--out", str(out)) == 0
    printed = capsys.readouterr().out
    assert "explained 0-10 s of" in printed and "in 5 window(s) of 2 s" in printed
    result = json.loads((out / "explanation.json").read_text())
    assert result["explained_seconds"] == [0.0, 10.0] and len(result["windows"]) == 5
    assert [w["start"] for w in result["windows"]] == [0.0, 2.0, 4.0, 6.0, 8.0]
    assert len(result["components"]) == 50 and result["components"][0] == "0.00-0.18s"  # segments named by their span
    assert result["figure"] == "explanation.png" and (out / "explanation.png").read_bytes()[:4] == b"\x89PNG"
    for name in result["wavs"]:
        audio, sr = sf.read(out / name)
        assert sr == 44_100 and audio.shape == (441_000, 2)  # the file's rate and channels, the whole span
    together, _ = sf.read(out / "top_together.wav")
    assert 0 < np.mean(np.abs(together).sum(axis=1) > 0) < 0.2  # 3 of 50 segments heard, the rest silent
    # Explaining again into the same folder replaces it whole: no component WAV of the first run is left.
    first = {n for n, w in result["wavs"].items() if isinstance(w, dict)}
    assert (
        explain(str(ten_second_stereo), "--explainer", "slime:content=mean_inp", "--top", "1", "--out", str(out)) == 0
    )
    again = {n for n, w in json.loads((out / "explanation.json").read_text())["wavs"].items() if isinstance(w, dict)}
    assert sorted(p.name for p in out.iterdir()) == sorted({"explanation.json", "explanation.png", *again})
    assert first - again  # other components than the first run's, and theirs are gone


def test_explained_sources_are_resampled_to_the_files_rate_and_a_silent_part_is_named(ten_second_stereo, tmp_path):
    out = tmp_path / "sources"
    argv = ["--start", "2", "--duration", "2", "--explainer", "audiolime:separator=hpss", "--out", str(out)]
    assert explain(str(ten_second_stereo), *argv) == 0
    result = json.loads((out / "explanation.json").read_text())
    assert result["components"] == ["harmonic", "percussive"] and result["top_positive"] == ["harmonic", "percussive"]
    assert "resampled to the file's 44100 Hz" in result["wav_note"]
    assert result["wavs"]["without_top.wav"].startswith("not written: silent (every component is among the top)")
    assert not (out / "without_top.wav").exists()
    audio, sr = sf.read(out / "top_together.wav")
    assert sr == 44_100 and audio.shape == (88_200,)  # mono: separated at the model's rate


def test_explain_a_span_and_refuse_a_folder_that_is_not_an_explanation(ten_second_stereo, tmp_path, capsys):
    out = tmp_path / "span"
    assert explain(str(ten_second_stereo), "--start", "3", "--duration", "2.5", "--out", str(out)) == 0
    result = json.loads((out / "explanation.json").read_text())
    assert result["explained_seconds"] == [3.0, 5.5] and [w["start"] for w in result["windows"]] == [3.0, 3.5]
    mine = tmp_path / "my-stems"
    mine.mkdir()
    (mine / "vocals.wav").write_bytes(b"mine")
    assert explain(str(ten_second_stereo), "--out", str(mine)) == 2
    assert "is not empty and holds no earlier explanation (e.g. 'vocals.wav')" in capsys.readouterr().err
    assert (mine / "vocals.wav").read_bytes() == b"mine"
    assert explain(str(ten_second_stereo), "--start", "12", "--out", str(tmp_path / "o")) == 2
    assert "--start 12 s is outside the file (10 s long)" in capsys.readouterr().err


def test_explain_rejects_bad_audio(tmp_path, capsys):
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"not audio at all")
    assert main(["explain", str(bad), "--task", TINY_CONFOUND_SPEC, "--out", str(tmp_path / "o")]) == 2
    assert capsys.readouterr().err.startswith("error: cannot read audio file")


def test_python_api_returns_records(tiny_confound):
    frame = audiox_bench.run(tasks=TINY_CONFOUND_SPEC, explainers=["audiolime", "random"], n_examples=4)
    assert set(frame["explainer"]) == {"audiolime", "random"} and "topk_overlap" in frame.columns
    assert len(frame) == 8 and not frame.attrs["leaderboard"].empty


def test_the_printed_summary_leaves_out_what_has_no_value():
    records = [
        Record("t", e, str(i), 0, metrics={"m1": v + i, "m2": None if e == "b" else v, "m3": None})
        for e, v in (("a", 1.0), ("b", 0.0))
        for i in range(3)
    ]
    records += [Record("t", "c", str(i), 0, not_applicable="no sources here") for i in range(3)]
    text = task_summary("t", build_tables(records, SPECS), SPECS, records, {})
    header = text.splitlines()[1].split()
    # no m3 of blanks; no kind column when all explainers are of one kind
    assert header == ["rank", "overall", "explainer", "m1", "m2", "s/expl", "calls/expl"]
    assert "nan" not in text and "c: 3 not applicable: no sources here" in text
    assert "a: m2 not ranked: only one explainer has values here" in text
