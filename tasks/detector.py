"""The singing-voice detector the ``vocals`` and ``adversarial`` tasks explain: its excerpts (an
instrumental bed and a sung vocal at a random level), its training, the hybrids that inject a vocal into
3 of 10 segments (Mishra et al. 2020, Sec. IV), and its validity checks.

The ``vocals`` task serves hybrids; the ``adversarial`` task attacks the same detector (shared through the
model cache) on excerpts of a split of its own. Each (split, index) is drawn from its own generator, so an
excerpt does not depend on which others were drawn. The detector's input is log-mel standardised per mel
band with the training set's statistics (as in the reference code), so ``zero`` occlusion means "the
training set's band mean", not silence.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from audiox_bench.core.classifier import Classifier, FeatureClassifier
from audiox_bench.core.components import segment_edges
from audiox_bench.core.data import Example, predict_examples
from audiox_bench.core.documents import ValidityCheck
from audiox_bench.core.registry import contents
from audiox_bench.models.frontends import LogMel, LogMelConfig
from audiox_bench.models.networks import build_network
from audiox_bench.models.torch_classifier import TorchClassifier
from audiox_bench.tasks.stems.banks import StemBankSet, bank_sizes, db_gain
from audiox_bench.tasks.trained_model import Built, TrainingSettings, cached_valid, first_valid, trained_classifier

CLASSES = ("no_vocals", "vocals")
FORMS = ("features", "audio")
PARTIAL_SPAN = (0.2, 0.7)  # share of the excerpt a partial vocal covers in training
N_SEGMENTS = 10
N_INJECTED = 3
CROSSFADE_SECONDS = 0.01
SR = 16_000
DURATION = 2.0
TRAINING = TrainingSettings()  # the defaults of the detector
NOISE_AUGMENTATION = 0.25  # share of training excerpts also trained on with noise-filled segments
# What the detector's tasks switch segments off to in their metrics (Task.baseline).
DETECTOR_BASELINE = "noise_norm"
DETECTOR_BASELINE_REASON = (
    "band noise with the training set's per-band mean and spread, drawn per instance apart from any "
    "explainer's draws: the detector was trained to read noise-filled segments as neither sung nor not "
    "(noise_augmentation) and is checked not to call noise vocals, so a noise-filled segment carries nothing; "
    "no explainer's own fill equals it"
)

BED_ROLES = ("piano", "guitar", "bass", "drums", "strings")
# Probability that a bed contains each role besides its lead (piano or guitar), and mixing gains in dB.
ROLE_PROBABILITY = {"piano": 0.4, "guitar": 0.4, "bass": 0.8, "drums": 0.6, "strings": 0.3}
GAINS_DB = {"piano": (-3, 3), "guitar": (-3, 3), "bass": (-4, 3), "drums": (-2, 3), "strings": (-6, 3)}
SNR_DB = (-6.0, 3.0)  # vocal-to-bed level
# Each consumer of excerpts draws from splits of its own; test-time splits share the test stem banks.
SPLIT_CODES = {"train": 1, "val": 2, "validity": 3, "hybrids": 4, "test": 5, "adversarial": 6}
BANK_OFFSET = 1000  # stem banks of the vocal task's seed s are drawn from seed s + 1000


def rms(audio: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(audio, dtype=np.float64))))


class VocalExcerpts:
    """Beds and vocals drawn per (split, index) from stem banks.

    Parameters
    ----------
    seed : int
        Seed of the stems and of every draw.
    n_stems : int
        Stems per role in the training banks (validation and test banks get 1/5 and 2/5 of it).
    sr : int
    duration : float
        Seconds per excerpt.
    """

    def __init__(self, seed: int, n_stems: int, sr: int, duration: float) -> None:
        self.seed, self.sr, self.duration = int(seed), int(sr), float(duration)
        self.banks = StemBankSet((*BED_ROLES, "vocals"), bank_sizes(n_stems), self.seed + BANK_OFFSET, sr, duration)

    def excerpt(self, split: str, index: int) -> tuple[np.ndarray, np.ndarray, np.random.Generator]:
        """The instrumental bed of excerpt ``index`` of ``split``, its vocal (scaled to a random SNR),
        and the excerpt's generator for any further choices.

        Parameters
        ----------
        split : str
            One of ``train``, ``val``, ``validity``, ``hybrids``, ``test``, ``adversarial``.
        index : int
        """
        rng = np.random.default_rng([self.seed, SPLIT_CODES[split], index])
        banks = self.banks.split(split if split in ("train", "val") else "test")
        lead = str(rng.choice(["piano", "guitar"]))
        roles = [lead] + [r for r in BED_ROLES if r != lead and rng.random() < ROLE_PROBABILITY[r]]
        bed = np.zeros(round(self.sr * self.duration), np.float32)
        for role in roles:  # fixed role order, so the float32 sum is reproducible
            bank = banks[role]
            bed += bank[int(rng.integers(len(bank)))] * np.float32(db_gain(rng, *GAINS_DB[role]))
        vocal = banks["vocals"][int(rng.integers(len(banks["vocals"])))]
        snr = rng.uniform(*SNR_DB)
        vocal = vocal * np.float32(rms(bed) / max(rms(vocal), 1e-8) * 10 ** (snr / 20))
        return bed, vocal.astype(np.float32), rng


def segment_seconds(model: FeatureClassifier, example: Example, n_segments: int) -> np.ndarray:
    """Edges in seconds (``n_segments + 1``) of ``n_segments`` equal time segments of ``example``'s model
    input, as its feature factorizations cut them."""
    features = example.features if example.features is not None else model.features(example.audio)[0]
    bounds = model.segment_sample_bounds(features.shape[-1], n_segments, example.audio.size)
    return np.asarray(bounds, dtype=np.float64) / example.sr


def segment_gate(n_samples: int, segments: list[int], n_segments: int, sr: int) -> np.ndarray:
    """1 inside the chosen time segments and 0 elsewhere, with raised-cosine crossfades of
    ``CROSSFADE_SECONDS`` centred on the segment boundaries.

    Returns
    -------
    np.ndarray [shape=(n_samples,), dtype=float32]
    """
    edges = segment_edges(n_samples, n_segments)
    gate = np.zeros(n_samples)
    for k in segments:
        gate[edges[k] : edges[k + 1]] = 1.0
    width = max(1, int(CROSSFADE_SECONDS * sr))
    window = np.hanning(width + 2)[1:-1]
    smoothed = np.convolve(np.pad(gate, (width, width), mode="edge"), window / window.sum(), mode="same")
    return smoothed[width:-width].astype(np.float32)


def fully_sung_or_instrumental(index: int) -> bool:
    """Training excerpt ``index`` is instrumental or sung throughout (not partly sung)."""
    return index % 2 == 0 or (index // 2) % 2 == 0


@dataclass
class SingingVoiceDetector:
    """The detector's data, training and validity; a task holds one and prepares it once.

    Parameters
    ----------
    training : TrainingSettings
    noise_augmentation : float
        Share of the instrumental and fully sung training excerpts also trained on as a copy with some
        segments replaced by band-standardised noise, keeping their label (0 disables it).
    device : str
    level_db : float
        Gain of the vocal in the hybrids (explained examples and the hybrid detection check), in dB
        relative to its training level (drawn per excerpt from ``SNR_DB``): below 0 the injected
        segments are fainter, the task harder.
    """

    training: TrainingSettings
    noise_augmentation: float
    device: str
    level_db: float = 0.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.noise_augmentation <= 1.0:
            raise ValueError(f"noise_augmentation must be between 0 and 1, got {self.noise_augmentation}")
        self.excerpts = VocalExcerpts(self.training.seed, self.training.n_stems, SR, DURATION)
        # 80 mel bands, as in the singing-voice detector the paper explains (Schlueter and Grill 2015).
        self.frontend_config = LogMelConfig(sr=SR, n_fft=1024, hop_length=512, n_mels=80)

    # -- data ------------------------------------------------------------------------------------
    def noise_copies(self, features: np.ndarray, labels: np.ndarray, train_seed: int) -> tuple[np.ndarray, np.ndarray]:
        """Copies of a share of the instrumental and fully sung training excerpts with some of their 10
        segments replaced by standardised band noise (the ``noise_norm`` occlusion content: N(0, 1) per
        cell of the standardised input), keeping their labels."""
        rng = np.random.default_rng([self.training.seed, train_seed, 7])
        chosen = [
            i for i in range(len(labels)) if fully_sung_or_instrumental(i) and rng.random() < self.noise_augmentation
        ]
        edges = segment_edges(features.shape[-1], N_SEGMENTS)
        copies = features[chosen].copy()
        for copy, index in zip(copies, chosen):
            most = N_SEGMENTS if labels[index] == 0 else N_SEGMENTS // 2  # a sung copy stays mostly sung
            for k in rng.choice(N_SEGMENTS, int(rng.integers(1, most + 1)), replace=False):
                copy[:, edges[k] : edges[k + 1]] = rng.standard_normal((copy.shape[0], edges[k + 1] - edges[k]))
        return copies.astype(np.float32), labels[chosen]

    def training_set(self, split: str, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Excerpts alternating instrumental / with vocals; every second vocal one only partly sung."""
        audio, labels = [], []
        for i in range(n):
            bed, vocal, rng = self.excerpts.excerpt(split, i)
            label = i % 2
            if label and (i // 2) % 2:
                span = rng.uniform(*PARTIAL_SPAN)
                start = rng.uniform(0.0, 1.0 - span)
                gate = np.zeros(bed.size, np.float32)
                gate[int(start * bed.size) : int((start + span) * bed.size)] = 1.0
                width = int(CROSSFADE_SECONDS * SR)
                gate = np.convolve(gate, np.hanning(width) / np.hanning(width).sum(), mode="same").astype(np.float32)
                vocal = vocal * gate
            audio.append(bed + vocal if label else bed)
            labels.append(label)
        return np.stack(audio), np.array(labels)

    def hybrid(self, split: str, index: int, model: Classifier, form: str) -> Example:
        """Hybrid excerpt ``index``: 3 of 10 segments from the vocal version of the same bed, as features
        (the paper's) or as audio (the vocal stem gated into the segments)."""
        bed, vocal, rng = self.excerpts.excerpt(split, index)
        if self.level_db:
            vocal = vocal * np.float32(10 ** (self.level_db / 20))
        injected = sorted(int(k) for k in rng.choice(N_SEGMENTS, N_INJECTED, replace=False))
        meta = {"injected_segments": injected, "form": form, "n_segments": N_SEGMENTS, "index": index}
        example_id = f"{split}-{index:04d}"
        if form == "audio":
            stems = {"vocals": vocal * segment_gate(bed.size, injected, N_SEGMENTS, SR), "accompaniment": bed}
            return Example(example_id, stems["vocals"] + bed, SR, 1, stems, meta)
        features = model.features(np.stack([bed, bed + vocal]))
        frames = segment_edges(features.shape[-1], N_SEGMENTS)
        hybrid = features[0].copy()
        for k in injected:
            hybrid[:, frames[k] : frames[k + 1]] = features[1][:, frames[k] : frames[k + 1]]
        return Example(example_id, bed, SR, 1, None, meta, features=hybrid)

    @staticmethod
    def detected(model: Classifier, examples: Sequence[Example]) -> np.ndarray:
        """Whether the detector calls each example vocal."""
        return predict_examples(model, examples).argmax(axis=1) == CLASSES.index("vocals")

    # -- model ---------------------------------------------------------------------------------
    def prepare(self, form: str, progress: bool) -> Built:
        """The trained (or cached) detector whose checks pass first, its checks and its card; the hybrid
        detection rate is measured in ``form``."""
        self.excerpts.banks.progress = progress
        return first_valid(lambda seed: self._build(seed, form, progress), self.training.seeds, self._context(form))

    def _context(self, form: str) -> str:
        """What the remembered validity verdict depends on besides the model: the hybrids' form and level."""
        return f"vocals:{form}" + (f":level_db={self.level_db:g}" if self.level_db else "")

    def load_model(self, form: str) -> Classifier | None:
        """The detector :meth:`prepare` keeps, from the cache without making any data; None when that is
        not known yet."""
        return cached_valid(
            "vocals",
            self._description,
            self._make_modules,
            CLASSES,
            self.training.seeds,
            self._context(form),
            self.device,
            round(SR * DURATION),
        )

    def _make_modules(self, seed: int):
        network = build_network(self.training.architecture, self.frontend_config.n_mels, len(CLASSES), seed)
        n_mels = self.frontend_config.n_mels
        return network, LogMel(self.frontend_config, band_mean=np.zeros(n_mels), band_std=np.ones(n_mels))

    def _description(self, train_seed: int) -> dict[str, Any]:
        """Everything that determines the weights of the detector trained with ``train_seed``."""
        description: dict[str, Any] = {
            "task": "vocals",
            **self.training.describe(),
            "train_seed": train_seed,
            "banks": self.excerpts.banks.sizes,
            "gains_db": GAINS_DB,
            "role_probability": ROLE_PROBABILITY,
            "snr_db": SNR_DB,
            "partial_span": PARTIAL_SPAN,
            "frontend": self.frontend_config.to_dict(),
        }
        if self.noise_augmentation:  # absent when off, so models trained without it stay in the cache
            description["noise_augmentation"] = self.noise_augmentation
        return description

    def _build(self, train_seed: int, form: str, progress: bool) -> Built:
        model, card = trained_classifier(
            "vocals",
            self._description(train_seed),
            lambda: self._make_modules(train_seed),
            lambda: self.training_set("train", self.training.n_train),
            CLASSES,
            self.training,
            train_seed,
            round(SR * DURATION),
            self.device,
            progress,
            standardise=True,
            augment=lambda features, labels: self.noise_copies(features, labels, train_seed),
        )
        n_val = min(self.training.n_validity, 2 * self.excerpts.banks.sizes["val"] * 4)
        val_audio, val_labels = self.training_set("val", n_val)
        checks = self.validity_checks(model, form)
        card = {
            **card,
            **{c.name: c.value for c in checks},
            "accuracy_val_with_partial": float(np.mean(model.predict_proba(val_audio).argmax(1) == val_labels)),
            "n_validity": self.training.n_validity,
        }
        return model, checks, card

    def validity_checks(self, model: TorchClassifier, form: str) -> list[ValidityCheck]:
        """Accuracy on held-out fully sung vs instrumental excerpts, the hybrid detection rate, and how
        often the detector calls noise vocals: excerpts of band noise only (the ``noise_norm`` content)
        and instrumental excerpts with 3 of 10 segments filled with it."""
        n = self.training.n_validity
        labels = np.arange(n) % 2
        excerpts = [self.excerpts.excerpt("validity", i) for i in range(n)]
        full = np.stack([bed + vocal if label else bed for label, (bed, vocal, _) in zip(labels, excerpts)])
        features = model.features(full)
        accuracy = float(np.mean(model.predict_features(features).argmax(1) == labels))
        hybrids = [self.hybrid("hybrids", i, model, form) for i in range(n)]
        detected = float(np.mean(self.detected(model, hybrids)))
        noise = contents.build("noise_norm")
        rng = np.random.default_rng([self.training.seed, 8])
        edges = segment_edges(features.shape[-1], N_SEGMENTS)
        noise_only, with_noise = [], []
        for instrumental in features[labels == 0]:
            noise_only.append(noise.fill(instrumental, model.feature_stats, rng))
            mixed = instrumental.copy()
            for k in rng.choice(N_SEGMENTS, N_INJECTED, replace=False):
                mixed[:, edges[k] : edges[k + 1]] = noise_only[-1][:, edges[k] : edges[k + 1]]
            with_noise.append(mixed)
        vocals = CLASSES.index("vocals")
        return [
            ValidityCheck("accuracy_full_vocal_vs_instrumental", accuracy, 0.90, ">="),
            ValidityCheck(f"hybrid_detection_rate_{form}", detected, 0.50, ">="),
            ValidityCheck(
                "noise_called_vocals_rate",
                float(np.mean(model.predict_features(np.stack(noise_only)).argmax(1) == vocals)),
                0.50,
                "<=",
            ),
            ValidityCheck(
                "instrumental_with_noise_segments_called_vocals_rate",
                float(np.mean(model.predict_features(np.stack(with_noise)).argmax(1) == vocals)),
                0.50,
                "<=",
            ),
        ]
