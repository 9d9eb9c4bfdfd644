"""Records -> tables: the leaderboard (mean, 95% bootstrap CI, n and rank per task x explainer x metric
value), the overall ranks, and the cost table.

How a value is read follows its metric's declaration (:class:`~audiox_bench.core.interfaces.ValueSpec`):
scores are ranked, references (e.g. the norm oracle of ``label_flip``) and diagnostics (layer curves,
entropies, counts) are shown but not ranked. The overall rank of a task averages each explainer's
ranks over the primary scores that every ranked explainer of the task has, and says which.
"""

from __future__ import annotations

import zlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from audiox_bench.core.data import ValueSpec
from audiox_bench.core.records import GroupRow, Record
from audiox_bench.results.statistics import SIGNIFICANCE, bootstrap_ci, holm, paired_p, tolerant_ranks

LEADERBOARD_COLUMNS = [
    "task",
    "explainer",
    "metric",
    "role",
    "mean",
    "ci_low",
    "ci_high",
    "n",
    "rank",
    "vs_best",
    "p_vs_best",
    "n_skipped",
    "n_failed",
    "n_not_applicable",
    "note",
]
OVERALL_COLUMNS = ["task", "explainer", "overall_rank", "mean_rank", "n_metrics", "metrics"]
VALUE_COLUMNS = ["task", "explainer", "example_id", "repeat", "metric", "value"]
MIN_OVERALL_SCORES = 2  # an overall rank over fewer scores, with others left out, is that score's rank
NO_OVERALL = "fewer than two primary scores have a value for every explainer (read the score columns)"
# Model inputs each explanation needed (see Record): shown, never ranked. Its wall time, which is not
# deterministic, is in the cost table (costs.csv), not in the leaderboard.
COST_SPECS = {"cost.model_calls": ValueSpec("cost.model_calls", "diagnostic", higher_is_better=False)}
COST_COLUMNS = [
    "task",
    "explainer",
    "n",
    "seconds",
    "model_calls",
    "cache_hits",
    "metric_seconds",
    "n_failed",
    "n_not_applicable",
    "note",
]


def resolve_spec(value: str, specs: Mapping[str, ValueSpec]) -> ValueSpec:
    """The spec of a value name: declared, else a diagnostic in its metric's direction (``a.b`` follows
    ``a``), else a score where higher is better (values of metrics nobody declared)."""
    if value in specs:
        return specs[value]
    if value.startswith("("):  # "(all failed)", "(not applicable)": rows that only carry counts and reasons
        return ValueSpec(value, "diagnostic")
    if value in COST_SPECS:
        return COST_SPECS[value]
    parent = specs.get(value.split(".", 1)[0])
    if parent is not None:
        return ValueSpec(value, "diagnostic", parent.higher_is_better)
    return ValueSpec(value, "score", True, primary="." not in value)


def metric_values(records: Iterable[Record], group_rows: Iterable[GroupRow] = ()) -> pd.DataFrame:
    """One row per (record or group row, metric value): columns task, explainer, example_id, repeat,
    metric, value; plus the model inputs of each successful explanation (``cost.model_calls``).

    Values that are None (metric undefined for the instance) are kept as NaN; failed records
    contribute no rows. A group row about all repeats of an example has ``repeat`` -1.
    """
    rows = []
    for source in (*records, *group_rows):
        if isinstance(source, Record) and source.error:
            continue
        repeat = -1 if source.repeat is None else int(source.repeat)
        cell = (source.task, source.explainer, source.example_id, repeat)
        for metric, value in source.metrics.items():
            rows.append((*cell, metric, np.nan if value is None else float(value)))
        if isinstance(source, Record) and source.ok:
            rows.append((*cell, "cost.model_calls", float(source.n_model_calls)))
    return pd.DataFrame(rows, columns=VALUE_COLUMNS)


def cost_table(records: Sequence[Record]) -> pd.DataFrame:
    """Per task x explainer: what an explanation cost (means over its successful records, each as if it
    had run alone: seconds, model inputs needed, of them answered by the cache, seconds of metrics), and
    how many items failed or did not apply, with the most common reason."""
    notes = cell_notes(records)
    cells: dict[tuple[str, str], list[Record]] = defaultdict(list)
    for record in records:
        cells[(record.task, record.explainer)].append(record)
    rows = []
    for (task, explainer), group in sorted(cells.items()):
        ok = [r for r in group if r.ok]

        def mean(values: list[float], ok: list[Record] = ok) -> float:
            return float(np.mean(values)) if ok else np.nan

        rows.append(
            {
                "task": task,
                "explainer": explainer,
                "n": len(ok),
                "seconds": mean([r.seconds for r in ok]),
                "model_calls": mean([r.n_model_calls for r in ok]),
                "cache_hits": mean([r.n_cache_hits for r in ok]),
                "metric_seconds": mean([sum(r.metric_seconds.values()) for r in ok]),
                "n_failed": sum(1 for r in group if r.error),
                "n_not_applicable": sum(1 for r in group if r.not_applicable),
                "note": notes.get((task, explainer), ""),
            }
        )
    return pd.DataFrame(rows, columns=COST_COLUMNS)


def _count_cells(records: Iterable[Record]) -> dict[tuple[str, str], int]:
    """Number of records per (task, explainer)."""
    counts: dict[tuple[str, str], int] = {}
    for record in records:
        counts[(record.task, record.explainer)] = counts.get((record.task, record.explainer), 0) + 1
    return counts


def _most_common(reasons: list[str]) -> str:
    return Counter(reasons).most_common(1)[0][0]


def cell_notes(records: Sequence[Record]) -> dict[tuple[str, str], str]:
    """Per (task, explainer): how many items failed or did not apply, and why (the most common reason)."""
    failed: dict[tuple[str, str], list[str]] = defaultdict(list)
    not_applicable: dict[tuple[str, str], list[str]] = defaultdict(list)
    for record in records:
        if record.error:
            failed[(record.task, record.explainer)].append(record.error)
        elif record.not_applicable:
            not_applicable[(record.task, record.explainer)].append(record.not_applicable)
    notes = {}
    for cell in set(failed) | set(not_applicable):
        parts = []
        if failed[cell]:
            parts.append(f"{len(failed[cell])} failed: {_most_common(failed[cell])}")
        if not_applicable[cell]:
            parts.append(f"{len(not_applicable[cell])} not applicable: {_most_common(not_applicable[cell])}")
        notes[cell] = "; ".join(parts)
    return notes


def undefined_reasons(records: Sequence[Record]) -> dict[tuple[str, str, str], str]:
    """Per (task, explainer, metric): the most common reason its value was undefined."""
    reasons: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for record in records:
        for metric, why in record.metric_notes.items():
            reasons[(record.task, record.explainer, metric)].append(why)
    return {key: _most_common(why) for key, why in reasons.items()}


def versus_best(table: pd.DataFrame, values: pd.DataFrame) -> tuple[list[str | None], list[float]]:
    """For every ranked row: ``best``, ``=`` (not significantly different from the best) or ``<``
    (significantly worse), and the Holm-adjusted p-value of a paired Wilcoxon test against the best on
    their common instances. Dataset-level values (no instances) and per-instance values without common
    instances are told apart by their 95% CIs (overlapping: ``=``); a row of fewer than two values is
    never marked worse (one value has no spread to tell noise from a difference)."""
    marks: list[str | None] = [None] * len(table)
    p_values: list[float] = [np.nan] * len(table)
    by_key = {
        key: group.set_index(["example_id", "repeat"])["value"].dropna()
        for key, group in values.groupby(["task", "explainer", "metric"])
    }
    for (task, metric), group in table[table["rank"].notna()].groupby(["task", "metric"]):
        best = group[group["rank"] == group["rank"].min()]
        best_row = best.iloc[0]
        tests = []
        for position, row in group.iterrows():
            if row["rank"] == best_row["rank"]:
                marks[position] = "best"
                continue
            a = by_key.get((task, best_row["explainer"], metric), pd.Series(dtype=float))
            b = by_key.get((task, row["explainer"], metric), pd.Series(dtype=float))
            common = a.index.intersection(b.index)
            dataset_level = -1 in common.get_level_values("repeat")
            if len(common) >= 2 and not dataset_level:
                tests.append((position, paired_p(a[common].to_numpy(), b[common].to_numpy())))
            elif not dataset_level and min(row["n"], best_row["n"]) < 2:
                marks[position] = "="
            else:
                overlap = row["ci_high"] >= best_row["ci_low"] and row["ci_low"] <= best_row["ci_high"]
                marks[position] = "=" if overlap else "<"
        if tests:
            adjusted = holm([p for _, p in tests])
            for (position, _), p in zip(tests, adjusted):
                p_values[position] = p
                marks[position] = "<" if p < SIGNIFICANCE else "="
    return marks, p_values


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
        Columns ``task, explainer, metric, role, mean, ci_low, ci_high, n, rank, vs_best, p_vs_best,
        n_skipped, n_failed, n_not_applicable, note``. ``rank`` is 1 for the best explainer of a task on
        a score, means within float tolerance share a rank, and references and diagnostics get none;
        ``vs_best`` marks rows significantly worse than the best (``<``) or not (``=``); ``note`` says
        why items failed, did not apply, or left a value undefined.
    """
    values = metric_values(records, group_rows)
    failed_counts = _count_cells(r for r in records if r.error)
    na_counts = _count_cells(r for r in records if r.not_applicable)
    notes, reasons = cell_notes(records), undefined_reasons(records)
    rows = []
    for (task, explainer, metric), group in values.groupby(["task", "explainer", "metric"], sort=True):
        present = group["value"].dropna().to_numpy()
        low, high = bootstrap_ci(present, zlib.crc32(f"{task}|{explainer}|{metric}".encode()))
        skipped = int(group["value"].isna().sum())
        why = reasons.get((task, explainer, metric.split(".", 1)[0]))
        note = "; ".join(
            n for n in (notes.get((task, explainer)), f"{skipped} undefined: {why}" if skipped and why else None) if n
        )
        rows.append(
            {
                "task": task,
                "explainer": explainer,
                "metric": metric,
                "role": resolve_spec(metric, specs).role,
                "mean": float(present.mean()) if len(present) else np.nan,
                "ci_low": low,
                "ci_high": high,
                "n": len(present),
                "n_skipped": skipped,
                "n_failed": failed_counts.get((task, explainer), 0),
                "n_not_applicable": na_counts.get((task, explainer), 0),
                "note": note,
            }
        )
    # Cells without any value still appear, so failures and N/A are visible with their reasons.
    seen = {(r["task"], r["explainer"]) for r in rows}
    for cell in sorted(set(failed_counts) | set(na_counts)):
        if cell not in seen:
            failed, na = failed_counts.get(cell, 0), na_counts.get(cell, 0)
            rows.append(
                {
                    "task": cell[0],
                    "explainer": cell[1],
                    "metric": "(all failed)" if failed else "(not applicable)",
                    "role": "",
                    "mean": np.nan,
                    "ci_low": np.nan,
                    "ci_high": np.nan,
                    "n": 0,
                    "n_skipped": 0,
                    "n_failed": failed,
                    "n_not_applicable": na,
                    "note": notes[cell],
                }
            )
    table = pd.DataFrame(rows, columns=[c for c in LEADERBOARD_COLUMNS if c not in ("rank", "vs_best", "p_vs_best")])
    table["rank"] = np.nan
    for (_, metric), group in table.groupby(["task", "metric"]):
        spec = resolve_spec(metric, specs)
        if spec.role == "score":
            table.loc[group.index, "rank"] = tolerant_ranks(group["mean"], spec.higher_is_better)
    table["rank"] = table["rank"].astype("Int64")
    table["vs_best"], table["p_vs_best"] = versus_best(table, values)
    return table[LEADERBOARD_COLUMNS].sort_values(["task", "metric", "rank", "explainer"]).reset_index(drop=True)


def overall_ranks(table: pd.DataFrame, specs: Mapping[str, ValueSpec]) -> pd.DataFrame:
    """Overall rank per task: explainers ordered by their mean rank over the primary scores that every
    ranked explainer of the task has (``metrics`` names them). An explainer is ranked if it has a value
    on at least one primary score; ties share the lower overall rank. A task gets no overall rank when
    it would rest on one score while others are left out (it would repeat that score's rank under a
    name that claims more, e.g. the randomization check alone where top-k has no truth for some).

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
        if used.empty or not overall_is_defined(common, set(rows["metric"])):
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


def overall_is_defined(common: Sequence[str], every: set[str]) -> bool:
    """Whether an overall rank over the ``common`` primary scores says more than one score's rank: it
    does over two or more, or over the only primary score there is."""
    return len(common) >= MIN_OVERALL_SCORES or set(common) == every


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
