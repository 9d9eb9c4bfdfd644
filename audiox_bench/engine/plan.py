"""What a run computes: the run spec, the objects it names (built before any heavy work), and the
provenance a run directory records."""

from __future__ import annotations

import platform
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from audiox_bench.core import defaults, registry
from audiox_bench.core.contracts import Explainer, GroupMetric, Metric, ValueSpec
from audiox_bench.core.errors import AudioxError
from audiox_bench.core.spec import expand_grid, parse_spec
from audiox_bench.core.task import Task
from audiox_bench.core.threads import thread_settings


@dataclass(frozen=True)
class RunSpec:
    """What a run computes: tasks x explainers x examples x repeats, scored by metrics.

    Attributes
    ----------
    tasks, explainers, metrics : tuple of str
        SPEC strings (``name`` or ``name:key=value,...``; ``a|b`` alternatives expand).
    task_explainers : mapping of str to tuple of str
        Explainers for one task instead of ``explainers``, keyed by task name (every configuration of
        that task); each key must name a task of the run. A preset uses it where the general list
        does not suit a task (e.g. a slow real model, or no ground truth for some explainers).
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
        Inputs per forward pass of the task models; None keeps the model's own. It changes speed, not
        results beyond float round-off, so it is not part of the spec a resumed run must match.
    """

    tasks: tuple[str, ...] = defaults.TASKS
    explainers: tuple[str, ...] = defaults.EXPLAINERS
    metrics: tuple[str, ...] = defaults.METRICS
    n_examples: int = defaults.N_EXAMPLES
    repeats: int = defaults.REPEATS
    seed: int = defaults.SEED
    device: str = defaults.DEVICE
    target: str | None = None
    batch_size: int | None = None
    task_explainers: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

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
        task_names = {parse_spec(text).name for text in self.tasks}
        for name, specs in self.task_explainers.items():
            if name not in task_names:
                raise AudioxError(f"explainers are given for task {name!r}, which is not a task of the run")
            if not specs:
                raise AudioxError(f"at least one explainer is needed for task {name!r}")


def _canonical(reg: registry.Registry, texts: tuple[str, ...]) -> list[str]:
    return list(dict.fromkeys(registry.canonical_spec(reg, s) for text in texts for s in expand_grid(text)))


def _with_companions(explainer_specs: list[str], group_metrics: dict[str, GroupMetric]) -> list[str]:
    """The canonical explainer SPECs and the configurations the group metrics compare them against."""
    specs = list(explainer_specs)
    for metric in group_metrics.values():
        for name in list(specs):
            for companion in metric.companions(name):
                companion = registry.canonical_spec(registry.explainers, companion)
                if companion not in specs:
                    specs.append(companion)
    return specs


@dataclass
class Benchmark:
    """The built objects of a run spec, keyed by canonical SPEC string.

    ``task_explainers`` lists, per task, the canonical SPECs of the explainers run on it (all of
    ``explainers`` unless the spec's ``task_explainers`` chose others for that task).
    """

    tasks: dict[str, Task]
    explainers: dict[str, Explainer]
    metrics: dict[str, Metric]
    spec: RunSpec
    group_metrics: dict[str, GroupMetric] = field(default_factory=dict)
    task_explainers: dict[str, list[str]] = field(default_factory=dict)

    @staticmethod
    def build(spec: RunSpec) -> Benchmark:
        """Parse and construct everything first, so a typo fails before any heavy work."""
        tasks = {s: registry.tasks.build(s, device=spec.device) for s in _canonical(registry.tasks, spec.tasks)}
        every_metric = {s: registry.metrics.build(s) for s in _canonical(registry.metrics, spec.metrics)}
        metrics = {n: m for n, m in every_metric.items() if isinstance(m, Metric)}
        group_metrics = {n: m for n, m in every_metric.items() if isinstance(m, GroupMetric)}
        general = _with_companions(_canonical(registry.explainers, spec.explainers), group_metrics)
        chosen = {
            name: _with_companions(_canonical(registry.explainers, texts), group_metrics)
            for name, texts in spec.task_explainers.items()
        }
        task_explainers = {task: chosen.get(parse_spec(task).name, general) for task in tasks}
        used = dict.fromkeys(s for specs in task_explainers.values() for s in specs)
        explainers = {s: registry.explainers.build(s) for s in used}
        return Benchmark(tasks, explainers, metrics, spec, group_metrics, task_explainers)

    def all_metrics(self) -> list[Metric | GroupMetric]:
        """Per-instance and group metrics together."""
        return [*self.metrics.values(), *self.group_metrics.values()]

    def value_specs(self, names: set[str]) -> dict[str, ValueSpec]:
        """How the leaderboard reads each value name (declared by the metric that reports it)."""
        specs = {m.name: m.value_spec(m.name) for m in self.all_metrics()}
        for value in names:
            owner = next((m for m in self.all_metrics() if value == m.name or value.startswith(m.name + ".")), None)
            if owner is not None:
                specs[value] = owner.value_spec(value)
        return specs

    def origins(self) -> dict[str, dict[str, dict[str, str]]]:
        """Where every task, explainer and metric of the run that is not built in comes from."""
        found: dict[str, dict[str, dict[str, str]]] = {}
        for kind, names in (
            ("tasks", self.tasks),
            ("explainers", self.explainers),
            ("metrics", [*self.metrics, *self.group_metrics]),
        ):
            reg = registry.REGISTRIES[kind]
            for name in sorted({parse_spec(spec).name for spec in names}):
                described = registry.origin(reg, name)
                if described is not None:
                    found.setdefault(kind, {})[name] = described
        return found

    def run_info(self) -> dict[str, Any]:
        """The content of ``run.json`` (the ``spec`` entry identifies the run)."""
        return {
            "spec": {
                "tasks": sorted(self.tasks),
                "explainers": sorted(self.explainers),
                "task_explainers": {  # the tasks whose explainers the spec chose (the others run them all)
                    task: sorted(names)
                    for task, names in self.task_explainers.items()
                    if parse_spec(task).name in self.spec.task_explainers
                },
                "metrics": sorted([*self.metrics, *self.group_metrics]),
                "n_examples": self.spec.n_examples,
                "repeats": self.spec.repeats,
                "seed": self.spec.seed,
                "target": self.spec.target,
            },
            "device": self.spec.device,
            "batch_size": self.spec.batch_size,
            "threads": thread_settings(),
            "metric_descriptions": {m.name: m.description for m in self.all_metrics()},
            "task_references": {name: task.reference for name, task in self.tasks.items() if task.reference},
            "weight_rules": {name: e.weight_rule for name, e in sorted(self.explainers.items()) if e.weight_rule},
            "task_baselines": {
                name: {"baseline": task.baseline, "why": task.baseline_reason} for name, task in self.tasks.items()
            },
            "plugins": list(registry.LOADED_PLUGINS),
            "origins": self.origins(),
            "versions": package_versions(),
            "git": git_hash(),
            "python": sys.version.split()[0],
            "platform": platform.platform(),
        }


def resolve_target(target: str, classes: tuple[str, ...], task_name: str) -> int:
    """Index of a class given by name or index, or an error naming the task's classes."""
    if target in classes:
        return classes.index(target)
    if str(target).isdigit() and int(target) < len(classes):
        return int(target)
    raise AudioxError(f"task {task_name!r} has no class {target!r}; classes: {', '.join(classes)}")


def package_versions() -> dict[str, str]:
    versions = {}
    for name in (
        "audiox-bench",
        "numpy",
        "torch",
        "librosa",
        "scikit-learn",
        "scipy",
        "pandas",
        "pretty_midi",
        "midirenderer",
        "soundfile",
    ):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def git_hash() -> str | None:
    """The commit of the source tree, if it is a git checkout."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def _task_explainer_pairs(spec: dict[str, Any]) -> set[tuple[str, str]]:
    """The (task, explainer) pairs a ``run.json`` spec runs (a task without its own list runs them all)."""
    own = spec.get("task_explainers", {})
    return {(task, name) for task in spec.get("tasks", []) for name in own.get(task, spec.get("explainers", []))}


def spec_differences(run: dict[str, Any], here: dict[str, Any]) -> list[str]:
    """Why the spec ``here`` cannot resume or extend the run directory's spec ``run`` (nothing when it
    equals it or only adds tasks, explainers, metrics, examples or repeats)."""
    problems = []
    for key in ("seed", "target"):
        if run.get(key) != here.get(key):
            problems.append(f"{key} {here.get(key)!r} here, {run.get(key)!r} in the run")
    for key in ("tasks", "explainers", "metrics"):
        missing = sorted(set(run.get(key, [])) - set(here.get(key, [])))
        if missing:
            problems.append(f"{key} of the run missing here: {', '.join(missing)}")
    run_pairs, here_pairs = _task_explainer_pairs(run), _task_explainer_pairs(here)
    tasks_here, explainers_here = set(here.get("tasks", [])), set(here.get("explainers", []))
    dropped = sorted(
        (task, name) for task, name in run_pairs - here_pairs if task in tasks_here and name in explainers_here
    )
    if dropped:
        problems.append(
            "explainers of the run not run on the same task here: "
            + ", ".join(f"{name} on {task}" for task, name in dropped)
        )
    for key in ("n_examples", "repeats"):
        if here.get(key, 0) < run.get(key, 0):
            problems.append(f"{key} {here.get(key)} here, {run.get(key)} in the run")
    return problems


def changed_origins(run: dict[str, Any], here: dict[str, Any]) -> dict[str, set[str]]:
    """Per kind, the names whose plugin code differs from when the run's records were made."""
    changed: dict[str, set[str]] = {}
    for kind, names in here.items():
        for name, described in names.items():
            before = run.get(kind, {}).get(name)
            if before is not None and before != described:
                changed.setdefault(kind, set()).add(name)
    return changed
