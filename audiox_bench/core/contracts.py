"""The core contracts: Example, Perturbation, GroundTruth, Explanation, Explainer, Metric, GroupMetric.

Data crossing module boundaries are frozen dataclasses; behaviour is defined by small abstract base
classes. Models are described in :mod:`audiox_bench.core.classifier`, factorizations and their typed
components in :mod:`audiox_bench.core.components`, run records in :mod:`audiox_bench.core.records`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from audiox_bench.core.classifier import Classifier, FeatureClassifier, FeatureStats, require
from audiox_bench.core.components import Factorization, Layout

if TYPE_CHECKING:
    from audiox_bench.core.records import GroupRow, Record


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


class Explainer(ABC):
    """Explains one prediction over one factorization. Never sees ground truth.

    Subclasses take their parameters as constructor keywords (so a SPEC maps onto them) and set
    ``family`` to the factorization family they produce (``source`` or ``segmentation``).
    """

    family: ClassVar[str] = "any"
    description: ClassVar[str] = ""

    @abstractmethod
    def factorize(self, model: Classifier, example: Example) -> Factorization:
        """The factorization this explainer uses for ``example``."""

    @property
    def seeded_factorization(self) -> bool:
        """Whether the factorization draws random numbers from the explanation's seed (e.g. a noise
        fill); then :meth:`factorize_for` must be called per seed, and metrics see that one."""
        return False

    def factorize_for(self, model: Classifier, example: Example, seed: int) -> Factorization:
        """The factorization an explanation with ``seed`` uses (the runner calls this, and hands the
        same object to the explanation and to the metrics). The same as :meth:`factorize` unless
        :attr:`seeded_factorization`."""
        return self.factorize(model, example)

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

    @property
    def weight_rule(self) -> str:
        """How this configuration's weights are read from what it computes, where a choice was made
        (e.g. gradient attributions summed over a segment's cells); shown on the leaderboard page."""
        return ""

    def explain_models(
        self,
        models: Sequence[Classifier],
        example: Example,
        factorization: Factorization,
        target: int,
        seed: int,
    ) -> list[Explanation]:
        """Explanations of several models that take the same inputs (e.g. parameter-randomized copies of
        one model) on the same factorization and seed. Explainers that can evaluate the models together
        (one composition of each perturbed input for all of them) override this."""
        return [self.explain(model, example, factorization, target, seed) for model in models]


@dataclass(frozen=True, eq=False)
class MetricInput:
    """Everything a per-instance metric may look at.

    ``factorization`` is the one the explanation used; ``explainer``, ``target`` and ``seed`` let a
    metric explain again (e.g. a randomized model) or draw its own random numbers from the seed (the
    instance's: every explainer configuration on an instance gets the same one). ``truth_note`` says why
    ``ground_truth`` is None, where the task said. ``baseline`` is what a metric that switches components
    off fills them with unless it names its own: the task's baseline (an occlusion content, the same for
    every explainer), or ``own`` (the explanation's own fill; what an item made outside a run gets).
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


class _Scored(ABC):
    """What per-instance and group metrics share: a name, a direction, value roles and figures."""

    name: ClassVar[str]
    higher_is_better: ClassVar[bool] = True
    description: ClassVar[str] = ""
    # Roles of sub-values by suffix (``("n_ce", "diagnostic")``; ``"layers*"`` matches a prefix); sub-values
    # not listed are diagnostics.
    value_roles: ClassVar[tuple[tuple[str, str], ...]] = ()

    def value_spec(self, value: str) -> ValueSpec:
        """How the leaderboard reads ``value`` (the metric's name, or ``name.suffix``)."""
        if value == self.name:
            return ValueSpec(value, "score", self.higher_is_better, primary=True)
        suffix = value[len(self.name) + 1 :] if value.startswith(self.name + ".") else value
        role = next(
            (
                r
                for pattern, r in self.value_roles
                if suffix == pattern or (pattern.endswith("*") and suffix.startswith(pattern[:-1]))
            ),
            "diagnostic",
        )
        return ValueSpec(value, role, self.higher_is_better)

    def plot(
        self, plt: Any, task: str, records: Sequence[Record], group_rows: Sequence[GroupRow], out: Path
    ) -> list[Figure]:
        """Figures of this metric for ``task`` written into ``out`` (none by default)."""
        return []


class Metric(_Scored):
    """Scores one explanation. Declares its direction and meaning for the leaderboard.

    :meth:`score` returns a mapping of value names to numbers (the first is the metric's main value,
    named like the metric), or None values where the metric is not defined for this instance
    (e.g. no ground truth): those instances are counted as skipped, not as zeros. A metric that cannot
    be computed for an instance and can say why raises :class:`NotApplicableError`; the runner records
    its value as undefined and keeps the reason (``Record.metric_notes``).
    """

    @abstractmethod
    def score(self, item: MetricInput) -> dict[str, Any]:
        """Values of this metric for one instance. Keys starting with ``_`` carry JSON data for
        :meth:`summarize` (stored in the record's ``metric_data``, not in the leaderboard)."""

    def value_names(self) -> list[str]:
        """The values :meth:`score` reports (all are recorded as undefined when it raises
        :class:`NotApplicableError`)."""
        return [self.name]

    def summarize(self, records: Sequence[Record]) -> list[GroupRow]:
        """Dataset-level rows over the successful records (as :meth:`GroupMetric.score_records`); none by
        default."""
        return []


class GroupMetric(_Scored):
    """Scores groups of finished records, e.g. the repeats of one example (stability) or two explainer
    configurations on the same instance (agreement). Computed after the explanations, from the records
    alone (``components`` and ``weights``), so it costs no model call and can be recomputed from a run
    directory.

    A group metric may need explainer configurations the user did not name (e.g. the reference content
    of an agreement); :meth:`companions` names them and the runner adds them to the run.
    """

    def companions(self, explainer_spec: str) -> list[str]:
        """Explainer SPECs this metric needs next to ``explainer_spec`` (canonical form not required)."""
        return []

    @abstractmethod
    def score_records(self, records: Sequence[Record]) -> list[GroupRow]:
        """Rows from the successful records of a run (``repeat`` None for a value about all repeats)."""


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


class Separator(ABC):
    """Splits an example into named sources whose sum is (close to) its audio."""

    @abstractmethod
    def separate(self, example: Example) -> dict[str, np.ndarray]:
        """Sources by name, in a fixed order, each of the example's length."""


class OcclusionContent(ABC):
    """What fills a switched-off region of the model's input (SLIME), in the model's input domain.

    Attributes
    ----------
    stochastic : bool
        The fill depends on the random generator (each explanation seed draws its own).
    """

    stochastic: ClassVar[bool] = False

    @abstractmethod
    def fill(self, features: np.ndarray, stats: FeatureStats | None, rng: np.random.Generator) -> np.ndarray:
        """The fill for ``features`` ``(n_mels, n_frames)`` (any shape that broadcasts to it)."""
