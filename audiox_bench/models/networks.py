"""Small torch networks over log-mel input ``(batch, n_mels, frames)``."""

from __future__ import annotations

import torch
from torch import nn

LAYERS_PER_BLOCK = 4  # convolution, batch norm, ReLU, max-pool


def last_convolution(channels: tuple[int, ...]) -> str:
    """The module path of the last convolution of :func:`conv_blocks` under ``blocks`` (Grad-CAM's default)."""
    return f"blocks.{LAYERS_PER_BLOCK * (len(channels) - 1)}"


def conv_blocks(dimensions: int, in_channels: int, channels: tuple[int, ...]) -> nn.Sequential:
    """Blocks of kernel-3 convolution, batch norm, ReLU and max-pool 2, in 1-D or 2-D."""
    conv, norm, pool = {1: (nn.Conv1d, nn.BatchNorm1d, nn.MaxPool1d), 2: (nn.Conv2d, nn.BatchNorm2d, nn.MaxPool2d)}[
        dimensions
    ]
    layers: list[nn.Module] = []
    for out_channels in channels:
        layers += [
            conv(in_channels, out_channels, kernel_size=3, padding=1, bias=False),
            norm(out_channels),
            nn.ReLU(inplace=True),
            pool(2),
        ]
        in_channels = out_channels
    return nn.Sequential(*layers)


class VGGish(nn.Module):
    """A small VGG-style 2-D CNN: blocks of 3x3 conv, batch norm, ReLU, 2x2 max-pool; global pooling.

    Parameters
    ----------
    n_classes : int
        Number of output logits.
    channels : tuple of int
        Output channels of each block (one block per entry).

    Attributes
    ----------
    cam_layer : str
        The last convolution, whose maps ``(mel, time)`` the layer explainers read by default.
    """

    def __init__(self, n_classes: int, channels: tuple[int, ...] = (8, 16, 24, 32)) -> None:
        super().__init__()
        self.blocks = conv_blocks(2, 1, channels)
        self.cam_layer = last_convolution(channels)
        self.pool = nn.AdaptiveMaxPool2d(1)
        self.head = nn.Linear(channels[-1], n_classes)

    def forward(self, features):
        x = self.blocks(features.unsqueeze(1))
        return self.head(self.pool(x).flatten(1))


class TemporalCNN(nn.Module):
    """A 1-D CNN over time with mel bands as input channels (several times faster than 2-D on CPU).

    Parameters
    ----------
    n_mels : int
        Number of mel bands (input channels).
    n_classes : int
        Number of output logits.
    channels : tuple of int
        Output channels of each conv block (kernel 3, batch norm, ReLU, max-pool 2).

    Attributes
    ----------
    cam_layer : str
        The last convolution, whose maps over time the layer explainers read by default.
    """

    def __init__(self, n_mels: int, n_classes: int, channels: tuple[int, ...] = (64, 64, 64)) -> None:
        super().__init__()
        self.blocks = conv_blocks(1, n_mels, channels)
        self.cam_layer = last_convolution(channels)
        self.pool = nn.AdaptiveMaxPool1d(1)
        self.head = nn.Linear(channels[-1], n_classes)

    def forward(self, features):
        return self.head(self.pool(self.blocks(features)).flatten(1))


ARCHITECTURES = ("vggish", "temporal")


def build_network(architecture: str, n_mels: int, n_classes: int, seed: int = 0) -> nn.Module:
    """Network by name, ``vggish`` (2-D) or ``temporal`` (1-D over time), initialised from ``seed``.

    The global torch random state is left as it was.
    """
    if architecture not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {architecture!r}; choose one of {', '.join(ARCHITECTURES)}")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        if architecture == "vggish":
            return VGGish(n_classes)
        return TemporalCNN(n_mels, n_classes)
