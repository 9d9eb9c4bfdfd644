"""AudioX-Bench: a benchmark for explainers of audio classifiers, with tasks whose truth is known.

What a plugin author needs is importable from here: the contracts (:class:`Explainer`, :class:`Metric`,
:class:`Task` ...), the model capabilities, typed components, and the ``register_*`` decorators.
"""

from audiox_bench.core.classifier import (
    Batched,
    Classifier,
    Differentiable,
    FeatureClassifier,
    FeatureStats,
    LayerRandomizable,
    SpectrumClassifier,
    require,
)
from audiox_bench.core.components import Component, Factorization, FeatureFactorization, Layout
from audiox_bench.core.data import (
    Example,
    Explanation,
    Figure,
    GroundTruth,
    MetricInput,
    Perturbation,
    Scores,
    ValueSpec,
)
from audiox_bench.core.errors import AudioxError, NotApplicableError
from audiox_bench.core.interfaces import Explainer, GroupMetric, Metric, OcclusionContent, Separator
from audiox_bench.core.records import GroupRow, Record
from audiox_bench.core.registry import (
    register_content,
    register_explainer,
    register_metric,
    register_model,
    register_separator,
    register_task,
)
from audiox_bench.core.task import Task, ValidityCheck
from audiox_bench.core.threads import reproducible_blas

reproducible_blas()  # before torch's first matrix product: results independent of threads and batches

__version__ = "0.3.0"


def run(*args, **kwargs):
    """Run a benchmark from Python; see :func:`audiox_bench.api.run` (imported lazily: it loads torch)."""
    from audiox_bench.core.threads import prepare_environment

    prepare_environment()  # OpenMP reads its wait policy when torch is first imported
    from audiox_bench.api import run as _run

    return _run(*args, **kwargs)


__all__ = [
    "AudioxError",
    "Batched",
    "Classifier",
    "Component",
    "Differentiable",
    "Example",
    "Explainer",
    "Explanation",
    "Factorization",
    "FeatureClassifier",
    "FeatureFactorization",
    "FeatureStats",
    "Figure",
    "GroundTruth",
    "GroupMetric",
    "GroupRow",
    "LayerRandomizable",
    "Layout",
    "Metric",
    "MetricInput",
    "NotApplicableError",
    "OcclusionContent",
    "Perturbation",
    "Record",
    "Scores",
    "Separator",
    "SpectrumClassifier",
    "Task",
    "ValidityCheck",
    "ValueSpec",
    "register_content",
    "register_explainer",
    "register_metric",
    "register_model",
    "register_separator",
    "register_task",
    "require",
    "run",
]
