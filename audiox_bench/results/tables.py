"""Records -> the tables of a run: the leaderboard (per task x explainer x value: mean, interval, n, and
for scores the mean rank over paired instances, its interval and group), the overall verdicts (per task and
across tasks), the tests behind every ranking, and the cost table.

How a value is read follows its metric's declaration (:class:`~audiox_bench.core.data.ValueSpec`): scores
are ranked (:mod:`audiox_bench.results.ranking`), references and diagnostics are shown but not ranked, and
a value computed once per dataset has neither an interval nor a rank (there are no instances to test).
Intervals: Wilson's for rates (0/1 per instance), BCa bootstrap for other means
(:mod:`audiox_bench.results.statistics`).
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from audiox_bench.core.data import ValueSpec
from audiox_bench.core.records import GroupRow, Record
from audiox_bench.results.ranking import ALL_TASKS, Comparison, across_tasks, compare_score, overall
from audiox_bench.results.statistics import mean_interval, tolerant_ranks
from audiox_bench.results.values import (
    DATASET,
    cell_notes,
    cost_table,
    metric_values,
    resolve_spec,
    undefined_reasons,
)

LEADERBOARD_COLUMNS = [
    "task",
    "explainer",
    "family",
    "metric",
    "role",
    "mean",
    "ci_low",
    "ci_high",
    "interval",
    "n",
    "rank",
    "mean_rank",
    "rank_low",
    "rank_high",
    "group",
    "n_ranked",
    "status",
    "n_skipped",
    "n_failed",
    "n_not_applicable",
    "note",
]
OVERALL_COLUMNS = [
    "task",
    "family",
    "explainer",
    "overall_rank",
    "mean_scaled_rank",
    "low",
    "high",
    "group",
    "n_scores",
    "n_blocks",
    "scores",
]
TEST_COLUMNS = [
    "task",
    "score",
    "family",
    "k",
    "n_blocks",
    "test",
    "statistic",
    "p_value",
    "critical_difference",
    "left_out",
]
RANKED = "ranked"
PER_DATASET = "one value per dataset: no interval, no test, not ranked"


FAMILY_NAMES = {"source": "sources", "segmentation": "segments", "any": "other components", "": "all"}


@dataclass
class Tables:
    """Every table of a run, and the comparisons behind them (for figures and pages).

    Attributes
    ----------
    leaderboard, overall, tests, costs : pd.DataFrame
    comparisons : mapping of (task, score, family) to Comparison
        Explainers are compared with those producing the same kind of components (``families``).
    verdicts : mapping of (task, family) to Comparison
        The overall verdict per task and family, and ``("(all tasks)", family)`` across tasks.
    """

    leaderboard: pd.DataFrame
    overall: pd.DataFrame
    tests: pd.DataFrame
    costs: pd.DataFrame
    comparisons: dict[tuple[str, str, str], Comparison] = field(default_factory=dict)
    verdicts: dict[tuple[str, str], Comparison] = field(default_factory=dict)

    def comparison_of(self, task: str, score: str, explainer: str) -> Comparison | None:
        """The comparison of ``score`` on ``task`` that ranks (or left out) ``explainer``."""
        for (t, s, _), c in self.comparisons.items():
            if t == task and s == score and (explainer in c.explainers or explainer in c.left_out):
                return c
        return None

    def verdict_of(self, task: str, explainer: str) -> Comparison | None:
        """The verdict of ``task`` (or ``(all tasks)``) that ranks ``explainer``."""
        return next((v for (t, _), v in self.verdicts.items() if t == task and explainer in v.explainers), None)


def instance_frame(values: pd.DataFrame) -> pd.DataFrame:
    """Per-instance values of one (task, metric): rows (example_id, repeat), one column per explainer."""
    return values.pivot_table(
        index=["example_id", "repeat"], columns="explainer", values="value", aggfunc="first", dropna=False
    )


def build_tables(
    records: Sequence[Record],
    specs: Mapping[str, ValueSpec],
    group_rows: Sequence[GroupRow] = (),
    families: Mapping[str, str] | None = None,
) -> Tables:
    """The tables of a run.

    Parameters
    ----------
    records, group_rows :
        The run's records and group-metric rows.
    specs : mapping of value name to ValueSpec
        How each value is read (see :func:`~audiox_bench.results.values.resolve_spec`).
    families : mapping of explainer to family, optional
        ``source`` or ``segmentation`` per explainer (``run.json``): explainers are ranked against those of
        their family only, and the verdicts are given per family (which explainer to use for which kind of
        component). Without it every explainer is one family.
    """
    families = families or {}
    values = metric_values(records, group_rows)
    values["family"] = values["explainer"].map(lambda e: families.get(e, ""))
    comparisons: dict[tuple[str, str, str], Comparison] = {}
    for (task, metric, family), group in values.groupby(["task", "metric", "family"], sort=True):
        spec = resolve_spec(metric, specs)
        if spec.role != "score" or (group["example_id"] == DATASET).any():
            continue
        comparison = compare_score(task, metric, instance_frame(group), spec.higher_is_better, family)
        if comparison is not None:
            comparisons[(task, metric, family)] = comparison
    verdicts = _verdicts(values, specs)
    tables = Tables(pd.DataFrame(), pd.DataFrame(), pd.DataFrame(), cost_table(records), comparisons, verdicts)
    tables.leaderboard = _leaderboard(records, values, specs, tables, families)
    tables.overall = _overall_table(verdicts, values, specs)
    tables.tests = _tests_table(comparisons, verdicts)
    return tables


def _verdicts(values: pd.DataFrame, specs: Mapping[str, ValueSpec]) -> dict[tuple[str, str], Comparison]:
    verdicts: dict[tuple[str, str], Comparison] = {}
    for (task, family), rows in values.groupby(["task", "family"], sort=True):
        primary = {
            metric: (instance_frame(group), resolve_spec(metric, specs).higher_is_better)
            for metric, group in rows.groupby("metric", sort=True)
            if resolve_spec(metric, specs).primary and not (group["example_id"] == DATASET).any()
        }
        verdict = overall(task, primary, family)
        if verdict is not None:
            verdicts[(task, family)] = verdict
    for family in sorted({f for _, f in verdicts}):
        combined = across_tasks([v for (_, f), v in verdicts.items() if f == family], family)
        if combined is not None:
            verdicts[(ALL_TASKS, family)] = combined
    return verdicts


def _leaderboard(
    records: Sequence[Record],
    values: pd.DataFrame,
    specs: Mapping[str, ValueSpec],
    tables: Tables,
    families: Mapping[str, str],
) -> pd.DataFrame:
    notes, reasons = cell_notes(records), undefined_reasons(records)
    failed = _counts(r for r in records if r.error)
    not_applicable = _counts(r for r in records if r.not_applicable)
    rows = []
    for (task, explainer, metric), group in values.groupby(["task", "explainer", "metric"], sort=True):
        spec = resolve_spec(metric, specs)
        present = group["value"].dropna().to_numpy()
        per_dataset = (group["example_id"] == DATASET).any()
        interval = mean_interval(present, zlib.crc32(f"{task}|{explainer}|{metric}".encode()))
        if per_dataset:
            interval = type(interval)(np.nan, np.nan, "none")
        skipped = int(group["value"].isna().sum())
        why = reasons.get((task, explainer, metric.split(".", 1)[0]))
        comparison = tables.comparison_of(task, metric, explainer)
        ranked = comparison.row_of(explainer) if comparison is not None else None
        if spec.role != "score":
            status = f"{spec.role}: not ranked"
        elif per_dataset:
            status = PER_DATASET
        elif ranked is not None:
            status = RANKED
        elif comparison is not None and explainer in comparison.left_out:
            status = f"not ranked: {comparison.left_out[explainer]}"
        elif len(present) == 0:
            status = "no value"
        else:
            status = "not ranked: no other explainer to compare with"
        note = "; ".join(
            n for n in (notes.get((task, explainer)), f"{skipped} undefined: {why}" if skipped and why else None) if n
        )
        rows.append(
            {
                "task": task,
                "explainer": explainer,
                "family": FAMILY_NAMES.get(group["family"].iloc[0], group["family"].iloc[0]),
                "metric": metric,
                "role": spec.role,
                "mean": float(present.mean()) if len(present) else np.nan,
                "ci_low": interval.low,
                "ci_high": interval.high,
                "interval": interval.method,
                "n": len(present),
                "mean_rank": ranked["mean_rank"] if ranked else np.nan,
                "rank_low": ranked["rank_low"] if ranked else np.nan,
                "rank_high": ranked["rank_high"] if ranked else np.nan,
                "group": ranked["group"] if ranked else "",
                "n_ranked": comparison.n_blocks if ranked else 0,
                "status": status,
                "n_skipped": skipped,
                "n_failed": failed.get((task, explainer), 0),
                "n_not_applicable": not_applicable.get((task, explainer), 0),
                "note": note,
            }
        )
    seen = {(row["task"], row["explainer"]) for row in rows}
    for cell in sorted((set(failed) | set(not_applicable)) - seen):  # no value at all: say why, in one row
        n_failed, n_na = failed.get(cell, 0), not_applicable.get(cell, 0)
        rows.append(
            {
                "task": cell[0],
                "explainer": cell[1],
                "family": FAMILY_NAMES.get(families.get(cell[1], ""), ""),
                "metric": "(all failed)" if n_failed else "(not applicable)",
                "role": "",
                "mean": np.nan,
                "ci_low": np.nan,
                "ci_high": np.nan,
                "interval": "none",
                "n": 0,
                "mean_rank": np.nan,
                "rank_low": np.nan,
                "rank_high": np.nan,
                "group": "",
                "n_ranked": 0,
                "status": "failed" if n_failed else "not applicable",
                "n_skipped": 0,
                "n_failed": n_failed,
                "n_not_applicable": n_na,
                "note": notes.get(cell, ""),
            }
        )
    table = pd.DataFrame(rows, columns=[c for c in LEADERBOARD_COLUMNS if c != "rank"])
    table["rank"] = pd.Series(np.nan, index=table.index, dtype=float)
    for _, group in table.groupby(["task", "metric", "family"]):
        ranked_rows = group[group["status"] == RANKED]
        if len(ranked_rows):
            table.loc[ranked_rows.index, "rank"] = tolerant_ranks(ranked_rows["mean_rank"], higher_is_better=False)
    table["rank"] = table["rank"].astype("Int64")
    table["n_ranked"] = table["n_ranked"].astype(int)
    order = ["task", "metric", "family", "rank", "explainer"]
    return table[LEADERBOARD_COLUMNS].sort_values(order).reset_index(drop=True)


def _counts(records) -> dict[tuple[str, str], int]:
    counts: dict[tuple[str, str], int] = {}
    for record in records:
        counts[(record.task, record.explainer)] = counts.get((record.task, record.explainer), 0) + 1
    return counts


def _overall_table(
    verdicts: Mapping[tuple[str, str], Comparison], values: pd.DataFrame, specs: Mapping[str, ValueSpec]
) -> pd.DataFrame:
    rows = []
    for (task, family), verdict in verdicts.items():
        task_rows = values[values["task"] == task]
        across = task == ALL_TASKS
        for i, explainer in enumerate(verdict.explainers):
            own = task_rows[(task_rows["explainer"] == explainer) & task_rows["value"].notna()]
            scored = sorted(
                m
                for m in own["metric"].unique()
                if resolve_spec(m, specs).primary and not (own[own["metric"] == m]["example_id"] == DATASET).any()
            )
            row = verdict.row_of(explainer)
            rows.append(
                {
                    "task": task,
                    "family": FAMILY_NAMES.get(family, family),
                    "explainer": explainer,
                    "overall_rank": row["position"],
                    "mean_scaled_rank": row["mean_rank"],
                    "low": row["rank_low"],
                    "high": row["rank_high"],
                    "group": row["group"],
                    "n_scores": verdict.coverage[i] if across else len(scored),
                    "n_blocks": verdict.coverage[i],
                    "scores": "(tasks)" if across else ";".join(scored),
                }
            )
    return pd.DataFrame(rows, columns=OVERALL_COLUMNS)


def _tests_table(
    comparisons: Mapping[tuple[str, str, str], Comparison], verdicts: Mapping[tuple[str, str], Comparison]
) -> pd.DataFrame:
    rows = []
    for c in [*(comparisons[key] for key in sorted(comparisons)), *verdicts.values()]:
        rows.append(
            {
                "task": c.task,
                "score": c.score,
                "family": FAMILY_NAMES.get(c.family, c.family),
                "k": len(c.explainers),
                "n_blocks": c.n_blocks,
                "test": c.test,
                "statistic": c.statistic,
                "p_value": c.p_value,
                "critical_difference": c.critical_difference,
                "left_out": "; ".join(f"{e}: {why}" for e, why in sorted(c.left_out.items())),
            }
        )
    return pd.DataFrame(rows, columns=TEST_COLUMNS)
