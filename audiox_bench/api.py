"""The Python API: run a benchmark from code and get its records as a pandas DataFrame."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from audiox_bench.core.plugins import load_plugin
from audiox_bench.core.records import Record
from audiox_bench.core.threads import set_threads
from audiox_bench.engine.executors import EngineSpec
from audiox_bench.engine.presets import make_spec
from audiox_bench.engine.runner import run_benchmark


def _specs(value: str | Sequence[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
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
    n_examples: int | None = None,
    repeats: int | None = None,
    seed: int | None = None,
    device: str | None = None,
    target: str | None = None,
    benchmark: str | None = None,
    quick: bool = False,
    batch_size: int | None = None,
    jobs: int = 1,
    dask_local: int | None = None,
    dask_scheduler: str | None = None,
    out: str | Path | None = None,
    overwrite: bool = False,
    plugins: Sequence[str] = (),
    progress: bool = False,
    threads: int | None = None,
    task_explainers: Mapping[str, str | Sequence[str]] | None = None,
) -> pd.DataFrame:
    """Run a benchmark and return its records, one row per task x explainer x example x repeat.

    Parameters
    ----------
    tasks, explainers, metrics : str or sequence of str, optional
        SPEC strings, as on the command line (defaults: ``confound``, ``audiolime``, ``topk_overlap``, or
        the preset's). Explainer classes registered in this process (``@register_explainer``) are found
        by name.
    n_examples, repeats, seed, device, target, batch_size :
        As ``audiox run``'s options (None: the default, or the preset's).
    benchmark : str, optional
        A named preset (``default``), as ``--benchmark``; the arguments above override its settings.
    quick : bool
        20 examples per task unless ``n_examples`` is given, as ``--quick``.
    jobs, dask_local, dask_scheduler :
        Where items run, as ``--jobs``, ``--dask-local`` and ``--dask-scheduler``.
    out : path, optional
        Run directory (resumed if it holds the same spec, extended if this spec only adds to it), so the
        command line can print, compare and plot it.
    overwrite : bool
        Replace a run directory holding another spec.
    plugins : sequence of str
        Modules or ``.py`` files to import first (as ``--plugin``).
    progress : bool
        Show progress bars.
    threads : int, optional
        Torch threads of this process, as ``--threads`` (default: ``AUDIOX_THREADS``, else the cores it
        may use).
    task_explainers : mapping of task name to SPEC strings, optional
        Explainers for one task instead of ``explainers`` (e.g. ``{"tags": ["audiolime", "occlusion"]}``);
        a preset's own choice applies to its tasks unless ``explainers`` is given.

    Returns
    -------
    pd.DataFrame
        The records: task, explainer, example_id, repeat, target, components, weights, ..., error, and
        one column per metric value. ``DataFrame.attrs`` holds ``leaderboard``, ``overall`` (the overall
        rank per task), ``validity`` and ``failed`` (the number of failed items).
    """
    set_threads(threads)
    for plugin in plugins:
        load_plugin(plugin)
    spec = make_spec(
        benchmark,
        _specs(tasks),
        _specs(explainers),
        _specs(metrics),
        n_examples,
        quick,
        repeats=repeats,
        seed=seed,
        device=device,
        target=target,
        batch_size=batch_size,
        task_explainers={name: _specs(specs) for name, specs in task_explainers.items()} if task_explainers else None,
    )
    engine = EngineSpec(jobs=jobs, dask_scheduler=dask_scheduler, dask_local=dask_local)
    result = run_benchmark(spec, out=out, overwrite=overwrite, progress=progress, engine=engine)
    frame = records_frame(result.records)
    frame.attrs.update(
        leaderboard=result.leaderboard,
        overall=result.overall,
        validity=result.validity,
        failed=sum(1 for r in result.records if r.error),
    )
    return frame
