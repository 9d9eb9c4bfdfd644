"""Published run directories: their tables rebuild byte for byte from the records they hold (compressed
when large), and the leaderboard command prints them."""

import gzip
from dataclasses import replace
from pathlib import Path

import pytest

from audiox_bench.cli import main
from audiox_bench.engine.run_spec import RunSpec
from audiox_bench.engine.runner import run_benchmark
from audiox_bench.results.publish import figures_of, table_texts, tables_of
from tests.conftest import TINY_CONFOUND_SPEC

ROOT = Path(__file__).resolve().parents[2]


PUBLISHED = [ROOT / "leaderboard", ROOT / "leaderboard" / "tags"]


@pytest.mark.parametrize("run_dir", PUBLISHED, ids=lambda p: str(p.relative_to(ROOT)))
def test_published_tables_rebuild_byte_for_byte_from_their_records(run_dir):
    assert (run_dir / "records.jsonl.gz").is_file() or (run_dir / "records.jsonl").is_file()
    run = tables_of(run_dir)
    for name, text in table_texts(run, figures_of(run)).items():
        assert (run_dir / name).read_text(encoding="utf-8") == text, f"{name} is stale: regenerate it"


def test_the_leaderboard_command_prints_the_published_csv(capsys):
    assert main(["leaderboard", str(ROOT / "leaderboard"), "--format", "csv"]) == 0
    assert capsys.readouterr().out == (ROOT / "leaderboard" / "leaderboard.csv").read_text(encoding="utf-8")


def test_large_records_are_kept_compressed_and_read_transparently(tiny_confound, tmp_path, monkeypatch):
    from audiox_bench.results import store

    monkeypatch.setattr(store, "COMPRESS_ABOVE", 0)
    spec = RunSpec(tasks=(TINY_CONFOUND_SPEC,), explainers=("random",), metrics=("topk_overlap",), n_examples=3)
    first = run_benchmark(spec, out=tmp_path / "run", progress=False)
    assert (tmp_path / "run" / "records.jsonl.gz").is_file() and not (tmp_path / "run" / "records.jsonl").exists()
    assert gzip.decompress((tmp_path / "run" / "records.jsonl.gz").read_bytes()).count(b"\n") == 3
    extended = run_benchmark(replace(spec, n_examples=5), out=tmp_path / "run", progress=False)  # resumed
    assert len(extended.records) == 5 and len(store.read_records(tmp_path / "run")) == 5
    assert [r.without_timing() for r in extended.records[:3]] == [r.without_timing() for r in first.records]
