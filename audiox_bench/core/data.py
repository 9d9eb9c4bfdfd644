"""The data that crosses the benchmark's modules: examples and their perturbations, ground truth,
explanations, what a metric sees and reports, and how a value is read (frozen dataclasses)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from audiox_bench.core.classifier import Classifier, FeatureClassifier, require
from audiox_bench.core.components import Factorization, Layout

if TYPE_CHECKING:
    from audiox_bench.core.interfaces import Explainer


@dataclass(frozen=True, eq=False)
class Perturbation:
    """An additive perturbation confined to known regions (the truth of the adversarial task).

    Attributes
    ----------
    domain : str
        ``features`` (the model's input) or ``audio`` (the waveform).
    clean : np.ndarray
        The clean input in that domain: features ``(n_mels, n_frames)`` or a waveform ``(n_samples,)``.
    delta : np.ndarray
        The perturbation, of the shape of ``clean``; exactly zero outside its regions.
    layout : Layout
        The grid the regions were drawn on.
    regions : tuple of (int, int)
        ``(band, time)`` index of every perturbed region (band 0 for temporal layouts).
    clean_label, adversarial_label : int
        The model's decision on the clean input, and the one the perturbation makes it take.
    """

    domain: str
    clean: np.ndarray
    delta: np.ndarray
    layout: Layout
    regions: tuple[tuple[int, int], ...]
    clean_label: int
    adversarial_label: int

    @property
    def perturbed(self) -> np.ndarray:
        """``clean + delta``."""
        return (self.clean + self.delta).astype(np.float32)


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
        What the task records about the example (JSON-serialisable), for its own truth and for people.
    features : np.ndarray [shape=(n_mels, n_frames)], optional
        The model input, for examples defined in the model's feature domain (e.g. log-mel columns
        swapped between two versions of a clip). It overrides the features of ``audio``; such examples
        suit feature factorizations only. See :func:`model_input`.
    perturbation : Perturbation, optional
        The adversarial perturbation this example carries, if any.
    """

    id: str
    audio: np.ndarray
    sr: int
    label: int | None = None
    stems: Mapping[str, np.ndarray] | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)
    features: np.ndarray | None = None
    perturbation: Perturbation | None = None


@dataclass(frozen=True)
class GroundTruth:
    """The components that truly drive the model for one example, in one factorization's names.

    Attributes
    ----------
    components : frozenset of str
        The truth's component names.
    description : str
        What the truth is, for people (``the drums``).
    target : int, optional
        The class these components drive (the confound's drums drive ``guitar``). An explanation of
        another class is not scored against them: what supports that class is not known. None: the
        truth holds for any class explained.
    """

    components: frozenset[str]
    description: str = ""
    target: int | None = None

    def __len__(self) -> int:
        return len(self.components)


@dataclass(frozen=True)
class TruthSpans:
    """Where in time the truth of an example lies, for metrics on time segments of any grid (the
    explainer's segments need not be the task's).

    Attributes
    ----------
    intervals : tuple of (float, float)
        Spans ``[start, end)`` in seconds of the example's audio.
    description : str
        What they are (``the injected segments``).
    target : int, optional
        The class the truth drives (None: any class), as :attr:`GroundTruth.target`.
    """

    intervals: tuple[tuple[float, float], ...]
    description: str = ""
    target: int | None = None


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
    surrogate_correlation : float or None
        Correlation between the surrogate's and the model's scores on the neighbourhood, if any.
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
    surrogate_correlation: float | None = None
    n_model_calls: int = 0
    seconds: float = 0.0
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DefaultConfiguration:
    """An explainer configuration the default benchmark runs (declared by the explainer), and where.

    Attributes
    ----------
    spec : str
        The SPEC (``a|b`` alternatives expand).
    skip_tasks : tuple of str
        Task names it does not run on in the default benchmark (say why where it is declared).
    only_tasks : tuple of str
        If given, the only task names it runs on.
    """

    spec: str
    skip_tasks: tuple[str, ...] = ()
    only_tasks: tuple[str, ...] = ()

    def runs_on(self, task: str) -> bool:
        return task not in self.skip_tasks and (not self.only_tasks or task in self.only_tasks)


@dataclass(frozen=True, eq=False)
class MetricInput:
    """Everything a per-instance metric may look at.

    ``factorization`` is the one the explanation used; ``explainer``, ``target`` and ``seed`` let a
    metric explain again (e.g. a randomized model) or draw its own random numbers from the seed (the
    instance's: every explainer configuration on an instance gets the same one). ``truth_note`` says why
    ``ground_truth`` is None, where the task said. ``baseline`` is what a metric that switches components
    off fills them with unless it names its own: the task's baseline (an occlusion content, the same for
    every explainer), or ``own`` (the explanation's own fill; what an item made outside a run gets).
    ``truth_spans`` is where in time the truth lies (for the class explained), where the task says.
    """

    explanation: Explanation
    ground_truth: GroundTruth | None
    model: Classifier
    example: Example
    factorization: Factorization
    explainer: Explainer | None = None
    target: int | None = None
    seed: int = 0
    truth_note: str | None = None
    baseline: str = "own"
    truth_spans: TruthSpans | None = None


class Scores(Mapping[str, "float | None"]):
    """What a per-instance metric reports for one instance: its values by name (None where undefined
    there), read like a mapping, and JSON ``data`` its dataset summary reads later (stored in the record's
    ``metric_data``, not in the leaderboard).

    Parameters
    ----------
    values : mapping of str to float or None
        The first is the metric's main value, named like the metric.
    data : mapping, optional
        JSON data for :meth:`Metric.summarize`.
    """

    def __init__(self, values: Mapping[str, float | None], data: Mapping[str, Any] | None = None) -> None:
        self.values, self.data = dict(values), dict(data or {})

    def __getitem__(self, name: str) -> float | None:
        return self.values[name]

    def __iter__(self):
        return iter(self.values)

    def __len__(self) -> int:
        return len(self.values)

    def __repr__(self) -> str:
        return f"Scores({self.values!r}, data={sorted(self.data)!r})"

    @staticmethod
    def of(result: Scores | Mapping[str, Any]) -> Scores:
        """``result`` as Scores; a plain mapping (a plugin's) carries its data under keys starting with ``_``."""
        if isinstance(result, Scores):
            return result
        return Scores(
            {k: v for k, v in result.items() if not k.startswith("_")},
            {k: v for k, v in result.items() if k.startswith("_")},
        )


ROLES = ("score", "reference", "diagnostic")


@dataclass(frozen=True)
class ValueSpec:
    """How the leaderboard reads one value a metric reports.

    Attributes
    ----------
    name : str
        The value's name (``topk_overlap``, ``label_flip.oracle`` ...).
    role : str
        ``score`` (ranked), ``reference`` (a bound to read scores against: shown, not ranked) or
        ``diagnostic`` (detail: shown folded away, not ranked).
    higher_is_better : bool
    primary : bool
        The metric's main value: the one that counts in the overall rank.
    """

    name: str
    role: str = "score"
    higher_is_better: bool = True
    primary: bool = False

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}, got {self.role!r}")
        if self.primary and self.role != "score":
            raise ValueError("a primary value must be a score")

    def to_dict(self) -> dict[str, Any]:
        return {"role": self.role, "higher_is_better": self.higher_is_better, "primary": self.primary}


@dataclass(frozen=True)
class Figure:
    """A figure a metric drew for a run (``path``), or why it drew none (``skipped``)."""

    name: str
    path: Path | None = None
    skipped: str | None = None


def model_input(model: Classifier, example: Example) -> np.ndarray:
    """The model's input features ``(n_mels, n_frames)`` for one example (its own, if it has them)."""
    if example.features is not None:
        return np.asarray(example.features, dtype=np.float32)
    return require(model, FeatureClassifier, "feature factorizations").features(example.audio)[0]


def predict_examples(model: Classifier, examples: Sequence[Example]) -> np.ndarray:
    """Class probabilities ``(n, n_classes)`` of examples, through their features where they have them."""
    if not examples:
        return np.zeros((0, len(model.classes)))
    if any(e.features is not None for e in examples):
        features = require(model, FeatureClassifier, "examples defined as features")
        return features.predict_features(np.stack([model_input(model, e) for e in examples]))
    return model.predict_proba(np.stack([e.audio for e in examples]))


def as_audio_batch(audio: np.ndarray | Sequence[np.ndarray]) -> np.ndarray:
    """Stack audio into a float32 ``(n, n_samples)`` array (a single 1-D clip becomes ``n = 1``)."""
    batch = np.asarray(audio, dtype=np.float32)
    if batch.ndim == 1:
        batch = batch[None, :]
    if batch.ndim != 2:
        raise ValueError(f"audio must have shape (n_samples,) or (n, n_samples), got {batch.shape}")
    return batch
