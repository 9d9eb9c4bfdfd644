"""AudioX-Bench: a benchmark for explainers of audio classifiers, with tasks whose truth is known."""

from audiox_bench.contracts import (
    Classifier,
    Example,
    Explainer,
    Explanation,
    Factorization,
    GroundTruth,
    Metric,
    MetricInput,
)
from audiox_bench.errors import AudioxError
from audiox_bench.registry import explainers, metrics, separators, tasks
from audiox_bench.task import Task, ValidityCheck

__version__ = "0.1.0"

__all__ = [
    "AudioxError", "Classifier", "Example", "Explainer", "Explanation", "Factorization", "GroundTruth",
    "Metric", "MetricInput", "Task", "ValidityCheck", "explainers", "metrics", "separators", "tasks",
]
