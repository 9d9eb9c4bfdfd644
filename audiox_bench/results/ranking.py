"""How explainers compare: on one score of one task, overall on a task, and across tasks.

**One score.** The explainers are ranked within each instance (a block) on the instances all of them
have; those defined on fewer than :data:`MIN_COVERAGE` of the instances the score has (a Captum Lime whose
weights are all zero on most clips, source explainers on the few clips where a source score exists) are
left out of the ranking, with the reason, rather than pull every comparison down to a handful of common
instances. With three or more explainers the Friedman test asks whether their mean ranks differ; if it
does, the Nemenyi test's critical difference separates pairs (Demšar 2006); two explainers are compared
by a paired Wilcoxon test. Explainers no test separates share a group letter; ``a`` is the best's group.

**Overall on a task** (the rule for scores some explainers lack): every (primary score, instance) block
ranks the explainers that have a value there, scaled to [0, 1] (0 best); an explainer's overall value is
the mean over the primary scores it has of its mean scaled rank on that score (each score weighs alike,
whatever its number of instances), with a bootstrap interval over instances. Pairs are compared by a
Wilcoxon test on their scaled-rank differences over the blocks both have, Holm-corrected over pairs.
Coverage (scores and blocks) is reported beside it.

**Across tasks.** Each task's overall values, ranked within the task (a block per task), averaged over
the tasks, for the explainers with a verdict on every task (the others are left out, with the reason);
the Friedman test and Nemenyi groups over them.
"""

from __future__ import annotations

import warnings
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from audiox_bench.results.statistics import (
    SIGNIFICANCE,
    block_ranks,
    friedman,
    letter_groups,
    mean_rank_interval,
    nemenyi_critical_difference,
    nemenyi_different,
    normalised_block_ranks,
    paired_p,
    pairwise_wilcoxon_holm,
)

MIN_COVERAGE = 0.8  # share of a score's instances an explainer needs to be ranked on it
VERDICT_RESAMPLES = 2000  # bootstrap resamples of a task's instances for the overall verdict's interval
ALL_TASKS = "(all tasks)"
# Built-in explainers that cannot be right for the model's reasons (no model, or weights in a random
# order): a score or verdict that does not separate them from the best cannot tell explainers apart.
CONTROLS = ("random", "energy", "shuffled")


def is_control(explainer: str) -> bool:
    """Whether an explainer SPEC names one of the :data:`CONTROLS`."""
    return explainer.split(":", 1)[0] in CONTROLS


@dataclass(frozen=True)
class Comparison:
    """The ranking of explainers on one score (or overall), and the tests behind it.

    Attributes
    ----------
    task, score : str
        What was compared (``score`` is ``(overall)`` for a verdict).
    explainers : tuple of str
        The ranked explainers, best first.
    mean_ranks : np.ndarray [shape=(k,)]
        Their mean rank (1 = best) or, overall, mean scaled rank (0 = best).
    low, high : np.ndarray [shape=(k,)]
        Bootstrap interval of each over blocks (instances).
    groups : tuple of str
        Letters: explainers sharing one are not significantly different.
    n_blocks : int
        Instances (blocks) the ranking rests on (overall: the task's instances).
    coverage : tuple of int
        Per explainer, the blocks it has a value on.
    test : str
        ``friedman+nemenyi``, ``friedman`` (not significant: one group), ``wilcoxon`` (two explainers),
        ``wilcoxon-holm`` (pairs on common blocks) or ``none``.
    statistic, p_value : float, optional
        The omnibus test's (Friedman's chi-square), or the single pair's Wilcoxon p-value.
    critical_difference : float, optional
        Nemenyi's, where it applied.
    left_out : mapping of str to str
        Explainers with values that were not ranked, and why.
    family : str
        The kind of components the compared explainers produce (explainers are compared with those of
        their kind only: sources with sources, segments with segments).
    different : np.ndarray [shape=(k, k), dtype=bool]
        Which pairs of ranked explainers the test separates (same order as ``explainers``).
    """

    task: str
    score: str
    explainers: tuple[str, ...]
    mean_ranks: np.ndarray
    low: np.ndarray
    high: np.ndarray
    groups: tuple[str, ...]
    n_blocks: int
    coverage: tuple[int, ...]
    test: str
    statistic: float | None = None
    p_value: float | None = None
    critical_difference: float | None = None
    left_out: Mapping[str, str] = field(default_factory=dict)
    family: str = ""
    different: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=bool))

    def separated(self, a: str, b: str) -> bool:
        """Whether the test separates explainers ``a`` and ``b`` (both ranked here)."""
        return bool(self.different[self.explainers.index(a), self.explainers.index(b)])

    def tied_with_best(self) -> list[str]:
        """The ranked explainers no test separates from the best (the best included), best first."""
        if not self.explainers:
            return []
        return [e for i, e in enumerate(self.explainers) if i == 0 or not self.different[0, i]]

    def row_of(self, explainer: str) -> dict[str, object] | None:
        """The ranking values of one explainer (None if it was not ranked)."""
        if explainer not in self.explainers:
            return None
        i = self.explainers.index(explainer)
        return {
            "mean_rank": float(self.mean_ranks[i]),
            "rank_low": float(self.low[i]),
            "rank_high": float(self.high[i]),
            "group": self.groups[i],
            "position": int(np.sum(self.mean_ranks < self.mean_ranks[i] - 1e-12)) + 1,
        }


def _seed(*parts: str) -> int:
    return zlib.crc32("|".join(parts).encode())


def _ordered(comparison_args: dict, order: np.ndarray) -> dict:
    """The per-explainer fields of a comparison reordered by ``order``."""
    out = dict(comparison_args)
    for key in ("explainers", "groups", "coverage"):
        out[key] = tuple(np.asarray(out[key], dtype=object)[order])
    for key in ("mean_ranks", "low", "high"):
        out[key] = np.asarray(out[key])[order]
    if "different" in out:
        out["different"] = np.asarray(out["different"], dtype=bool)[np.ix_(order, order)]
    return out


def rankable(values: pd.DataFrame) -> tuple[list[str], dict[str, str], pd.DataFrame]:
    """The explainers (columns of ``values``, rows instances) ranked on one score, those left out and
    why, and the instances all ranked explainers have (their values, one column each)."""
    counts = values.notna().sum()
    n_instances = int(values.notna().any(axis=1).sum())
    ranked = [e for e in values.columns if counts[e] > 0 and counts[e] >= MIN_COVERAGE * n_instances]
    left_out = {
        e: f"defined on {int(counts[e])} of the {n_instances} instances the others have: too few to rank with them"
        for e in values.columns
        if counts[e] > 0 and e not in ranked
    }
    return ranked, left_out, values[ranked].dropna()


def compare_score(
    task: str, score: str, values: pd.DataFrame, higher_is_better: bool, family: str = ""
) -> Comparison | None:
    """Rank the explainers (columns of ``values``; rows are instances, NaN where undefined) on one score.

    Returns None when fewer than two explainers can be ranked on two common instances.
    """
    if not values.notna().any(axis=None):
        return None
    ranked, left_out, common = rankable(values)
    counts = values.notna().sum()
    if len(ranked) < 2 or len(common) < 2:
        reason = "only one explainer has values here" if len(ranked) < 2 else "fewer than 2 instances in common"
        left_out.update(dict.fromkeys(ranked, reason))
        return None if not left_out else _unranked(task, score, left_out, family)
    matrix = common.to_numpy(dtype=np.float64)
    ranks = block_ranks(matrix, higher_is_better)
    means = ranks.mean(axis=0)
    low, high = mean_rank_interval(ranks, _seed(task, score))
    k = len(ranked)
    args: dict = {"task": task, "score": score, "n_blocks": len(common), "left_out": left_out, "family": family}
    if k == 2:
        p = paired_p(matrix[:, 0], matrix[:, 1])
        different = np.array([[False, p < SIGNIFICANCE], [p < SIGNIFICANCE, False]])
        args.update(test="wilcoxon", p_value=p)
    else:
        test = friedman(matrix, higher_is_better)
        significant = test is not None and test.p_value < SIGNIFICANCE
        cd = nemenyi_critical_difference(k, len(common)) if significant else None
        different = nemenyi_different(means, cd) if cd is not None else np.zeros((k, k), bool)
        args.update(
            test="friedman+nemenyi" if significant else "friedman",
            statistic=test.statistic if test else None,
            p_value=test.p_value if test else None,
            critical_difference=cd,
        )
    args.update(
        explainers=tuple(ranked),
        different=different,
        mean_ranks=means,
        low=low,
        high=high,
        groups=tuple(letter_groups(means, different)),
        coverage=tuple(int(counts[e]) for e in ranked),
    )
    return Comparison(**_ordered(args, np.argsort(means, kind="stable")))


def _unranked(task: str, score: str, left_out: Mapping[str, str], family: str) -> Comparison:
    empty = np.zeros(0)
    return Comparison(task, score, (), empty, empty, empty, (), 0, (), "none", left_out=dict(left_out), family=family)


def overall(task: str, scores: Mapping[str, tuple[pd.DataFrame, bool]], family: str = "") -> Comparison | None:
    """The overall verdict on a task from its primary scores (``score -> (values, higher_is_better)``,
    values indexed by instance, one column per explainer); see the module's rule."""
    blocks, score_of, instance_of, columns = [], [], [], []
    instances: dict[object, int] = {}
    for s_index, (_, (values, higher_is_better)) in enumerate(sorted(scores.items())):
        scaled = normalised_block_ranks(values.to_numpy(dtype=np.float64), higher_is_better)
        columns.append(list(values.columns))
        for row, instance in zip(scaled, values.index):
            blocks.append(dict(zip(values.columns, row)))
            score_of.append(s_index)
            instance_of.append(instances.setdefault(instance, len(instances)))
    explainers = sorted({e for b in blocks for e, v in b.items() if not np.isnan(v)})
    if len(explainers) < 2:
        return None
    matrix = np.array([[b.get(e, np.nan) for e in explainers] for b in blocks], dtype=np.float64)
    keep = ~np.all(np.isnan(matrix), axis=1)
    matrix, score_of, instance_of = matrix[keep], np.array(score_of)[keep], np.array(instance_of)[keep]
    n_scores, n_instances = len(columns), len(instances)

    def verdict(weights: np.ndarray) -> np.ndarray:
        """Mean over scores of each explainer's weighted mean scaled rank; ``weights`` (r, n_instances)
        count how often each instance is drawn. Returns (r, k)."""
        w = weights[:, instance_of]  # (r, n_blocks)
        present = ~np.isnan(matrix)
        filled = np.where(present, matrix, 0.0)
        per_score = []
        for s_index in range(n_scores):
            rows = score_of == s_index
            total = w[:, rows] @ filled[rows]
            count = w[:, rows] @ present[rows].astype(np.float64)
            with np.errstate(invalid="ignore", divide="ignore"):
                per_score.append(np.where(count > 0, total / count, np.nan))
        with warnings.catch_warnings():  # an explainer without a score in a resample: NaN, not a warning
            warnings.simplefilter("ignore", RuntimeWarning)
            return np.nanmean(np.stack(per_score), axis=0)

    means = verdict(np.ones((1, n_instances)))[0]
    rng = np.random.default_rng(_seed(task, "(overall)"))
    picks = rng.integers(0, n_instances, size=(VERDICT_RESAMPLES, n_instances))
    counts = np.zeros((VERDICT_RESAMPLES, n_instances))
    np.add.at(counts, (np.arange(VERDICT_RESAMPLES)[:, None], picks), 1.0)
    low, high = np.nanquantile(verdict(counts), [0.025, 0.975], axis=0)
    p = pairwise_wilcoxon_holm(matrix)
    args = {
        "task": task,
        "score": "(overall)",
        "explainers": tuple(explainers),
        "different": p < SIGNIFICANCE,
        "mean_ranks": means,
        "low": low,
        "high": high,
        "groups": tuple(letter_groups(means, p < SIGNIFICANCE)),
        "n_blocks": n_instances,
        "coverage": tuple(int(c) for c in (~np.isnan(matrix)).sum(axis=0)),
        "test": "wilcoxon-holm",
        "family": family,
    }
    return Comparison(**_ordered(args, np.argsort(means, kind="stable")))


def across_tasks(verdicts: Sequence[Comparison], family: str = "") -> Comparison | None:
    """The explainers that have an overall verdict on every task, ranked by their mean rank over the tasks
    (a block per task; Friedman and Nemenyi). Those with a verdict on some tasks only are left out with
    the reason: a mean over other tasks is not comparable."""
    if len(verdicts) < 2:
        return None
    table = pd.DataFrame(
        {v.task: pd.Series(v.mean_ranks, index=list(v.explainers)) for v in verdicts}
    ).T  # tasks x explainers: overall scaled ranks
    complete = table.notna().all()
    left_out = {
        e: f"has an overall verdict on {int(table[e].notna().sum())} of the {len(table)} tasks"
        for e in table.columns[~complete]
    }
    table = table.loc[:, complete]
    if table.shape[1] < 2:
        return None
    ranks = block_ranks(table.to_numpy(dtype=np.float64), higher_is_better=False)
    means = ranks.mean(axis=0)
    k = len(means)
    test = friedman(table.to_numpy(dtype=np.float64), False) if k >= 3 else None
    cd = None
    different = np.zeros((k, k), bool)
    if test is not None and test.p_value < SIGNIFICANCE:
        cd = nemenyi_critical_difference(k, len(table))
        different = nemenyi_different(means, cd)
    args = {
        "task": ALL_TASKS,
        "family": family,
        "score": "(overall)",
        "explainers": tuple(table.columns),
        "different": different,
        "mean_ranks": means,
        "low": ranks.min(axis=0),
        "high": ranks.max(axis=0),
        "groups": tuple(letter_groups(means, different)),
        "n_blocks": len(table),
        "coverage": (len(table),) * k,
        "test": "friedman+nemenyi" if cd is not None else ("friedman" if test else "none"),
        "statistic": test.statistic if test else None,
        "p_value": test.p_value if test else None,
        "critical_difference": cd,
        "left_out": left_out,
    }
    return Comparison(**_ordered(args, np.argsort(means, kind="stable")))
