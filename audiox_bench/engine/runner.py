"""Expand a benchmark spec into work items, run them, and stream records to the run directory."""

from __future__ import annotations

import platform
import subprocess
import sys
import time
from concurrent.futures import as_completed
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from audiox_bench.core import registry
from audiox_bench.engine.allocator import keep_freed_memory
from audiox_bench.core.audio import check_audio
from audiox_bench.core.contracts import (
    Explainer,
    GroupMetric,
    Metric,
    predict_examples,
)
from audiox_bench.engine.executors import EngineSpec, open_executor
from audiox_bench.core.errors import AudioxError
from audiox_bench.results.html import to_html
from audiox_bench.core.spec import expand_grid
from audiox_bench.results.store import (
    GROUP_RECORDS,
    LEADERBOARD,
    RunStore,
    group_rows_text,
    read_group_rows,
    read_records,
    record_key,
    safe_file_name,
)
from audiox_bench.results.leaderboard import leaderboard, overall_ranks, to_csv, to_markdown
from audiox_bench.core.task import Task
from audiox_bench.engine.items import WorkContext, WorkItem, pack_context, run_item, run_packed

QUICK_N_EXAMPLES = 20
DEFAULT_TASKS = ("confound",)
DEFAULT_EXPLAINERS = ("audiolime",)
DEFAULT_METRICS = ("topk_overlap",)


@dataclass(frozen=True)
class RunSpec:
    """What a run computes: tasks x explainers x examples x repeats, scored by metrics.

    Attributes
    ----------
    tasks, explainers, metrics : tuple of str
        SPEC strings (``name`` or ``name:key=value,...``).
    n_examples : int
        Examples per task.
    repeats : int
        Explanations per example with different seeds.
    seed : int
        Root seed of the explainers' randomness.
    device : str
        Torch device for task models.
    target : str, optional
        Class to explain (a class name of the task's model, or its index); by default the model's
        predicted class of each example.
    batch_size : int, optional
        Inputs per forward pass of the task models; None keeps the model's own (64 for the built-in
        models: on CPU the best choice across the main thread and worker threads; a GPU wants more). It changes speed, not results, so it is not part
        of the spec a resumed run must match.
    """

    tasks: tuple[str, ...] = DEFAULT_TASKS
    explainers: tuple[str, ...] = DEFAULT_EXPLAINERS
    metrics: tuple[str, ...] = DEFAULT_METRICS
    n_examples: int = 200
    repeats: int = 1
    seed: int = 0
    device: str = "cpu"
    target: str | None = None
    batch_size: int | None = None

    def __post_init__(self) -> None:
        if self.batch_size is not None and self.batch_size < 1:
            raise AudioxError("--batch-size must be at least 1")
        if self.n_examples < 1:
            raise AudioxError("--n-examples must be at least 1")
        if self.repeats < 1:
            raise AudioxError("--repeats must be at least 1")
        for kind, specs in (("task", self.tasks), ("explainer", self.explainers), ("metric", self.metrics)):
            if not specs:
                raise AudioxError(f"at least one {kind} is needed")


@dataclass
class Benchmark:
    """The built objects of a run spec, keyed by canonical SPEC string."""

    tasks: dict[str, Task]
    explainers: dict[str, Explainer]
    metrics: dict[str, Metric]
    spec: RunSpec
    group_metrics: dict[str, GroupMetric] = field(default_factory=dict)

    @staticmethod
    def build(spec: RunSpec) -> Benchmark:
        """Parse and construct everything first, so a typo fails before any heavy work."""
        task_specs = list(dict.fromkeys(registry.canonical_spec(registry.tasks, s)
                                        for text in spec.tasks for s in expand_grid(text)))
        tasks = {s: registry.tasks.build(s, device=spec.device) for s in task_specs}
        every_metric = {registry.canonical_spec(registry.metrics, s): registry.metrics.build(s)
                        for text in spec.metrics for s in expand_grid(text)}
        for name, metric in every_metric.items():
            if not isinstance(metric, Metric | GroupMetric):
                raise AudioxError(f"metric {name!r} is not a Metric or GroupMetric (got {type(metric).__name__})")
        metrics = {n: m for n, m in every_metric.items() if isinstance(m, Metric)}
        group_metrics = {n: m for n, m in every_metric.items() if isinstance(m, GroupMetric)}
        explainer_specs = list(dict.fromkeys(registry.canonical_spec(registry.explainers, s)
                                             for text in spec.explainers for s in expand_grid(text)))
        for metric in group_metrics.values():  # configurations a group metric compares against
            for name in list(explainer_specs):
                for companion in metric.companions(name):
                    companion = registry.canonical_spec(registry.explainers, companion)
                    if companion not in explainer_specs:
                        explainer_specs.append(companion)
        explainers = {s: registry.explainers.build(s) for s in explainer_specs}
        for name, explainer in explainers.items():
            if not isinstance(explainer, Explainer):
                raise AudioxError(f"explainer {name!r} is not an Explainer (got {type(explainer).__name__})")
        return Benchmark(tasks, explainers, metrics, spec, group_metrics)

    def all_metrics(self) -> list[Metric | GroupMetric]:
        """Per-instance and group metrics together."""
        return [*self.metrics.values(), *self.group_metrics.values()]

    def metric_directions(self) -> dict[str, bool]:
        return {m.name: m.higher_is_better for m in self.all_metrics()}

    def run_info(self) -> dict[str, Any]:
        return {
            "spec": {"tasks": sorted(self.tasks), "explainers": sorted(self.explainers),
                     "metrics": sorted([*self.metrics, *self.group_metrics]), "n_examples": self.spec.n_examples,
                     "repeats": self.spec.repeats, "seed": self.spec.seed, "target": self.spec.target},
            "device": self.spec.device,
            "batch_size": self.spec.batch_size,
            "metric_directions": self.metric_directions(),
            "metric_descriptions": {m.name: m.description for m in self.all_metrics()},
            "versions": package_versions(),
            "git": git_hash(),
            "python": sys.version.split()[0],
            "platform": platform.platform(),
        }


@dataclass
class RunResult:
    """What :func:`run_benchmark` returns."""

    records: list[dict[str, Any]]
    validity: dict[str, Any]
    leaderboard: Any
    invalid_tasks: list[str] = field(default_factory=list)
    seconds: float = 0.0
    group_rows: list[dict[str, Any]] = field(default_factory=list)


def resolve_target(target: str, classes: tuple[str, ...], task_name: str) -> int:
    """Index of a class given by name or index, or an error naming the task's classes."""
    if target in classes:
        return classes.index(target)
    if str(target).isdigit() and int(target) < len(classes):
        return int(target)
    raise AudioxError(f"task {task_name!r} has no class {target!r}; classes: {', '.join(classes)}")


def package_versions() -> dict[str, str]:
    versions = {}
    for name in ("audiox-bench", "numpy", "torch", "librosa", "scikit-learn", "scipy", "pandas",
                 "pretty_midi", "midirenderer", "soundfile"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def git_hash() -> str | None:
    """The commit of the source tree, if it is a git checkout."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).resolve().parent,
                             capture_output=True, text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def run_benchmark(spec: RunSpec, out: str | Path | None = None, overwrite: bool = False,
                  progress: bool = True, engine: EngineSpec | None = None) -> RunResult:
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
    store = RunStore(Path(out), bench.run_info(), overwrite) if out is not None else None
    records: list[dict[str, Any]] = [] if store is None else store.records()
    done = {(r["task"], r["explainer"], r["example_id"], int(r["repeat"])) for r in records}
    validity: dict[str, Any] = {}
    invalid: list[str] = []
    with open_executor(engine or EngineSpec()) as executor:
        for task_name, task in bench.tasks.items():
            task.prepare(progress=progress)
            if spec.batch_size is not None:
                if hasattr(task.model, "batch_size"):
                    task.model.batch_size = spec.batch_size
                else:
                    tqdm.write(f"warning: the model of task {task_name!r} has no batch_size; --batch-size does "
                               "not apply to it", file=sys.stderr)
            checks = task.validity_checks
            validity[task_name] = {"passed": all(c.passed for c in checks), "checks": [c.to_dict() for c in checks]}
            if store is not None:
                store.write_json("validity.json", validity)
                store.write_json(f"models/{safe_file_name(task_name)}.json", task.model_card)
            if not validity[task_name]["passed"]:
                invalid.append(task_name)
                tqdm.write(f"error: task {task_name!r} failed its validity check; skipping it: "
                           + "; ".join(str(c) for c in checks if not c.passed), file=sys.stderr)
                continue
            items = _work_items(task_name, task, bench, done, validity, store)
            total = len(bench.explainers) * spec.n_examples * spec.repeats
            bar = tqdm(total=total, initial=total - sum(len(i.todo) for i in items), desc=f"explaining {task_name}",
                       unit="expl", disable=not progress)
            context = WorkContext(task_name, task, bench.explainers, bench.metrics, spec.seed)
            for item_records in _execute(executor, context, items):
                for record in item_records:
                    if store is not None:
                        store.append(record)
                    records.append(record)
                    done.add((record["task"], record["explainer"], record["example_id"], int(record["repeat"])))
                bar.update(len(item_records))
            bar.close()
    records.sort(key=record_key)  # the order items finished in must not matter
    group_rows = score_groups(records, {**bench.metrics, **bench.group_metrics})
    table = leaderboard(records, bench.metric_directions(), group_rows)
    if store is not None:
        store.write_text(GROUP_RECORDS, group_rows_text(group_rows))
        write_leaderboard(store, table, bench.run_info())
    return RunResult(records, validity, table, invalid, time.perf_counter() - start, group_rows)


def _work_items(task_name: str, task: Task, bench: Benchmark, done: set, validity: dict,
                store: RunStore | None) -> list[WorkItem]:
    """One item per example with its missing (explainer, repeat) pairs, in example order.

    Example-major: all configurations of one example run together, so explainers sharing a prediction
    cache (same model, same perturbed inputs) find it warm, wherever the item runs.
    """
    spec = bench.spec
    examples = task.examples(spec.n_examples)
    if task.selection:
        validity[task_name]["selection"] = dict(task.selection)
        if store is not None:
            store.write_json("validity.json", validity)
    for example in examples:
        check_audio(example.audio, example.sr, what=f"example {example.id!r}")
    if spec.target is None:
        targets = predict_examples(task.model, examples).argmax(axis=1)
    else:
        targets = np.full(len(examples), resolve_target(spec.target, task.model.classes, task_name))
    items = []
    for example, target in zip(examples, targets):
        todo = tuple((name, r) for name in bench.explainers for r in range(spec.repeats)
                     if (task_name, name, example.id, r) not in done)
        if todo:
            items.append(WorkItem(example, int(target), todo))
    return items


def _execute(executor, context: WorkContext, items: list[WorkItem]):
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


def score_groups(records: list[dict[str, Any]], metrics: dict[str, Metric | GroupMetric]) -> list[dict[str, Any]]:
    """Rows of every group metric, and the dataset summaries of per-instance metrics, over the successful
    records, in a stable order."""
    ok = [r for r in records if not r.get("error") and not r.get("not_applicable")]
    rows = []
    for name, metric in metrics.items():
        try:
            rows += metric.score_records(ok) if isinstance(metric, GroupMetric) else metric.summarize(ok)
        except Exception as exc:  # a broken plugin metric must not lose the run's records
            raise AudioxError(f"group metric {name!r} failed: {type(exc).__name__}: {exc}") from exc
    return rows


def write_leaderboard(store: RunStore, table, run_info: dict[str, Any]) -> None:
    """``leaderboard.csv``, ``overall.csv``, ``leaderboard.md`` and the self-contained
    ``leaderboard.html`` of a run directory."""
    overall = overall_ranks(table)
    store.write_text(LEADERBOARD, to_csv(table))
    store.write_text("overall.csv", to_csv(overall))
    store.write_text("leaderboard.md", to_markdown(overall) + "\n" + to_markdown(table))
    store.write_text("leaderboard.html", to_html(table, overall, run_info))


def leaderboard_of(run_dir: str | Path):
    """Rebuild the leaderboard of a run directory from its records."""
    from audiox_bench.core.disk_cache import load_json

    run_dir = Path(run_dir)
    info = load_json(run_dir / "run.json")
    if not isinstance(info, dict):
        raise AudioxError(f"{str(run_dir)!r} is not a run directory (no readable run.json)")
    return leaderboard(read_records(run_dir), info.get("metric_directions", {}), read_group_rows(run_dir))
