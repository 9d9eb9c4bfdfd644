"""Typed run documents: what a run directory's JSON files hold, written and read here only.

- :class:`RunInfo` (``run.json``): what the run computes (:class:`PlannedRun`, canonical SPECs), how each
  value is read (:class:`~audiox_bench.core.interfaces.ValueSpec`), and where its code came from.
- :class:`TaskValidity` (``validity.json``, one per task): the validity checks, their result, how the
  examples were selected (:class:`Selection`), and a fingerprint of each (:class:`ExampleFingerprint`).
- :class:`ModelCard` (``models/<task>.json``): what building the task's model measured.

Every ``from_dict`` takes what older runs wrote (missing keys take their defaults), so a published run
directory stays readable.

Length: every run document is defined, written and read here, so the run directory's format has one place.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from audiox_bench.core.data import Example, ValueSpec


@dataclass(frozen=True)
class ValidityCheck:
    """One measured property of a task's model and the bound it must meet.

    Attributes
    ----------
    name : str
        What was measured (e.g. ``accuracy_t_dr-gtr``).
    value : float
        The measured value.
    threshold : float
        The bound.
    comparison : str
        ``">="`` or ``"<="``: how ``value`` must compare to ``threshold``.
    why : str
        What lies behind the value (e.g. per tag, how many clips its verification kept), said with it.
    """

    name: str
    value: float
    threshold: float
    comparison: str
    why: str = ""

    @property
    def passed(self) -> bool:
        if self.comparison == ">=":
            return self.value >= self.threshold
        if self.comparison == "<=":
            return self.value <= self.threshold
        raise ValueError(f"unknown comparison {self.comparison!r}")

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "passed": self.passed}

    def __str__(self) -> str:
        said = f"{self.name} = {self.value:.4f} (needs {self.comparison} {self.threshold})"
        return f"{said}: {self.why}" if self.why else said


@dataclass(frozen=True)
class PlannedRun:
    """What identifies a run (``run.json``'s ``spec``): a rerun with the same or a larger plan resumes it.

    Attributes
    ----------
    tasks, explainers, metrics : tuple of str
        Canonical SPECs, sorted.
    task_explainers : mapping of task SPEC to tuple of str
        The explainers of the tasks whose explainers the spec chose (the others run all of them).
    n_examples, repeats, seed : int
    target : str, optional
        The class explained on every example, if the run named one.
    task_examples : mapping of task SPEC to int
        The tasks explained on another number of examples than ``n_examples``.
    """

    tasks: tuple[str, ...]
    explainers: tuple[str, ...]
    metrics: tuple[str, ...]
    n_examples: int
    repeats: int
    seed: int
    target: str | None = None
    task_explainers: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    task_examples: Mapping[str, int] = field(default_factory=dict)

    def examples_for(self, task: str) -> int:
        """The number of examples of ``task`` (a canonical SPEC)."""
        return self.task_examples.get(task, self.n_examples)

    def pairs(self) -> set[tuple[str, str]]:
        """The (task, explainer) pairs the run explains."""
        return {(task, name) for task in self.tasks for name in self.task_explainers.get(task, self.explainers)}

    def to_dict(self) -> dict[str, Any]:
        return {
            "tasks": list(self.tasks),
            "explainers": list(self.explainers),
            "task_explainers": {task: list(names) for task, names in sorted(self.task_explainers.items())},
            "metrics": list(self.metrics),
            "n_examples": self.n_examples,
            "task_examples": dict(sorted(self.task_examples.items())),
            "repeats": self.repeats,
            "seed": self.seed,
            "target": self.target,
        }

    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> PlannedRun:
        return PlannedRun(
            tuple(data.get("tasks", ())),
            tuple(data.get("explainers", ())),
            tuple(data.get("metrics", ())),
            int(data.get("n_examples", 0)),
            int(data.get("repeats", 1)),
            int(data.get("seed", 0)),
            data.get("target"),
            {task: tuple(names) for task, names in (data.get("task_explainers") or {}).items()},
            {task: int(n) for task, n in (data.get("task_examples") or {}).items()},
        )


@dataclass(frozen=True)
class TaskBaseline:
    """The content a task's metrics switch segments off to, and why it suits the task's model."""

    baseline: str
    why: str = ""


@dataclass(frozen=True)
class RunInfo:
    """``run.json``: what a run computes, how its values are read, and where its code came from.

    Attributes
    ----------
    spec : PlannedRun
    values : mapping of value name to ValueSpec
        How each value the run reports is read (filled when the run ends).
    metric_descriptions, task_references, weight_rules : mapping of str to str
        One-line meanings of the metrics, the papers the tasks follow, how explainers read their weights.
    task_baselines : mapping of task SPEC to TaskBaseline
    families : mapping of str to str
        The kind of components each explainer produces (``source``, ``segmentation``).
    device : str
    batch_size : int, optional
    threads : mapping
        Thread settings of the run (:func:`audiox_bench.core.threads.thread_settings`).
    plugins : tuple of str
        Plugins loaded, in order.
    origins : mapping
        Per kind and name, the file and SHA-256 of plugin code (a rerun redoes the items of changed code).
    versions : mapping of package to version
    git, python, platform : str, optional
    """

    spec: PlannedRun
    values: Mapping[str, ValueSpec] = field(default_factory=dict)
    metric_descriptions: Mapping[str, str] = field(default_factory=dict)
    task_references: Mapping[str, str] = field(default_factory=dict)
    task_baselines: Mapping[str, TaskBaseline] = field(default_factory=dict)
    weight_rules: Mapping[str, str] = field(default_factory=dict)
    families: Mapping[str, str] = field(default_factory=dict)
    device: str = "cpu"
    batch_size: int | None = None
    threads: Mapping[str, Any] = field(default_factory=dict)
    plugins: tuple[str, ...] = ()
    origins: Mapping[str, Mapping[str, Mapping[str, str]]] = field(default_factory=dict)
    versions: Mapping[str, str] = field(default_factory=dict)
    git: str | None = None
    python: str | None = None
    platform: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data = {
            "spec": self.spec.to_dict(),
            "values": {name: spec.to_dict() for name, spec in sorted(self.values.items())},
            "metric_descriptions": dict(self.metric_descriptions),
            "task_references": dict(self.task_references),
            "task_baselines": {task: asdict(b) for task, b in self.task_baselines.items()},
            "weight_rules": dict(self.weight_rules),
            "families": dict(self.families),
            "device": self.device,
            "batch_size": self.batch_size,
            "threads": dict(self.threads),
            "plugins": list(self.plugins),
            "origins": {kind: dict(names) for kind, names in self.origins.items()},
            "versions": dict(self.versions),
            "git": self.git,
            "python": self.python,
            "platform": self.platform,
        }
        return data

    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> RunInfo:
        """A run's info from its ``run.json`` (runs from before values were declared: their metric
        directions, every main value a primary score)."""
        recorded = data.get("values")
        if isinstance(recorded, Mapping):
            values = {name: ValueSpec(name, **spec) for name, spec in recorded.items()}
        else:
            values = {
                name: ValueSpec(name, "score", bool(direction), primary=True)
                for name, direction in (data.get("metric_directions") or {}).items()
            }
        return RunInfo(
            PlannedRun.from_dict(data.get("spec") or {}),
            values,
            dict(data.get("metric_descriptions") or {}),
            dict(data.get("task_references") or {}),
            {task: TaskBaseline(**b) for task, b in (data.get("task_baselines") or {}).items()},
            dict(data.get("weight_rules") or {}),
            dict(data.get("families") or {}),
            data.get("device", "cpu"),
            data.get("batch_size"),
            dict(data.get("threads") or {}),
            tuple(data.get("plugins") or ()),
            {kind: dict(names) for kind, names in (data.get("origins") or {}).items()},
            dict(data.get("versions") or {}),
            data.get("git"),
            data.get("python"),
            data.get("platform"),
        )


@dataclass(frozen=True)
class Selection:
    """The examples a task serves for a run, and how they were chosen.

    Attributes
    ----------
    examples : tuple of Example
    facts : mapping
        What the selection measured (e.g. ``hybrids_made``, ``kept_per_tag``); empty when every example
        made is served.
    shortfall : str
        Why fewer examples than asked for were served (empty when all were).
    """

    examples: tuple[Example, ...]
    facts: Mapping[str, Any] = field(default_factory=dict)
    shortfall: str = ""


@dataclass(frozen=True)
class ExampleFingerprint:
    """What identifies an explained example across runs, so that explainers run at different times can be
    ranked together only if they explained the same thing.

    Attributes
    ----------
    audio : str
        Digest of the example's samples, rate and (feature-domain examples) features
        (:func:`fingerprint_example`).
    target : int
        The class explained.
    output : float
        The model's probability of ``target`` on the example (the same model gives the same value).
    """

    audio: str
    target: int
    output: float

    def to_dict(self) -> dict[str, Any]:
        return {"audio": self.audio, "target": self.target, "output": self.output}

    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> ExampleFingerprint:
        return ExampleFingerprint(str(data["audio"]), int(data["target"]), float(data["output"]))


def fingerprint_example(example: Example, target: int, output: float) -> ExampleFingerprint:
    """The fingerprint of an example explained for class ``target`` (model probability ``output``)."""
    digest = hashlib.sha256(np.ascontiguousarray(example.audio, dtype=np.float32).tobytes())
    digest.update(str(int(example.sr)).encode())
    if example.features is not None:
        digest.update(np.ascontiguousarray(example.features, dtype=np.float32).tobytes())
    return ExampleFingerprint(digest.hexdigest()[:16], int(target), float(output))


@dataclass(frozen=True)
class TaskValidity:
    """``validity.json``'s entry of one task: its checks, whether all passed, its examples' selection,
    and the fingerprint of every example explained (by example id)."""

    checks: tuple[ValidityCheck, ...]
    selection: Mapping[str, Any] = field(default_factory=dict)
    examples: Mapping[str, ExampleFingerprint] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return all(check.passed for check in self.checks)

    @property
    def failures(self) -> list[str]:
        """One line per failed check."""
        return [str(check) for check in self.checks if not check.passed]

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"passed": self.passed, "checks": [c.to_dict() for c in self.checks]}
        if self.selection:
            data["selection"] = dict(self.selection)
        if self.examples:
            data["examples"] = {key: value.to_dict() for key, value in self.examples.items()}
        return data

    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> TaskValidity:
        checks = tuple(
            ValidityCheck(c["name"], float(c["value"]), float(c["threshold"]), c["comparison"], c.get("why", ""))
            for c in data.get("checks", ())
        )
        examples = {key: ExampleFingerprint.from_dict(value) for key, value in (data.get("examples") or {}).items()}
        return TaskValidity(checks, dict(data.get("selection") or {}), examples)


def validity_of(documents: Mapping[str, Mapping[str, Any]]) -> dict[str, TaskValidity]:
    """``validity.json`` read into one :class:`TaskValidity` per task."""
    return {task: TaskValidity.from_dict(entry) for task, entry in documents.items()}


@dataclass(frozen=True)
class ModelCard(Mapping[str, Any]):
    """What building a task's model measured (training time and loss, accuracies, cache use ...): a
    read-only mapping of JSON-ready facts, written to ``models/<task>.json``."""

    facts: Mapping[str, Any] = field(default_factory=dict)

    def __getitem__(self, key: str) -> Any:
        return self.facts[key]

    def __iter__(self):
        return iter(self.facts)

    def __len__(self) -> int:
        return len(self.facts)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.facts)


def sorted_unique(values: Sequence[str]) -> tuple[str, ...]:
    """The distinct ``values``, sorted (how a :class:`PlannedRun` lists SPECs)."""
    return tuple(sorted(set(values)))
