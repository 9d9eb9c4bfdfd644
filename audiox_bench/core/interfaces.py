"""The interfaces a plugin implements: Explainer, Metric, GroupMetric, Separator, OcclusionContent (small
abstract base classes; the data they exchange is in :mod:`audiox_bench.core.data`)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from audiox_bench.core.classifier import Classifier, FeatureStats
from audiox_bench.core.components import Factorization
from audiox_bench.core.data import (
    DefaultConfiguration,
    Example,
    Explanation,
    Figure,
    MetricInput,
    Scores,
    ValueSpec,
)
from audiox_bench.core.parameters import Configured

if TYPE_CHECKING:
    from audiox_bench.core.records import GroupRow, Record


class Explainer(Configured, ABC):
    """Explains one prediction over one factorization. Never sees ground truth.

    Subclasses take their parameters as constructor keywords (so a SPEC maps onto them) and set
    ``family`` to the factorization family they produce (``source`` or ``segmentation``).
    """

    family: ClassVar[str] = "any"
    description: ClassVar[str] = ""
    # The constructor keywords that shape the factorization (what an explainer that borrows it may set);
    # None: all of them.
    factorization_keys: ClassVar[tuple[str, ...] | None] = None
    # What of this explainer the default benchmark runs (``audiox run --benchmark default``).
    default_benchmark: ClassVar[tuple[DefaultConfiguration, ...]] = ()

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


class _Scored(Configured, ABC):
    """What per-instance and group metrics share: a name, a direction, value roles and figures."""

    name: ClassVar[str]
    higher_is_better: ClassVar[bool] = True
    description: ClassVar[str] = ""
    # Roles of sub-values by suffix (``("n_ce", "diagnostic")``; ``"layers*"`` matches a prefix); sub-values
    # not listed are diagnostics.
    value_roles: ClassVar[tuple[tuple[str, str], ...]] = ()
    # Whether the main value counts in a task's overall verdict (a score ranked on its own either way).
    primary: ClassVar[bool] = True

    def value_spec(self, value: str) -> ValueSpec:
        """How the leaderboard reads ``value`` (the metric's name, or ``name.suffix``)."""
        if value == self.name:
            return ValueSpec(value, "score", self.higher_is_better, primary=self.primary)
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

    :meth:`score` returns :class:`Scores`: value names to numbers (the first is the metric's main value,
    named like the metric), or None values where the metric is not defined for this instance: those
    instances are counted as skipped, not as zeros. A metric that cannot be computed for an instance and
    can say why raises :class:`NotApplicableError`; the runner records its value as undefined and keeps
    the reason (``Record.metric_notes``).
    """

    @abstractmethod
    def score(self, item: MetricInput) -> Scores:
        """Values of this metric for one instance, and data for :meth:`summarize` (a plain mapping is
        accepted too: keys starting with ``_`` are its data)."""

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


class Separator(Configured, ABC):
    """Splits an example into named sources whose sum is (close to) its audio."""

    @abstractmethod
    def separate(self, example: Example) -> dict[str, np.ndarray]:
        """Sources by name, in a fixed order, each of the example's length."""


class OcclusionContent(Configured, ABC):
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
