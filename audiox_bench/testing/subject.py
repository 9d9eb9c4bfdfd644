"""What every kind of check shares: the subject under test, built lazily once, and how a check fails."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from audiox_bench.core import registry
from audiox_bench.core.classifier import Classifier
from audiox_bench.core.components import Factorization
from audiox_bench.core.data import Example, Explanation, MetricInput
from audiox_bench.core.interfaces import Explainer
from audiox_bench.core.records import Record
from audiox_bench.core.task import Task

CHECK_TASK = "confound:n_stems=20,n_train=160,epochs=6,n_validity=40,max_attempts=1"
N_EXAMPLES = 3
SEEDS = (0, 1)


class CheckFailed(AssertionError):
    """A check's one-line reason for failing."""


def expect(condition: bool, message: str) -> None:
    """Fail the check with ``message`` unless ``condition`` holds."""
    if not condition:
        raise CheckFailed(message)


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check of one registered object."""

    subject: str  # e.g. "explainer energy"
    check: str
    passed: bool
    message: str = ""

    def __str__(self) -> str:
        state = "ok  " if self.passed else "FAIL"
        return f"{state} {self.subject}: {self.check}" + ("" if self.passed else f": {self.message}")


_TASKS: dict[str, Task] = {}


def check_task_instance(spec: str = CHECK_TASK) -> Task:
    """The prepared task the explainer and metric checks run on (built once per process)."""
    if spec not in _TASKS:
        task = registry.tasks.build(spec)
        task.prepare(progress=False)
        _TASKS[spec] = task
    return _TASKS[spec]


def is_json(value: Any) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


def same_values(a: np.ndarray, b: np.ndarray) -> bool:
    return np.array_equal(np.asarray(a, np.float64), np.asarray(b, np.float64))


def explain_once(
    explainer: Explainer, model: Classifier, example: Example, seed: int, target: int = 0
) -> tuple[Factorization, Explanation]:
    factorization = explainer.factorize_for(model, example, seed)
    return factorization, explainer.explain(model, example, factorization, target, seed)


@dataclass
class Subject:
    """What a kind's checks look at: the SPEC (or name) under test and the task they run on, with the
    object and its products built lazily, once, and shared by the checks."""

    kind: str
    spec: str
    task_spec: str = CHECK_TASK
    explainer_spec: str = "audiolime"  # explains the instances a metric is checked on
    _built: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def label(self) -> str:
        return f"{self.kind} {self.spec}"

    @cached_property
    def obj(self) -> Any:
        """The object under test (a failure to build fails every check)."""
        reg = registry.REGISTRIES[self.kind + "s"]
        return reg.build(self.spec)

    @cached_property
    def task(self) -> Task:
        return check_task_instance(self.task_spec)

    @cached_property
    def examples(self) -> list[Example]:
        return self.task.examples(N_EXAMPLES)

    @cached_property
    def explained(self) -> list[tuple[Example, int, Factorization, Explanation]]:
        """Every example explained for every class of the task's model, with the first seed."""
        model = self.task.model
        return [
            (example, target, *explain_once(self.obj, model, example, SEEDS[0], target))
            for example in self.examples
            for target in range(len(model.classes))
        ]

    @cached_property
    def metric_inputs(self) -> list[tuple[MetricInput, Record]]:
        """Instances of the task explained by :attr:`explainer_spec` with both seeds, as a metric sees
        them and as records."""
        task, model = self.task, self.task.model
        built = registry.explainers.build(self.explainer_spec)
        out = []
        for repeat, seed in enumerate(SEEDS):
            for example in self.examples:
                factorization, explanation = explain_once(built, model, example, seed)
                truth, note = task.stated_truth(example, factorization, 0)
                record = Record(
                    self.task_spec,
                    self.explainer_spec,
                    example.id,
                    repeat,
                    seed,
                    components=list(explanation.components),
                    weights=[float(w) for w in explanation.weights],
                    ground_truth=None if truth is None else sorted(truth.components),
                )
                item = MetricInput(
                    explanation, truth, model, example, factorization, built, 0, seed, note, task.baseline
                )
                out.append((item, record))
        return out


Check = tuple[str, Callable[["Subject"], None]]
