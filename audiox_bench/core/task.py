"""The Task contract: a trained model, examples, and the ground truth of what drives the model."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar

from audiox_bench.core.classifier import Classifier
from audiox_bench.core.components import Factorization
from audiox_bench.core.data import Example, GroundTruth, TruthSpans
from audiox_bench.core.documents import ModelCard, Selection, ValidityCheck
from audiox_bench.core.errors import ValidityError
from audiox_bench.core.parameters import Configured

NO_TRUTH = (
    "the task states no ground truth for this example in these components (e.g. a confound mix without "
    "drums, or a truth that is a source while the components are segments)"
)


class Task(Configured, ABC):
    """A benchmark task: it builds (or loads) its model, checks it, and serves examples and truth.

    Subclasses take their parameters as constructor keywords and implement :meth:`prepare`,
    :meth:`examples` and :meth:`truth_for`. Ground truth is served only once the validity checks pass,
    and only for the class it drives (:attr:`GroundTruth.target`).

    Attributes
    ----------
    baseline : str
        The occlusion content that metrics switching segments of the model's input off fill them with
        (faithfulness and the perturbation curves), the same for every explainer, so explainers are
        scored on the same perturbed inputs whatever content they fitted themselves with. Sources are
        switched off by removing them, whatever this says.
    baseline_reason : str
        Why this content suits the task's model (shown on the leaderboard page).
    """

    name: ClassVar[str] = "task"  # set by the registry at registration
    reference: ClassVar[str] = ""  # the paper the task follows (shown on the leaderboard page)
    baseline: ClassVar[str] = "zero"
    baseline_reason: ClassVar[str] = ""

    def __init__(self) -> None:
        self._model: Classifier | None = None
        self._checks: list[ValidityCheck] | None = None
        self._card = ModelCard()

    @abstractmethod
    def prepare(self, progress: bool = True) -> None:
        """Build data and model (or load them from the cache) and measure the validity checks.

        Sets the model, the checks and the model card (through :meth:`_set_prepared`).
        """

    def load_model(self, progress: bool = False) -> Classifier:
        """The task's model, for predicting and explaining a file: without building the task's data or
        measuring its validity where the task can (a published model, a model cached with its validity
        verdict); otherwise after :meth:`prepare`."""
        self.prepare(progress=progress)
        return self.model

    @property
    def known_validity(self) -> bool | None:
        """Whether the model passed the validity checks, as far as known without measuring them: the
        measured result once prepared, a model loaded as remembered valid (:meth:`load_model`), else None."""
        if self._model is not None and self._checks is not None:
            return all(check.passed for check in self._checks)
        return getattr(self, "_remembered_valid", None)

    def _set_prepared(self, model: Classifier, checks: list[ValidityCheck], card: Mapping[str, Any]) -> None:
        self._model, self._checks, self._card = model, list(checks), ModelCard(dict(card))

    # Caches that can be rebuilt: emptied when the task is shipped to a worker.
    transient_attributes: ClassVar[tuple[str, ...]] = ()

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        for name in self.transient_attributes:
            if name in state:
                state[name] = type(state[name])()
        return state

    def _require_prepared(self) -> None:
        if self._model is None:
            self.prepare(progress=False)

    @property
    def model(self) -> Classifier:
        """The task's trained classifier."""
        self._require_prepared()
        assert self._model is not None
        return self._model

    @property
    def validity_checks(self) -> list[ValidityCheck]:
        """The measured checks (prepares the task if needed)."""
        self._require_prepared()
        return list(self._checks or [])

    @property
    def model_card(self) -> ModelCard:
        """What building the model measured: accuracies, training time, seed, sizes."""
        self._require_prepared()
        return self._card

    @property
    def is_valid(self) -> bool:
        return all(check.passed for check in self.validity_checks)

    def require_valid(self) -> None:
        """Raise :class:`ValidityError` naming the failed checks, if any."""
        failed = [str(check) for check in self.validity_checks if not check.passed]
        if failed:
            raise ValidityError(
                f"task {self.name!r} failed its validity check, so it serves no ground truth: {'; '.join(failed)}"
            )

    def target_for(self, example: Example) -> int | None:
        """The class to explain on ``example`` if the task decides it (e.g. the tag whose source it
        verified); None: the model's predicted class (or the run's ``--target``)."""
        return None

    @abstractmethod
    def examples(self, n: int) -> list[Example]:
        """The first ``n`` examples of the task's evaluation split (the same for the same parameters)."""

    def select(self, n: int) -> Selection:
        """The examples a run of ``n`` serves, with how they were chosen (tasks that keep only some of
        the candidates they make say so here: made, kept, and why)."""
        return Selection(tuple(self.examples(n)))

    def ground_truth(
        self, example: Example, factorization: Factorization, target: int | None = None
    ) -> GroundTruth | None:
        """The truth for ``example`` in ``factorization``'s component names, or None where undefined
        (see :meth:`stated_truth` for why).

        Raises
        ------
        ValidityError
            If the task's model failed its validity checks.
        """
        return self.stated_truth(example, factorization, target)[0]

    def stated_truth(
        self, example: Example, factorization: Factorization, target: int | None = None
    ) -> tuple[GroundTruth | None, str | None]:
        """The truth for an explanation of class ``target`` (None: any class), or None and why there is
        none: the task states none here, or its truth drives another class than the one explained.

        Raises
        ------
        ValidityError
            If the task's model failed its validity checks.
        """
        self.require_valid()
        truth = self.truth_for(example, factorization)
        if truth is None or not truth.components:
            return None, NO_TRUTH
        if target is not None and truth.target is not None and truth.target != target:
            classes = self.model.classes
            return None, (
                f"the task's truth ({truth.description}) drives class {classes[truth.target]!r}; this "
                f"explanation is of class {classes[target]!r}, whose drivers the task does not know"
            )
        return truth, None

    def truth_spans(self, example: Example, target: int | None = None) -> TruthSpans | None:
        """Where in time ``example``'s truth lies, for an explanation of class ``target``: None where the
        task states no time span or its truth drives another class (tasks with a temporal truth say)."""
        spans = self.spans_for(example)
        if spans is None or (target is not None and spans.target is not None and spans.target != target):
            return None
        return spans

    def spans_for(self, example: Example) -> TruthSpans | None:
        """The truth's time spans without the class check (implemented by tasks with a temporal truth)."""
        return None

    @abstractmethod
    def truth_for(self, example: Example, factorization: Factorization) -> GroundTruth | None:
        """Ground truth without the validity gate (implemented by each task)."""
