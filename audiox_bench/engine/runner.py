"""Run a benchmark: build it, turn it into work items, run them, and stream records to the run directory."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import Executor, as_completed
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from audiox_bench.core.audio import check_audio
from audiox_bench.core.classifier import Batched
from audiox_bench.core.data import Example, ValueSpec, predict_examples
from audiox_bench.core.documents import RunInfo, TaskValidity
from audiox_bench.core.errors import AudioxError
from audiox_bench.core.interfaces import GroupMetric, Metric
from audiox_bench.core.records import GroupRow, Record
from audiox_bench.core.spec import parse_spec
from audiox_bench.core.task import Task
from audiox_bench.engine.allocator import keep_freed_memory
from audiox_bench.engine.executors import EngineSpec, open_executor
from audiox_bench.engine.items import WorkContext, WorkItem, pack_context, run_item, run_packed
from audiox_bench.engine.plan import Benchmark, resolve_target
from audiox_bench.engine.resume import changed_origins, plan_differences
from audiox_bench.engine.run_spec import RunSpec
from audiox_bench.results.publish import RunTables, write_tables
from audiox_bench.results.store import RunStore
from audiox_bench.results.tables import cost_table, leaderboard, overall_ranks


@dataclass
class RunResult:
    """What :func:`run_benchmark` returns."""

    records: list[Record]
    validity: dict[str, TaskValidity]
    leaderboard: pd.DataFrame
    overall: pd.DataFrame
    specs: dict[str, ValueSpec]
    invalid_tasks: list[str] = field(default_factory=list)
    seconds: float = 0.0
    group_rows: list[GroupRow] = field(default_factory=list)
    run_info: RunInfo | None = None

    def tables(self) -> RunTables:
        """The run's tables, as its run directory publishes them."""
        return RunTables(
            self.leaderboard, self.overall, self.specs, self.run_info, self.validity, cost_table(self.records)
        )


def run_benchmark(
    spec: RunSpec,
    out: str | Path | None = None,
    overwrite: bool = False,
    progress: bool = True,
    engine: EngineSpec | None = None,
) -> RunResult:
    """Run a benchmark and return its records, validity and leaderboard.

    Parameters
    ----------
    spec : RunSpec
    out : path, optional
        Run directory. An existing directory with the same spec is resumed (only missing items run).
    overwrite : bool
        Replace a run directory holding a different spec.
    progress : bool
        Show tqdm progress bars.
    engine : EngineSpec, optional
        Where work items run (default: in this process). Records are the same wherever they run.
    """
    start = time.perf_counter()
    keep_freed_memory()
    bench = Benchmark.build(spec)
    run_info = bench.run_info()
    store = RunStore(Path(out), overwrite) if out is not None else None
    records: list[Record] = [] if store is None else _resumable(store, run_info)
    if store is not None:
        store.write_run_info(run_info)
    done = {r.key for r in records if _complete(r, bench)}
    validity: dict[str, TaskValidity] = {}
    invalid: list[str] = []
    with open_executor(engine or EngineSpec()) as executor:
        for task_name, resolved in bench.tasks.items():
            task = resolved.obj
            task.prepare(progress=progress)
            _apply_batch_size(task, task_name, spec.batch_size)
            validity[task_name] = TaskValidity(tuple(task.validity_checks))
            if store is not None:
                store.write_validity(validity)
                store.write_model_card(task_name, task.model_card)
            if not validity[task_name].passed:
                invalid.append(task_name)
                tqdm.write(
                    f"error: task {task_name!r} failed its validity check; skipping it: "
                    + "; ".join(validity[task_name].failures),
                    file=sys.stderr,
                )
                continue
            selection = task.select(spec.n_examples)
            validity[task_name] = replace(validity[task_name], selection=selection.facts)
            if store is not None and selection.facts:
                store.write_validity(validity)
            items = _work_items(task_name, task, selection.examples, bench, done)
            task_explainers = {name: bench.explainers[name].obj for name in bench.task_explainers[task_name]}
            total = len(task_explainers) * spec.n_examples * spec.repeats
            bar = tqdm(
                total=total,
                initial=total - sum(len(i.todo) for i in items),
                desc=f"explaining {task_name}",
                unit="expl",
                disable=not progress,
            )
            context = WorkContext(task_name, task, task_explainers, bench.metric_objects(), spec.seed)
            for item_records in _execute(executor, context, items):
                for record in item_records:
                    if store is not None:
                        store.append(record)
                    records.append(record)
                    done.add(record.key)
                bar.update(len(item_records))
            bar.close()
    records = sorted({r.key: r for r in records}.values(), key=lambda r: r.key)  # latest per key, in key order
    group_rows = score_groups(records, bench.all_metrics())
    specs = bench.value_specs({name for source in (*records, *group_rows) for name in source.metrics})
    table = leaderboard(records, specs, group_rows)
    overall = overall_ranks(table, specs)
    run_info = replace(run_info, values=specs)
    if store is not None:
        store.compact(records)
        store.write_group_rows(group_rows)
        store.write_run_info(run_info)
        write_tables(store.path)  # from what the directory holds: rebuilding them gives the same bytes
    seconds = time.perf_counter() - start
    return RunResult(records, validity, table, overall, specs, invalid, seconds, group_rows, run_info)


def _resumable(store: RunStore, run_info: RunInfo) -> list[Record]:
    """The records of the run directory that this run may keep: all of a run with the same spec or one
    this spec extends, except those made by plugin code that has changed since.

    Raises
    ------
    AudioxError
        Naming every difference, if the directory holds a run this spec neither resumes nor extends.
    """
    existing = store.existing_info()
    if existing is None:
        return []
    problems = plan_differences(existing.spec, run_info.spec)
    if problems:
        raise AudioxError(
            f"{str(store.path)!r} holds a run with a different spec ({'; '.join(problems)}); choose "
            "another --out, or pass --overwrite to replace it"
        )
    changed = changed_origins(existing.origins, run_info.origins)
    kept = []
    for record in store.records():
        names = {"tasks": record.task, "explainers": record.explainer}
        if any(parse_spec(names[kind]).name in changed.get(kind, ()) for kind in names) or changed.get("metrics"):
            continue  # made by plugin code that changed: redo
        kept.append(record)
    return kept


def _complete(record: Record, bench: Benchmark) -> bool:
    """Whether a stored record needs no redo: it did not fail (failures are retried) and, if it has an
    explanation, every per-instance metric of the run has scored it."""
    if record.error:
        return False
    return record.not_applicable is not None or all(m.obj.name in record.metrics for m in bench.metrics.values())


def _apply_batch_size(task: Task, task_name: str, batch_size: int | None) -> None:
    if batch_size is None:
        return
    if isinstance(task.model, Batched):
        task.model.batch_size = batch_size
    else:
        tqdm.write(
            f"warning: the model of task {task_name!r} does not evaluate in batches; --batch-size does not apply to it",
            file=sys.stderr,
        )


def _work_items(task_name: str, task: Task, examples: Sequence[Example], bench: Benchmark, done: set) -> list[WorkItem]:
    """One item per example with its missing (explainer, repeat) pairs, in example order.

    Example-major: all configurations of one example run together, so explainers sharing a prediction
    cache (same model, same perturbed inputs) find it warm, wherever the item runs.
    """
    spec = bench.spec
    for example in examples:
        check_audio(example.audio, example.sr, what=f"example {example.id!r}")
    if spec.target is not None:
        targets = np.full(len(examples), resolve_target(spec.target, task.model.classes, task_name))
    else:
        chosen = [task.target_for(example) for example in examples]
        predicted = predict_examples(task.model, examples).argmax(axis=1) if None in chosen else [None] * len(chosen)
        targets = np.array([p if c is None else c for c, p in zip(chosen, predicted)], dtype=int)
    items = []
    for example, target in zip(examples, targets):
        todo = tuple(
            (name, r)
            for name in bench.task_explainers[task_name]
            for r in range(spec.repeats)
            if (task_name, name, example.id, r) not in done
        )
        if todo:
            items.append(WorkItem(example, int(target), todo))
    return items


def _execute(executor: Executor | None, context: WorkContext, items: list[WorkItem]) -> Iterator[list[Record]]:
    """Records of each item, in this process one by one, or from the executor as items finish."""
    if executor is None:
        for item in items:
            yield run_item(context, item)
        return
    packed = pack_context(context)
    futures = [executor.submit(run_packed, packed, item) for item in items]
    try:
        for future in as_completed(futures):
            yield future.result()
    finally:
        for future in futures:
            future.cancel()


def score_groups(records: list[Record], metrics: Sequence[Metric | GroupMetric]) -> list[GroupRow]:
    """Rows of every group metric, and the dataset summaries of per-instance metrics, over the successful
    records, in a stable order."""
    ok = [r for r in records if r.ok]
    rows: list[GroupRow] = []
    for metric in metrics:
        try:
            rows += metric.score_records(ok) if isinstance(metric, GroupMetric) else metric.summarize(ok)
        except Exception as exc:  # a broken plugin metric must not lose the run's records
            raise AudioxError(f"group metric {metric.name!r} failed: {type(exc).__name__}: {exc}") from exc
    return rows
