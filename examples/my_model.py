"""Bring your own model: register a classifier, then run the tasks on it.

A model is a function ``(device) -> Classifier`` registered with ``@audiox_bench.register_model``. For a
torch network, ``TorchClassifier`` gives it every capability the benchmark uses (features in and out,
gradients, batches, layer randomization) from four things: the network (features -> logits), the front
end (audio -> features, with ``stft`` and ``from_stft``), the labels, and whether they are independent
tags (sigmoid) or exclusive classes (softmax). The ``tags`` task explains the labels that name a source
(``piano``, ``drums``, ``guitar``, ``strings``, ``vocal`` ...).

This example keeps musicnn's network but only its six instrument tags, as a user would fine-tune or prune a
published tagger::

    audiox check --plugin examples/my_model.py
    audiox run --plugin examples/my_model.py --task tags:model=instruments --quick --out runs/mine
    audiox predict song.wav --plugin examples/my_model.py --task tags:model=instruments
"""

from __future__ import annotations

import torch
from torch import nn

import audiox_bench
from audiox_bench.models.musicnn import MTT_TAGS, MusicnnLogMel, load_musicnn
from audiox_bench.models.torch_classifier import TorchClassifier

INSTRUMENTS = ("piano", "drums", "guitar", "strings", "violin", "vocal")


class KeepTags(nn.Module):
    """A tagger network with only some of its outputs (here: musicnn's instrument tags)."""

    def __init__(self, network: nn.Module, keep: list[int]) -> None:
        super().__init__()
        self.network = network
        self.register_buffer("keep", torch.tensor(keep))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.network(features)[:, self.keep]


@audiox_bench.register_model("instruments")
def instruments(device: str = "cpu") -> TorchClassifier:
    """musicnn's network with only its instrument tags (example plugin).

    Parameters
    ----------
    device : str
        Torch device.
    """
    network = KeepTags(load_musicnn(), [MTT_TAGS.index(tag) for tag in INSTRUMENTS])
    return TorchClassifier(network, MusicnnLogMel(), INSTRUMENTS, device, multi_label=True, input_samples=48_000)
