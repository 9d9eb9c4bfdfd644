"""Compare explainers instance by instance (paired Wilcoxon signed-rank tests): the same explainers in two
runs, two explainers of one run, or one explainer of a run against another of a second run; or the
means of two leaderboard CSVs (unpaired: a CSV holds no instances)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from audiox_bench.core.errors import AudioxError
from audiox_bench.core.spec import parse_spec
from audiox_bench.results.statistics import RANK_ATOL, RANK_RTOL, paired_p
from audiox_bench.results.store import read_group_rows, read_records, read_run_info
from audiox_bench.results.values import metric_values

COMPARE_COLUMNS = [
    "task",
    "metric",
    "explainer_a",
    "explainer_b",
    "mean_a",
    "mean_b",
    "delta",
    "n_pairs",
    "n_only_a",
    "n_only_b",
    "p_value",
]
INSTANCE = ["task", "example_id", "repeat", "metric"]


@dataclass
class Comparison:
    """A comparison table, whether it is paired, and what the user should know about it."""

    table: pd.DataFrame
    paired: bool
    notes: list[str] = field(default_factory=list)


def _run_values(run_dir: Path) -> pd.DataFrame:
    read_run_info(run_dir)  # a clear error if it is not a run directory
    return metric_values(read_records(run_dir), read_group_rows(run_dir))


def resolve_explainer(name: str, available: set[str], where: str) -> str:
    """The explainer of a run a user means: its exact SPEC, or the only configuration of that name.

    Raises
    ------
    AudioxError
        If none or several of the run's explainers match, naming them.
    """
    if name in available:
        return name
    matches = sorted(e for e in available if parse_spec(e).name == parse_spec(name).name)
    if len(matches) == 1:
        return matches[0]
    known = ", ".join(sorted(available))
    if not matches:
        raise AudioxError(f"{where} has no explainer {name!r}; it has: {known}")
    raise AudioxError(f"{where} has several configurations of {name!r} ({', '.join(matches)}); give the whole SPEC")


def _pairs(a: pd.DataFrame, b: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Outer join of defined values on ``keys``; ``value_a`` / ``value_b`` NaN where a side lacks one."""
    a, b = a.dropna(subset=["value"]), b.dropna(subset=["value"])
    return a.merge(b, on=keys, how="outer", suffixes=("_a", "_b"))


def _row(group: pd.DataFrame) -> dict:
    both = group.dropna(subset=["value_a", "value_b"])
    va, vb = both["value_a"].to_numpy(), both["value_b"].to_numpy()
    differences = vb - va
    noise = np.abs(differences) <= RANK_ATOL + RANK_RTOL * np.maximum(np.abs(va), np.abs(vb))
    differences[noise] = 0.0  # float round-off is no difference
    return {
        "mean_a": va.mean() if len(va) else np.nan,
        "mean_b": vb.mean() if len(vb) else np.nan,
        "delta": differences.mean() if len(differences) else np.nan,
        "n_pairs": len(both),
        "n_only_a": int(group["value_b"].isna().sum()),
        "n_only_b": int(group["value_a"].isna().sum()),
        "p_value": paired_p(va, vb) if len(both) >= 2 else np.nan,
    }


def compare_runs(
    run_a: str | Path, run_b: str | Path | None = None, explainer_a: str | None = None, explainer_b: str | None = None
) -> Comparison:
    """Paired comparison per task x metric (x explainer when both runs' explainers are compared alike).

    Parameters
    ----------
    run_a, run_b : path
        Run directories; ``run_b`` defaults to ``run_a`` (then ``explainer_a`` and ``explainer_b`` are needed).
    explainer_a, explainer_b : str, optional
        Compare this explainer of A with that one of B, pairing their common instances (task, example,
        repeat, metric). Without them, each explainer is paired with itself in the other run.

    Raises
    ------
    AudioxError
        If a path is not a run directory, an explainer is unknown or ambiguous, or nothing pairs.
    """
    run_a = Path(run_a)
    run_b = run_a if run_b is None else Path(run_b)
    if (explainer_a is None) != (explainer_b is None):
        raise AudioxError("give both --a and --b (the explainers to compare), or neither")
    if explainer_a is None and run_a == run_b:
        raise AudioxError("to compare explainers of one run, name them: audiox compare RUN --a X --b Y")
    a, b = _run_values(run_a), _run_values(run_b)
    if explainer_a is not None:
        explainer_a = resolve_explainer(explainer_a, set(a["explainer"]), f"run {str(run_a)!r}")
        explainer_b = resolve_explainer(explainer_b, set(b["explainer"]), f"run {str(run_b)!r}")
        a, b = a[a["explainer"] == explainer_a], b[b["explainer"] == explainer_b]
        pairs = _pairs(a.drop(columns="explainer"), b.drop(columns="explainer"), INSTANCE)
        pairs["explainer_a"], pairs["explainer_b"] = explainer_a, explainer_b
    else:
        pairs = _pairs(a, b, ["explainer", *INSTANCE])
        pairs["explainer_a"] = pairs["explainer_b"] = pairs["explainer"]
    rows = [
        {"task": task, "metric": metric, "explainer_a": ea, "explainer_b": eb, **_row(group)}
        for (task, metric, ea, eb), group in pairs.groupby(["task", "metric", "explainer_a", "explainer_b"], sort=True)
    ]
    table = pd.DataFrame(rows, columns=COMPARE_COLUMNS)
    table = table[table["n_pairs"] > 0]
    if table.empty:
        raise AudioxError(
            f"{str(run_a)!r} and {str(run_b)!r} share no instance (task, example, repeat and metric) "
            "of the explainers compared; nothing to compare"
        )
    notes = []
    unpaired_a, unpaired_b = int(table["n_only_a"].sum()), int(table["n_only_b"].sum())
    dropped = pairs.groupby(["task", "metric", "explainer_a", "explainer_b"]).size().shape[0] - len(table)
    if unpaired_a or unpaired_b or dropped:
        notes.append(
            f"{unpaired_a} values of A and {unpaired_b} of B have no partner instance and are left out"
            + (f"; {dropped} rows had no pair at all" if dropped else "")
        )
    return Comparison(table.reset_index(drop=True), True, notes)


def compare_leaderboards(csv_a: str | Path, csv_b: str | Path) -> Comparison:
    """Means of two leaderboard CSVs side by side. Unpaired: instances are not known, so ``n_pairs`` and
    ``p_value`` are empty."""
    try:
        a, b = pd.read_csv(csv_a), pd.read_csv(csv_b)
    except (OSError, ValueError) as exc:
        raise AudioxError(f"cannot read leaderboard CSV: {exc}") from exc
    for name, table in ((csv_a, a), (csv_b, b)):
        missing = {"task", "explainer", "metric", "mean"} - set(table.columns)
        if missing:
            raise AudioxError(f"{str(name)!r} is not a leaderboard CSV (missing columns {', '.join(sorted(missing))})")
    merged = a.merge(b, on=["task", "explainer", "metric"], suffixes=("_a", "_b"))
    if merged.empty:
        raise AudioxError(f"leaderboards {str(csv_a)!r} and {str(csv_b)!r} share no task x explainer x metric cell")
    merged["explainer_a"] = merged["explainer_b"] = merged["explainer"]
    merged["delta"] = merged["mean_b"] - merged["mean_a"]
    for column in ("n_pairs", "n_only_a", "n_only_b", "p_value"):
        merged[column] = np.nan
    table = merged[COMPARE_COLUMNS].sort_values(["task", "metric", "explainer_a"]).reset_index(drop=True)
    return Comparison(
        table, False, ["leaderboard CSVs hold no instances, so this comparison is unpaired and has no p-values"]
    )


def compare(
    path_a: str | Path, path_b: str | Path | None = None, explainer_a: str | None = None, explainer_b: str | None = None
) -> Comparison:
    """Compare run directories (paired) or two leaderboard CSV files (unpaired)."""
    a = Path(path_a)
    b = None if path_b is None else Path(path_b)
    for path in (a, b):
        if path is not None and not path.exists():
            raise AudioxError(f"{str(path)!r} does not exist")
    if a.is_dir() and (b is None or b.is_dir()):
        return compare_runs(a, b, explainer_a, explainer_b)
    if a.is_file() and b is not None and b.is_file():
        if explainer_a or explainer_b:
            raise AudioxError("--a and --b pair explainers of run directories; leaderboard CSVs hold no instances")
        return compare_leaderboards(a, b)
    raise AudioxError("compare run directories, or two leaderboard CSV files, not one of each")
