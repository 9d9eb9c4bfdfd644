"""The short summary ``audiox run`` prints: per task, the overall verdict and the primary scores of each
explainer (mean and group letters) with its cost, why anything did not apply or was not ranked, and the
failures; then the verdict across tasks."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from audiox_bench.core.data import ValueSpec
from audiox_bench.core.documents import TaskValidity
from audiox_bench.core.records import Record
from audiox_bench.results.ranking import ALL_TASKS
from audiox_bench.results.tables import FAMILY_NAMES, Tables
from audiox_bench.results.values import resolve_spec


def _mean_group(row: Mapping[str, Any]) -> str:
    if row["n"] == 0:
        return "-"
    group = f" {row['group']}" if row["group"] else ""
    return f"{row['mean']:.3g} [{row['ci_low']:.3g}, {row['ci_high']:.3g}]{group}"


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
    tables: Tables,
    specs: Mapping[str, ValueSpec],
    records: Sequence[Record],
    validity: Mapping[str, TaskValidity],
) -> str:
    """The summary of one task (a small table and notes)."""
    rows = tables.leaderboard[tables.leaderboard["task"] == task]
    primary = sorted(m for m in rows["metric"].unique() if resolve_spec(m, specs).primary)
    columns = [m for m in primary if (rows[rows["metric"] == m]["n"] > 0).any()]
    verdicts = {f: v for (t, f), v in tables.verdicts.items() if t == task}
    order = [e for v in verdicts.values() for e in v.explainers]
    costs = {r["explainer"]: r for r in tables.costs[tables.costs["task"] == task].to_dict("records")}
    by_cell = {(r["explainer"], r["metric"]): r for r in rows.to_dict("records")}
    lines = []
    for explainer in order + sorted(set(rows["explainer"]) - set(order)):
        line: dict[str, Any] = {}
        if verdicts:
            verdict = tables.verdict_of(task, explainer)
            ranked = verdict.row_of(explainer) if verdict else None
            if any(verdicts):  # explainers of several kinds, each kind with its own verdict
                line["kind"] = FAMILY_NAMES.get(verdict.family, verdict.family) if verdict else ""
            line["rank"] = ranked["position"] if ranked else ""
            line["overall"] = f"{ranked['mean_rank']:.2f} {ranked['group']}" if ranked else ""
        line["explainer"] = explainer
        for metric in columns:
            cell = by_cell.get((explainer, metric))
            line[metric] = _mean_group(cell) if cell is not None else "-"
        cost = costs.get(explainer)
        measured = cost is not None and cost["n"] > 0
        line["s/expl"] = f"{cost['seconds']:.3g}" if measured else "-"
        line["calls/expl"] = f"{cost['model_calls']:.0f}" if measured else "-"
        lines.append(line)
    entry = validity.get(task)
    n_examples = len({r.example_id for r in records if r.task == task})
    header = f"{task}: {n_examples} examples, model {'valid' if entry is None or entry.passed else 'INVALID'}"
    text = [header, pd.DataFrame(lines).to_string(index=False)] if lines else [header]
    notes = []
    for explainer, cost in sorted(costs.items()):
        if cost["note"]:
            notes.append(f"  {explainer}: {cost['note']}")
    for row in rows.to_dict("records"):  # a primary score without any value: why
        if row["metric"] in primary and row["n"] == 0 and row["n_skipped"] > 0 and row["note"]:
            notes.append(f"  {row['explainer']}: {row['note']}")
    for (t, metric, _), comparison in sorted(tables.comparisons.items()):
        if t == task and metric in columns:
            for explainer, why in sorted(comparison.left_out.items()):
                notes.append(f"  {explainer}: {metric} not ranked: {why}")
    if verdicts:
        notes.append(
            "  overall: mean scaled rank over the primary scores (0 = best); a letter shared = not significantly "
            "different"
        )
    return "\n".join(text + list(dict.fromkeys(notes)))


def run_summary(
    tables: Tables,
    specs: Mapping[str, ValueSpec],
    records: Sequence[Record],
    validity: Mapping[str, TaskValidity],
) -> str:
    """Every task's summary, the verdict across tasks, then the failures."""
    tasks = sorted(tables.leaderboard["task"].unique())
    parts = [task_summary(task, tables, specs, records, validity) for task in tasks]
    for (task, family), combined in tables.verdicts.items():
        if task == ALL_TASKS:
            ranked = ", ".join(
                f"{e} {m:.2f} {g}" for e, m, g in zip(combined.explainers, combined.mean_ranks, combined.groups)
            )
            kind = FAMILY_NAMES.get(family, family)
            parts.append(f"{kind}, across {combined.n_blocks} tasks (mean rank over tasks, group): {ranked}")
    failures = failure_summary(records)
    counts = Counter("failed" if r.error else "n/a" if r.not_applicable else "ok" for r in records)
    parts.append(
        f"{len(records)} records: {counts['ok']} explained, {counts['n/a']} not applicable, "
        f"{counts['failed']} failed" + ("\n" + "\n".join(failures) if failures else "")
    )
    return "\n\n".join(parts) + "\n"
