"""Add metrics to a finished run (``audiox score RUN_DIR --metric SPEC``): its explanations scored by more
per-instance metrics, nothing explained again.

A metric that costs much once per example (exact Shapley values: 2^d model inputs, 41 s per musicnn clip
over 10 segments) need not slow every run: it is added to the run afterwards, and its values join the
records, ``run.json`` and every table as if the run had computed them. Each record's weights are read back
and its factorization rebuilt as the run built it; the examples are checked to be the run's, bit for bit
(:func:`~audiox_bench.engine.rescore.run_examples`). The records are rewritten whole and atomically after
every task, with the values they already held: an interrupted command loses at most the task in flight, and
running it again scores only the records that lack the metric.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from tqdm.auto import tqdm

from audiox_bench.core import registry
from audiox_bench.core.errors import AudioxError
from audiox_bench.core.interfaces import Metric
from audiox_bench.engine.against import spec_of_plan
from audiox_bench.engine.items import score_metrics
from audiox_bench.engine.plan import Benchmark, resolve_all, sorted_unique
from audiox_bench.engine.rescore import record_input, run_examples
from audiox_bench.results.publish import write_tables
from audiox_bench.results.store import RunStore, read_run_info, read_validity


@dataclass(frozen=True)
class ScoreResult:
    """What :func:`score_run` did.

    Attributes
    ----------
    scored : dict of str to int
        Records scored per task.
    seconds : dict of str to float
        Seconds the metrics took per task (examples made again not included).
    """

    scored: dict[str, int]
    seconds: dict[str, float]


def score_run(
    run_dir: str | Path, metric_specs: Sequence[str], tasks: Sequence[str] = (), progress: bool = True
) -> ScoreResult:
    """Score the explanations of a run directory with ``metric_specs`` too, in place.

    Parameters
    ----------
    run_dir : path
        A finished run directory; its records, ``run.json`` and tables are rewritten with the new values.
    metric_specs : sequence of str
        Per-instance metric SPECs.
    tasks : sequence of str
        Task names to score (default: every task of the run that passed its validity check).

    Raises
    ------
    AudioxError
        If a metric is a group metric, or the run's examples cannot be made again as they were.
    """
    run_dir = Path(run_dir)
    info = read_run_info(run_dir)
    resolved = resolve_all(registry.metrics, list(metric_specs))
    metrics: dict[str, Metric] = {}
    for spec, metric in resolved.items():
        if not isinstance(metric.obj, Metric):
            raise AudioxError(f"{spec!r} scores groups of records; audiox score adds per-instance metrics")
        metrics[spec] = metric.obj
    validity = read_validity(run_dir)
    store = RunStore(run_dir)
    records = store.records()
    plan = replace(info.spec, metrics=sorted_unique([*info.spec.metrics, *metrics]))
    bench = Benchmark.build(spec_of_plan(plan))
    scored: dict[str, int] = {}
    seconds: dict[str, float] = {}
    for task_spec, task_resolved in bench.tasks.items():
        if (tasks and task_resolved.name not in tasks) or not (task_spec in validity and validity[task_spec].passed):
            continue
        todo = [
            r
            for r in records
            if r.task == task_spec and r.weights and not all(m.name in r.metrics for m in metrics.values())
        ]
        if not todo:
            continue
        task, examples = run_examples(run_dir, bench, task_spec, validity, progress)
        start = time.perf_counter()
        for record in tqdm(todo, desc=f"score {task_resolved.name}", disable=not progress, leave=False):
            explainer = bench.explainers[record.explainer].obj
            score_metrics(record, metrics, record_input(task, explainer, examples[record.example_id], record))
        seconds[task_spec] = time.perf_counter() - start
        scored[task_spec] = len(todo)
        store.compact(records)  # the values so far, with every value the records held
    names = {name for record in records for name in record.metrics}
    store.write_run_info(replace(bench.run_info(bench.value_specs(names)), **_kept_provenance(info)))
    write_tables(run_dir)
    return ScoreResult(scored, seconds)


def _kept_provenance(info) -> dict:
    """What ``run.json`` said about where the run was made (the scoring adds metrics, not a new run)."""
    return {
        "device": info.device,
        "batch_size": info.batch_size,
        "threads": info.threads,
        "plugins": info.plugins,
        "versions": info.versions,
        "git": info.git,
        "python": info.python,
        "platform": info.platform,
    }
