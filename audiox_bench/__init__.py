"""AudioX-Bench: a benchmark for explainers of audio classifiers, with tasks whose truth is known."""

from audiox_bench.core.contracts import (
    Classifier,
    Example,
    Explainer,
    Explanation,
    Factorization,
    GroundTruth,
    GroupMetric,
    Metric,
    MetricInput,
)
from audiox_bench.core.errors import AudioxError
from audiox_bench.core.registry import (
    register_explainer,
    register_metric,
    register_separator,
    register_task,
)
from audiox_bench.core.task import Task, ValidityCheck

__version__ = "0.1.0"


def run(*args, **kwargs):
    """Run a benchmark from Python; see :func:`audiox_bench.api.run` (imported lazily: it loads torch)."""
    from audiox_bench.api import run as _run

    return _run(*args, **kwargs)


__all__ = [
    "AudioxError", "Classifier", "Example", "Explainer", "Explanation", "Factorization", "GroundTruth",
    "GroupMetric", "Metric", "MetricInput", "Task", "ValidityCheck", "register_explainer", "register_metric",
    "register_separator", "register_task", "run",
]
