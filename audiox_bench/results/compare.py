"""Compare two runs instance by instance (paired, Wilcoxon signed-rank), or two leaderboard CSVs (unpaired)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from audiox_bench.core.errors import AudioxError
from audiox_bench.results.leaderboard import metric_values
from audiox_bench.results.store import read_group_rows, read_records

COMPARE_COLUMNS = ["task", "explainer", "metric", "mean_a", "mean_b", "delta", "n_pairs", "p_value"]
_KEYS = ["task", "explainer", "example_id", "repeat", "metric"]


def paired_p_value(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sided Wilcoxon signed-rank p-value of paired values (scipy); 1.0 when every pair is equal,
    NaN with fewer than two pairs."""
    differences = np.asarray(a, np.float64) - np.asarray(b, np.float64)
    if len(differences) < 2:
        return float("nan")
    if np.all(differences == 0):
        return 1.0
    return float(stats.wilcoxon(a, b).pvalue)


def _run_values(run_dir: Path) -> pd.DataFrame:
    if not (run_dir / "run.json").is_file():
        raise AudioxError(f"{str(run_dir)!r} is not a run directory (no run.json)")
    return metric_values(read_records(run_dir), read_group_rows(run_dir))


def compare_runs(run_a: str | Path, run_b: str | Path) -> pd.DataFrame:
    """Per task x explainer x metric: means over the shared instances, delta (B - A), pairs, p-value.

    Instances pair when both runs hold a value for the same task, explainer, example, repeat and
    metric (undefined values are left out of both sides).

    Raises
    ------
    AudioxError
        If either path is not a run directory, or the runs share no instance.
    """
    a, b = _run_values(Path(run_a)), _run_values(Path(run_b))
    pairs = a.merge(b, on=_KEYS, suffixes=("_a", "_b")).dropna(subset=["value_a", "value_b"])
    if pairs.empty:
        raise AudioxError(
            f"runs {str(run_a)!r} and {str(run_b)!r} share no instance (same task, explainer, "
            "example, repeat and metric); nothing to compare"
        )
    rows = []
    for (task, explainer, metric), group in pairs.groupby(["task", "explainer", "metric"], sort=True):
        mean_a, mean_b = group["value_a"].mean(), group["value_b"].mean()
        rows.append(
            {
                "task": task,
                "explainer": explainer,
                "metric": metric,
                "mean_a": mean_a,
                "mean_b": mean_b,
                "delta": mean_b - mean_a,
                "n_pairs": len(group),
                "p_value": paired_p_value(group["value_a"].to_numpy(), group["value_b"].to_numpy()),
            }
        )
    return pd.DataFrame(rows, columns=COMPARE_COLUMNS)


def compare_leaderboards(csv_a: str | Path, csv_b: str | Path) -> pd.DataFrame:
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
    merged["delta"] = merged["mean_b"] - merged["mean_a"]
    merged["n_pairs"] = np.nan
    merged["p_value"] = np.nan
    return merged[COMPARE_COLUMNS].sort_values(["task", "metric", "explainer"]).reset_index(drop=True)


def compare(path_a: str | Path, path_b: str | Path) -> tuple[pd.DataFrame, bool]:
    """Compare two run directories (paired) or two leaderboard CSV files (unpaired).

    Returns
    -------
    (pd.DataFrame, bool)
        The comparison and whether it is paired.
    """
    a, b = Path(path_a), Path(path_b)
    if a.is_dir() and b.is_dir():
        return compare_runs(a, b), True
    if a.is_file() and b.is_file():
        return compare_leaderboards(a, b), False
    for path in (a, b):
        if not path.exists():
            raise AudioxError(f"{str(path)!r} does not exist")
    raise AudioxError("compare two run directories, or two leaderboard CSV files, not one of each")
