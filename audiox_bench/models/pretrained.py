"""Published pretrained models, registered in :data:`audiox_bench.core.registry.models` (a task that
explains a real model, such as ``tags``, takes one by name: ``tags:model=vgg_mtt``). A plugin registers its
own the same way, with ``@audiox_bench.register_model("name")`` on a function ``(device) -> Classifier``.
"""

from __future__ import annotations

from audiox_bench.models.musicnn import MTT_TAGS, MusicnnLogMel, load_musicnn, load_vgg
from audiox_bench.models.torch_classifier import TorchClassifier

THREE_SECONDS = 48_000  # musicnn's input: 3 s at 16 kHz


def musicnn_mtt(device: str = "cpu") -> TorchClassifier:
    """musicnn (MTT_musicnn; Pons and Serra 2019): 50 MagnaTagATune tags from 3 s of 16 kHz audio, with the
    weights of the musicnn 0.1.0 wheel.

    Parameters
    ----------
    device : str
        Torch device.
    """
    return TorchClassifier(
        load_musicnn("MTT_musicnn"), MusicnnLogMel(), MTT_TAGS, device, multi_label=True, input_samples=THREE_SECONDS
    )


def vgg_mtt(device: str = "cpu") -> TorchClassifier:
    """musicnn's VGG baseline (MTT_vgg): 50 MagnaTagATune tags from 3 s of 16 kHz audio, with the weights
    of the musicnn 0.1.0 wheel.

    Parameters
    ----------
    device : str
        Torch device.
    """
    return TorchClassifier(
        load_vgg("MTT_vgg"), MusicnnLogMel(), MTT_TAGS, device, multi_label=True, input_samples=THREE_SECONDS
    )
