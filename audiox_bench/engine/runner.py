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

from audiox_bench.core import registry
from audiox_bench.core.audio import check_audio
from audiox_bench.core.classifier import Batched
from audiox_bench.core.data import Example, ValueSpec, predict_examples
from audiox_bench.core.documents import RunInfo, TaskValidity, fingerprint_example
from audiox_bench.core.errors import AudioxError
from audiox_bench.core.interfaces import GroupMetric, Metric
from audiox_bench.core.records import GroupRow, Record
from audiox_bench.core.spec import parse_spec
from audiox_bench.core.task import Task
from audiox_bench.engine.against import Against
from audiox_bench.engine.allocator import keep_freed_memory
from audiox_bench.engine.executors import EngineSpec, open_executor
from audiox_bench.engine.items import WorkContext, WorkItem, pack_context, run_item, run_packed
from audiox_bench.engine.plan import Benchmark, resolve_all, resolve_target
from audiox_bench.engine.resume import changed_origins, plan_differences
from audiox_bench.engine.run_spec import RunSpec
from audiox_bench.results.publish import RunTables, run_tables, write_tables
from audiox_bench.results.store import RunStore
from audiox_bench.results.tables import Tables


@dataclass
class RunResult:
    """What :func:`run_benchmark` returns: the records, the validity of each task, and the run's tables;
    the tasks that failed their validity check, and those that served no example (with why)."""

    records: list[Record]
    validity: dict[str, TaskValidity]
    run: RunTables
    invalid_tasks: list[str] = field(default_factory=list)
    seconds: float = 0.0
    group_rows: list[GroupRow] = field(default_factory=list)
    empty_tasks: dict[str, str] = field(default_factory=dict)

    @property
    def tables(self) -> Tables:
        return self.run.tables

    @property
    def leaderboard(self) -> pd.DataFrame:
        return self.run.tables.leaderboard

    @property
    def overall(self) -> pd.DataFrame:
        return self.run.tables.overall

    @property
    def specs(self) -> dict[str, ValueSpec]:
        return self.run.specs


@dataclass
class PreparedTask:
    """A task ready to run: its validity (with its examples' fingerprints), examples and their targets."""

    name: str
    task: Task
    validity: TaskValidity
    examples: tuple[Example, ...] = ()
    targets: tuple[int, ...] = ()


def run_benchmark(
    spec: RunSpec,
    out: str | Path | None = None,
    overwrite: bool = False,
    progress: bool = True,
    engine: EngineSpec | None = None,
    against: Against | None = None,
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
    against : Against, optional
        An earlier run to place new explainers against (:mod:`audiox_bench.engine.against`): ``spec`` is
        its plan with them added (:meth:`Against.spec`), its records of the other explainers are kept,
        and the run is refused before anything is written if its examples are not the earlier run's.
    """
    start = time.perf_counter()
    keep_freed_memory()
    bench = Benchmark.build(spec)
    run_info = bench.run_info()
    # A run directory is opened first (a bad --out or another run there fails before any training), except
    # against an earlier run: then nothing is written before its examples are checked.
    store = RunStore(Path(out), overwrite) if out is not None and against is None else None
    records: list[Record] = [] if store is None else _resumable(store, run_info)
    tasks = [
        prepare_task(task_name, resolved.obj, spec.examples_for(resolved.name), spec, progress)
        for task_name, resolved in bench.tasks.items()
    ]
    if against is not None:
        for prepared in tasks:
            if prepared.validity.passed:
                against.check_examples(prepared.name, prepared.validity.examples)
        if out is not None:
            store = RunStore(Path(out), overwrite)
            records = _resumable(store, run_info)
        stored = {r.key for r in records}
        for record in against.kept_records(list(resolve_all(registry.explainers, against.added))):
            if record.key not in stored:
                records.append(record)
                if store is not None:
                    store.append(record)
    if store is not None:
        store.write_run_info(run_info)
    done = {r.key for r in records if _complete(r, bench)}
    validity = {prepared.name: prepared.validity for prepared in tasks}
    invalid = [prepared.name for prepared in tasks if not prepared.validity.passed]
    if store is not None:
        store.write_validity(validity)
        for prepared in tasks:
            store.write_model_card(prepared.name, prepared.task.model_card)
    with open_executor(engine or EngineSpec()) as executor:
        for prepared in tasks:
            if prepared.validity.passed:
                records += _run_task(prepared, bench, done, executor, store, progress)
    records = sorted({r.key: r for r in records}.values(), key=lambda r: r.key)  # latest per key, in key order
    group_rows = score_groups(records, bench.all_metrics())
    specs = bench.value_specs({name for source in (*records, *group_rows) for name in source.metrics})
    run_info = replace(run_info, values=specs)
    if store is not None:
        store.compact(records)
        store.write_group_rows(group_rows)
        store.write_run_info(run_info)
        run = write_tables(store.path)  # from what the directory holds: rebuilding them gives the same bytes
    else:
        run = run_tables(records, group_rows, run_info, validity)
    empty = {
        p.name: str(p.validity.selection.get("shortfall", "")) for p in tasks if p.validity.passed and not p.examples
    }
    return RunResult(records, validity, run, invalid, time.perf_counter() - start, group_rows, empty)


def prepare_task(task_name: str, task: Task, n_examples: int, spec: RunSpec, progress: bool) -> PreparedTask:
    """Build a task's model, measure its validity and, if it passes, select and fingerprint ``n_examples``
    examples."""
    task.prepare(progress=progress)
    _apply_batch_size(task, task_name, spec.batch_size)
    validity = TaskValidity(tuple(task.validity_checks))
    if not validity.passed:
        tqdm.write(
            f"error: task {task_name!r} failed its validity check; skipping it: " + "; ".join(validity.failures),
            file=sys.stderr,
        )
        return PreparedTask(task_name, task, validity)
    selection = task.select(n_examples)
    facts = dict(selection.facts)
    if len(selection.examples) < n_examples:
        why = selection.shortfall or "the task made no more"
        tqdm.write(
            f"warning: task {task_name!r} serves {len(selection.examples)} of the {n_examples} examples asked for: "
            f"{why}",
            file=sys.stderr,
        )
        facts["shortfall"] = why
    for example in selection.examples:
        check_audio(example.audio, example.sr, what=f"example {example.id!r}")
    outputs = predict_examples(task.model, selection.examples)  # (n, n_classes)
    if spec.target is not None:
        targets = np.full(len(outputs), resolve_target(spec.target, task.model.classes, task_name))
    else:
        chosen = [task.target_for(example) for example in selection.examples]
        targets = np.array([outputs[i].argmax() if c is None else c for i, c in enumerate(chosen)], dtype=int)
    fingerprints = {
        example.id: fingerprint_example(example, int(target), float(output[target]))
        for example, target, output in zip(selection.examples, targets, outputs)
    }
    validity = replace(validity, selection=facts, examples=fingerprints)
    return PreparedTask(task_name, task, validity, selection.examples, tuple(int(t) for t in targets))


def _run_task(
    prepared: PreparedTask,
    bench: Benchmark,
    done: set,
    executor: Executor | None,
    store: RunStore | None,
    progress: bool,
) -> list[Record]:
    """Explain a prepared task's examples with its explainers (the items not ``done``), streaming records
    into ``store``."""
    spec, name = bench.spec, prepared.name
    items = _work_items(prepared, bench, done)
    explainers = {e: bench.explainers[e].obj for e in bench.task_explainers[name]}
    total = len(explainers) * len(prepared.examples) * spec.repeats
    bar = tqdm(
        total=total,
        initial=total - sum(len(i.todo) for i in items),
        desc=f"explaining {name}",
        unit="expl",
        disable=not progress,
    )
    context = WorkContext(name, prepared.task, explainers, bench.metric_objects(), spec.seed)
    records = []
    for item_records in _execute(executor, context, items):
        for record in item_records:
            if store is not None:
                store.append(record)
            records.append(record)
            done.add(record.key)
        bar.update(len(item_records))
    bar.close()
    return records


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


def _work_items(prepared: PreparedTask, bench: Benchmark, done: set) -> list[WorkItem]:
    """One item per example with its missing (explainer, repeat) pairs, in example order.

    Example-major: all configurations of one example run together, so explainers sharing a prediction
    cache (same model, same perturbed inputs) find it warm, wherever the item runs.
    """
    items = []
    for example, target in zip(prepared.examples, prepared.targets):
        todo = tuple(
            (name, r)
            for name in bench.task_explainers[prepared.name]
            for r in range(bench.spec.repeats)
            if (prepared.name, name, example.id, r) not in done
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
