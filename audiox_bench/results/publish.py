"""The tables a run directory publishes, each rebuilt from the records and documents it holds, so what is
published can always be rebuilt from what is published (``audiox leaderboard RUN``)."""

from __future__ import annotations

from pathlib import Path

from audiox_bench.core.files import atomic_write_text
from audiox_bench.results.html import to_html
from audiox_bench.results.leaderboard import RunTables, tables_of, to_csv, to_markdown
from audiox_bench.results.store import TABLES


def table_texts(tables: RunTables) -> dict[str, str]:
    """The text of every table file of :data:`~audiox_bench.results.store.TABLES`, by file name."""
    texts = {
        "leaderboard.csv": to_csv(tables.table),
        "overall.csv": to_csv(tables.overall),
        "costs.csv": to_csv(tables.costs),
        "leaderboard.md": to_markdown(tables.overall) + "\n" + to_markdown(tables.table),
        "leaderboard.html": to_html(
            tables.table, tables.overall, tables.specs, tables.run_info, tables.validity, tables.costs
        ),
    }
    assert set(texts) == set(TABLES)
    return texts


def write_tables(run_dir: str | Path) -> RunTables:
    """Rebuild the tables of ``run_dir`` from its records and write them there (atomically, each)."""
    tables = tables_of(run_dir)
    for name, text in table_texts(tables).items():
        atomic_write_text(Path(run_dir) / name, text)
    return tables
