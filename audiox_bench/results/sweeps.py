"""Difficulty sweeps: one task run at several settings of one parameter (``--task
'confound:strength=1.0|0.9|0.75'``), read as each explainer's score against the setting, with where the
leaderboard's tests separate explainers from the best of their kind at each setting."""

from __future__ import annotations

import inspect
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from audiox_bench.core import registry
from audiox_bench.core.errors import AudioxError
from audiox_bench.core.spec import format_value, parse_spec
from audiox_bench.results.ranking import Comparison
from audiox_bench.results.tables import FAMILY_NAMES

FAMILY_CODES = {name: code for code, name in FAMILY_NAMES.items()}  # the tables' "sources" -> "source"

SWEEP_COLUMNS = (
    "task",
    "knob",
    "setting",
    "family",
    "metric",
    "explainer",
    "mean",
    "ci_low",
    "ci_high",
    "n",
    "best",
    "separated_from_best",
)


@dataclass(frozen=True)
class Sweep:
    """Task SPECs of one task that differ in one parameter only.

    Attributes
    ----------
    task : str
        The task's name.
    knob : str
        The parameter that varies.
    settings : tuple of (value, task SPEC)
        In the order of the values (numbers ascending, else as written).
    """

    task: str
    knob: str
    settings: tuple[tuple[Any, str], ...]


def _default_of(task: str, key: str) -> Any:
    """The default of a registered task's constructor parameter ``key`` (None if unknown)."""
    try:
        parameter = inspect.signature(registry.tasks.get(task)).parameters.get(key)
    except (AudioxError, TypeError, ValueError):
        return None
    if parameter is None or parameter.default is inspect.Parameter.empty:
        return None
    return parameter.default


def find_sweeps(task_specs: Iterable[str]) -> list[Sweep]:
    """The sweeps among a run's task SPECs: per task name, two or more SPECs whose parameters differ in
    exactly one key (a parameter left at its default is absent from a canonical SPEC: its value is read
    from the task's constructor)."""
    by_name: dict[str, list[tuple[str, dict]]] = defaultdict(list)
    for text in sorted(set(task_specs)):
        spec = parse_spec(text)
        by_name[spec.name].append((text, spec.params))
    sweeps = []
    for name, specs in sorted(by_name.items()):
        if len(specs) < 2:
            continue
        keys = {key for _, params in specs for key in params}
        varying = [k for k in sorted(keys) if len({format_value(p.get(k)) for _, p in specs}) > 1]
        if len(varying) != 1:
            continue
        knob = varying[0]
        default = _default_of(name, knob)
        values = [(params.get(knob, default), text) for text, params in specs]
        numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v, _ in values)
        if numeric:
            values.sort(key=lambda pair: pair[0])
        sweeps.append(Sweep(name, knob, tuple(values)))
    return sweeps


def sweep_frame(
    sweep: Sweep, leaderboard: pd.DataFrame, comparisons: dict[tuple[str, str, str], Comparison], scores: Iterable[str]
) -> pd.DataFrame:
    """Per setting, kind of components, score and explainer: the mean with its interval, the best of the
    setting, and whether the leaderboard's test separates the explainer from it (None where the explainer
    is not ranked there); explainers without a value at a setting are left out. Columns :data:`SWEEP_COLUMNS`;
    settings whose value is None are the default's."""
    rows = []
    wanted = set(scores)
    for value, task_spec in sweep.settings:
        board = leaderboard[
            (leaderboard["task"] == task_spec) & leaderboard["metric"].isin(wanted) & (leaderboard["n"] > 0)
        ]
        for row in board.itertuples(index=False):
            comparison = comparisons.get((task_spec, row.metric, FAMILY_CODES.get(row.family, row.family)))
            ranked = comparison is not None and row.explainer in comparison.explainers
            best = comparison.explainers[0] if comparison is not None and comparison.explainers else None
            rows.append(
                {
                    "task": sweep.task,
                    "knob": sweep.knob,
                    "setting": "default" if value is None else format_value(value),
                    "family": row.family,
                    "metric": row.metric,
                    "explainer": row.explainer,
                    "mean": row.mean,
                    "ci_low": row.ci_low,
                    "ci_high": row.ci_high,
                    "n": row.n,
                    "best": best,
                    "separated_from_best": (
                        comparison.separated(best, row.explainer) if ranked and best is not None else None
                    ),
                }
            )
    return pd.DataFrame(rows, columns=list(SWEEP_COLUMNS))


def separation_summary(frame: pd.DataFrame) -> pd.DataFrame:
    """Per setting, kind and score: the best explainer, how many are ranked and how many the test
    separates from it (where explainers break apart as the task gets harder)."""
    ranked = frame[frame["separated_from_best"].notna()]
    if ranked.empty:
        return pd.DataFrame(columns=["setting", "family", "metric", "best", "n_ranked", "n_separated"])
    grouped = ranked.groupby(["setting", "family", "metric"], sort=False)
    return grouped.agg(
        best=("best", "first"),
        n_ranked=("explainer", "size"),
        n_separated=("separated_from_best", lambda s: int(s.astype(bool).sum())),
    ).reset_index()
