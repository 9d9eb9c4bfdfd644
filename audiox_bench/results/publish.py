"""The tables and figures a run directory publishes, each rebuilt from the records and documents it
holds, so what is published can always be rebuilt from what is published (``audiox leaderboard RUN``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from audiox_bench.core.data import ValueSpec
from audiox_bench.core.documents import RunInfo, TaskValidity
from audiox_bench.core.files import atomic_write_text
from audiox_bench.core.records import GroupRow, Record
from audiox_bench.results.figures import cd_diagram, cost_quality, sweep_figure
from audiox_bench.results.formats import to_csv, to_markdown
from audiox_bench.results.html import to_html
from audiox_bench.results.ranking import ALL_TASKS
from audiox_bench.results.store import (
    FIGURES,
    TABLES,
    read_group_rows,
    read_records,
    read_run_info,
    read_validity,
    safe_file_name,
)
from audiox_bench.results.sweeps import find_sweeps, sweep_frame
from audiox_bench.results.tables import FAMILY_NAMES, Tables, build_tables

SWEEPS = "sweeps.csv"  # written where the run has sweeps (a task at several settings of one parameter)


@dataclass
class RunTables:
    """The tables of a run (rebuilt from its records), with the documents the page shows."""

    tables: Tables
    specs: dict[str, ValueSpec]
    run_info: RunInfo
    validity: dict[str, TaskValidity]

    def sweeps(self) -> pd.DataFrame:
        """Every sweep of the run on its primary scores (:func:`~audiox_bench.results.sweeps.sweep_frame`)."""
        primary = [name for name, spec in self.specs.items() if spec.primary and spec.role == "score"]
        frames = [
            sweep_frame(sweep, self.tables.leaderboard, self.tables.comparisons, primary)
            for sweep in find_sweeps(self.tables.leaderboard["task"])
        ]
        frames = [f for f in frames if not f.empty]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def run_tables(
    records: list[Record],
    group_rows: list[GroupRow],
    run_info: RunInfo,
    validity: dict[str, TaskValidity],
) -> RunTables:
    """The tables of a run from its records and documents."""
    specs = dict(run_info.values)
    return RunTables(build_tables(records, specs, group_rows, run_info.families), specs, run_info, validity)


def tables_of(run_dir: str | Path) -> RunTables:
    """Rebuild the tables of a run directory from its records.

    Raises
    ------
    AudioxError
        If ``run_dir`` is not a run directory.
    """
    path = Path(run_dir)
    info = read_run_info(path)
    return run_tables(read_records(path), read_group_rows(path), info, read_validity(path))


def figures_of(run: RunTables, png_dir: Path | None = None) -> dict[str, str]:
    """The page's figures as SVG by key (``cd:<task>:<score>``, ``cost:<task>``), PNGs written into
    ``png_dir`` when given; empty without matplotlib."""
    figures: dict[str, str] = {}

    def png(name: str) -> Path | None:
        return None if png_dir is None else png_dir / f"{safe_file_name(name)}.png"

    tables = run.tables
    for (task, family), verdict in tables.verdicts.items():
        kind = FAMILY_NAMES.get(family, family)
        svg = cd_diagram(verdict, f"{task}, {kind}: overall", png(f"cd_{task}_{family}_overall"))
        if svg:
            figures[f"cd:{task}:{family}:(overall)"] = svg
    for (task, score, family), comparison in tables.comparisons.items():
        if len(comparison.explainers) >= 2 and run.specs.get(score) is not None and run.specs[score].primary:
            kind = FAMILY_NAMES.get(family, family)
            svg = cd_diagram(comparison, f"{task}, {kind}: {score}", png(f"cd_{task}_{family}_{score}"))
            if svg:
                figures[f"cd:{task}:{family}:{score}"] = svg
    costs = tables.costs.set_index(["task", "explainer"])
    for (task, family), verdict in tables.verdicts.items():
        if task == ALL_TASKS:
            continue
        names = [e for e in verdict.explainers if (task, e) in costs.index]
        quality = [verdict.mean_ranks[verdict.explainers.index(e)] for e in names]
        calls = [costs.loc[(task, e), "model_calls"] for e in names]
        seconds = [costs.loc[(task, e), "seconds"] for e in names]
        title = f"{task}, {FAMILY_NAMES.get(family, family)}: quality against cost"
        svg = cost_quality(names, quality, calls, seconds, title, png(f"cost_{task}_{family}"))
        if svg:
            figures[f"cost:{task}:{family}"] = svg
    sweeps = run.sweeps()
    if not sweeps.empty:
        for (task, knob, family), frame in sweeps.groupby(["task", "knob", "family"], sort=True):
            title = f"{task}, {FAMILY_NAMES.get(family, family)}: score against {knob}"
            svg = sweep_figure(frame, title, png(f"sweep_{task}_{knob}_{family}"))
            if svg:
                figures[f"sweep:{task}:{knob}:{family}"] = svg
    return figures


def table_texts(run: RunTables, figures: dict[str, str] | None = None) -> dict[str, str]:
    """The text of every table file of :data:`~audiox_bench.results.store.TABLES`, by file name."""
    tables = run.tables
    texts = {
        "leaderboard.csv": to_csv(tables.leaderboard),
        "overall.csv": to_csv(tables.overall),
        "tests.csv": to_csv(tables.tests),
        "costs.csv": to_csv(tables.costs),
        "leaderboard.md": to_markdown(tables.overall) + "\n" + to_markdown(tables.leaderboard),
        "leaderboard.html": to_html(tables, run.specs, run.run_info, run.validity, figures or {}, run.sweeps()),
    }
    assert set(texts) == set(TABLES)
    return texts


def write_tables(run_dir: str | Path) -> RunTables:
    """Rebuild the tables and figures of ``run_dir`` from its records and write them there."""
    run = tables_of(run_dir)
    figures = figures_of(run, Path(run_dir) / FIGURES)
    for name, text in table_texts(run, figures).items():
        atomic_write_text(Path(run_dir) / name, text)
    sweeps = run.sweeps()
    if sweeps.empty:
        (Path(run_dir) / SWEEPS).unlink(missing_ok=True)
    else:
        atomic_write_text(Path(run_dir) / SWEEPS, to_csv(sweeps))
    return run
