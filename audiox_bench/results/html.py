"""A self-contained HTML leaderboard page: per task, one row per explainer and one column per score,
sortable, with the task's validity on top and references and diagnostics folded away below."""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from audiox_bench.core.data import ValueSpec
from audiox_bench.core.documents import PlannedRun, RunInfo, TaskBaseline, TaskValidity
from audiox_bench.results.tables import NO_OVERALL, left_out_of_overall, resolve_spec

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; max-width: 110em; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: right; white-space: nowrap; }
th { background: #f0f0f0; cursor: pointer; user-select: none; }
th:hover { background: #e0e0ff; }
th[data-order="asc"]::after { content: " \\25B2"; } th[data-order="desc"]::after { content: " \\25BC"; }
td:first-child, th:first-child { text-align: left; }
td.best { background: #e3f4e3; font-weight: 600; }
td .ci { color: #777; font-size: 0.85em; }
td.reason { text-align: left; white-space: normal; max-width: 30em; color: #8a4b00; font-size: 0.85em; }
.valid { color: #1a7f37; } .invalid { color: #c62828; }
.note { color: #555; font-size: 0.9em; max-width: 70em; }
details { margin: 0 0 2em; } summary { cursor: pointer; color: #333; }
h2 { margin-top: 1.6em; border-bottom: 1px solid #ddd; }
"""

# Click a header to sort by it; click again to reverse. Cells sort by their data-value (numbers), blanks last.
_SCRIPT = """
document.querySelectorAll("table.sortable").forEach(function (table) {
  table.querySelectorAll("th").forEach(function (th, column) {
    th.addEventListener("click", function () {
      var body = table.tBodies[0], rows = Array.from(body.rows);
      var ascending = th.dataset.order !== "asc";
      table.querySelectorAll("th").forEach(function (h) { delete h.dataset.order; });
      th.dataset.order = ascending ? "asc" : "desc";
      function key(row) {
        var cell = row.cells[column];
        return cell.dataset.value !== undefined ? cell.dataset.value : cell.textContent;
      }
      rows.sort(function (a, b) {
        var x = key(a), y = key(b);
        if (x === "" || y === "") { return (x === "") - (y === ""); }
        var nx = parseFloat(x), ny = parseFloat(y);
        var c = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
        return ascending ? c : -c;
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
});
"""


def _number(value: Any, digits: int = 3) -> str:
    if value is None or value is pd.NA or (isinstance(value, float | np.floating) and np.isnan(value)):
        return ""
    if isinstance(value, float | np.floating):
        return f"{value:.{digits}g}"
    return html.escape(str(value))


def _value_cell(row: Mapping[str, Any] | None, best: bool) -> str:
    """A mean with its CI; ``data-value`` for sorting."""
    if row is None or row["n"] == 0:
        return '<td data-value=""></td>'
    ci = f' <span class="ci">[{_number(row["ci_low"])}, {_number(row["ci_high"])}]</span>'
    css = ' class="best"' if best else ""
    worse = " &lt;" if row.get("vs_best") == "<" else ""
    return f'<td{css} data-value="{row["mean"]:.12g}">{_number(row["mean"])}{worse}{ci}</td>'


def _table(head: list[str], body: list[str], caption: str = "") -> str:
    header = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    title = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return f'<table class="sortable">{title}<thead><tr>{header}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def _validity(task: str, validity: Mapping[str, TaskValidity]) -> str:
    entry = validity.get(task)
    if entry is None:
        return ""
    state = (
        '<b class="valid">valid</b>'
        if entry.passed
        else '<b class="invalid">failed its validity check (no ground truth served)</b>'
    )
    checks = "; ".join(
        f"{html.escape(c.name)} = {_number(c.value)} (needs {html.escape(c.comparison)} {_number(c.threshold)})"
        for c in entry.checks
    )
    chosen = (
        "; examples: " + ", ".join(f"{html.escape(str(k))} = {_number(v)}" for k, v in entry.selection.items())
        if entry.selection
        else ""
    )
    return f'<p class="note">Model {state}: {checks}{chosen}.</p>'


REASON_CHARS = 80


def _reason_cell(reason: str) -> str:
    """A failure / not-applicable reason, cut to ``REASON_CHARS`` in the table (whole on hover)."""
    shown = reason if len(reason) <= REASON_CHARS else reason[: REASON_CHARS - 1] + "…"
    return f'<td class="reason" title="{html.escape(reason)}">{html.escape(shown)}</td>'


def _task_section(
    costs: Mapping[tuple[str, str], Mapping[str, Any]],
    task: str,
    rows: pd.DataFrame,
    overall: pd.DataFrame,
    specs: Mapping[str, ValueSpec],
    validity: Mapping[str, TaskValidity],
    left_out: list[str],
    reference: str,
    baseline: TaskBaseline | None = None,
) -> str:
    by_metric = {m: {r["explainer"]: r for r in g.to_dict("records")} for m, g in rows.groupby("metric")}
    every_score = [m for m in by_metric if resolve_spec(m, specs).role == "score"]
    scores = [m for m in every_score if any(r["n"] > 0 for r in by_metric[m].values())]
    valueless = {  # a score without a value here (sub-values of a score follow it: not listed apart)
        m: next((r["note"] for r in by_metric[m].values() if r["note"]), "")
        for m in every_score
        if m not in scores and "." not in m
    }
    scores.sort(key=lambda m: (not resolve_spec(m, specs).primary, m))
    folded = sorted(m for m in by_metric if resolve_spec(m, specs).role != "score" and not m.startswith("("))
    ranks = {r["explainer"]: r for r in overall[overall["task"] == task].to_dict("records")}
    explainers = sorted(
        set(rows["explainer"]),
        key=lambda e: (ranks.get(e, {}).get("overall_rank") is None, ranks.get(e, {}).get("overall_rank") or 0, e),
    )
    scored = [e for e in explainers if any(by_metric[m].get(e) is not None and m in scores for m in by_metric)]
    unscored = [e for e in explainers if e not in scored]
    body = []
    for explainer in scored:
        rank = ranks.get(explainer, {}).get("overall_rank")
        cells = [f"<td>{html.escape(explainer)}</td>"]
        if ranks:  # a task without an overall rank gets no column of empty cells
            cells.append(f'<td data-value="{"" if rank is None else rank}">{"" if rank is None else rank}</td>')
        for metric in scores:
            row = by_metric[metric].get(explainer)
            cells.append(_value_cell(row, row is not None and row["rank"] == 1))
        cost = costs.get((task, explainer), {})
        for key in ("seconds", "model_calls"):
            value = cost.get(key, np.nan)
            cells.append(f'<td data-value="{"" if np.isnan(value) else value}">{_number(value)}</td>')
        cells.append(_reason_cell(cost.get("note", "")))
        body.append(f"<tr>{''.join(cells)}</tr>")
    head = [
        "explainer",
        *(["overall rank"] if ranks else []),
        *(s + (" (lower is better)" if not resolve_spec(s, specs).higher_is_better else "") for s in scores),
        "s / explanation",
        "model calls / explanation",
        "failed or not applicable",
    ]
    used = overall[overall["task"] == task]["metrics"]
    parts = [f"<h2>{html.escape(task)}</h2>"]
    if reference:
        parts.append(f'<p class="note">Follows {html.escape(reference)}.</p>')
    if baseline:
        parts.append(
            f'<p class="note">Baseline of the metrics that switch components off (the same for every explainer): '
            f"segments of the model input are filled with <b>{html.escape(baseline.baseline)}</b> "
            f"({html.escape(baseline.why)}); sources are removed.</p>"
        )
    parts.append(_validity(task, validity))
    parts.append(_table(head, body))
    notes = []
    if len(used):
        notes.append(f"Overall rank: mean rank over {html.escape(str(used.iloc[0]).replace(';', ', '))}")
        if left_out:
            notes.append("left out of it: " + html.escape("; ".join(left_out)))
    elif left_out:
        notes.append(f"No overall rank: {NO_OVERALL}; " + html.escape("; ".join(left_out)))
    if notes:
        parts.append(f'<p class="note">{"; ".join(notes)}.</p>')
    if valueless:  # a score no explainer has here: one line, not a column of empty cells
        listed = "; ".join(html.escape(m + (f" ({note})" if note else "")) for m, note in sorted(valueless.items()))
        parts.append(f'<p class="note">No value on this task: {listed}.</p>')
    if unscored:  # one line, not a row of empty cells each
        by_reason: dict[str, list[str]] = {}
        for explainer in unscored:
            by_reason.setdefault(costs.get((task, explainer), {}).get("note", ""), []).append(explainer)
        listed = "; ".join(
            html.escape(", ".join(names)) + (f" ({html.escape(reason)})" if reason else "")
            for reason, names in by_reason.items()
        )
        parts.append(f'<p class="note">No score on this task: {listed}.</p>')
    if folded:
        detail_rows = []
        for metric in folded:
            spec = resolve_spec(metric, specs)
            for explainer, row in sorted(by_metric[metric].items()):
                detail_rows.append(
                    f"<tr><td>{html.escape(explainer)}</td><td>{html.escape(metric)}</td>"
                    f"<td>{spec.role}</td>{_value_cell(row, False)}<td>{row['n']}</td></tr>"
                )
        parts.append(
            "<details><summary>References and diagnostics ("
            + str(len(folded))
            + " values)</summary>"
            + _table(["explainer", "value", "role", "mean [95% CI]", "n"], detail_rows)
            + "</details>"
        )
    return "\n".join(parts)


def to_html(
    table: pd.DataFrame,
    overall: pd.DataFrame,
    specs: Mapping[str, ValueSpec],
    run_info: RunInfo | None = None,
    validity: Mapping[str, TaskValidity] | None = None,
    costs: pd.DataFrame | None = None,
    title: str = "AudioX-Bench leaderboard",
) -> str:
    """The leaderboard page. Everything (style, sorting script, data) is inline; the page references no
    external URL.

    Parameters
    ----------
    table : pd.DataFrame
        The long leaderboard (:func:`~audiox_bench.results.tables.leaderboard`).
    overall : pd.DataFrame
        Overall ranks (:func:`~audiox_bench.results.tables.overall_ranks`).
    specs : mapping of value name to ValueSpec
    run_info : mapping, optional
        ``run.json`` (provenance, metric descriptions, task references).
    validity : mapping, optional
        ``validity.json``.
    costs : pd.DataFrame, optional
        Cost per explanation (:func:`~audiox_bench.results.tables.cost_table`).
    """
    info = run_info or RunInfo(PlannedRun((), (), (), 0, 1, 0))
    cost_rows = {} if costs is None else {(r["task"], r["explainer"]): r for r in costs.to_dict("records")}
    left_out = left_out_of_overall(table, specs)
    references, baselines = info.task_references, info.task_baselines
    sections = [
        _task_section(
            cost_rows,
            task,
            rows,
            overall,
            specs,
            validity or {},
            left_out.get(task, []),
            references.get(task, ""),
            baselines.get(task),
        )
        for task, rows in table.groupby("task", sort=True)
    ]
    descriptions = info.metric_descriptions
    notes = "".join(f"<li><b>{html.escape(k)}</b>: {html.escape(str(v))}</li>" for k, v in sorted(descriptions.items()))
    provenance = (
        {k: v for k, v in info.to_dict().items() if k in ("spec", "git", "versions", "python", "platform", "device")}
        if run_info is not None
        else {}
    )
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        '<p class="note">Per task: one row per explainer, one column per score (mean over instances and its 95% '
        "percentile-bootstrap CI; the best is highlighted, a < marks a score significantly below the best's, paired "
        "Wilcoxon test with Holm's correction). Cost: per explanation, as if it ran alone. Click a column header to "
        "sort. References (bounds to "
        "read scores against) and diagnostics are not ranked; they are folded away below each table.</p>",
        *sections,
    ]
    if notes:
        parts.append(f'<h2>Metrics</h2><ul class="note">{notes}</ul>')
    rules = info.weight_rules
    if rules:
        listed = "".join(f"<li><b>{html.escape(k)}</b>: {html.escape(v)}</li>" for k, v in sorted(rules.items()))
        parts.append(f'<h2>How explainers read their weights</h2><ul class="note">{listed}</ul>')
    if provenance:
        parts.append(
            "<h2>Provenance</h2><pre>"
            + html.escape(json.dumps(provenance, indent=2, sort_keys=True, default=str))
            + "</pre>"
        )
    parts += [f"<script>{_SCRIPT}</script>", "</body></html>"]
    return "\n".join(parts) + "\n"
