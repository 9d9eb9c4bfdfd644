"""Conformance checks for tasks, explainers, metrics and models: the contract, determinism under a seed,
pickling for workers, shapes, NaN handling and the not-applicable path (as scikit-learn's
``check_estimator`` / ``parametrize_with_checks`` do for estimators).

Each kind has a list of named checks (:data:`CHECKS`, one module per kind). A check takes a
:class:`Subject` (the object under test, built lazily and shared by its checks) and raises
:class:`CheckFailed` with a one-line message. :func:`run_checks` runs them all and never raises for a
broken plugin (``audiox check --plugin FILE``); the project's tests parametrize over (built-in, check)
pairs, one test id each. Explainers and metrics are checked on a small built-in task
(:data:`CHECK_TASK`, a confound model trained in seconds and cached), explainers for every class of its
model.
"""

from __future__ import annotations

from collections.abc import Sequence

from audiox_bench.core import registry
from audiox_bench.core.plugins import load_plugin
from audiox_bench.testing.explainers import EXPLAINER_CHECKS, AudioOnlyClassifier
from audiox_bench.testing.metrics import METRIC_CHECKS
from audiox_bench.testing.models import MODEL_CHECKS
from audiox_bench.testing.subject import (
    CHECK_TASK,
    Check,
    CheckFailed,
    CheckResult,
    Subject,
    check_task_instance,
    expect,
)
from audiox_bench.testing.tasks import TASK_CHECKS

CHECKS: dict[str, list[Check]] = {
    "model": MODEL_CHECKS,
    "task": TASK_CHECKS,
    "explainer": EXPLAINER_CHECKS,
    "metric": METRIC_CHECKS,
}


def run_check(subject: Subject, check: Check) -> CheckResult:
    """One check of ``subject``; whatever it raises is its failure, in one line."""
    name, run = check
    try:
        run(subject)
    except CheckFailed as exc:
        return CheckResult(subject.label, name, False, str(exc))
    except Exception as exc:
        return CheckResult(subject.label, name, False, f"raised {type(exc).__name__}: {' '.join(str(exc).split())}")
    return CheckResult(subject.label, name, True)


def run_checks(subject: Subject) -> list[CheckResult]:
    """Every check of ``subject``'s kind, in order."""
    return [run_check(subject, check) for check in CHECKS[subject.kind]]


def check_explainer(spec: str, task: str = CHECK_TASK) -> list[CheckResult]:
    """The explainer checks of ``spec`` on ``task``."""
    return run_checks(Subject("explainer", spec, task))


def check_metric(spec: str, task: str = CHECK_TASK, explainer: str = "audiolime") -> list[CheckResult]:
    """The metric checks of ``spec`` on explanations of ``task`` by ``explainer``."""
    return run_checks(Subject("metric", spec, task, explainer))


def check_task(spec: str) -> list[CheckResult]:
    """The task checks of ``spec``."""
    return run_checks(Subject("task", spec))


def check_model(name: str) -> list[CheckResult]:
    """The model checks of the registered model ``name``."""
    return run_checks(Subject("model", name))


def check_plugin(target: str, task: str = CHECK_TASK) -> list[CheckResult]:
    """Load a plugin (a ``.py`` file or a module) and check every model, task, explainer and metric it
    registers (explainers and metrics on ``task``).

    Raises
    ------
    AudioxError
        If the plugin cannot be loaded (one line, as ``--plugin``).
    """
    kinds: Sequence[str] = ("model", "task", "explainer", "metric")
    before = {kind: set(registry.REGISTRIES[kind + "s"].names()) for kind in kinds}
    load_plugin(target)
    results = []
    for kind in kinds:
        for name in sorted(set(registry.REGISTRIES[kind + "s"].names()) - before[kind]):
            results += run_checks(Subject(kind, name, task))
    if not results:
        results.append(
            CheckResult(
                f"plugin {target}",
                "registers a model, task, explainer or metric",
                False,
                "it registers nothing (use @audiox_bench.register_explainer and friends)",
            )
        )
    return results


__all__ = [
    "CHECKS",
    "CHECK_TASK",
    "AudioOnlyClassifier",
    "Check",
    "CheckFailed",
    "CheckResult",
    "Subject",
    "check_explainer",
    "check_metric",
    "check_model",
    "check_plugin",
    "check_task",
    "check_task_instance",
    "expect",
    "run_check",
    "run_checks",
]
