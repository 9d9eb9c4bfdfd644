"""A run spec resolved once: every task, explainer and metric it names built before any heavy work,
keyed by canonical SPEC, with the run's plan and the ``run.json`` it records."""

from __future__ import annotations

import platform
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from audiox_bench.core import registry
from audiox_bench.core.data import ValueSpec
from audiox_bench.core.documents import PlannedRun, RunInfo, TaskBaseline, sorted_unique
from audiox_bench.core.errors import AudioxError
from audiox_bench.core.interfaces import Explainer, GroupMetric, Metric
from audiox_bench.core.plugins import LOADED_PLUGINS
from audiox_bench.core.provenance import git_hash, origin, package_versions
from audiox_bench.core.registry import Registry, Resolved
from audiox_bench.core.spec import expand_grid
from audiox_bench.core.task import Task
from audiox_bench.core.threads import thread_settings
from audiox_bench.engine.run_spec import RunSpec


def resolve_all(reg: Registry[Any], texts: Iterable[str], **extra: Any) -> dict[str, Resolved[Any]]:
    """Every configuration the SPECs name (``a|b`` expanded), resolved once, by canonical SPEC, in order."""
    resolved: dict[str, Resolved[Any]] = {}
    for text in texts:
        for spec in expand_grid(text):
            item = reg.resolve(spec, **extra)
            resolved.setdefault(item.canonical, item)
    return resolved


def _with_companions(
    explainers: dict[str, Resolved[Explainer]], group_metrics: dict[str, Resolved[GroupMetric]]
) -> dict[str, Resolved[Explainer]]:
    """The explainers and the configurations the group metrics compare them against."""
    every = dict(explainers)
    for metric in group_metrics.values():
        for canonical in list(explainers):
            for companion in metric.obj.companions(canonical):
                resolved = registry.explainers.resolve(companion)
                every.setdefault(resolved.canonical, resolved)
    return every


@dataclass
class Benchmark:
    """The resolved objects of a run spec, keyed by canonical SPEC.

    ``task_explainers`` lists, per task, the canonical SPECs of the explainers run on it (all of
    ``explainers`` unless the spec's ``task_explainers`` chose others for that task).
    """

    spec: RunSpec
    tasks: dict[str, Resolved[Task]]
    explainers: dict[str, Resolved[Explainer]]
    metrics: dict[str, Resolved[Metric]]
    group_metrics: dict[str, Resolved[GroupMetric]] = field(default_factory=dict)
    task_explainers: dict[str, list[str]] = field(default_factory=dict)

    @staticmethod
    def build(spec: RunSpec) -> Benchmark:
        """Resolve and construct everything first, so a typo fails before any heavy work."""
        tasks = resolve_all(registry.tasks, spec.tasks, device=spec.device)
        every_metric = resolve_all(registry.metrics, spec.metrics)
        metrics = {n: m for n, m in every_metric.items() if isinstance(m.obj, Metric)}
        group_metrics = {n: m for n, m in every_metric.items() if isinstance(m.obj, GroupMetric)}
        general = _with_companions(resolve_all(registry.explainers, spec.explainers), group_metrics)
        chosen = {
            name: _with_companions(resolve_all(registry.explainers, texts), group_metrics)
            for name, texts in spec.task_explainers.items()
        }
        explainers: dict[str, Resolved[Explainer]] = {}
        task_explainers = {}
        for canonical, task in tasks.items():
            own = chosen.get(task.name, general)
            task_explainers[canonical] = list(own)
            explainers.update(own)
        return Benchmark(spec, tasks, explainers, metrics, group_metrics, task_explainers)

    def metric_objects(self) -> dict[str, Metric]:
        """The per-instance metrics by canonical SPEC."""
        return {name: resolved.obj for name, resolved in self.metrics.items()}

    def all_metrics(self) -> list[Metric | GroupMetric]:
        """Per-instance and group metrics together."""
        return [r.obj for r in (*self.metrics.values(), *self.group_metrics.values())]

    def value_specs(self, names: set[str]) -> dict[str, ValueSpec]:
        """How the leaderboard reads each value name (declared by the metric that reports it)."""
        specs = {m.name: m.value_spec(m.name) for m in self.all_metrics()}
        for value in names:
            owner = next((m for m in self.all_metrics() if value == m.name or value.startswith(m.name + ".")), None)
            if owner is not None:
                specs[value] = owner.value_spec(value)
        return specs

    def plan(self) -> PlannedRun:
        """What identifies this run (``run.json``'s ``spec``)."""
        spec = self.spec
        return PlannedRun(
            sorted_unique(self.tasks),
            sorted_unique(self.explainers),
            sorted_unique([*self.metrics, *self.group_metrics]),
            spec.n_examples,
            spec.repeats,
            spec.seed,
            spec.target,
            {  # the tasks whose explainers the spec chose (the others run them all)
                task: sorted_unique(names)
                for task, names in self.task_explainers.items()
                if self.tasks[task].name in spec.task_explainers
            },
            {task: spec.task_examples[t.name] for task, t in self.tasks.items() if t.name in spec.task_examples},
        )

    def origins(self) -> dict[str, dict[str, dict[str, str]]]:
        """Where every task, explainer and metric of the run that is not built in comes from."""
        found: dict[str, dict[str, dict[str, str]]] = {}
        for kind, resolved in (
            ("tasks", self.tasks.values()),
            ("explainers", self.explainers.values()),
            ("metrics", [*self.metrics.values(), *self.group_metrics.values()]),
        ):
            reg = registry.REGISTRIES[kind]
            for name in sorted({r.name for r in resolved}):
                described = origin(reg.get(name))
                if described is not None:
                    found.setdefault(kind, {})[name] = described
        return found

    def run_info(self, values: dict[str, ValueSpec] | None = None) -> RunInfo:
        """The content of ``run.json`` (its ``spec`` identifies the run; ``values`` are filled at the end)."""
        return RunInfo(
            spec=self.plan(),
            values=values or {},
            metric_descriptions={m.name: m.description for m in self.all_metrics()},
            task_references={name: t.obj.reference for name, t in self.tasks.items() if t.obj.reference},
            task_baselines={
                name: TaskBaseline(t.obj.baseline, t.obj.baseline_reason) for name, t in self.tasks.items()
            },
            weight_rules={name: e.obj.weight_rule for name, e in sorted(self.explainers.items()) if e.obj.weight_rule},
            families={name: e.obj.family for name, e in sorted(self.explainers.items())},
            device=self.spec.device,
            batch_size=self.spec.batch_size,
            threads=thread_settings(),
            plugins=tuple(LOADED_PLUGINS),
            origins=self.origins(),
            versions=package_versions(),
            git=git_hash(),
            python=sys.version.split()[0],
            platform=platform.platform(),
        )


def resolve_target(target: str, classes: tuple[str, ...], task_name: str) -> int:
    """Index of a class given by name or index, or an error naming the task's classes."""
    if target in classes:
        return classes.index(target)
    if str(target).isdigit() and int(target) < len(classes):
        return int(target)
    raise AudioxError(f"task {task_name!r} has no class {target!r}; classes: {', '.join(classes)}")
