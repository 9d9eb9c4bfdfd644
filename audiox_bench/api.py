"""The Python API: run a benchmark from code and get its records as a pandas DataFrame."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from audiox_bench.core import defaults, registry
from audiox_bench.core.records import Record
from audiox_bench.engine.plan import RunSpec
from audiox_bench.engine.runner import run_benchmark


def _specs(value: str | Sequence[str] | None, default: tuple[str, ...]) -> tuple[str, ...]:
    if value is None:
        return default
    return (value,) if isinstance(value, str) else tuple(value)


def records_frame(records: list[Record]) -> pd.DataFrame:
    """One row per record; each metric value becomes a column named after it."""
    rows = []
    for record in records:
        row = {k: v for k, v in vars(record).items() if k not in ("metrics", "metric_data", "traceback")}
        row.update(record.metrics)
        rows.append(row)
    return pd.DataFrame(rows)


def run(
    tasks: str | Sequence[str] | None = None,
    explainers: str | Sequence[str] | None = None,
    metrics: str | Sequence[str] | None = None,
    n_examples: int = defaults.N_EXAMPLES,
    repeats: int = defaults.REPEATS,
    seed: int = defaults.SEED,
    device: str = defaults.DEVICE,
    target: str | None = None,
    out: str | Path | None = None,
    overwrite: bool = False,
    plugins: Sequence[str] = (),
    progress: bool = False,
) -> pd.DataFrame:
    """Run a benchmark and return its records, one row per task x explainer x example x repeat.

    Parameters
    ----------
    tasks, explainers, metrics : str or sequence of str, optional
        SPEC strings, as on the command line (defaults: ``confound``, ``audiolime``, ``topk_overlap``).
        Explainer classes registered in this process (``@register_explainer``) are found by name.
    n_examples, repeats, seed, device, target :
        As ``audiox run``'s options.
    out : path, optional
        Run directory (resumed if it holds the same spec), so the CLI can print, compare and plot it.
    overwrite : bool
        Replace a run directory holding another spec.
    plugins : sequence of str
        Modules or ``.py`` files to import first (as ``--plugin``).
    progress : bool
        Show progress bars.

    Returns
    -------
    pd.DataFrame
        The records: task, explainer, example_id, repeat, target, components, weights, ..., error, and
        one column per metric value. ``DataFrame.attrs`` holds the leaderboard and validity.
    """
    for plugin in plugins:
        registry.load_plugin(plugin)
    spec = RunSpec(
        tasks=_specs(tasks, defaults.TASKS),
        explainers=_specs(explainers, defaults.EXPLAINERS),
        metrics=_specs(metrics, defaults.METRICS),
        n_examples=n_examples,
        repeats=repeats,
        seed=seed,
        device=device,
        target=target,
    )
    result = run_benchmark(spec, out=out, overwrite=overwrite, progress=progress)
    frame = records_frame(result.records)
    frame.attrs["leaderboard"] = result.leaderboard
    frame.attrs["validity"] = result.validity
    return frame
