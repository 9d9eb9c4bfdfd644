"""Top-k overlap with the ground truth (N_ce in Mishra et al. 2020; "% drums most important" in audioLIME)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from audiox_bench.core.data import Figure, MetricInput, Scores
from audiox_bench.core.errors import NotApplicableError
from audiox_bench.core.interfaces import Metric
from audiox_bench.core.records import GroupRow, Record
from audiox_bench.core.task import NO_TRUTH as NO_TRUTH_HERE
from audiox_bench.results.plots import (
    explainer_ticks,
    figure_path,
    natural_order,
    save,
    values_by_explainer,
)

NO_TRUTH = "no explanation on this task has ground truth in its components"
MIN_TRUTH_FOR_RATE = 3  # all_but_one (N_ce >= k - 1) is a rate of the paper's 3 injected segments


def top_positive(names: Sequence[str], weights: np.ndarray, k: int) -> list[str]:
    """The ``k`` components with the largest positive weights, best first (ties: component order)."""
    weights = np.asarray(weights, dtype=np.float64)
    if weights.shape != (len(names),):
        raise ValueError(f"weights have shape {weights.shape}, expected ({len(names)},)")
    order = np.argsort(-weights, kind="stable")
    return [names[i] for i in order[:k] if weights[i] > 0]


def top_k(names: Sequence[str], weights: np.ndarray, k: int) -> list[str]:
    """The ``k`` components with the largest weights by magnitude, positive or negative, largest first
    (ties: component order): Mishra et al. (2020, Sec. IV) rank a component by how much it matters,
    whichever way. Rankings (stability, agreement between explanations) use this; overlap with the truth
    uses :func:`top_positive` (a component that lowers the score does not explain it, Sec. V)."""
    weights = np.asarray(weights, dtype=np.float64)
    if weights.shape != (len(names),):
        raise ValueError(f"weights have shape {weights.shape}, expected ({len(names)},)")
    return [names[i] for i in np.argsort(-np.abs(weights), kind="stable")[:k]]


def topk_overlap(names: Sequence[str], weights: np.ndarray, truth: Collection[str], k: int | None = None) -> int:
    """N_ce: how many of the top-``k`` positive components are in ``truth``.

    Parameters
    ----------
    names : sequence of str
        Component names.
    weights : np.ndarray [shape=(len(names),)]
        Explanation weights.
    truth : collection of str
        Ground-truth component names.
    k : int, optional
        Defaults to ``len(truth)``.
    """
    k = len(truth) if k is None else k
    if k < 1:
        raise ValueError("k must be at least 1 (the ground truth is empty)")
    return len(set(top_positive(names, weights, k)) & set(truth))


class TopKOverlap(Metric):
    """N_ce / k: share of the top-k positive components that are ground truth (k = |truth|).

    Reports ``topk_overlap`` (N_ce / k), ``topk_overlap.n_ce`` (N_ce), and the rates of Mishra et al.
    (2020, Sec. V) as 0/1 per instance (their means are the rates): ``topk_overlap.all`` (N_ce = k) and
    ``topk_overlap.all_but_one`` (N_ce >= k - 1), with k capped at the size of the truth. ``all_but_one``
    is undefined where the truth has fewer than 3 components: with one it is 1 for every explanation
    (N_ce >= 0), a tie by construction. Instances without ground truth (or whose truth drives another
    class than the one explained) are skipped with the task's reason, not scored as 0.

    Parameters
    ----------
    k : int, optional
        Fixed k; by default the size of the ground truth.
    """

    name = "topk_overlap"
    higher_is_better = True
    description = "share of the top-k positive components that are ground truth (k = |truth|)"
    value_roles = (("n_ce", "diagnostic"), ("all", "score"), ("all_but_one", "score"))

    def __init__(self, k: int | None = None) -> None:
        if k is not None and k < 1:
            raise ValueError("k must be at least 1")
        self.k = k

    def score(self, item: MetricInput) -> Scores:
        truth = item.ground_truth
        if truth is None or len(truth) == 0:
            raise NotApplicableError(item.truth_note or NO_TRUTH_HERE)
        k = self.k or len(truth)
        n_ce = topk_overlap(item.explanation.components, item.explanation.weights, truth.components, k)
        best = min(k, len(truth))  # the largest N_ce possible
        return Scores(
            {
                self.name: n_ce / best,
                f"{self.name}.n_ce": float(n_ce),
                f"{self.name}.all": float(n_ce == best),
                f"{self.name}.all_but_one": float(n_ce >= best - 1) if best >= MIN_TRUTH_FOR_RATE else None,
            }
        )

    def value_names(self) -> list[str]:
        return [self.name, *(f"{self.name}.{v}" for v in ("n_ce", "all", "all_but_one"))]

    def plot(
        self, plt: Any, task: str, records: Sequence[Record], group_rows: Sequence[GroupRow], out: Path
    ) -> list[Figure]:
        """``n_ce_<task>.png``: the distribution of N_ce per configuration (Mishra et al. 2020, Figs. 6-7);
        ``top1_<task>.png``: where the top-1 component falls, split by prediction outcome (audioLIME,
        Figs. 2-3): a histogram of components when every example has the same truth (``confound``),
        else the share of top-1 components inside each example's own truth."""
        with_truth = [r for r in records if r.ground_truth and r.weights]
        if not with_truth:
            return [Figure(f"n_ce ({task})", skipped=NO_TRUTH), Figure(f"top1 ({task})", skipped=NO_TRUTH)]
        same_truth = (
            len({tuple(r.ground_truth) for r in with_truth}) == 1
            and len({tuple(r.components) for r in with_truth}) == 1
        )
        top1 = plot_top1_histogram if same_truth else plot_top1_hits
        return [
            Figure(f"n_ce ({task})", plot_n_ce(plt, task, records, out)),
            Figure(f"top1 ({task})", top1(plt, task, with_truth, out)),
        ]


def _outcome(record: Record) -> str:
    return "correct" if record.label is None or record.label == record.target else "wrong"


def plot_n_ce(plt: Any, task: str, records: Sequence[Record], out: Path) -> Path:
    values = values_by_explainer(records, "topk_overlap.n_ce")
    explainers = natural_order(values)
    top = int(max(max(v) for v in values.values()))
    fig, ax = plt.subplots(figsize=(max(6, 0.7 * len(explainers) + 3), 4.5))
    bottom = np.zeros(len(explainers))
    for n in range(top + 1):
        share = np.array([np.mean(np.array(values[e]) == n) for e in explainers])
        ax.bar(np.arange(len(explainers)), share, bottom=bottom, label=f"N_ce = {n}")
        bottom += share
    explainer_ticks(ax, explainers)
    ax.set_ylabel("share of explanations")
    ax.set_title(f"{task}: ground-truth components among the top-k (N_ce)")
    return save(fig, figure_path(out, "n_ce", task), [ax])


def plot_top1_histogram(plt: Any, task: str, records: Sequence[Record], out: Path) -> Path:
    """Counts of each top-1 component per explainer, by prediction outcome, and under randomized models."""
    by_explainer: dict[str, list[Record]] = {}
    for record in records:
        by_explainer.setdefault(record.explainer, []).append(record)
    explainers = natural_order(by_explainer)
    names = list(records[0].components)
    fig, axes = plt.subplots(len(explainers), 1, figsize=(10, 2.6 * len(explainers)), squeeze=False)
    for ax, explainer in zip(axes[:, 0], explainers):
        rows = by_explainer[explainer]
        counts = {"correct": Counter(), "wrong": Counter()}
        randomized: Counter = Counter()
        for r in rows:
            counts[_outcome(r)][r.components[int(np.argmax(r.weights))]] += 1
            randomized.update(r.components[i] for i in r.metric_data.get("_top1", {}).get("randomized", []))
        series = [("trained, correct prediction", counts["correct"]), ("trained, wrong prediction", counts["wrong"])]
        if randomized:
            scale = len(rows) / sum(randomized.values())  # per explanation, comparable with the trained counts
            series.append(("randomized models (scaled)", Counter({k: v * scale for k, v in randomized.items()})))
        width = 0.8 / len(series)
        x = np.arange(len(names))
        for i, (label, counter) in enumerate(series):
            ax.bar(x + (i - (len(series) - 1) / 2) * width, [counter.get(n, 0) for n in names], width, label=label)
        ax.set_xticks(x, names, rotation=45 if len(names) > 8 else 0, ha="right" if len(names) > 8 else "center")
        ax.set_ylabel("explanations")
        ax.set_title(
            f"{task}: top-1 component of {explainer} (truth: {', '.join(records[0].ground_truth)})", fontsize=9
        )
    return save(fig, figure_path(out, "top1", task), list(axes[:, 0]))


def plot_top1_hits(plt: Any, task: str, records: Sequence[Record], out: Path) -> Path:
    """Share of explanations whose top-1 component is in the example's own truth, by prediction outcome,
    next to the same share under randomized models when the run has them."""
    shares: dict[str, dict[str, list[float]]] = {}
    for r in records:
        truth = set(r.ground_truth or ())
        cell = shares.setdefault(r.explainer, {"correct": [], "wrong": [], "randomized": []})
        cell[_outcome(r)].append(float(r.components[int(np.argmax(r.weights))] in truth))
        cell["randomized"] += [
            float(r.components[i] in truth) for i in r.metric_data.get("_top1", {}).get("randomized", [])
        ]
    explainers = natural_order(shares)
    series = [
        (key, label)
        for key, label in (
            ("correct", "trained, correct prediction"),
            ("wrong", "trained, wrong prediction"),
            ("randomized", "randomized models"),
        )
        if any(shares[e][key] for e in explainers)
    ]
    fig, ax = plt.subplots(figsize=(max(7, 0.8 * len(explainers) + 3), 4.5))
    x, width = np.arange(len(explainers)), 0.8 / len(series)
    for i, (key, label) in enumerate(series):
        heights = [np.mean(shares[e][key]) if shares[e][key] else 0.0 for e in explainers]
        ax.bar(x + (i - (len(series) - 1) / 2) * width, heights, width, label=label)
    explainer_ticks(ax, explainers)
    ax.set_ylim(0, 1)
    ax.set_ylabel("top-1 component is ground truth")
    ax.set_title(f"{task}: top-1 hit rate against each example's truth")
    return save(fig, figure_path(out, "top1", task), [ax])
