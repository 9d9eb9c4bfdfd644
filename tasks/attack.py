"""Adversarial perturbations confined to known regions (Praher et al., ISMIR 2021; Hoedt et al. 2023).

The perturbation ``delta`` lives in the model's input domain (standardised log-mel features) or in the
waveform domain, and is multiplied by a 0/1 region mask at every step, so it is exactly zero outside its
regions. Loss, as in the reference: ``||delta||^2 + alpha * CE(f(x + delta), adversarial label)``.
The update feeds the sign of the gradient to Adam, and ``delta`` is clipped to ``[-epsilon, epsilon]``
(L-infinity). The attack stops at the first step where the model predicts the adversarial label.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from audiox_bench.core.classifier import Differentiable


@dataclass(frozen=True)
class AttackSettings:
    """Parameters of :func:`region_attack`.

    Attributes
    ----------
    alpha : float
        Weight of the cross-entropy against the squared norm of the perturbation.
    learning_rate : float
        Adam's step size (in units of the input: standardised log-mel, or waveform amplitude).
    epsilon : float
        L-infinity bound of the perturbation.
    max_steps : int
        Steps before the attack gives up.
    """

    alpha: float = 100.0
    learning_rate: float = 0.05
    epsilon: float = 3.0
    max_steps: int = 300

    def __post_init__(self) -> None:
        if self.alpha <= 0 or self.learning_rate <= 0 or self.epsilon <= 0 or self.max_steps < 1:
            raise ValueError("alpha, learning_rate and epsilon must be positive and max_steps at least 1")


@dataclass(frozen=True)
class AttackResult:
    """An attack's outcome: the perturbation (zero outside the mask), success, steps, SNR, time."""

    perturbation: np.ndarray
    success: bool
    steps: int
    snr_db: float
    seconds: float


def snr_db(clean: np.ndarray, perturbation: np.ndarray) -> float:
    """10 log10(||clean||^2 / ||perturbation||^2) in the attack's domain."""
    noise = float(np.sum(np.square(perturbation, dtype=np.float64)))
    return float("inf") if noise == 0 else float(10 * np.log10(np.sum(np.square(clean, dtype=np.float64)) / noise))


def region_attack(
    model: Differentiable, clean: np.ndarray, mask: np.ndarray, label: int, domain: str, settings: AttackSettings
) -> AttackResult:
    """Optimise a perturbation inside ``mask`` that makes ``model`` predict ``label``.

    Parameters
    ----------
    model : Differentiable
    clean : np.ndarray
        Features ``(n_mels, n_frames)`` (``domain="features"``) or a waveform ``(n_samples,)``
        (``domain="audio"``).
    mask : np.ndarray
        0/1 array of the shape of ``clean``: where the perturbation may be non-zero.
    label : int
        The class the perturbed input should be given.
    domain : str
        ``features`` or ``audio``.
    settings : AttackSettings
    """
    start = time.perf_counter()
    device = model.device
    x = torch.from_numpy(np.asarray(clean, np.float32))[None].to(device)
    region = torch.from_numpy(np.asarray(mask, np.float32))[None].to(device)
    delta = torch.zeros_like(x, requires_grad=True)
    optimiser = torch.optim.Adam([delta], lr=settings.learning_rate)
    target = torch.tensor([label], device=device)
    loss_fn = nn.CrossEntropyLoss()

    def logits_of(perturbed: torch.Tensor) -> torch.Tensor:
        features = perturbed if domain == "features" else model.audio_features(perturbed)
        return model.logits(features)

    success, steps = False, 0
    with torch.enable_grad():
        for steps in range(1, settings.max_steps + 1):  # noqa: B007 - the last step is reported
            confined = delta * region
            logits = logits_of(x + confined)
            if int(logits.argmax(1)) == label:
                success = True
                break
            loss = confined.square().sum() + settings.alpha * loss_fn(logits, target)
            (gradient,) = torch.autograd.grad(loss, delta)  # the network's parameters get no gradient
            delta.grad = gradient.sign()
            optimiser.step()
            with torch.no_grad():
                delta.clamp_(-settings.epsilon, settings.epsilon)
    perturbation = (delta * region).detach()[0].cpu().numpy()
    if not success:  # the last update may have flipped it
        success = int(logits_of(x + (delta * region).detach()).argmax(1)) == label
    return AttackResult(
        perturbation.astype(np.float32), bool(success), steps, snr_db(clean, perturbation), time.perf_counter() - start
    )
