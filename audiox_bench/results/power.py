"""How many instances a ranking needs: the power of the Friedman test with Nemenyi's post-hoc test to
separate explainers whose mean ranks differ by a given amount, measured on a run's records.

Two answers per (task, primary score, family), both at the test's level :data:`SIGNIFICANCE`:

- **analytic**: the number of instances at which Nemenyi's critical difference
  q_alpha sqrt(k (k + 1) / (6 N)) (Demšar 2006, Sec. 3.2.2) falls to the difference (a pair exactly that
  far apart is then separated about half of the time);
- **measured**: instances resampled with replacement from the run (a pilot study), at several sizes N:
  the share of the pairs whose mean ranks on the whole run differ by at least the difference that the
  Friedman test (with the tie correction of ``scipy.stats.friedmanchisquare``) and Nemenyi's critical
  difference separate, averaged over resamples.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from audiox_bench.core.data import ValueSpec
from audiox_bench.core.records import GroupRow, Record
from audiox_bench.results.ranking import rankable
from audiox_bench.results.statistics import SIGNIFICANCE, block_ranks, nemenyi_critical_difference
from audiox_bench.results.tables import FAMILY_NAMES, instance_frame
from audiox_bench.results.values import DATASET, metric_values, resolve_spec

POWER_RESAMPLES = 400
SIZE_FACTORS = (1, 2, 4, 8)  # the run's instances times these


def instances_for_difference(k: int, difference: float = 1.0, alpha: float = SIGNIFICANCE) -> int:
    """The fewest instances at which Nemenyi's critical difference for ``k`` explainers is at most
    ``difference`` mean ranks."""
    q = stats.studentized_range.ppf(1 - alpha, k, np.inf) / math.sqrt(2)
    return math.ceil(q * q * k * (k + 1) / (6 * difference * difference) - 1e-9)


def friedman_resampled(ranks: np.ndarray, picks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean ranks and Friedman p-values of blocks ``ranks[picks]`` for each row of ``picks``.

    Parameters
    ----------
    ranks : np.ndarray [shape=(n, k)]
        Ranks within each block (ties averaged).
    picks : np.ndarray [shape=(r, N)]
        Block indices of each resample.

    Returns
    -------
    mean_ranks : np.ndarray [shape=(r, k)]
    p_values : np.ndarray [shape=(r,)]
        As ``scipy.stats.friedmanchisquare`` on each resample (1 where every block is a tie).
    """
    k = ranks.shape[1]
    size = picks.shape[1]
    tie_terms = np.array([_tie_term(row) for row in ranks])  # sum of t^3 - t over each block's ties
    mean_ranks = ranks[picks].mean(axis=1)
    sums = mean_ranks * size
    chi2 = 12.0 / (size * k * (k + 1)) * np.sum(sums * sums, axis=1) - 3.0 * size * (k + 1)
    correction = 1.0 - tie_terms[picks].sum(axis=1) / (size * k * (k * k - 1))
    with np.errstate(invalid="ignore", divide="ignore"):
        chi2 = np.where(correction > 0, chi2 / correction, 0.0)
    return mean_ranks, np.where(correction > 0, stats.chi2.sf(chi2, k - 1), 1.0)


def _tie_term(block: np.ndarray) -> float:
    _, counts = np.unique(block, return_counts=True)
    return float(np.sum(counts.astype(np.float64) ** 3 - counts))


def nemenyi_power(
    ranks: np.ndarray,
    sizes: Sequence[int],
    difference: float = 1.0,
    resamples: int = POWER_RESAMPLES,
    seed: int = 0,
) -> dict[int, float]:
    """The share of pairs at least ``difference`` apart in mean rank (on all blocks of ``ranks``
    ``(n, k)``) that Friedman + Nemenyi separates at each size, blocks resampled with replacement.
    NaN where no pair is that far apart."""
    ranks = np.asarray(ranks, dtype=np.float64)
    n, k = ranks.shape
    true = ranks.mean(axis=0)
    apart = np.abs(true[:, None] - true[None, :]) >= difference - 1e-12
    apart = np.triu(apart, 1)
    if not apart.any():
        return dict.fromkeys(sizes, np.nan)
    rng = np.random.default_rng(seed)
    power = {}
    for size in sizes:
        picks = rng.integers(0, n, size=(resamples, size))
        means, p = friedman_resampled(ranks, picks)
        cd = nemenyi_critical_difference(k, size)
        gaps = np.abs(means[:, :, None] - means[:, None, :]) > cd  # (r, k, k)
        found = gaps[:, apart] & (p < SIGNIFICANCE)[:, None]
        power[size] = float(found.mean())
    return power


@dataclass(frozen=True)
class PowerRow:
    """The power of one ranking of a run (one task, primary score and family)."""

    task: str
    score: str
    family: str
    k: int
    n_blocks: int
    critical_difference: float
    pairs_apart: int
    n_for_difference: int
    power: Mapping[int, float]

    def to_dict(self) -> dict[str, object]:
        row: dict[str, object] = {
            "task": self.task,
            "score": self.score,
            "family": FAMILY_NAMES.get(self.family, self.family),
            "k": self.k,
            "n": self.n_blocks,
            "critical_difference": round(self.critical_difference, 3),
            "pairs_apart": self.pairs_apart,
            "n_for_cd": self.n_for_difference,
        }
        row.update({f"power_at_{size}": round(value, 3) for size, value in self.power.items()})
        return row


def power_table(
    records: Sequence[Record],
    specs: Mapping[str, ValueSpec],
    group_rows: Sequence[GroupRow] = (),
    families: Mapping[str, str] | None = None,
    difference: float = 1.0,
    resamples: int = POWER_RESAMPLES,
) -> list[PowerRow]:
    """The power of every ranking of three or more explainers on a primary score of a run."""
    families = families or {}
    values = metric_values(records, group_rows)
    values["family"] = values["explainer"].map(lambda e: families.get(e, ""))
    rows = []
    for (task, metric, family), group in values.groupby(["task", "metric", "family"], sort=True):
        spec = resolve_spec(metric, specs)
        if not spec.primary or (group["example_id"] == DATASET).any():
            continue
        _, _, common = rankable(instance_frame(group))
        n, k = common.shape
        if k < 3 or n < 2:
            continue
        ranks = block_ranks(common.to_numpy(dtype=np.float64), spec.higher_is_better)
        true = ranks.mean(axis=0)
        apart = int(np.triu(np.abs(true[:, None] - true[None, :]) >= difference - 1e-12, 1).sum())
        sizes = [n * factor for factor in SIZE_FACTORS]
        rows.append(
            PowerRow(
                task,
                metric,
                family,
                k,
                n,
                nemenyi_critical_difference(k, n),
                apart,
                instances_for_difference(k, difference),
                nemenyi_power(ranks, sizes, difference, resamples, seed=n * 1000 + k),
            )
        )
    return rows


def power_frame(rows: Sequence[PowerRow]) -> pd.DataFrame:
    """The rows as a table (power columns per size factor: ``power_at_xN``)."""
    frame = []
    for row in rows:
        data = row.to_dict()
        for factor, size in zip(SIZE_FACTORS, row.power):
            data[f"power_x{factor}"] = data.pop(f"power_at_{size}")
        frame.append(data)
    return pd.DataFrame(frame)
