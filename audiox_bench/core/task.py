"""The Task contract: a trained model, examples, and the ground truth of what drives the model."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

from audiox_bench.core.contracts import Classifier, Example, Factorization, GroundTruth
from audiox_bench.core.errors import ValidityError


@dataclass(frozen=True)
class ValidityCheck:
    """One measured property of a task's model and the bound it must meet.

    Attributes
    ----------
    name : str
        What was measured (e.g. ``accuracy_t_dr-gtr``).
    value : float
        The measured value.
    threshold : float
        The bound.
    comparison : str
        ``">="`` or ``"<="``: how ``value`` must compare to ``threshold``.
    """

    name: str
    value: float
    threshold: float
    comparison: str

    @property
    def passed(self) -> bool:
        if self.comparison == ">=":
            return self.value >= self.threshold
        if self.comparison == "<=":
            return self.value <= self.threshold
        raise ValueError(f"unknown comparison {self.comparison!r}")

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "passed": self.passed}

    def __str__(self) -> str:
        return f"{self.name} = {self.value:.4f} (needs {self.comparison} {self.threshold})"


class Task(ABC):
    """A benchmark task: it builds (or loads) its model, checks it, and serves examples and truth.

    Subclasses take their parameters as constructor keywords and implement :meth:`prepare`,
    :meth:`examples` and :meth:`truth_for`. Ground truth is served only once the validity checks pass.
    """

    description: ClassVar[str] = ""
    reference: ClassVar[str] = ""
    truth: ClassVar[str] = ""

    def __init__(self) -> None:
        self.selection: dict[str, Any] = {}  # how examples were selected (e.g. kept / made), if they were
        self._model: Classifier | None = None
        self._checks: list[ValidityCheck] | None = None
        self._card: dict[str, Any] = {}

    @abstractmethod
    def prepare(self, progress: bool = True) -> None:
        """Build data and model (or load them from the cache) and measure the validity checks.

        Sets the model, the checks and the model card (through :meth:`_set_prepared`).
        """

    def _set_prepared(self, model: Classifier, checks: list[ValidityCheck], card: dict[str, Any]) -> None:
        self._model, self._checks, self._card = model, list(checks), dict(card)

    # Caches that can be rebuilt (e.g. stem banks): left out when the task is shipped to a worker.
    transient_attributes: ClassVar[tuple[str, ...]] = ("_banks",)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        for name in self.transient_attributes:
            if name in state:
                state[name] = type(state[name])()
        return state

    def _prepare_first_valid(
        self,
        build: Callable[[int], tuple[Classifier, list[ValidityCheck], dict[str, Any]]],
        seeds: range,
    ) -> None:
        """Build models with successive training seeds until one passes its checks (or seeds run out).

        ``build(train_seed)`` returns the model, its checks and its card; the card of the model kept
        gains ``attempts``, the checks of every seed tried.
        """
        attempts = []
        for train_seed in seeds:
            model, checks, card = build(train_seed)
            attempts.append({"train_seed": train_seed, **{c.name: c.value for c in checks}})
            if all(c.passed for c in checks):
                break
        self._set_prepared(model, checks, {**card, "attempts": attempts})

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
    def model_card(self) -> dict[str, Any]:
        """Training facts of the model: accuracies, training time, seed, sizes."""
        self._require_prepared()
        return dict(self._card)

    @property
    def is_valid(self) -> bool:
        return all(check.passed for check in self.validity_checks)

    def require_valid(self) -> None:
        """Raise :class:`ValidityError` naming the failed checks, if any."""
        failed = [str(check) for check in self.validity_checks if not check.passed]
        if failed:
            raise ValidityError(
                f"task {getattr(self, 'registered_name', type(self).__name__)!r} failed its validity "
                f"check, so it serves no ground truth: {'; '.join(failed)}"
            )

    @abstractmethod
    def examples(self, n: int) -> list[Example]:
        """The first ``n`` examples of the task's evaluation split (the same for the same parameters)."""

    def ground_truth(self, example: Example, factorization: Factorization) -> GroundTruth | None:
        """The truth for ``example`` in ``factorization``'s component names, or None where undefined.

        Raises
        ------
        ValidityError
            If the task's model failed its validity checks.
        """
        self.require_valid()
        return self.truth_for(example, factorization)

    @abstractmethod
    def truth_for(self, example: Example, factorization: Factorization) -> GroundTruth | None:
        """Ground truth without the validity gate (implemented by each task)."""


class TrainedModelTask(Task):
    """A task whose model is trained by the project on synthesised stems (confound, vocals).

    Validates and stores the settings these tasks share; see the subclasses for their meaning.
    """

    def _init_training(self, seed: int, n_train: int, n_stems: int, epochs: int, architecture: str,
                       n_validity: int, max_attempts: int, device: str) -> None:
        from audiox_bench.models.networks import ARCHITECTURES

        if architecture not in ARCHITECTURES:
            raise ValueError(f"architecture must be one of {', '.join(ARCHITECTURES)}, got {architecture!r}")
        if n_stems < 5 or n_train < 10 or epochs < 1 or n_validity < 2 or max_attempts < 1:
            raise ValueError("n_stems >= 5, n_train >= 10, epochs >= 1, n_validity >= 2 and max_attempts >= 1 "
                             "are needed")
        self.seed, self.n_train, self.epochs, self.architecture = int(seed), int(n_train), int(epochs), architecture
        self.n_validity, self.max_attempts, self.device = int(n_validity), int(max_attempts), device
        # Stems per role for training; validation and test banks get 1/5 and 2/5 of it.
        self.bank_sizes = {"train": int(n_stems), "val": max(2, n_stems // 5), "test": max(2, 2 * n_stems // 5)}
        self._banks: dict[str, dict[str, Any]] = {}
        self._progress = False
