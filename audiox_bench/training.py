"""Deterministic training of a network on precomputed features (CPU or GPU)."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm


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
    """Train ``network`` in place with Adam and cross-entropy, deterministically from ``config.seed``.

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
    torch.manual_seed(config.seed)
    generator = torch.Generator().manual_seed(config.seed)
    network.to(device).train()
    x = torch.from_numpy(np.ascontiguousarray(features, dtype=np.float32))
    y = torch.from_numpy(np.asarray(labels, dtype=np.int64))
    optimiser = torch.optim.Adam(
        network.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay
    )
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
