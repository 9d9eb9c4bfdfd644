"""What a run computes, as the user asked for it: tasks x explainers x examples x repeats, scored by
metrics (SPEC strings; :mod:`audiox_bench.engine.plan` resolves them once)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from audiox_bench.core import defaults
from audiox_bench.core.errors import AudioxError
from audiox_bench.core.spec import parse_spec


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
    task_examples : mapping of str to int
        Examples for one task instead of ``n_examples``, keyed by task name (a preset gives the tasks
        whose examples are cheap more of them).
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
        Inputs per forward pass of the task models; None keeps the model's own. It changes speed only
        (an input's output is the same bits in any batch), so it is not part of the spec a resumed run
        must match.
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
    task_examples: Mapping[str, int] = field(default_factory=dict)

    def examples_for(self, task_name: str) -> int:
        """The number of examples of the task named ``task_name``."""
        return self.task_examples.get(task_name, self.n_examples)

    def __post_init__(self) -> None:
        if self.batch_size is not None and self.batch_size < 1:
            raise AudioxError("--batch-size must be at least 1")
        if self.n_examples < 1 or any(n < 1 for n in self.task_examples.values()):
            raise AudioxError("--n-examples must be at least 1")
        if self.repeats < 1:
            raise AudioxError("--repeats must be at least 1")
        for kind, specs in (("task", self.tasks), ("explainer", self.explainers), ("metric", self.metrics)):
            if not specs:
                raise AudioxError(f"at least one {kind} is needed")
        task_names = {parse_spec(text).name for text in self.tasks}
        for name in self.task_examples:
            if name not in task_names:
                raise AudioxError(f"examples are given for task {name!r}, which is not a task of the run")
        for name, specs in self.task_explainers.items():
            if name not in task_names:
                raise AudioxError(f"explainers are given for task {name!r}, which is not a task of the run")
            if not specs:
                raise AudioxError(f"at least one explainer is needed for task {name!r}")
