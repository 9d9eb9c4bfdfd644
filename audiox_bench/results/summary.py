"""The short summary ``audiox run`` prints: per task, the overall rank and the primary scores of each
explainer with its cost, why anything did not apply or was undefined, and the failures."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from audiox_bench.core.data import ValueSpec
from audiox_bench.core.documents import TaskValidity
from audiox_bench.core.records import Record
from audiox_bench.results.tables import NO_OVERALL, cost_table, left_out_of_overall, resolve_spec


def _mean_ci(row: Mapping[str, Any]) -> str:
    if row["n"] == 0:
        return "-"
    mark = {"<": " <", "=": ""}.get(row.get("vs_best") or "", "")
    return f"{row['mean']:.3g} [{row['ci_low']:.3g}, {row['ci_high']:.3g}]{mark}"


def failure_summary(records: Sequence[Record]) -> list[str]:
    """One line per (task, explainer) with failed items: how many, and the first reason."""
    failed: dict[tuple[str, str], list[Record]] = {}
    for record in records:
        if record.error:
            failed.setdefault((record.task, record.explainer), []).append(record)
    return [
        f"failed: {explainer} on {task}: {len(items)} of its items; first: {items[0].error}"
        for (task, explainer), items in sorted(failed.items())
    ]


def task_summary(
    task: str,
    table: pd.DataFrame,
    overall: pd.DataFrame,
    specs: Mapping[str, ValueSpec],
    records: Sequence[Record],
    validity: Mapping[str, TaskValidity],
) -> str:
    """The summary of one task (a small table and notes)."""
    rows = table[table["task"] == task]
    primary = sorted(m for m in rows["metric"].unique() if resolve_spec(m, specs).primary)
    valued = set(rows[rows["n"] > 0]["metric"])
    columns = [m for m in primary if m in valued]  # a score without a value here: its reason, not a column of "-"
    ranks = overall[overall["task"] == task].set_index("explainer")["overall_rank"].to_dict()
    lines = []
    costs = {r["explainer"]: r for r in cost_table([r for r in records if r.task == task]).to_dict("records")}
    by_cell = {(r["explainer"], r["metric"]): r for r in rows.to_dict("records")}
    for explainer in sorted(
        rows["explainer"].unique(), key=lambda e: (pd.isna(ranks.get(e, np.nan)), ranks.get(e, 0), e)
    ):
        line: dict[str, Any] = {"explainer": explainer}
        if ranks:  # a task without an overall rank gets no column of blanks
            line = {"rank": "" if pd.isna(ranks.get(explainer, np.nan)) else int(ranks[explainer]), **line}
        for metric in columns:
            cell = by_cell.get((explainer, metric))
            line[metric] = _mean_ci(cell) if cell is not None else "-"
        cost = costs.get(explainer)
        measured = cost is not None and cost["n"] > 0  # not applicable everywhere: nothing was run
        line["s/expl"] = f"{cost['seconds']:.3g}" if measured else "-"
        line["calls/expl"] = f"{cost['model_calls']:.0f}" if measured else "-"
        lines.append(line)
    entry = validity.get(task)
    n_examples = len({r.example_id for r in records if r.task == task})
    header = f"{task}: {n_examples} examples, model {'valid' if entry is None or entry.passed else 'INVALID'}"
    text = [header, pd.DataFrame(lines).to_string(index=False)] if lines else [header]
    notes = []
    for (explainer, _), note in sorted(
        {
            (r["explainer"], r["note"]): r["note"]
            for r in rows.to_dict("records")
            if r["note"] and r["metric"] in (*primary, "(not applicable)", "(all failed)")
        }.items()
    ):
        notes.append(f"  {explainer}: {note}")
    left_out = left_out_of_overall(table, specs).get(task)
    if left_out and ranks:
        notes.append("  overall rank leaves out " + "; ".join(left_out))
    elif left_out:
        notes.append(f"  no overall rank: {NO_OVERALL}; " + "; ".join(left_out))
    return "\n".join(text + list(dict.fromkeys(notes)))


def run_summary(
    table: pd.DataFrame,
    overall: pd.DataFrame,
    specs: Mapping[str, ValueSpec],
    records: Sequence[Record],
    validity: Mapping[str, TaskValidity],
) -> str:
    """Every task's summary, then the failures; ``<`` marks a score significantly below the best."""
    parts = [task_summary(task, table, overall, specs, records, validity) for task in sorted(table["task"].unique())]
    failures = failure_summary(records)
    counts = Counter("failed" if r.error else "n/a" if r.not_applicable else "ok" for r in records)
    parts.append(
        f"{len(records)} records: {counts['ok']} explained, {counts['n/a']} not applicable, "
        f"{counts['failed']} failed" + ("\n" + "\n".join(failures) if failures else "")
    )
    return "\n\n".join(parts) + "\n"
