"""Deterministic training of a network on precomputed features (CPU or GPU)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from audiox_bench.core.classifier import FeatureStats
from audiox_bench.core.threads import TRAINING_THREADS, fixed_threads, thread_settings


@dataclass(frozen=True)
class TrainingConfig:
    """Hyper-parameters of :func:`train_network`."""

    epochs: int = 12
    batch_size: int = 32
    learning_rate: float = 1e-3
    weight_decay: float = 1e-4
    seed: int = 0


@dataclass(frozen=True)
class TrainingResult:
    """What training measured: the final training loss and accuracy, and the wall time."""

    final_loss: float
    final_accuracy: float
    seconds: float


def train_network(
    network: nn.Module,
    features: np.ndarray,
    labels: np.ndarray,
    config: TrainingConfig,
    device: str = "cpu",
    description: str = "training",
    progress: bool = True,
) -> TrainingResult:
    """Train ``network`` in place with Adam and cross-entropy, deterministically from ``config.seed``, with
    :data:`~audiox_bench.core.threads.TRAINING_THREADS` torch threads whatever the process uses (weight
    gradients are summed per thread, so another count gives another model).

    Parameters
    ----------
    network : torch.nn.Module
        Maps features ``(batch, n_mels, frames)`` to logits.
    features : np.ndarray [shape=(n, n_mels, frames), dtype=float32]
        Training inputs, already in the network's input domain.
    labels : np.ndarray [shape=(n,), dtype=int]
        Class indices.
    config : TrainingConfig
    device : str
        Torch device.
    description : str
        Label of the progress bar.
    progress : bool
        Show a progress bar over epochs.
    """
    with fixed_threads(TRAINING_THREADS):
        return _train(network, features, labels, config, device, description, progress)


def _train(
    network: nn.Module,
    features: np.ndarray,
    labels: np.ndarray,
    config: TrainingConfig,
    device: str,
    description: str,
    progress: bool,
) -> TrainingResult:
    torch.manual_seed(config.seed)
    generator = torch.Generator().manual_seed(config.seed)
    network.to(device).train()
    x = torch.from_numpy(np.ascontiguousarray(features, dtype=np.float32))
    y = torch.from_numpy(np.asarray(labels, dtype=np.int64))
    optimiser = torch.optim.Adam(network.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
    loss_fn = nn.CrossEntropyLoss()
    start = time.perf_counter()
    loss_sum = correct = seen = 0.0
    for _ in tqdm(range(config.epochs), desc=description, unit="epoch", leave=False, disable=not progress):
        order = torch.randperm(len(x), generator=generator)
        loss_sum = correct = seen = 0.0
        for batch_start in range(0, len(x), config.batch_size):
            index = order[batch_start : batch_start + config.batch_size]
            if len(index) < 2:  # batch norm needs two samples
                continue
            xb, yb = x[index].to(device), y[index].to(device)
            optimiser.zero_grad(set_to_none=True)
            logits = network(xb)
            loss = loss_fn(logits, yb)
            loss.backward()
            optimiser.step()
            loss_sum += float(loss.detach()) * len(index)
            correct += float((logits.argmax(1) == yb).sum())
            seen += len(index)
    network.eval()
    return TrainingResult(loss_sum / max(seen, 1), correct / max(seen, 1), time.perf_counter() - start)


def fit_classifier(
    network: nn.Module,
    frontend: nn.Module,
    audio: np.ndarray,
    labels: np.ndarray,
    config: TrainingConfig,
    standardise: bool = False,
    augment: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]] | None = None,
    device: str = "cpu",
    description: str = "training",
    progress: bool = True,
) -> dict:
    """Compute the front end's features of ``audio`` once, optionally standardise them per mel band with
    their own statistics (stored in the front end), and train ``network`` on them.

    Parameters
    ----------
    network : torch.nn.Module
    frontend : LogMel
        Audio -> features; :meth:`LogMel.set_band_stats` is called on it when ``standardise``.
    audio : np.ndarray [shape=(n, n_samples), dtype=float32]
    labels : np.ndarray [shape=(n,), dtype=int]
    config : TrainingConfig
    standardise : bool
        Standardise each mel band with the training set's mean and standard deviation.
    augment : callable, optional
        ``(features, labels) -> (extra_features, extra_labels)``: examples added to the training set,
        made from its features in the network's input domain (after standardisation). The feature
        statistics are those of the original features.
    device, description, progress :
        As in :func:`train_network`.

    Returns
    -------
    dict
        The training part of a model card: seed, loss, accuracy, seconds, parameter count, and
        ``feature_stats`` (statistics of the features in the network's input domain).
    """
    start = time.perf_counter()
    frontend.to(device).eval()
    with torch.inference_mode():
        chunks = [
            frontend(torch.from_numpy(audio[i : i + 256]).to(device)).cpu().numpy()
            for i in tqdm(range(0, len(audio), 256), desc="features", disable=not progress, leave=False)
        ]
    features = np.concatenate(chunks)
    if standardise:
        raw = FeatureStats.of(features)
        band_std = np.maximum(raw.band_std, 1e-2)
        frontend.set_band_stats(raw.band_mean, band_std)
        features = ((features - raw.band_mean[None, :, None]) / band_std[None, :, None]).astype(np.float32)
    stats = FeatureStats.of(features)
    n_augmented = 0
    if augment is not None:
        extra_features, extra_labels = augment(features, np.asarray(labels))
        n_augmented = len(extra_labels)
        features, labels = np.concatenate([features, extra_features]), np.concatenate([labels, extra_labels])
    result = train_network(network, features, labels, config, device=device, description=description, progress=progress)
    return {
        "train_seed": config.seed,
        "train_loss": result.final_loss,
        "train_accuracy": result.final_accuracy,
        "training_seconds": round(result.seconds, 2),
        "build_seconds": round(time.perf_counter() - start, 2),
        "n_train": len(audio),
        "n_augmented": n_augmented,
        "epochs": config.epochs,
        "standardised_input": standardise,
        "n_parameters": sum(p.numel() for p in network.parameters()),
        "threads": {**thread_settings(), "training_threads": TRAINING_THREADS},
        "feature_stats": stats.to_dict(),
    }
