"""A self-contained HTML page of a leaderboard: sortable tables, no network needed to view it."""

from __future__ import annotations

import html
import json
from typing import Any

import numpy as np
import pandas as pd

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 1em 0 2em; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: right; }
th { background: #f0f0f0; cursor: pointer; user-select: none; }
th:hover { background: #e0e0ff; }
td:nth-child(-n+3), th:nth-child(-n+3) { text-align: left; }
tr.best td { background: #eef8ee; }
caption { text-align: left; font-weight: bold; margin-bottom: 0.3em; }
.note { color: #555; font-size: 0.9em; max-width: 60em; }
"""

# Click a header to sort by it; click again to reverse. Numbers sort numerically, blanks last.
_SCRIPT = """
document.querySelectorAll("table.sortable").forEach(function (table) {
  table.querySelectorAll("th").forEach(function (th, column) {
    th.addEventListener("click", function () {
      var body = table.tBodies[0], rows = Array.from(body.rows);
      var ascending = th.dataset.order !== "asc";
      table.querySelectorAll("th").forEach(function (h) { delete h.dataset.order; });
      th.dataset.order = ascending ? "asc" : "desc";
      rows.sort(function (a, b) {
        var x = a.cells[column].textContent, y = b.cells[column].textContent;
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


_NOTE = (
    '<p class="note">Overall rank: explainers ordered by their mean rank over the main metrics of the task '
    "(metric names without a dot; each rank respects the metric's direction). Mean: over instances; CI: 95% "
    "percentile bootstrap. n_skipped: instances where a metric is undefined; n_failed: items that raised; "
    "n_not_applicable: items the explainer does not apply to. Click a column header to sort.</p>"
)


def _cell(value: Any, digits: int = 4) -> str:
    if value is None or value is pd.NA or (isinstance(value, float | np.floating) and np.isnan(value)):
        return ""
    if isinstance(value, float | np.floating):
        return f"{value:.{digits}g}"
    return html.escape(str(value))


def html_table(table: pd.DataFrame, caption: str, best_column: str | None = None) -> str:
    """One sortable table; rows whose ``best_column`` equals 1 are highlighted."""
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in table.columns)
    rows = []
    for record in table.to_dict("records"):
        best = best_column is not None and record.get(best_column) == 1
        cells = "".join(f"<td>{_cell(record[c])}</td>" for c in table.columns)
        rows.append(f'<tr class="best">{cells}</tr>' if best else f"<tr>{cells}</tr>")
    return (f'<table class="sortable"><caption>{html.escape(caption)}</caption><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table>")


def to_html(table: pd.DataFrame, overall: pd.DataFrame, run_info: dict[str, Any] | None = None,
            title: str = "AudioX-Bench leaderboard") -> str:
    """The leaderboard page: overall ranks, then every metric, then the run's provenance.

    Everything (style, sorting script, data) is inline; the page references no external URL.
    """
    info = run_info or {}
    descriptions = info.get("metric_descriptions", {})
    notes = "".join(f"<li><b>{html.escape(k)}</b>: {html.escape(str(v))}</li>" for k, v in sorted(descriptions.items()))
    provenance = {k: info[k] for k in ("spec", "git", "versions", "python", "platform", "device") if k in info}
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">', f"<title>{html.escape(title)}</title>",
        f"<style>{_STYLE}</style></head><body>", f"<h1>{html.escape(title)}</h1>",
        _NOTE,
        html_table(overall, "Overall rank per task", best_column="overall_rank"),
        html_table(table, "Every metric", best_column="rank"),
    ]
    if notes:
        parts.append(f'<h2>Metrics</h2><ul class="note">{notes}</ul>')
    if provenance:
        parts.append("<h2>Provenance</h2><pre>" + html.escape(json.dumps(provenance, indent=2, sort_keys=True, default=str))
                     + "</pre>")
    parts += [f"<script>{_SCRIPT}</script>", "</body></html>"]
    return "\n".join(parts) + "\n"
