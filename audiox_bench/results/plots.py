"""The papers' figures from a run's records (optional extra ``plots``: matplotlib).

- ``top1_<task>.png``: counts of the top-1 component per explainer, split by prediction outcome
  (correct / wrong), next to the counts under parameter-randomized models when the run has them
  (audioLIME paper, Figs. 2-3).
- ``stability_<task>.png``: U_n violins per explainer configuration, e.g. per content and per N_s
  (Mishra et al. 2020, Figs. 3 and 5).
- ``n_ce_<task>.png``: distribution of N_ce (top-k overlap with the truth) per configuration (Figs. 6-7).
- ``label_flip_<task>.png``: label-flip rates of explainers next to the norm oracle, when the run
  measured them (Praher et al. 2021).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from audiox_bench.core.errors import AudioxError
from audiox_bench.results.store import read_group_rows, read_records, safe_file_name


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise AudioxError("plots need matplotlib: pip install 'audiox-bench[plots]'") from exc
    return plt


def natural_order(names) -> list[str]:
    """Configurations sorted with numbers by value (``n_samples=5000`` before ``n_samples=10000``)."""
    return sorted(names, key=lambda name: [(0, int(p), "") if p.isdigit() else (1, 0, p)
                                          for p in re.split(r"(\d+)", name)])


def _save(fig, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return path


def plot_top1(plt, task: str, records: list[dict[str, Any]], out: Path) -> Path | None:
    by_explainer: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in records:
        if r.get("weights"):
            by_explainer[r["explainer"]].append(r)
    if not by_explainer:
        return None
    explainers = natural_order(by_explainer)
    fig, axes = plt.subplots(len(explainers), 1, figsize=(9, 2.6 * len(explainers)), squeeze=False)
    for ax, explainer in zip(axes[:, 0], explainers):
        rows = by_explainer[explainer]
        names = list(dict.fromkeys(n for r in rows for n in r["components"]))  # examples may differ
        counts = {"correct": Counter(), "wrong": Counter()}
        randomized: Counter = Counter()
        for r in rows:
            outcome = "correct" if r.get("label") is None or r["label"] == r["target"] else "wrong"
            counts[outcome][r["components"][int(np.argmax(r["weights"]))]] += 1
            top1 = (r.get("metric_data") or {}).get("_top1")
            if top1:
                randomized.update(r["components"][i] for i in top1["randomized"])
        x = np.arange(len(names))
        series = [("trained, correct prediction", counts["correct"]), ("trained, wrong prediction", counts["wrong"])]
        if randomized:
            total = sum(randomized.values())
            scale = len(rows) / total  # per explanation, comparable with the trained counts
            series.append(("randomized models (scaled)", Counter({k: v * scale for k, v in randomized.items()})))
        width = 0.8 / len(series)
        for i, (label, counter) in enumerate(series):
            ax.bar(x + (i - (len(series) - 1) / 2) * width, [counter.get(n, 0) for n in names], width, label=label)
        ax.set_xticks(x, names, rotation=45 if len(names) > 8 else 0, ha="right" if len(names) > 8 else "center")
        ax.set_ylabel("explanations")
        ax.set_title(f"{task}: top-1 component of {explainer}")
        ax.legend(fontsize=8)
    return _save(fig, out / f"top1_{safe_file_name(task)}.png")


def _group_values(group_rows: list[dict[str, Any]], task: str, metric: str) -> dict[str, list[float]]:
    values: dict[str, list[float]] = defaultdict(list)
    for row in group_rows:
        value = row["metrics"].get(metric)
        if row["task"] == task and value is not None:
            values[row["explainer"]].append(float(value))
    return values


def plot_stability(plt, task: str, group_rows: list[dict[str, Any]], out: Path) -> Path | None:
    values = _group_values(group_rows, task, "stability")
    if not values:
        return None
    explainers = natural_order(values)
    fig, ax = plt.subplots(figsize=(max(6, 0.5 * len(explainers) + 2), 6))
    ax.violinplot([values[e] for e in explainers], showmeans=True)
    ax.set_xticks(np.arange(1, len(explainers) + 1), explainers, rotation=60, ha="right", fontsize=8)
    ax.set_ylabel("U_n: unique components in the repeats' top-3")
    ax.set_title(f"{task}: stability per configuration (lower is more stable)")
    return _save(fig, out / f"stability_{safe_file_name(task)}.png")


def plot_n_ce(plt, task: str, records: list[dict[str, Any]], out: Path) -> Path | None:
    values: dict[str, list[int]] = defaultdict(list)
    for r in records:
        n_ce = (r.get("metrics") or {}).get("topk_overlap.n_ce")
        if n_ce is not None:
            values[r["explainer"]].append(int(n_ce))
    if not values:
        return None
    explainers = natural_order(values)
    top = max(max(v) for v in values.values())
    fig, ax = plt.subplots(figsize=(max(6, 0.7 * len(explainers) + 2), 4.5))
    bottom = np.zeros(len(explainers))
    for n in range(top + 1):
        share = np.array([np.mean(np.array(values[e]) == n) for e in explainers])
        ax.bar(np.arange(len(explainers)), share, bottom=bottom, label=f"N_ce = {n}")
        bottom += share
    ax.set_xticks(np.arange(len(explainers)), explainers, rotation=60, ha="right", fontsize=8)
    ax.set_ylabel("share of explanations")
    ax.set_title(f"{task}: ground-truth components among the top-k (N_ce)")
    ax.legend(fontsize=8)
    return _save(fig, out / f"n_ce_{safe_file_name(task)}.png")


def plot_label_flip(plt, task: str, records: list[dict[str, Any]], out: Path) -> Path | None:
    rates: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for r in records:
        metrics = r.get("metrics") or {}
        for key in ("label_flip", "label_flip.oracle"):
            if metrics.get(key) is not None:
                rates[r["explainer"]][key].append(metrics[key])
    if not rates:
        return None
    explainers = natural_order(rates)
    x = np.arange(len(explainers))
    fig, ax = plt.subplots(figsize=(max(6, 0.8 * len(explainers) + 2), 4.5))
    for i, (key, label) in enumerate((("label_flip", "explainer's top-k regions"), ("label_flip.oracle", "norm oracle"))):
        ax.bar(x + (i - 0.5) * 0.4, [np.mean(rates[e][key]) if rates[e][key] else 0 for e in explainers], 0.4, label=label)
    ax.set_xticks(x, explainers, rotation=60, ha="right", fontsize=8)
    ax.set_ylabel("label-flip rate")
    ax.set_ylim(0, 1)
    ax.set_title(f"{task}: perturbation inside the top-k regions only flips the label")
    ax.legend(fontsize=8)
    return _save(fig, out / f"label_flip_{safe_file_name(task)}.png")


def plot_run(run_dir: str | Path, out: str | Path) -> list[Path]:
    """Write every figure the run's records support into ``out``; returns the files written.

    Raises
    ------
    AudioxError
        If matplotlib is missing, the run has no records, or ``out`` cannot be written.
    """
    plt = _pyplot()
    run_dir, out = Path(run_dir), Path(out)
    records = [r for r in read_records(run_dir) if not r.get("error") and not r.get("not_applicable")]
    if not records:
        raise AudioxError(f"{str(run_dir)!r} holds no successful records to plot")
    group_rows = read_group_rows(run_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise AudioxError(f"cannot write to {str(out)!r}: {exc.strerror or exc}") from exc
    written = []
    for task in sorted({r["task"] for r in records}):
        task_records = [r for r in records if r["task"] == task]
        for plot in (plot_top1, plot_n_ce, plot_label_flip):
            path = plot(plt, task, task_records, out)
            written += [path] if path else []
            plt.close("all")
        path = plot_stability(plt, task, group_rows, out)
        written += [path] if path else []
        plt.close("all")
    return written
