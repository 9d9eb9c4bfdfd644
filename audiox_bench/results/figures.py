"""The leaderboard's figures: critical-difference diagrams (Demšar 2006, Fig. 1) and cost against quality
with the Pareto front. Each is returned as SVG text (inlined in the HTML page: it references no file) and
can be written as PNG beside it. matplotlib is the ``plots`` extra; without it a figure is None and the
page says so.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from audiox_bench.results.ranking import Comparison
from audiox_bench.results.statistics import pareto_front

MAX_LABEL = 44  # characters of an explainer's SPEC shown beside a diagram


def pyplot() -> Any | None:
    """matplotlib's pyplot on the Agg backend, with deterministic SVG output, or None if not installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    matplotlib.rcParams["svg.hashsalt"] = "audiox-bench"  # the same ids in every run
    matplotlib.rcParams["svg.fonttype"] = "none"
    return plt


def _short(name: str) -> str:
    return name if len(name) <= MAX_LABEL else name[: MAX_LABEL - 1] + "…"


def _render(plt: Any, fig: Any, png: Path | None) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None, "Creator": None})
    if png is not None:
        png.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(png, dpi=120, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    text = buffer.getvalue()
    return text[text.index("<svg") :]  # inline: no XML declaration or DOCTYPE


def cd_diagram(comparison: Comparison, title: str, png: Path | None = None) -> str | None:
    """A critical-difference diagram: each explainer at its mean rank (best on the left), labels half left
    and half right, a bar joining each group no test separates, and the Nemenyi critical difference where
    it applied."""
    plt = pyplot()
    k = len(comparison.explainers)
    if plt is None or k < 2:
        return None
    ranks = comparison.mean_ranks
    overall = comparison.score == "(overall)"
    lo, hi = (0.0, 1.0) if overall and comparison.task.find("all tasks") < 0 else (1.0, float(max(k, ranks.max())))
    half = (k + 1) // 2
    fig, ax = plt.subplots(figsize=(9, 1.2 + 0.26 * half + 0.12 * k))
    ax.set_xlim(lo - 0.02 * (hi - lo), hi + 0.02 * (hi - lo))
    top = 0.0
    ax.hlines(top, lo, hi, color="black", linewidth=1)
    for tick in np.linspace(lo, hi, 6 if overall else min(k, 11)):
        ax.vlines(tick, top, top + 0.08, color="black", linewidth=0.8)
        ax.text(tick, top + 0.12, f"{tick:.2g}", ha="center", va="bottom", fontsize=7)
    groups = sorted({letter for g in comparison.groups for letter in g})
    bar_rows = len(groups)
    for row, letter in enumerate(groups):
        members = [ranks[i] for i, g in enumerate(comparison.groups) if letter in g]
        y = -0.12 - 0.1 * row
        ax.hlines(y, min(members) - 0.005 * (hi - lo), max(members) + 0.005 * (hi - lo), linewidth=3, color="0.3")
    label_top = -0.25 - 0.1 * bar_rows
    for i, (name, rank) in enumerate(zip(comparison.explainers, ranks)):
        left = i < half
        row = i if left else k - 1 - i
        y = label_top - 0.22 * row
        x = lo - 0.01 * (hi - lo) if left else hi + 0.01 * (hi - lo)
        ax.plot([rank, rank, x], [top, y, y], color="0.4", linewidth=0.7)
        ax.text(x, y, f"{_short(name)} ({rank:.2f})", ha="right" if left else "left", va="center", fontsize=7)
    if comparison.critical_difference is not None:
        cd = comparison.critical_difference
        ax.hlines(top + 0.45, lo, lo + cd, color="black", linewidth=1.5)
        ax.text(lo + cd / 2, top + 0.5, f"CD = {cd:.2f}", ha="center", va="bottom", fontsize=7)
    ax.set_ylim(label_top - 0.22 * half - 0.1, top + 0.7)
    ax.axis("off")
    ax.set_title(title, fontsize=9)
    return _render(plt, fig, png)


def cost_quality(
    explainers: Sequence[str],
    quality: np.ndarray,
    model_calls: np.ndarray,
    seconds: np.ndarray,
    title: str,
    png: Path | None = None,
) -> str | None:
    """Overall scaled rank (0 best) against cost per explanation (model calls and seconds, log scale),
    the Pareto front marked (no explainer is both better and cheaper)."""
    plt = pyplot()
    if plt is None or len(explainers) < 2:
        return None
    from matplotlib.ticker import NullLocator

    quality = np.asarray(quality, dtype=np.float64)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    for ax, cost, label in (
        (axes[0], model_calls, "model calls per explanation"),
        (axes[1], seconds, "seconds per explanation"),
    ):
        cost = np.maximum(np.asarray(cost, dtype=np.float64), 1e-3)
        front = pareto_front(quality, cost)
        ax.scatter(cost[~front], quality[~front], s=18, color="0.55", label="dominated")
        ax.scatter(cost[front], quality[front], s=28, color="tab:red", label="Pareto front")
        order = np.argsort(cost[front])
        ax.plot(cost[front][order], quality[front][order], color="tab:red", linewidth=0.8)
        for name, x, y, on_front in zip(explainers, cost, quality, front):
            if on_front:
                ax.annotate(_short(name), (x, y), fontsize=6, xytext=(3, 3), textcoords="offset points")
        ax.set_xscale("log")
        ax.xaxis.set_minor_locator(NullLocator())  # minor log ticks: most of the drawing time, no information
        ax.set_xlim(cost.min() / 2, cost.max() * 20)  # room for the labels of the costliest
        ax.set_xlabel(label)
    axes[0].invert_yaxis()  # the axes share y: best (0) at the top of both
    axes[0].set_ylabel("overall scaled rank (0 = best)")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, fontsize=7, loc="upper right")
    fig.suptitle(f"{title} (costs below 0.001 drawn at 0.001)", fontsize=9)
    return _render(plt, fig, png)


MAX_BARS = 24  # components drawn in an explanation's weight chart (those of largest |weight|)


def explanation_figure(
    audio: np.ndarray,
    sr: int,
    offset: float,
    window_starts: Sequence[float],
    names: Sequence[str],
    weights: np.ndarray,
    top: Sequence[str],
    spans: dict[str, tuple[float, float]],
    title: str,
    png: Path,
) -> bool:
    """``audiox explain``'s figure: the explained span's log-mel spectrogram with the windows of the
    model's input and the time spans of the top components marked, and the weights (largest |w| first,
    the top components in red). Returns False without matplotlib."""
    plt = pyplot()
    if plt is None:
        return False
    import librosa

    fig, (spec_ax, bar_ax) = plt.subplots(2, 1, figsize=(10, 6.5), gridspec_kw={"height_ratios": [1.3, 1]})
    mel = librosa.power_to_db(librosa.feature.melspectrogram(y=audio, sr=sr, n_mels=64), ref=np.max)
    seconds = audio.size / sr
    spec_ax.imshow(mel, origin="lower", aspect="auto", extent=(offset, offset + seconds, 0, 64), cmap="magma")
    for start in window_starts:
        spec_ax.axvline(offset + start, color="white", linewidth=0.8, linestyle="--")
    for name, (a, b) in spans.items():
        spec_ax.axvspan(offset + a, offset + b, color="tab:cyan", alpha=0.3)
        spec_ax.text(offset + (a + b) / 2, 60, name.split("@")[0] if "@" in name else "", color="white", fontsize=7)
    spec_ax.set_xlabel("seconds in the file (dashed: windows of the model's input; shaded: top components)")
    spec_ax.set_ylabel("mel band")
    weights = np.asarray(weights, dtype=np.float64)
    order = np.argsort(-np.abs(weights), kind="stable")[:MAX_BARS]
    colors = ["tab:red" if names[i] in top else "0.6" for i in order]
    bar_ax.bar(range(len(order)), weights[order], color=colors)
    bar_ax.set_xticks(range(len(order)), [_short(names[i]) for i in order], rotation=60, ha="right", fontsize=7)
    bar_ax.axhline(0, color="black", linewidth=0.6)
    bar_ax.set_ylabel("weight (red: written as audio)")
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    _render(plt, fig, png)
    return True


MAX_SWEEP_PANELS = 6  # scores drawn side by side in a sweep figure


def sweep_figure(frame: pd.DataFrame, title: str, png: Path | None = None) -> str | None:
    """Each explainer's mean score (with its interval) against the setting of a task's knob, one panel per
    score, from :func:`~audiox_bench.results.sweeps.sweep_frame` rows of one kind of components; an open
    marker where the leaderboard's test separates the explainer from the setting's best."""
    plt = pyplot()
    if plt is None or frame.empty or frame["setting"].nunique() < 2:
        return None
    scores = list(dict.fromkeys(frame["metric"]))[:MAX_SWEEP_PANELS]
    settings = list(dict.fromkeys(frame["setting"]))
    fig, axes = plt.subplots(1, len(scores), figsize=(4.2 * len(scores), 3.8), squeeze=False)
    for ax, score in zip(axes[0], scores):
        rows = frame[frame["metric"] == score]
        for explainer, mine in rows.groupby("explainer", sort=True):
            mine = mine.set_index("setting").reindex(settings)
            x = np.arange(len(settings))
            mean = mine["mean"].astype(float).to_numpy()
            low = mean - mine["ci_low"].astype(float).to_numpy()
            high = mine["ci_high"].astype(float).to_numpy() - mean
            line = ax.errorbar(x, mean, yerr=[low, high], linewidth=0.9, capsize=2, label=_short(explainer))
            apart = mine["separated_from_best"].map(lambda v: v is True).to_numpy()
            ax.scatter(x[apart], mean[apart], s=30, facecolors="white", edgecolors=line.lines[0].get_color(), zorder=3)
        ax.set_xticks(np.arange(len(settings)), settings)
        ax.set_xlabel(str(frame["knob"].iloc[0]))
        ax.set_title(score, fontsize=9)
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, fontsize=6, loc="center right")
    fig.subplots_adjust(right=0.8, wspace=0.3)
    fig.suptitle(f"{title} (open marker: separated from the setting's best)", fontsize=9)
    return _render(plt, fig, png)
