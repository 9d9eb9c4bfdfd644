"""The base of tasks whose model the project trains on synthesised stems (confound, vocals)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from audiox_bench.core.classifier import Classifier
from audiox_bench.core.task import Task, ValidityCheck
from audiox_bench.models.networks import ARCHITECTURES


class TrainedModelTask(Task):
    """A task whose model is trained by the project on synthesised stems.

    Validates and stores the settings these tasks share (see the subclasses for their meaning) and
    tries training seeds until a model passes the validity checks.
    """

    def _init_training(
        self,
        seed: int,
        n_train: int,
        n_stems: int,
        epochs: int,
        architecture: str,
        n_validity: int,
        max_attempts: int,
        device: str,
    ) -> None:
        if architecture not in ARCHITECTURES:
            raise ValueError(f"architecture must be one of {', '.join(ARCHITECTURES)}, got {architecture!r}")
        if n_stems < 5 or n_train < 10 or epochs < 1 or n_validity < 2 or max_attempts < 1:
            raise ValueError(
                "n_stems >= 5, n_train >= 10, epochs >= 1, n_validity >= 2 and max_attempts >= 1 are needed"
            )
        self.seed, self.n_train, self.epochs, self.architecture = int(seed), int(n_train), int(epochs), architecture
        self.n_stems = int(n_stems)
        self.n_validity, self.max_attempts, self.device = int(n_validity), int(max_attempts), device
        self._progress = False

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
