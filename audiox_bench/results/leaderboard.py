"""Records -> leaderboard: mean, 95% bootstrap CI, n and rank per task x explainer x metric."""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

LEADERBOARD_COLUMNS = ["task", "explainer", "metric", "mean", "ci_low", "ci_high", "n", "rank",
                       "n_skipped", "n_failed", "n_not_applicable"]
N_RESAMPLES = 2000


def metric_values(records: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """One row per (record, metric value): columns task, explainer, example_id, repeat, metric, value.

    Values that are None (metric undefined for the instance) are kept as NaN; failed records
    contribute no rows. Group-metric rows (see :class:`GroupMetric`) may be passed along with the
    records; a row about all repeats of an example has ``repeat`` -1.
    """
    rows = []
    for record in records:
        if record.get("error"):
            continue
        for metric, value in (record.get("metrics") or {}).items():
            repeat = record.get("repeat")
            rows.append((record["task"], record["explainer"], record["example_id"],
                         -1 if repeat is None else int(repeat), metric, np.nan if value is None else float(value)))
    return pd.DataFrame(rows, columns=["task", "explainer", "example_id", "repeat", "metric", "value"])


def bootstrap_ci(values: np.ndarray, seed: int, confidence: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap CI of the mean (``scipy.stats.bootstrap``), deterministic from ``seed``.

    A single value or constant values give a zero-width interval at the mean.
    """
    values = np.asarray(values, dtype=np.float64)
    if len(values) == 0:
        return (np.nan, np.nan)
    if len(values) == 1 or np.all(values == values[0]):
        return (float(values[0]), float(values[0])) if len(values) == 1 else (float(values.mean()),) * 2
    result = stats.bootstrap((values,), np.mean, confidence_level=confidence, n_resamples=N_RESAMPLES,
                             method="percentile", rng=np.random.default_rng(seed), vectorized=True)
    return float(result.confidence_interval.low), float(result.confidence_interval.high)


def direction_of(metric: str, directions: Mapping[str, bool]) -> bool:
    """``higher_is_better`` of a metric value name (``topk_overlap.n_ce`` follows ``topk_overlap``)."""
    if metric in directions:
        return bool(directions[metric])
    return bool(directions.get(metric.split(".", 1)[0], True))


def leaderboard(records: list[Mapping[str, Any]], directions: Mapping[str, bool],
                group_rows: list[Mapping[str, Any]] = ()) -> pd.DataFrame:
    """The leaderboard of a run.

    Parameters
    ----------
    records : list of dict
        Run records (see ``records.jsonl``).
    group_rows : list of dict
        Values of group metrics (see ``group_metrics.jsonl``).
    directions : mapping of str to bool
        ``higher_is_better`` per metric name.

    Returns
    -------
    pd.DataFrame
        Columns ``task, explainer, metric, mean, ci_low, ci_high, n, rank, n_skipped, n_failed,
        n_not_applicable``;
        ``rank`` is 1 for the best explainer of a task on a metric (ties share the lower rank).
    """
    values = metric_values([*records, *group_rows])
    failed_counts = _count_cells(r for r in records if r.get("error"))
    na_counts = _count_cells(r for r in records if r.get("not_applicable"))
    rows = []
    for (task, explainer, metric), group in values.groupby(["task", "explainer", "metric"], sort=True):
        present = group["value"].dropna().to_numpy()
        seed = zlib.crc32(f"{task}|{explainer}|{metric}".encode())
        low, high = bootstrap_ci(present, seed)
        rows.append({"task": task, "explainer": explainer, "metric": metric,
                     "mean": float(present.mean()) if len(present) else np.nan, "ci_low": low, "ci_high": high,
                     "n": len(present), "n_skipped": int(group["value"].isna().sum()),
                     "n_failed": failed_counts.get((task, explainer), 0),
                     "n_not_applicable": na_counts.get((task, explainer), 0)})
    # Cells without any value still appear, so failures and N/A are visible.
    seen = {(r["task"], r["explainer"]) for r in rows}
    for cell in sorted(set(failed_counts) | set(na_counts)):
        if cell not in seen:
            failed, na = failed_counts.get(cell, 0), na_counts.get(cell, 0)
            rows.append({"task": cell[0], "explainer": cell[1], "metric": "(all failed)" if failed else "(not applicable)",
                         "mean": np.nan, "ci_low": np.nan, "ci_high": np.nan, "n": 0, "n_skipped": 0,
                         "n_failed": failed, "n_not_applicable": na})
    table = pd.DataFrame(rows, columns=[c for c in LEADERBOARD_COLUMNS if c != "rank"])
    table["rank"] = np.nan
    for (task, metric), group in table.groupby(["task", "metric"]):
        ascending = not direction_of(metric, directions)
        table.loc[group.index, "rank"] = group["mean"].rank(method="min", ascending=ascending)
    table["rank"] = table["rank"].astype("Int64")
    return table[LEADERBOARD_COLUMNS].sort_values(["task", "metric", "rank", "explainer"]).reset_index(drop=True)


OVERALL_COLUMNS = ["task", "explainer", "overall_rank", "mean_rank", "n_metrics"]


def overall_ranks(table: pd.DataFrame) -> pd.DataFrame:
    """Overall rank per task: explainers ordered by their mean rank over the task's main metrics.

    Main metrics are the leaderboard's metric names without a ``.`` (``topk_overlap``, ``stability``,
    ...; sub-values such as ``topk_overlap.n_ce`` would count one metric twice). Each explainer's mean
    is over the main metrics it has a rank on (``n_metrics``); ties share the lower overall rank.

    Returns
    -------
    pd.DataFrame
        Columns ``task, explainer, overall_rank, mean_rank, n_metrics``.
    """
    main = table[~table["metric"].str.contains(".", regex=False) & table["rank"].notna()]
    if main.empty:
        return pd.DataFrame(columns=OVERALL_COLUMNS)
    grouped = main.assign(rank=main["rank"].astype(float)).groupby(["task", "explainer"])["rank"]
    overall = grouped.agg(mean_rank="mean", n_metrics="count").reset_index()
    overall["overall_rank"] = overall.groupby("task")["mean_rank"].rank(method="min").astype("Int64")
    return overall[OVERALL_COLUMNS].sort_values(["task", "overall_rank", "explainer"]).reset_index(drop=True)


def _count_cells(records: Iterable[Mapping[str, Any]]) -> dict[tuple[str, str], int]:
    """Number of records per (task, explainer)."""
    counts: dict[tuple[str, str], int] = {}
    for record in records:
        cell = (record["task"], record["explainer"])
        counts[cell] = counts.get(cell, 0) + 1
    return counts


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
