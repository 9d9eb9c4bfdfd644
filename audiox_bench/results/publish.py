"""The tables a run directory publishes, each rebuilt from the records and documents it holds, so what is
published can always be rebuilt from what is published (``audiox leaderboard RUN``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from audiox_bench.core.data import ValueSpec
from audiox_bench.core.documents import RunInfo, TaskValidity
from audiox_bench.core.files import atomic_write_text
from audiox_bench.results.formats import to_csv, to_markdown
from audiox_bench.results.html import to_html
from audiox_bench.results.store import TABLES, read_group_rows, read_records, read_run_info, read_validity
from audiox_bench.results.tables import cost_table, leaderboard, overall_ranks


@dataclass
class RunTables:
    """The tables of a run directory, rebuilt from its records."""

    table: pd.DataFrame
    overall: pd.DataFrame
    specs: dict[str, ValueSpec]
    run_info: RunInfo
    validity: dict[str, TaskValidity]
    costs: pd.DataFrame


def tables_of(run_dir: str | Path) -> RunTables:
    """Rebuild the leaderboard, overall ranks and costs of a run directory from its records.

    Raises
    ------
    AudioxError
        If ``run_dir`` is not a run directory.
    """
    info = read_run_info(Path(run_dir))
    specs = dict(info.values)
    records = read_records(Path(run_dir))
    table = leaderboard(records, specs, read_group_rows(Path(run_dir)))
    return RunTables(table, overall_ranks(table, specs), specs, info, read_validity(Path(run_dir)), cost_table(records))


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
