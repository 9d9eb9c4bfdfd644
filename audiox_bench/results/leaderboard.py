"""Records -> leaderboard: mean, 95% bootstrap CI, n and rank per task x explainer x metric value.

How a value is read follows its metric's declaration (:class:`~audiox_bench.core.contracts.ValueSpec`):
scores are ranked, references (e.g. the norm oracle of ``label_flip``) and diagnostics (layer curves,
entropies, counts) are shown but not ranked. The overall rank of a task averages each explainer's
ranks over the primary scores that every ranked explainer of the task has, and says which.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from audiox_bench.core.contracts import ValueSpec
from audiox_bench.core.files import load_json
from audiox_bench.core.records import GroupRow, Record
from audiox_bench.results.store import VALIDITY, read_group_rows, read_records, read_run_info

LEADERBOARD_COLUMNS = [
    "task",
    "explainer",
    "metric",
    "mean",
    "ci_low",
    "ci_high",
    "n",
    "rank",
    "n_skipped",
    "n_failed",
    "n_not_applicable",
]
OVERALL_COLUMNS = ["task", "explainer", "overall_rank", "mean_rank", "n_metrics", "metrics"]
VALUE_COLUMNS = ["task", "explainer", "example_id", "repeat", "metric", "value"]
N_RESAMPLES = 2000


def resolve_spec(value: str, specs: Mapping[str, ValueSpec]) -> ValueSpec:
    """The spec of a value name: declared, else a diagnostic in its metric's direction (``a.b`` follows
    ``a``), else a score where higher is better (values of metrics nobody declared)."""
    if value in specs:
        return specs[value]
    parent = specs.get(value.split(".", 1)[0])
    if parent is not None:
        return ValueSpec(value, "diagnostic", parent.higher_is_better)
    return ValueSpec(value, "score", True, primary="." not in value)


def metric_values(records: Iterable[Record], group_rows: Iterable[GroupRow] = ()) -> pd.DataFrame:
    """One row per (record or group row, metric value): columns task, explainer, example_id, repeat,
    metric, value.

    Values that are None (metric undefined for the instance) are kept as NaN; failed records
    contribute no rows. A group row about all repeats of an example has ``repeat`` -1.
    """
    rows = []
    for source in (*records, *group_rows):
        if isinstance(source, Record) and source.error:
            continue
        repeat = -1 if source.repeat is None else int(source.repeat)
        for metric, value in source.metrics.items():
            rows.append(
                (
                    source.task,
                    source.explainer,
                    source.example_id,
                    repeat,
                    metric,
                    np.nan if value is None else float(value),
                )
            )
    return pd.DataFrame(rows, columns=VALUE_COLUMNS)


def bootstrap_ci(values: np.ndarray, seed: int, confidence: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap CI of the mean (``scipy.stats.bootstrap``), deterministic from ``seed``.

    A single value or constant values give a zero-width interval at the mean.
    """
    values = np.asarray(values, dtype=np.float64)
    if len(values) == 0:
        return (np.nan, np.nan)
    if len(values) == 1 or np.all(values == values[0]):
        return (float(values[0]), float(values[0])) if len(values) == 1 else (float(values.mean()),) * 2
    result = stats.bootstrap(
        (values,),
        np.mean,
        confidence_level=confidence,
        n_resamples=N_RESAMPLES,
        method="percentile",
        rng=np.random.default_rng(seed),
        vectorized=True,
    )
    return float(result.confidence_interval.low), float(result.confidence_interval.high)


def _count_cells(records: Iterable[Record]) -> dict[tuple[str, str], int]:
    """Number of records per (task, explainer)."""
    counts: dict[tuple[str, str], int] = {}
    for record in records:
        counts[(record.task, record.explainer)] = counts.get((record.task, record.explainer), 0) + 1
    return counts


def leaderboard(
    records: Sequence[Record], specs: Mapping[str, ValueSpec], group_rows: Sequence[GroupRow] = ()
) -> pd.DataFrame:
    """The leaderboard of a run.

    Parameters
    ----------
    records : sequence of Record
    specs : mapping of value name to ValueSpec
        How each value is read (see :func:`resolve_spec` for names not in it).
    group_rows : sequence of GroupRow
        Values of group metrics and dataset summaries.

    Returns
    -------
    pd.DataFrame
        Columns ``task, explainer, metric, mean, ci_low, ci_high, n, rank, n_skipped, n_failed,
        n_not_applicable``; ``rank`` is 1 for the best explainer of a task on a score (ties share the
        lower rank) and empty for references and diagnostics.
    """
    values = metric_values(records, group_rows)
    failed_counts = _count_cells(r for r in records if r.error)
    na_counts = _count_cells(r for r in records if r.not_applicable)
    rows = []
    for (task, explainer, metric), group in values.groupby(["task", "explainer", "metric"], sort=True):
        present = group["value"].dropna().to_numpy()
        low, high = bootstrap_ci(present, zlib.crc32(f"{task}|{explainer}|{metric}".encode()))
        rows.append(
            {
                "task": task,
                "explainer": explainer,
                "metric": metric,
                "mean": float(present.mean()) if len(present) else np.nan,
                "ci_low": low,
                "ci_high": high,
                "n": len(present),
                "n_skipped": int(group["value"].isna().sum()),
                "n_failed": failed_counts.get((task, explainer), 0),
                "n_not_applicable": na_counts.get((task, explainer), 0),
            }
        )
    # Cells without any value still appear, so failures and N/A are visible.
    seen = {(r["task"], r["explainer"]) for r in rows}
    for cell in sorted(set(failed_counts) | set(na_counts)):
        if cell not in seen:
            failed, na = failed_counts.get(cell, 0), na_counts.get(cell, 0)
            rows.append(
                {
                    "task": cell[0],
                    "explainer": cell[1],
                    "metric": "(all failed)" if failed else "(not applicable)",
                    "mean": np.nan,
                    "ci_low": np.nan,
                    "ci_high": np.nan,
                    "n": 0,
                    "n_skipped": 0,
                    "n_failed": failed,
                    "n_not_applicable": na,
                }
            )
    table = pd.DataFrame(rows, columns=[c for c in LEADERBOARD_COLUMNS if c != "rank"])
    table["rank"] = np.nan
    for (_, metric), group in table.groupby(["task", "metric"]):
        spec = resolve_spec(metric, specs)
        if spec.role == "score":
            table.loc[group.index, "rank"] = group["mean"].rank(method="min", ascending=not spec.higher_is_better)
    table["rank"] = table["rank"].astype("Int64")
    return table[LEADERBOARD_COLUMNS].sort_values(["task", "metric", "rank", "explainer"]).reset_index(drop=True)


def overall_ranks(table: pd.DataFrame, specs: Mapping[str, ValueSpec]) -> pd.DataFrame:
    """Overall rank per task: explainers ordered by their mean rank over the primary scores that every
    ranked explainer of the task has (``metrics`` names them). An explainer is ranked if it has a value
    on at least one primary score; ties share the lower overall rank.

    Returns
    -------
    pd.DataFrame
        Columns ``task, explainer, overall_rank, mean_rank, n_metrics, metrics``.
    """
    primary = table[np.array([resolve_spec(m, specs).primary for m in table["metric"]], dtype=bool) & (table["n"] > 0)]
    parts = []
    for task, rows in primary.groupby("task", sort=True):
        per_explainer = rows.groupby("explainer")["metric"].apply(set)
        common = sorted(set.intersection(*per_explainer)) if len(per_explainer) else []
        used = rows[rows["metric"].isin(common)]
        if used.empty:
            continue
        overall = (
            used.assign(rank=used["rank"].astype(float))
            .groupby("explainer")["rank"]
            .agg(mean_rank="mean", n_metrics="count")
            .reset_index()
        )
        overall["task"] = task
        overall["metrics"] = ";".join(common)
        parts.append(overall)
    if not parts:
        return pd.DataFrame(columns=OVERALL_COLUMNS)
    overall = pd.concat(parts, ignore_index=True)
    overall["overall_rank"] = overall.groupby("task")["mean_rank"].rank(method="min").astype("Int64")
    return overall[OVERALL_COLUMNS].sort_values(["task", "overall_rank", "explainer"]).reset_index(drop=True)


def left_out_of_overall(table: pd.DataFrame, specs: Mapping[str, ValueSpec]) -> dict[str, list[str]]:
    """Per task, the primary scores left out of the overall rank, each with the explainers lacking it."""
    primary = table[np.array([resolve_spec(m, specs).primary for m in table["metric"]], dtype=bool) & (table["n"] > 0)]
    notes: dict[str, list[str]] = {}
    for task, rows in primary.groupby("task", sort=True):
        explainers = set(rows["explainer"])
        for metric, group in rows.groupby("metric", sort=True):
            missing = sorted(explainers - set(group["explainer"]))
            if missing:
                notes.setdefault(task, []).append(f"{metric} (no value for {', '.join(missing)})")
    return notes


def to_csv(table: pd.DataFrame) -> str:
    """CSV text with fixed float formatting (byte-identical for identical tables)."""
    return table.to_csv(index=False, float_format="%.6g", lineterminator="\n")


def to_markdown(table: pd.DataFrame, digits: int = 4) -> str:
    """A GitHub-flavoured Markdown table."""

    def cell(value: Any) -> str:
        if isinstance(value, float | np.floating):
            return "" if np.isnan(value) else f"{value:.{digits}g}"
        if value is pd.NA or value is None:
            return ""
        return str(value)

    header = "| " + " | ".join(table.columns) + " |"
    rule = "|" + "|".join("---" for _ in table.columns) + "|"
    body = ["| " + " | ".join(cell(v) for v in row) + " |" for row in table.itertuples(index=False)]
    return "\n".join([header, rule, *body]) + "\n"


def specs_of(run_info: Mapping[str, Any]) -> dict[str, ValueSpec]:
    """Value specs recorded in ``run.json`` (runs made before values were declared: their metric
    directions, every main value a primary score)."""
    recorded = run_info.get("values")
    if isinstance(recorded, dict):
        return {name: ValueSpec(name, **spec) for name, spec in recorded.items()}
    return {
        name: ValueSpec(name, "score", bool(direction), primary=True)
        for name, direction in (run_info.get("metric_directions") or {}).items()
    }


@dataclass
class RunTables:
    """The tables of a run directory, rebuilt from its records."""

    table: pd.DataFrame
    overall: pd.DataFrame
    specs: dict[str, ValueSpec]
    run_info: dict[str, Any]
    validity: dict[str, Any]


def tables_of(run_dir: str | Path) -> RunTables:
    """Rebuild the leaderboard and overall ranks of a run directory from its records.

    Raises
    ------
    AudioxError
        If ``run_dir`` is not a run directory.
    """
    info = read_run_info(Path(run_dir))
    specs = specs_of(info)
    table = leaderboard(read_records(Path(run_dir)), specs, read_group_rows(Path(run_dir)))
    validity = load_json(Path(run_dir) / VALIDITY)
    return RunTables(table, overall_ranks(table, specs), specs, info, validity if isinstance(validity, dict) else {})
