"""The musicnn taggers (Pons and Serra, 2019) ported to torch, with the weights of the ``musicnn`` wheel.

``MTT_musicnn`` and ``MTT_vgg`` tag 3 s of 16 kHz audio with the 50 MagnaTagATune tags. Their weights
are read at run time from the TensorFlow checkpoints the ``musicnn==0.1.0`` package ships (located
without importing its TensorFlow code; see :mod:`audiox_bench.models.tensor_bundle`). The networks here
are written from the published architecture, in inference mode: batch norm with its moving statistics
(epsilon 0.001, TensorFlow's default), no dropout, sigmoid outputs.

Input: musicnn's log-mel, computed in torch on a batch: mel power (n_fft 512, hop 256, 96 Slaney mel
bands, centred zero-padded frames), rounded to float16 as the original stores it, then
``log10(10000 x + 1)`` in float32, 187 frames (3 s). Features are ``(n, 96 mels, 187 frames)``.
"""

from __future__ import annotations

import importlib.util
from dataclasses import asdict, dataclass
from pathlib import Path

import librosa
import numpy as np
import torch
from torch import nn
from torch.nn import functional

from audiox_bench.core.errors import AudioxError
from audiox_bench.models.frontends import librosa_framed_stft
from audiox_bench.models.reinitialization import BlockNetwork
from audiox_bench.models.tensor_bundle import read_checkpoint

MTT_TAGS = (
    "guitar",
    "classical",
    "slow",
    "techno",
    "strings",
    "drums",
    "electronic",
    "rock",
    "fast",
    "piano",
    "ambient",
    "beat",
    "violin",
    "vocal",
    "synth",
    "female",
    "indian",
    "opera",
    "male",
    "singing",
    "vocals",
    "no vocals",
    "harpsichord",
    "loud",
    "quiet",
    "flute",
    "woman",
    "male vocal",
    "no vocal",
    "pop",
    "soft",
    "sitar",
    "solo",
    "man",
    "classic",
    "choir",
    "voice",
    "new age",
    "dance",
    "male voice",
    "female vocal",
    "beats",
    "harp",
    "cello",
    "no voice",
    "weird",
    "country",
    "metal",
    "female voice",
    "choral",
)  # musicnn's configuration.MTT_LABELS, in output order
BN_EPSILON = 1e-3  # tf.layers.batch_normalization's default
INSTALL = "pip install --no-deps musicnn==0.1.0"


@dataclass(frozen=True)
class MusicnnConfig:
    """musicnn's input representation."""

    sr: int = 16_000
    n_fft: int = 512
    hop_length: int = 256
    n_mels: int = 96
    n_frames: int = 187  # 3 s

    @property
    def input_samples(self) -> int:
        """Samples of audio one input covers (``n_frames`` centred frames)."""
        return (self.n_frames - 1) * self.hop_length + 1 if self.n_frames > 1 else self.hop_length

    def key(self) -> str:
        return f"musicnn-stft:sr={self.sr},n_fft={self.n_fft},hop={self.hop_length}"

    def to_dict(self) -> dict:
        return asdict(self)


class MusicnnLogMel(nn.Module):
    """Audio ``(batch, samples)`` -> musicnn's log-mel ``(batch, 96, 187)``, batched in torch."""

    def __init__(self, config: MusicnnConfig | None = None) -> None:
        super().__init__()
        self.config = config or MusicnnConfig()
        mel = librosa.filters.mel(sr=self.config.sr, n_fft=self.config.n_fft, n_mels=self.config.n_mels)
        self.register_buffer("mel_basis", torch.from_numpy(mel.astype(np.float32)))
        self.register_buffer("window", torch.hann_window(self.config.n_fft, periodic=True))

    def stft(self, audio: torch.Tensor) -> torch.Tensor:
        """Complex STFT ``(batch, 257, frames)`` with librosa's framing (centred, zero padding)."""
        return librosa_framed_stft(audio, self.config.n_fft, self.config.hop_length, self.window)

    def from_stft(self, spectrum: torch.Tensor) -> torch.Tensor:
        """The log-mel of a complex STFT: float16-rounded mel power, ``log10(10000 x + 1)``, 187 frames."""
        power = spectrum.real.square() + spectrum.imag.square()
        mel_power = torch.matmul(self.mel_basis, power)[..., : self.config.n_frames]
        return torch.log10(10000.0 * mel_power.half().float() + 1.0)

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        return self.from_stft(self.stft(audio))


class _FrozenBatchNorm(nn.BatchNorm1d):
    """Batch norm over channels with TensorFlow's epsilon, for inputs ``(batch, channels, ...)``."""

    def __init__(self, channels: int) -> None:
        super().__init__(channels, eps=BN_EPSILON)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape = (1, -1) + (1,) * (x.dim() - 2)
        scale = (self.weight / torch.sqrt(self.running_var + self.eps)).view(shape)
        return (x - self.running_mean.view(shape)) * scale + self.bias.view(shape)


def _max_over_frequency(maps: torch.Tensor, norm: _FrozenBatchNorm, relu: nn.ReLU) -> torch.Tensor:
    """``norm(relu(maps)).amax(dim=3)``, computed on the pooled maps: ReLU and each channel's batch-norm
    affine map are monotone (in float arithmetic too), so the maximum over frequency commutes with them,
    taken where the channel's scale is positive and the minimum where it is negative. Equal to the
    direct order bit for bit, without three passes over the full-resolution maps."""
    scale = norm.weight / torch.sqrt(norm.running_var + norm.eps)
    positive = (scale >= 0).view(1, -1, 1)
    pooled = torch.where(positive, maps.amax(dim=3), maps.amin(dim=3))
    return norm(relu(pooled))


class MusiCNN(BlockNetwork):
    """musicnn: a musically motivated front end (timbral and temporal filters), a dense mid end with
    residual connections, a pooling and dense back end. Features ``(n, 96, 187)`` -> 50 logits.

    Every nonlinearity is an ``nn.ReLU`` module of its own (none reused), so the methods that follow ReLU
    modules (Captum's DeepLift, DeepLiftShap, GuidedBackprop, Deconvolution) apply; they hold no
    parameters, so the state dict is the original port's. ``cam_layer`` is the layer Grad-CAM and the
    other layer methods read by default: the mid end's last convolution, one value per frame.
    """

    cam_layer = "midend.2"
    map_axes = ("time", "mel")  # the front end's 2-D maps are (frames, mel bands)

    def __init__(self, n_mels: int = 96, n_classes: int = 50, midend_filters: int = 64, backend_units: int = 200):
        super().__init__()
        timbral_filters, temporal_filters = int(1.6 * 128), int(1.6 * 32)
        self.input_norm = _FrozenBatchNorm(1)
        self.timbral = nn.ModuleList(nn.Conv2d(1, timbral_filters, (7, int(width * n_mels))) for width in (0.4, 0.7))
        self.timbral_norms = nn.ModuleList(_FrozenBatchNorm(timbral_filters) for _ in range(2))
        self.temporal = nn.ModuleList(nn.Conv2d(1, temporal_filters, (length, 1)) for length in (128, 64, 32))
        self.temporal_norms = nn.ModuleList(_FrozenBatchNorm(temporal_filters) for _ in range(3))
        self.front_relus = nn.ModuleList(nn.ReLU() for _ in range(5))
        frontend_channels = 2 * timbral_filters + 3 * temporal_filters
        self.midend = nn.ModuleList(
            nn.Conv1d(frontend_channels if i == 0 else midend_filters, midend_filters, 7) for i in range(3)
        )
        self.midend_norms = nn.ModuleList(_FrozenBatchNorm(midend_filters) for _ in range(3))
        self.midend_relus = nn.ModuleList(nn.ReLU() for _ in range(3))
        pooled = 2 * (frontend_channels + 3 * midend_filters)
        self.pool_norm = _FrozenBatchNorm(pooled)
        self.dense = nn.Linear(pooled, backend_units)
        self.dense_norm = _FrozenBatchNorm(backend_units)
        self.dense_relu = nn.ReLU()
        self.output = nn.Linear(backend_units, n_classes)

    def randomization_blocks(self) -> list[list[nn.Module]]:
        return [
            [self.input_norm, *self.timbral, *self.timbral_norms, *self.temporal, *self.temporal_norms],
            [*self.midend, *self.midend_norms],
            [self.pool_norm, self.dense, self.dense_norm, self.output],
        ]

    def front(self, features: torch.Tensor) -> torch.Tensor:
        """The front end's feature maps ``(n, 561, frames)``."""
        x = self.input_norm(features.transpose(1, 2).unsqueeze(1))  # (n, 1, frames, mels)
        maps = []
        relus = iter(self.front_relus)
        for conv, norm in zip(self.timbral, self.timbral_norms):
            maps.append(_max_over_frequency(conv(functional.pad(x, (0, 0, 3, 3))), norm, next(relus)))
        for conv, norm in zip(self.temporal, self.temporal_norms):
            length = conv.kernel_size[0]  # "same" padding: TensorFlow puts the odd sample after
            padded = functional.pad(x, (0, 0, (length - 1) // 2, length // 2))
            maps.append(_max_over_frequency(conv(padded), norm, next(relus)))
        return torch.cat(maps, dim=1)

    def penultimate(self, features: torch.Tensor) -> torch.Tensor:
        """The back end's penultimate dense layer (after its batch norm), ``(n, 200)``."""
        front = self.front(features)
        layers, x = [front], front
        for i, (conv, norm, relu) in enumerate(zip(self.midend, self.midend_norms, self.midend_relus)):
            y = norm(relu(conv(functional.pad(x, (3, 3)))))
            x = y if i == 0 else x + y
            layers.append(x)
        stacked = torch.cat(layers, dim=1)  # (n, 753, frames)
        pooled = torch.stack([stacked.amax(dim=2), stacked.mean(dim=2)], dim=2).flatten(1)  # max, mean per channel
        return self.dense_norm(self.dense_relu(self.dense(self.pool_norm(pooled))))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.output(self.penultimate(features))


class MusicnnVGG(BlockNetwork):
    """musicnn's VGG baseline: five 3x3 convolution blocks with batch norm and max pooling on the whole
    log-mel, one dense layer. Features ``(n, 96, 187)`` -> 50 logits. ReLU modules, one per block, as in
    :class:`MusiCNN`; Grad-CAM reads the last convolution by default."""

    cam_layer = "convs.4"
    map_axes = ("time", "mel")  # the network reads the log-mel transposed: (frames, mel bands)

    POOLS = (((4, 1), (2, 2)), ((2, 2), (2, 2)), ((2, 2), (2, 2)), ((2, 2), (2, 2)), ((4, 4), (4, 4)))

    def __init__(self, n_classes: int = 50, filters: int = 128, flat: int = 256) -> None:
        super().__init__()
        self.input_norm = _FrozenBatchNorm(1)
        self.convs = nn.ModuleList(nn.Conv2d(1 if i == 0 else filters, filters, 3, padding=1) for i in range(5))
        self.norms = nn.ModuleList(_FrozenBatchNorm(filters) for _ in range(5))
        self.relus = nn.ModuleList(nn.ReLU() for _ in range(5))
        self.output = nn.Linear(flat, n_classes)

    def randomization_blocks(self) -> list[list[nn.Module]]:
        return [
            [self.input_norm, self.convs[0], self.norms[0]],
            *([conv, norm] for conv, norm in zip(self.convs[1:], self.norms[1:])),
            [self.output],
        ]

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        x = self.input_norm(features.transpose(1, 2).unsqueeze(1))  # (n, 1, frames, mels)
        for conv, norm, relu, (kernel, stride) in zip(self.convs, self.norms, self.relus, self.POOLS):
            x = functional.max_pool2d(norm(relu(conv(x))), kernel, stride)
        return self.output(x.permute(0, 2, 3, 1).flatten(1))  # TensorFlow flattens channels last


def checkpoint_dir(model: str) -> Path:
    """The checkpoint directory of ``model`` in the installed ``musicnn`` package (TensorFlow not imported).

    Raises
    ------
    AudioxError
        If ``musicnn`` is not installed, naming the command that installs it.
    """
    spec = importlib.util.find_spec("musicnn")
    if spec is None or spec.origin is None:
        raise AudioxError(f"the musicnn weights are not installed: {INSTALL}")
    path = Path(spec.origin).parent / model
    if not (path / ".index").is_file():
        raise AudioxError(f"the musicnn package has no {model} checkpoint at {str(path)!r}; reinstall: {INSTALL}")
    return path


def _load_norm(norm: _FrozenBatchNorm, tensors: dict[str, np.ndarray], name: str) -> None:
    for attribute, key in (
        ("weight", "gamma"),
        ("bias", "beta"),
        ("running_mean", "moving_mean"),
        ("running_var", "moving_variance"),
    ):
        getattr(norm, attribute).data.copy_(torch.from_numpy(tensors[f"{name}/{key}"]))


def _load_conv(conv: nn.Module, tensors: dict[str, np.ndarray], name: str) -> None:
    kernel = torch.from_numpy(tensors[f"{name}/kernel"])  # TensorFlow: (height, width, in, out)
    if isinstance(conv, nn.Conv1d):  # a 2-D convolution spanning all its input's features: 1-D over time
        weight = kernel[:, :, 0, :].permute(2, 1, 0)
    else:
        weight = kernel.permute(3, 2, 0, 1)
    conv.weight.data.copy_(weight)
    conv.bias.data.copy_(torch.from_numpy(tensors[f"{name}/bias"]))


def _load_dense(dense: nn.Linear, tensors: dict[str, np.ndarray], name: str) -> None:
    dense.weight.data.copy_(torch.from_numpy(tensors[f"{name}/kernel"]).T)
    dense.bias.data.copy_(torch.from_numpy(tensors[f"{name}/bias"]))


def load_musicnn(model: str = "MTT_musicnn") -> MusiCNN:
    """``MTT_musicnn`` with its published weights."""
    tensors = read_checkpoint(checkpoint_dir(model))
    network = MusiCNN()
    norms = [
        network.input_norm,
        *network.timbral_norms,
        *network.temporal_norms,
        *network.midend_norms,
        network.pool_norm,
        network.dense_norm,
    ]
    for i, norm in enumerate(norms):  # created in this order by the original graph
        _load_norm(norm, tensors, "batch_normalization" + (f"_{i}" if i else ""))
    for i, conv in enumerate([*network.timbral, *network.temporal, *network.midend]):
        _load_conv(conv, tensors, "conv2d" + (f"_{i}" if i else ""))
    _load_dense(network.dense, tensors, "dense")
    _load_dense(network.output, tensors, "dense_1")
    return network.eval()


def load_vgg(model: str = "MTT_vgg") -> MusicnnVGG:
    """``MTT_vgg`` with its published weights."""
    tensors = read_checkpoint(checkpoint_dir(model))
    network = MusicnnVGG()
    for i, norm in enumerate([network.input_norm, *network.norms]):
        _load_norm(norm, tensors, "batch_normalization" + (f"_{i}" if i else ""))
    for i, conv in enumerate(network.convs):
        _load_conv(conv, tensors, f"{i + 1}CNN")
    _load_dense(network.output, tensors, "dense")
    return network.eval()
