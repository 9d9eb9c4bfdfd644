"""The core contracts: Example, Classifier, Factorization, GroundTruth, Explanation, Explainer, Metric.

See ``../shared/DESIGN.md`` for how they fit together. Data crossing module boundaries are frozen
dataclasses; behaviour is defined by small abstract base classes.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np


@dataclass(frozen=True, eq=False)
class Example:
    """One audio input of a task.

    Attributes
    ----------
    id : str
        Stable identifier (the same across runs with the same task spec and seed).
    audio : np.ndarray [shape=(n_samples,), dtype=float32]
        Mono waveform.
    sr : int
        Sample rate in Hz.
    label : int or None
        True class index, if known.
    stems : mapping of str to np.ndarray, optional
        Oracle sources (name -> waveform of the same length) whose sum is ``audio``.
    meta : mapping
        Anything else the task wants to keep (JSON-serialisable).
    features : np.ndarray [shape=(n_mels, n_frames)], optional
        The model input, for examples defined in the model's feature domain (e.g. log-mel columns
        swapped between two versions of a clip). It overrides the features of ``audio``; such examples
        suit segmentation explainers only. See :func:`model_input`.
    arrays : mapping of str to np.ndarray
        Named arrays a task attaches for its metrics (e.g. an adversarial perturbation and the clean
        input it was added to).
    """

    id: str
    audio: np.ndarray
    sr: int
    label: int | None = None
    stems: Mapping[str, np.ndarray] | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)
    features: np.ndarray | None = None
    arrays: Mapping[str, np.ndarray] = field(default_factory=dict)


@dataclass(frozen=True)
class GroundTruth:
    """The components that truly drive the model for one example, in one factorization's names."""

    components: frozenset[str]
    description: str = ""

    def __len__(self) -> int:
        return len(self.components)


@dataclass(frozen=True, eq=False)
class Explanation:
    """What an explainer says about one prediction.

    Attributes
    ----------
    components : tuple of str
        Component names, in the factorization's order.
    weights : np.ndarray [shape=(n_components,)]
        Importance of each component for the target class (positive = supports it).
    target : int
        Class index explained.
    intercept : float or None
        Intercept of a local surrogate, if the explainer fits one.
    score : float or None
        Fit quality of the surrogate (weighted R^2), if any.
    n_model_calls : int
        Number of model inputs evaluated for this explanation (distinct perturbations).
    seconds : float
        Wall time of the explanation.
    extra : mapping
        Explainer-specific, JSON-serialisable details.
    """

    components: tuple[str, ...]
    weights: np.ndarray
    target: int
    intercept: float | None = None
    score: float | None = None
    n_model_calls: int = 0
    seconds: float = 0.0
    extra: Mapping[str, Any] = field(default_factory=dict)


class Classifier(ABC):
    """A trained model as seen from outside.

    Models on log-mel input also implement :meth:`features` and :meth:`predict_features`, so
    spectrogram-domain explainers can perturb their input directly.
    """

    sr: int
    classes: tuple[str, ...]

    @abstractmethod
    def predict_proba(self, audio: np.ndarray) -> np.ndarray:
        """Class probabilities ``(n, n_classes)`` for audio ``(n, n_samples)``."""

    def features(self, audio: np.ndarray) -> np.ndarray:
        """Model input features ``(n, n_mels, frames)`` of audio ``(n, n_samples)``."""
        raise NotImplementedError(f"{type(self).__name__} has no feature front end")

    def predict_features(self, features: np.ndarray) -> np.ndarray:
        """Class probabilities ``(n, n_classes)`` for features ``(n, n_mels, frames)``."""
        raise NotImplementedError(f"{type(self).__name__} has no feature front end")

    def randomized(self, order: str = "cascading", layers: int | None = None, seed: int = 0) -> Classifier:
        """A copy with re-initialised parameters: the top ``layers`` layers (``cascading``) or only the
        ``layers``-th from the top (``independent``), deterministically from ``seed``."""
        raise NotImplementedError(f"{type(self).__name__} cannot randomize its parameters")


class Factorization(ABC):
    """The interpretable components of one example and how to compose inputs from masks.

    Attributes
    ----------
    family : str
        ``"source"`` (audio-domain sources, optionally x time) or ``"segmentation"`` (regions of the
        model's input features).
    domain : str
        ``"audio"`` if :meth:`compose` returns waveforms, ``"features"`` if it returns model features.
    names : tuple of str
        Component names (``drums``, ``t3``, ``vocals@t3``, ``f2t4`` ...).
    key : str
        Identifies the factorization of this example (for caching predictions).
    """

    family: ClassVar[str]
    domain: ClassVar[str]
    names: tuple[str, ...]
    key: str

    @property
    def n_components(self) -> int:
        return len(self.names)

    @abstractmethod
    def compose(self, masks: np.ndarray) -> np.ndarray:
        """Model inputs for boolean masks ``(n, n_components)`` (True = component kept)."""


class Explainer(ABC):
    """Explains one prediction over one factorization. Never sees ground truth.

    Subclasses take their parameters as constructor keywords (so a SPEC maps onto them) and set
    ``family`` to the factorization family they work on.
    """

    family: ClassVar[str]
    description: ClassVar[str] = ""

    @abstractmethod
    def factorize(self, model: Classifier, example: Example) -> Factorization:
        """The factorization this explainer uses for ``example``."""

    @abstractmethod
    def explain(
        self,
        model: Classifier,
        example: Example,
        factorization: Factorization,
        target: int,
        seed: int,
    ) -> Explanation:
        """Explain the model's score for class ``target`` on ``example``."""


@dataclass(frozen=True, eq=False)
class MetricInput:
    """Everything a per-instance metric may look at.

    ``explainer``, ``target`` and ``seed`` let a metric explain again (e.g. a randomized model) or
    draw its own random numbers from the instance's seed.
    """

    explanation: Explanation
    ground_truth: GroundTruth | None
    model: Classifier
    example: Example
    factorization: Factorization
    explainer: Explainer | None = None
    target: int | None = None
    seed: int = 0


class Metric(ABC):
    """Scores one explanation. Declares its direction and meaning for the leaderboard.

    :meth:`score` returns a mapping of value names to numbers (the first is the metric's main value,
    named like the metric), or None values where the metric is not defined for this instance
    (e.g. no ground truth): those instances are counted as skipped, not as zeros.
    """

    name: ClassVar[str]
    higher_is_better: ClassVar[bool] = True
    description: ClassVar[str] = ""

    @abstractmethod
    def score(self, item: MetricInput) -> dict[str, float | None]:
        """Values of this metric for one instance. Keys starting with ``_`` carry JSON data for
        :meth:`summarize` (stored in the record's ``metric_data``, not in the leaderboard)."""

    def summarize(self, records: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Dataset-level rows over the successful records (as :meth:`GroupMetric.score_records`); none by
        default."""
        return []


class GroupMetric(ABC):
    """Scores groups of finished records, e.g. the repeats of one example (stability) or two explainer
    configurations on the same instance (agreement). Computed after the explanations, from the records
    alone (``components`` and ``weights``), so it costs no model call and can be recomputed from a run
    directory.

    A group metric may need explainer configurations the user did not name (e.g. the reference content
    of an agreement); :meth:`companions` names them and the runner adds them to the run.
    """

    name: ClassVar[str]
    higher_is_better: ClassVar[bool] = True
    description: ClassVar[str] = ""

    def companions(self, explainer_spec: str) -> list[str]:
        """Explainer SPECs this metric needs next to ``explainer_spec`` (canonical form not required)."""
        return []

    @abstractmethod
    def score_records(self, records: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Rows ``{"task", "explainer", "example_id", "repeat", "metrics": {name: value}}`` from the
        successful records of a run (``repeat`` is None for a value about all repeats)."""


def model_input(model: Classifier, example: Example) -> np.ndarray:
    """The model's input features ``(n_mels, n_frames)`` for one example (its own, if it has them)."""
    if example.features is not None:
        return np.asarray(example.features, dtype=np.float32)
    return model.features(example.audio)[0]


def predict_examples(model: Classifier, examples: Sequence[Example]) -> np.ndarray:
    """Class probabilities ``(n, n_classes)`` of examples, through their features where they have them."""
    if not examples:
        return np.zeros((0, len(model.classes)))
    if any(e.features is not None for e in examples):
        return model.predict_features(np.stack([model_input(model, e) for e in examples]))
    return model.predict_proba(np.stack([e.audio for e in examples]))


def as_audio_batch(audio: np.ndarray | Sequence[np.ndarray]) -> np.ndarray:
    """Stack audio into a float32 ``(n, n_samples)`` array (a single 1-D clip becomes ``n = 1``)."""
    batch = np.asarray(audio, dtype=np.float32)
    if batch.ndim == 1:
        batch = batch[None, :]
    if batch.ndim != 2:
        raise ValueError(f"audio must have shape (n_samples,) or (n, n_samples), got {batch.shape}")
    return batch
