"""Figures of a run (optional extra ``plots``: matplotlib). Each metric draws its own figures
(:meth:`~audiox_bench.core.interfaces.Metric.plot`); this module asks every metric of the run, per task,
and offers the helpers they share."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from audiox_bench.core import registry
from audiox_bench.core.data import Figure
from audiox_bench.core.errors import AudioxError
from audiox_bench.core.records import Record
from audiox_bench.results.store import read_group_rows, read_records, read_run_info, safe_file_name


def pyplot() -> Any:
    """matplotlib's pyplot on the Agg backend, or a one-line error naming the extra to install."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise AudioxError("plots need matplotlib: pip install 'audiox-bench[plots]'") from exc
    return plt


def natural_order(names: Iterable[str]) -> list[str]:
    """Configurations sorted with numbers by value (``n_samples=5000`` before ``n_samples=10000``)."""
    return sorted(
        names, key=lambda name: [(0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"(\d+)", name)]
    )


def figure_path(out: Path, name: str, task: str) -> Path:
    """``out/<name>_<task>.png`` with the task SPEC made a safe file name."""
    return out / f"{name}_{safe_file_name(task)}.png"


def save(fig: Any, path: Path, legend_axes: Sequence[Any] = ()) -> Path:
    """Save ``fig``; legends of ``legend_axes`` go to the right of their axes, never over the data."""
    for ax in legend_axes:
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
    fig.tight_layout()
    fig.savefig(path, dpi=110, bbox_inches="tight")
    return path


def explainer_ticks(ax: Any, explainers: Sequence[str], positions: Sequence[float] | None = None) -> None:
    """Explainer names as x tick labels, rotated when there are many."""
    positions = range(len(explainers)) if positions is None else positions
    many = len(explainers) > 4
    ax.set_xticks(list(positions), explainers, rotation=60 if many else 0, ha="right" if many else "center", fontsize=8)


def plot_run(run_dir: str | Path, out: str | Path) -> list[Figure]:
    """Ask every metric of the run to draw its figures for every task into ``out``.

    Returns
    -------
    list of Figure
        The figures written, and those skipped with the reason.

    Raises
    ------
    AudioxError
        If matplotlib is missing, the run has no successful records, or ``out`` cannot be written.
    """
    plt = pyplot()
    run_dir, out = Path(run_dir), Path(out)
    info = read_run_info(run_dir)
    records = [r for r in read_records(run_dir) if r.ok]
    if not records:
        raise AudioxError(f"{str(run_dir)!r} holds no successful records to plot")
    group_rows = read_group_rows(run_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise AudioxError(f"cannot write to {str(out)!r}: {exc.strerror or exc}") from exc
    figures: list[Figure] = []
    for spec in info.spec.metrics:
        try:
            metric = registry.metrics.build(spec)
        except AudioxError as exc:
            figures.append(Figure(spec, skipped=f"metric cannot be built here ({exc}); load its plugin with --plugin"))
            continue
        for task in sorted({r.task for r in records}):
            task_records: list[Record] = [r for r in records if r.task == task]
            task_rows = [row for row in group_rows if row.task == task]
            drawn = metric.plot(plt, task, task_records, task_rows, out)
            figures += drawn or [Figure(f"{metric.name} ({task})", skipped="this metric draws no figure")]
            plt.close("all")
    return figures


def values_by_explainer(records: Iterable[Any], value: str) -> dict[str, list[float]]:
    """Defined values of ``value`` per explainer, from records or group rows."""
    found: dict[str, list[float]] = {}
    for source in records:
        number = source.metrics.get(value)
        if number is not None:
            found.setdefault(source.explainer, []).append(float(number))
    return found


def violins(plt: Any, values: dict[str, list[float]], ylabel: str, title: str, path: Path) -> Path:
    """One violin (with its mean) per explainer configuration."""
    explainers = natural_order(values)
    fig, ax = plt.subplots(figsize=(max(6, 0.5 * len(explainers) + 2), 5))
    ax.violinplot([values[e] for e in explainers], showmeans=True)
    explainer_ticks(ax, explainers, range(1, len(explainers) + 1))
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    return save(fig, path)
