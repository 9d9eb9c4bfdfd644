"""What tasks whose model the project trains on synthesised stems share (confound, and the singing-voice
detector of vocals and adversarial): their training settings, and trying seeds until a model is valid."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from torch import nn

from audiox_bench.core.classifier import Classifier
from audiox_bench.core.documents import ValidityCheck
from audiox_bench.models.frontends import LogMel
from audiox_bench.models.networks import ARCHITECTURES
from audiox_bench.models.store import (
    cached_classifier,
    load_cached,
    model_entry,
    remember_validity,
    remembered_validity,
)
from audiox_bench.models.torch_classifier import TorchClassifier
from audiox_bench.models.training import TrainingConfig, fit_classifier


@dataclass(frozen=True)
class TrainingSettings:
    """How a task's model is made: data, training and the validity measurement (one source of the
    defaults; each task names its own where they differ, e.g. ``n_train``).

    Attributes
    ----------
    seed : int
        Seed of data synthesis and training (the model is cached per seed).
    n_train : int
        Training clips.
    n_stems : int
        Rendered stems per role for training (validation and test banks get 1/5 and 2/5 of it).
    epochs : int
        Training epochs.
    architecture : str
        ``vggish`` (small VGG-style 2-D CNN) or ``temporal`` (1-D CNN over time).
    n_validity : int
        Clips per validity measurement.
    max_attempts : int
        Training seeds tried (``seed``, ``seed + 1``, ...) until the validity check passes.
    """

    seed: int = 0
    n_train: int = 2000
    n_stems: int = 250
    epochs: int = 16
    architecture: str = "vggish"
    n_validity: int = 400
    max_attempts: int = 3

    def __post_init__(self) -> None:
        if self.architecture not in ARCHITECTURES:
            raise ValueError(f"architecture must be one of {', '.join(ARCHITECTURES)}, got {self.architecture!r}")
        if self.n_stems < 5 or self.n_train < 10 or self.epochs < 1 or self.n_validity < 2 or self.max_attempts < 1:
            raise ValueError(
                "n_stems >= 5, n_train >= 10, epochs >= 1, n_validity >= 2 and max_attempts >= 1 are needed"
            )

    @property
    def seeds(self) -> range:
        """The training seeds tried, in order."""
        return range(self.seed, self.seed + self.max_attempts)

    def describe(self) -> dict[str, Any]:
        """What of these settings determines the trained weights (part of the model's cache key)."""
        return {"seed": self.seed, "n_train": self.n_train, "epochs": self.epochs, "architecture": self.architecture}


Built = tuple[Classifier, list[ValidityCheck], dict[str, Any]]


def first_valid(build: Callable[[int], Built], seeds: range, context: str) -> Built:
    """Build models with successive training seeds until one passes its checks (or seeds run out).

    ``build(train_seed)`` returns the model, its checks and its card; the card of the model kept gains
    ``attempts``, the checks of every seed tried. Whether each passed is remembered in its cache folder
    under ``context`` (see :func:`cached_valid`).
    """
    attempts = []
    for train_seed in seeds:
        model, checks, card = build(train_seed)
        passed = all(c.passed for c in checks)
        attempts.append({"train_seed": train_seed, **{c.name: c.value for c in checks}})
        if card.get("cache_path"):
            remember_validity(card["cache_path"], context, passed)
        if passed:
            break
    return model, checks, {**card, "attempts": attempts}


def cached_valid(
    name: str,
    describe: Callable[[int], dict[str, Any]],
    make_modules: Callable[[int], tuple[nn.Module, LogMel]],
    classes: tuple[str, ...],
    seeds: range,
    context: str,
    device: str,
    input_samples: int,
) -> Classifier | None:
    """The model :func:`first_valid` keeps, loaded from the cache without building any data: the first
    seed's model remembered as valid in ``context``. None when that is not known (a model not cached yet,
    or never checked): the caller then prepares the task."""
    for train_seed in seeds:
        description = describe(train_seed)
        passed = remembered_validity(model_entry(name, description), context)
        if passed is None:
            return None
        if passed:
            modules = functools.partial(make_modules, train_seed)
            loaded = load_cached(name, description, modules, classes, device, input_samples)
            return None if loaded is None else loaded[0]
    return None


def trained_classifier(
    name: str,
    description: dict[str, Any],
    make_modules: Callable[[], tuple[nn.Module, LogMel]],
    data: Callable[[], tuple[np.ndarray, np.ndarray]],
    classes: tuple[str, ...],
    settings: TrainingSettings,
    train_seed: int,
    input_samples: int,
    device: str,
    progress: bool,
    standardise: bool = False,
    augment: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]] | None = None,
) -> tuple[TorchClassifier, dict[str, Any]]:
    """The task's classifier from the model cache, or trained on ``data()`` (audio, labels) and cached.

    ``description`` is everything that determines the weights besides ``settings``; the card records the
    architecture and what training measured.
    """

    def train(network: nn.Module, frontend: LogMel) -> dict[str, Any]:
        audio, labels = data()
        card = fit_classifier(
            network,
            frontend,
            audio,
            labels,
            TrainingConfig(epochs=settings.epochs, seed=train_seed),
            standardise=standardise,
            augment=augment,
            device=device,
            description=f"training {name} (seed {train_seed})",
            progress=progress,
        )
        return {**card, "architecture": settings.architecture}

    return cached_classifier(name, description, make_modules, train, classes, device, input_samples)
