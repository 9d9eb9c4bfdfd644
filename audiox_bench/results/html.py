"""A self-contained HTML leaderboard page. It opens with the verdict (which explainer to use, for which kind
of component, across tasks and per task), then per task: its validity and baseline, the overall verdict
with its critical-difference diagram, one sortable row per explainer and one column per score (mean, its
interval, the group no test separates it from), the cost against quality, and the references and
diagnostics folded away. Figures are inline SVG: the page references no file.

Length: the page's markup and styles; every number on it comes from results.tables.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from audiox_bench.core.data import ValueSpec
from audiox_bench.core.documents import PlannedRun, RunInfo, TaskBaseline, TaskValidity
from audiox_bench.results.claims import MAX_LISTED, VerdictSummary, describe_test
from audiox_bench.results.ranking import ALL_TASKS, Comparison
from audiox_bench.results.sweeps import separation_summary
from audiox_bench.results.tables import FAMILY_NAMES, RANKED, Tables
from audiox_bench.results.values import resolve_spec

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
td .group { color: #1a4f8b; font-weight: 600; font-size: 0.85em; }
td.reason { text-align: left; white-space: normal; max-width: 30em; color: #8a4b00; font-size: 0.85em; }
.valid { color: #1a7f37; } .invalid { color: #c62828; }
.note { color: #555; font-size: 0.9em; max-width: 70em; }
.verdict { background: #f6f8fa; border: 1px solid #d0d7de; padding: 0.6em 1.2em; max-width: 80em; }
details { margin: 0 0 2em; } summary { cursor: pointer; color: #333; }
.verdict li details, .verdict li summary { display: inline; margin: 0; }
.verdict li details[open] { display: block; margin: 0.2em 0 0.4em 1.5em; color: #444; font-size: 0.9em; }
h2 { margin-top: 1.6em; border-bottom: 1px solid #ddd; }
figure { margin: 0.5em 0 1.5em; } figure svg { max-width: 100%; height: auto; }
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
REASON_CHARS = 80


def _number(value: Any, digits: int = 3) -> str:
    if value is None or value is pd.NA or (isinstance(value, float | np.floating) and np.isnan(value)):
        return ""
    if isinstance(value, float | np.floating):
        return f"{value:.{digits}g}"
    return html.escape(str(value))


def _interval(low: Any, high: Any) -> str:
    if _number(low) == "":
        return ""
    return f' <span class="ci">[{_number(low)}, {_number(high)}]</span>'


def _value_cell(row: Mapping[str, Any] | None) -> str:
    """A mean with its interval and group letters; ``data-value`` for sorting."""
    if row is None or row["n"] == 0:
        return '<td data-value=""></td>'
    best = row["status"] == RANKED and "a" in str(row["group"])
    group = f' <span class="group">{html.escape(str(row["group"]))}</span>' if row["group"] else ""
    css = ' class="best"' if best else ""
    return (
        f'<td{css} data-value="{row["mean"]:.12g}">{_number(row["mean"])}'
        f"{_interval(row['ci_low'], row['ci_high'])}{group}</td>"
    )


def _table(head: list[str], body: list[str]) -> str:
    header = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    return f'<table class="sortable"><thead><tr>{header}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def _reason_cell(reason: str) -> str:
    """A failure / not-applicable reason, cut to ``REASON_CHARS`` in the table (whole on hover)."""
    shown = reason if len(reason) <= REASON_CHARS else reason[: REASON_CHARS - 1] + "…"
    return f'<td class="reason" title="{html.escape(reason)}">{html.escape(shown)}</td>'


def _figure(figures: Mapping[str, str], key: str, caption: str) -> str:
    svg = figures.get(key)
    if svg is None:
        return ""
    return f"<figure>{svg}<figcaption class='note'>{html.escape(caption)}</figcaption></figure>"


def _fact(value: Any) -> str:
    """A selection fact for people: counts of a rule as passed / applied, kept / of, a mapping as its items."""
    if isinstance(value, Mapping):
        if set(value) == {"applied", "passed"}:
            return f"{value['passed']}/{value['applied']}"
        if {"kept", "of"} <= set(value):
            rest = "".join(f", {html.escape(str(k))} {_fact(v)}" for k, v in value.items() if k not in ("kept", "of"))
            return f"{value['kept']}/{value['of']}{rest}"
        return "(" + ", ".join(f"{html.escape(str(k))} {_fact(v)}" for k, v in value.items()) + ")"
    return _number(value) if not isinstance(value, str) else html.escape(value)


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
        + (f" [{html.escape(c.why)}]" if c.why else "")
        for c in entry.checks
    )
    chosen = (
        "; examples: " + ", ".join(f"{html.escape(str(k))} = {_fact(v)}" for k, v in entry.selection.items())
        if entry.selection
        else ""
    )
    return f'<p class="note">Model {state}: {checks}{chosen}.</p>'


def _family_words(family: str) -> str:
    return {
        "source": "separated sources",
        "segmentation": "segments of the model's input (time, mel bands)",
    }.get(family, FAMILY_NAMES.get(family, family))


def _verdict_section(tables: Tables) -> str:
    """The page's opening: which explainer to use, for which kind of component."""
    ordered = sorted(tables.verdicts.items(), key=lambda item: (item[0][0] != ALL_TASKS, item[0]))
    lines = []
    for (_, family), verdict in ordered:
        if not verdict.explainers:
            continue
        said = VerdictSummary.of(verdict)
        where = "Across tasks" if said.where == "across tasks" else f"On <b>{html.escape(said.where)}</b>"
        tied = (
            f"<details><summary>{len(said.tied)} others</summary>{html.escape(', '.join(said.tied))}</details>"
            if len(said.tied) > MAX_LISTED
            else html.escape(said.tied_words(quote=""))
        )
        lines.append(
            f"<li>{where}, for {html.escape(_family_words(family))} ({said.n_explainers} explainers, "
            f"{html.escape(said.blocks)}): best <b>{html.escape(said.best)}</b> ({html.escape(said.best_value)}); "
            f"separated from it: {said.n_behind}; not separated from it ({html.escape(said.test)}): {tied}"
            + (
                ("" if len(said.tied) > MAX_LISTED else "<br>") + f"<b>{html.escape(said.caveat(capital=True))}.</b>"
                if said.controls_tied
                else ""
            )
            + "</li>"
        )
    if not lines:
        return ""
    parts = ['<div class="verdict"><h2>Which explainer should I use?</h2><ul>', *lines, "</ul>"]
    for (task, family), combined in ordered:
        if task == ALL_TASKS:
            parts.append(_across_table(combined, tables.verdicts, family))
    parts.append("</div>")
    return "\n".join(parts)


def _across_table(combined: Comparison, verdicts: Mapping[tuple[str, str], Comparison], family: str) -> str:
    tasks = [t for (t, f) in verdicts if f == family and t != ALL_TASKS]
    body = []
    for explainer in combined.explainers:
        row = combined.row_of(explainer)
        cells = [
            f"<td>{html.escape(explainer)}</td>",
            f'<td data-value="{row["mean_rank"]:.6g}">{row["mean_rank"]:.2f} '
            f'<span class="group">{html.escape(row["group"])}</span></td>',
        ]
        for task in tasks:
            per = verdicts[(task, family)].row_of(explainer)
            cells.append(
                f'<td data-value="{per["position"]}">{per["position"]}</td>' if per else '<td data-value=""></td>'
            )
        body.append(f"<tr>{''.join(cells)}</tr>")
    head = ["explainer", "mean rank over tasks", *(f"rank on {t}" for t in tasks)]
    note = (
        f"<h3>{html.escape(FAMILY_NAMES.get(family, family).capitalize())}, across tasks</h3>"
        "<p class='note'>Each task's overall verdict ranked within the task and averaged over the tasks "
        f"({describe_test(combined)}, the {combined.n_blocks} tasks as blocks), for the explainers with a verdict "
        "on every task."
        + (
            " Not ranked here: "
            + html.escape("; ".join(f"{e} ({why})" for e, why in sorted(combined.left_out.items())))
            + "."
            if combined.left_out
            else ""
        )
        + "</p>"
    )
    return note + _table(head, body)


def _overall_table(verdict: Comparison) -> str:
    body = []
    for explainer, coverage in zip(verdict.explainers, verdict.coverage):
        row = verdict.row_of(explainer)
        body.append(
            f"<tr><td>{html.escape(explainer)}</td><td data-value='{row['position']}'>{row['position']}</td>"
            f"<td data-value='{row['mean_rank']:.6g}'>{row['mean_rank']:.3f}"
            f"{_interval(row['rank_low'], row['rank_high'])}"
            f"</td><td>{html.escape(row['group'])}</td><td data-value='{coverage}'>{coverage}</td></tr>"
        )
    return _table(["explainer", "overall rank", "mean scaled rank (0 = best) [95% CI]", "group", "blocks"], body)


def _task_section(
    task: str,
    rows: pd.DataFrame,
    tables: Tables,
    specs: Mapping[str, ValueSpec],
    info: RunInfo,
    validity: Mapping[str, TaskValidity],
    figures: Mapping[str, str],
) -> str:
    costs = {r["explainer"]: r for r in tables.costs[tables.costs["task"] == task].to_dict("records")}
    by_metric = {m: {r["explainer"]: r for r in g.to_dict("records")} for m, g in rows.groupby("metric")}
    scores = [
        m for m in by_metric if resolve_spec(m, specs).role == "score" and any(r["n"] for r in by_metric[m].values())
    ]
    valueless = sorted(
        m for m in by_metric if resolve_spec(m, specs).role == "score" and m not in scores and "." not in m
    )
    scores.sort(key=lambda m: (not resolve_spec(m, specs).primary, m))
    folded = sorted(m for m in by_metric if resolve_spec(m, specs).role != "score")
    task_verdicts = {f: v for (t, f), v in tables.verdicts.items() if t == task}
    order = [e for v in task_verdicts.values() for e in v.explainers]
    explainers = order + sorted(set(rows["explainer"]) - set(order))
    parts = [f"<h2>{html.escape(task)}</h2>"]
    if info.task_references.get(task):
        parts.append(f'<p class="note">Follows {html.escape(info.task_references[task])}.</p>')
    baseline: TaskBaseline | None = info.task_baselines.get(task)
    if baseline:
        parts.append(
            '<p class="note">Baseline of the metrics that switch components off (the same for every explainer): '
            f"segments of the model input are filled with <b>{html.escape(baseline.baseline)}</b> "
            f"({html.escape(baseline.why)}); sources are removed.</p>"
        )
    parts.append(_validity(task, validity))
    if task_verdicts:
        parts.append(
            '<p class="note"><b>Overall</b>, per kind of component: every (primary score, instance) ranks the '
            "explainers of that kind with a value there, scaled to [0, 1]; an explainer's value is the mean over "
            "its primary scores of its mean scaled rank (each score weighs alike), with a bootstrap interval over "
            "instances; explainers sharing a group letter are not significantly different (pairwise Wilcoxon on "
            "common blocks, Holm).</p>"
        )
    for family, verdict in task_verdicts.items():
        parts.append(f"<h3>{html.escape(FAMILY_NAMES.get(family, family).capitalize())}: overall</h3>")
        said = VerdictSummary.of(verdict) if verdict.explainers else None
        if said is not None and said.controls_tied:
            parts.append(f'<p class="note"><b>{html.escape(said.caveat(capital=True))}.</b></p>')
        parts.append(_overall_table(verdict))
        parts.append(
            _figure(
                figures,
                f"cd:{task}:{family}:(overall)",
                "Overall: mean scaled rank (best on the left); bars join explainers no test separates.",
            )
        )
    body = []
    for explainer in explainers:
        if not any(by_metric[m].get(explainer) is not None and by_metric[m][explainer]["n"] for m in scores):
            continue
        cells = [f"<td>{html.escape(explainer)}</td>"]
        cells += [_value_cell(by_metric[m].get(explainer)) for m in scores]
        cost = costs.get(explainer, {})
        for key in ("seconds", "model_calls"):
            value = cost.get(key, np.nan)
            cells.append(f'<td data-value="{"" if pd.isna(value) else value}">{_number(value)}</td>')
        cells.append(_reason_cell(cost.get("note", "")))
        body.append(f"<tr>{''.join(cells)}</tr>")
    head = [
        "explainer",
        *(s + (" (lower is better)" if not resolve_spec(s, specs).higher_is_better else "") for s in scores),
        "s / explanation",
        "model calls / explanation",
        "failed or not applicable",
    ]
    parts.append(
        '<p class="note">Per score: mean over instances [95% interval: Wilson for rates, BCa bootstrap otherwise] '
        "and the group letters of the ranking on paired instances (Friedman, then Nemenyi; explainers sharing a "
        "letter are not significantly different; green: the best group).</p>"
    )
    parts.append(_table(head, body))
    notes = _score_notes(task, scores, tables, valueless, by_metric)
    if notes:
        parts.append(f'<p class="note">{"<br>".join(notes)}</p>')
    unscored = [
        e for e in explainers if not any(by_metric[m].get(e) is not None and by_metric[m][e]["n"] for m in scores)
    ]
    unscored += sorted(set(costs) - set(explainers))
    if unscored:
        by_reason: dict[str, list[str]] = {}
        for explainer in unscored:
            by_reason.setdefault(costs.get(explainer, {}).get("note", ""), []).append(explainer)
        listed = "; ".join(
            html.escape(", ".join(names)) + (f" ({html.escape(reason)})" if reason else "")
            for reason, names in by_reason.items()
        )
        parts.append(f'<p class="note">No score on this task: {listed}.</p>')
    diagrams = [
        _figure(figures, key, f"{m}, {FAMILY_NAMES.get(f, f)}: mean rank over the paired instances")
        for m in scores
        for f in task_verdicts or [""]
        if (key := f"cd:{task}:{f}:{m}") in figures
    ]
    if diagrams:
        parts.append("<details><summary>Critical-difference diagram of each primary score</summary>")
        parts += [*diagrams, "</details>"]
    for family in task_verdicts:
        parts.append(
            _figure(
                figures,
                f"cost:{task}:{family}",
                f"{FAMILY_NAMES.get(family, family).capitalize()}: overall scaled rank against cost per "
                "explanation; red: the Pareto front.",
            )
        )
    if folded:
        detail_rows = []
        for metric in folded:
            for explainer, row in sorted(by_metric[metric].items()):
                detail_rows.append(
                    f"<tr><td>{html.escape(explainer)}</td><td>{html.escape(metric)}</td>"
                    f"<td>{html.escape(row['status'])}</td>{_value_cell(row)}<td>{row['n']}</td></tr>"
                )
        parts.append(
            f"<details><summary>References and diagnostics ({len(folded)} values)</summary>"
            + _table(["explainer", "value", "read as", "mean [95% interval]", "n"], detail_rows)
            + "</details>"
        )
    return "\n".join(p for p in parts if p)


def _score_notes(
    task: str, scores: Sequence[str], tables: Tables, valueless: Sequence[str], by_metric: Mapping[str, Any]
) -> list[str]:
    notes = []
    for metric in scores:
        for (t, m, family), c in tables.comparisons.items():
            if t != task or m != metric:
                continue
            text = (
                f"{html.escape(metric)}, {html.escape(FAMILY_NAMES.get(family, family))}: {len(c.explainers)} "
                f"explainers ranked on {c.n_blocks} instances ({describe_test(c)})"
            )
            if c.left_out:
                text += "; not ranked: " + html.escape(
                    "; ".join(f"{e} ({why})" for e, why in sorted(c.left_out.items()))
                )
            notes.append(text + ".")
    for metric in valueless:
        note = next((r["note"] for r in by_metric[metric].values() if r["note"]), "")
        notes.append(
            f"No value on this task: {html.escape(metric)}" + (f" ({html.escape(note)})" if note else "") + "."
        )
    return notes


def _sweep_section(sweeps: pd.DataFrame | None, figures: Mapping[str, str]) -> str:
    """Per sweep and kind of components: the figure of scores against the setting, and per setting and
    score the best explainer and how many the tests separate from it."""
    if sweeps is None or sweeps.empty:
        return ""
    parts = [
        "<h2>Difficulty sweeps</h2>",
        '<p class="note">One task at several settings of one parameter. Per setting the explainers are ranked '
        "as on the task's own section (paired tests); where the task gets harder, explainers that find what "
        "is loud rather than what the model reads fall apart from those that ask the model.</p>",
    ]
    for (task, knob, family), frame in sweeps.groupby(["task", "knob", "family"], sort=True):
        words = _family_words(family)
        parts.append(f"<h3>{html.escape(task)}: {html.escape(knob)} ({html.escape(words)})</h3>")
        parts.append(_figure(figures, f"sweep:{task}:{knob}:{family}", f"{task}: scores against {knob}"))
        body = [
            "<tr>"
            + "".join(
                f"<td>{html.escape(str(v))}</td>"
                for v in (row.setting, row.metric, row.best, f"{row.n_separated} of {row.n_ranked - 1}")
            )
            + "</tr>"
            for row in separation_summary(frame).itertuples(index=False)
        ]
        parts.append(_table(["setting", "score", "best", "separated from the best"], body))
    return "\n".join(parts)


def to_html(
    tables: Tables,
    specs: Mapping[str, ValueSpec],
    run_info: RunInfo | None = None,
    validity: Mapping[str, TaskValidity] | None = None,
    figures: Mapping[str, str] | None = None,
    sweeps: pd.DataFrame | None = None,
    title: str = "AudioX-Bench leaderboard",
) -> str:
    """The leaderboard page. Everything (style, sorting script, data, figures) is inline; the page
    references no external URL.

    Parameters
    ----------
    tables : Tables
        The run's tables (:func:`~audiox_bench.results.tables.build_tables`).
    specs : mapping of value name to ValueSpec
    run_info : RunInfo, optional
        ``run.json`` (provenance, metric descriptions, task references and baselines).
    validity : mapping, optional
        ``validity.json`` per task.
    figures : mapping of str to str, optional
        Inline SVG figures by key (:func:`~audiox_bench.results.publish.figures_of`).
    sweeps : pd.DataFrame, optional
        The run's difficulty sweeps (:meth:`~audiox_bench.results.publish.RunTables.sweeps`).
    """
    info = run_info or RunInfo(PlannedRun((), (), (), 0, 1, 0))
    figures = figures or {}
    sections = [
        _task_section(task, rows, tables, specs, info, validity or {}, figures)
        for task, rows in tables.leaderboard.groupby("task", sort=True)
    ]
    for task in sorted(set(validity or {}) - set(tables.leaderboard["task"])):  # no record: say why
        shortfall = (validity or {})[task].selection.get("shortfall")
        said = f'<p class="note">No example was explained: {html.escape(str(shortfall))}.</p>' if shortfall else ""
        sections.append(f"<h2>{html.escape(task)}</h2>{_validity(task, validity or {})}{said}")
    descriptions = "".join(
        f"<li><b>{html.escape(k)}</b>: {html.escape(str(v))}</li>" for k, v in sorted(info.metric_descriptions.items())
    )
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
        _verdict_section(tables),
        _sweep_section(sweeps, figures),
        '<p class="note">Explainers are compared on paired instances, as Demšar (JMLR 2006) taught: ranked '
        "within each instance, a Friedman test over their mean ranks, then a post-hoc test; only a test marks "
        "a difference. Cost: per explanation, as if it ran alone. Click a column header to sort. References "
        "(bounds to read scores against) and diagnostics are not ranked; they are folded away below each "
        "table.</p>",
        *sections,
    ]
    if descriptions:
        parts.append(f'<h2>Metrics</h2><ul class="note">{descriptions}</ul>')
    if info.weight_rules:
        listed = "".join(
            f"<li><b>{html.escape(k)}</b>: {html.escape(v)}</li>" for k, v in sorted(info.weight_rules.items())
        )
        parts.append(f'<h2>How explainers read their weights</h2><ul class="note">{listed}</ul>')
    if provenance:
        parts.append(
            "<h2>Provenance</h2><pre>"
            + html.escape(json.dumps(provenance, indent=2, sort_keys=True, default=str))
            + "</pre>"
        )
    parts += [f"<script>{_SCRIPT}</script>", "</body></html>"]
    return "\n".join(p for p in parts if p) + "\n"
