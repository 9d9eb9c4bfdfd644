"""Records -> per-instance values: one row per (record or group row, value), how each value is read,
what each explanation cost, and why items failed, did not apply, or left a value undefined."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from audiox_bench.core.data import ValueSpec
from audiox_bench.core.records import GroupRow, Record

VALUE_COLUMNS = ["task", "explainer", "example_id", "repeat", "metric", "value"]
DATASET = "(dataset)"  # the example id of a value computed once per dataset (no instances, no interval)
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
