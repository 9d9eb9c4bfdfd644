"""The vocal-injection task (Mishra, Benetos, Sturm, Dixon, "Reliable Local Explanations for Machine
Listening", IJCNN 2020, Sec. IV-V).

A singing-voice detector is trained on instrumental beds with and without a sung vocal. A test excerpt is
an instrumental bed cut into 10 temporal segments, 3 of which (chosen at random) take their content from
the vocal version of the same bed at the same time. Hybrids the detector calls "vocals" are kept (as in
the paper); for them, the truth of what drives the detection is the 3 injected segments.

Two forms of the same hybrid:

- ``form=features`` (the paper's): the log-mel columns of the injected segments are copied from the vocal
  version's features. The example carries these features (``Example.features``); only segmentation
  explainers (SLIME, baselines over segments) apply.
- ``form=audio``: the vocal stem sounds only inside the injected segments (10 ms raised-cosine crossfades
  at segment boundaries). The example has oracle stems ``vocals`` and ``accompaniment``, so source
  explainers apply too (truth ``vocals@tK`` for sources x 10 time segments).

The detector's input is log-mel standardised per mel band with the training set's statistics (as in the
reference code), so ``zero`` occlusion means "the training set's band mean", not silence.
"""

from __future__ import annotations

import numpy as np

from audiox_bench.core.classifier import Classifier
from audiox_bench.core.components import Factorization, segment_edges
from audiox_bench.core.contracts import Example, GroundTruth, predict_examples
from audiox_bench.core.registry import contents, tasks
from audiox_bench.core.task import ValidityCheck
from audiox_bench.models.frontends import LogMel, LogMelConfig
from audiox_bench.models.networks import build_network
from audiox_bench.models.store import cached_classifier
from audiox_bench.models.torch_classifier import TorchClassifier
from audiox_bench.models.training import TrainingConfig, fit_classifier
from audiox_bench.tasks.common.excerpts import GAINS_DB, ROLE_PROBABILITY, SNR_DB, VocalExcerpts
from audiox_bench.tasks.common.trained import TrainedModelTask

CLASSES = ("no_vocals", "vocals")
FORMS = ("features", "audio")
PARTIAL_SPAN = (0.2, 0.7)  # share of the excerpt a partial vocal covers in training
N_SEGMENTS = 10
N_INJECTED = 3
CROSSFADE_SECONDS = 0.01
SR = 16_000
DURATION = 2.0
MAX_CANDIDATES_PER_EXAMPLE = 20


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


@tasks.register("vocals")
class VocalInjectionTask(TrainedModelTask):
    """Singing-voice detection; 3 of 10 segments of an instrumental excerpt take the vocal version.

    Parameters
    ----------
    form : str
        ``features`` (log-mel columns swapped, as in the paper) or ``audio`` (vocal stem gated into the
        segments; source explainers can run).
    seed : int
        Seed of data synthesis and training (the model is cached per seed).
    n_train : int
        Training excerpts (half with vocals; half of those with vocals in only part of the excerpt).
    n_stems : int
        Rendered stems per role for training (validation and test banks get 1/5 and 2/5 of it).
    epochs : int
        Training epochs.
    architecture : str
        ``vggish`` (2-D CNN) or ``temporal`` (1-D CNN over time).
    n_validity : int
        Excerpts per validity measurement (full-vocal vs instrumental accuracy; hybrid detection rate).
    max_attempts : int
        Training seeds tried (``seed``, ``seed + 1``, ...) until the validity check passes.
    noise_augmentation : float
        Share of the instrumental and fully sung training excerpts that are also trained on as a copy
        with 1-10 (instrumental) or 1-5 (sung) of their 10 segments replaced by band-standardised
        Gaussian noise, keeping their label: noise is then evidence neither for nor against singing,
        as for detectors trained on real recordings (0 disables it).
    device : str
        Torch device for training and inference.
    """

    reference = "Mishra, Benetos, Sturm, Dixon. Reliable Local Explanations for Machine Listening. IJCNN 2020"
    baseline = "zero"
    baseline_reason = (
        "0 in the detector's band-standardised input is the training set's mean per band: an average "
        "input, inside the data's range, the same for every example (no draw)"
    )

    def __init__(
        self,
        form: str = "features",
        seed: int = 0,
        n_train: int = 2000,
        n_stems: int = 250,
        epochs: int = 16,
        architecture: str = "vggish",
        n_validity: int = 400,
        max_attempts: int = 3,
        noise_augmentation: float = 0.25,
        device: str = "cpu",
    ) -> None:
        super().__init__()
        if not 0.0 <= noise_augmentation <= 1.0:
            raise ValueError(f"noise_augmentation must be between 0 and 1, got {noise_augmentation}")
        self.noise_augmentation = float(noise_augmentation)
        if form not in FORMS:
            raise ValueError(f"form must be one of {', '.join(FORMS)}, got {form!r}")
        self._init_training(seed, n_train, n_stems, epochs, architecture, n_validity, max_attempts, device)
        self.form = form
        self.excerpts = VocalExcerpts(self.seed, self.n_stems, SR, DURATION)
        # 80 mel bands, as in the singing-voice detector the paper explains (Schlueter and Grill 2015).
        self.frontend_config = LogMelConfig(sr=SR, n_fft=1024, hop_length=512, n_mels=80)

    # -- data ------------------------------------------------------------------------------------
    @staticmethod
    def _fully_sung_or_instrumental(index: int) -> bool:
        """Training excerpt ``index`` is instrumental or sung throughout (not partly sung)."""
        return index % 2 == 0 or (index // 2) % 2 == 0

    def _noise_copies(self, features: np.ndarray, labels: np.ndarray, train_seed: int) -> tuple[np.ndarray, np.ndarray]:
        """Copies of a share of the instrumental and fully sung training excerpts with some of their 10
        segments replaced by standardised band noise (the ``noise_norm`` occlusion content: N(0, 1) per
        cell of the standardised input), keeping their labels."""
        rng = np.random.default_rng([self.seed, train_seed, 7])
        chosen = [
            i
            for i in range(len(labels))
            if self._fully_sung_or_instrumental(i) and rng.random() < self.noise_augmentation
        ]
        edges = segment_edges(features.shape[-1], N_SEGMENTS)
        copies = features[chosen].copy()
        for copy, index in zip(copies, chosen):
            most = N_SEGMENTS if labels[index] == 0 else N_SEGMENTS // 2  # a sung copy stays mostly sung
            for k in rng.choice(N_SEGMENTS, int(rng.integers(1, most + 1)), replace=False):
                copy[:, edges[k] : edges[k + 1]] = rng.standard_normal((copy.shape[0], edges[k + 1] - edges[k]))
        return copies.astype(np.float32), labels[chosen]

    def _training_set(self, split: str, n: int) -> tuple[np.ndarray, np.ndarray]:
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

    def _hybrid(self, split: str, index: int, model: Classifier) -> Example:
        """Hybrid excerpt ``index``: 3 of 10 segments from the vocal version of the same bed."""
        bed, vocal, rng = self.excerpts.excerpt(split, index)
        injected = sorted(int(k) for k in rng.choice(N_SEGMENTS, N_INJECTED, replace=False))
        meta = {"injected_segments": injected, "form": self.form, "n_segments": N_SEGMENTS, "index": index}
        example_id = f"{split}-{index:04d}"
        if self.form == "audio":
            stems = {"vocals": vocal * segment_gate(bed.size, injected, N_SEGMENTS, SR), "accompaniment": bed}
            return Example(example_id, stems["vocals"] + bed, SR, 1, stems, meta)
        features = model.features(np.stack([bed, bed + vocal]))
        frames = segment_edges(features.shape[-1], N_SEGMENTS)
        hybrid = features[0].copy()
        for k in injected:
            hybrid[:, frames[k] : frames[k + 1]] = features[1][:, frames[k] : frames[k + 1]]
        return Example(example_id, bed, SR, 1, None, meta, features=hybrid)

    def _detected(self, model, examples: list[Example]) -> np.ndarray:
        return predict_examples(model, examples).argmax(axis=1) == CLASSES.index("vocals")

    def examples(self, n: int) -> list[Example]:
        """The first ``n`` hybrids the detector calls vocal (true positives), in index order."""
        model = self.model
        kept: list[Example] = []
        made = 0
        limit = MAX_CANDIDATES_PER_EXAMPLE * n
        while len(kept) < n and made < limit:
            batch = [self._hybrid("test", made + i, model) for i in range(min(64, limit - made))]
            made += len(batch)
            kept += [e for e, hit in zip(batch, self._detected(model, batch)) if hit]
        if len(kept) > n:  # count the candidates up to the n-th kept one, as if made one at a time
            kept = kept[:n]
            made = int(kept[-1].meta["index"]) + 1
        self.selection = {
            "hybrids_made": made,
            "hybrids_kept": len(kept),
            "kept_rate": len(kept) / made if made else None,
            "form": self.form,
        }
        return kept

    # -- model ---------------------------------------------------------------------------------
    def _make_modules(self, seed: int):
        network = build_network(self.architecture, self.frontend_config.n_mels, len(CLASSES), seed)
        n_mels = self.frontend_config.n_mels
        return network, LogMel(self.frontend_config, band_mean=np.zeros(n_mels), band_std=np.ones(n_mels))

    def _measure_validity(self, model: TorchClassifier) -> tuple[list[ValidityCheck], dict]:
        """Accuracy on held-out fully sung vs instrumental excerpts, the hybrid detection rate, and how
        often the detector calls noise vocals: excerpts of band noise only (the ``noise_norm`` content)
        and instrumental excerpts with 3 of 10 segments filled with it."""
        labels = np.arange(self.n_validity) % 2
        excerpts = [self.excerpts.excerpt("validity", i) for i in range(self.n_validity)]
        full = np.stack([bed + vocal if label else bed for label, (bed, vocal, _) in zip(labels, excerpts)])
        features = model.features(full)
        accuracy = float(np.mean(model.predict_features(features).argmax(1) == labels))
        hybrids = [self._hybrid("hybrids", i, model) for i in range(self.n_validity)]
        detected = float(np.mean(self._detected(model, hybrids)))
        noise = contents.build("noise_norm")
        rng = np.random.default_rng([self.seed, 8])
        edges = segment_edges(features.shape[-1], N_SEGMENTS)
        noise_only, with_noise = [], []
        for instrumental in features[labels == 0]:
            noise_only.append(noise.fill(instrumental, model.feature_stats, rng))
            mixed = instrumental.copy()
            for k in rng.choice(N_SEGMENTS, N_INJECTED, replace=False):
                mixed[:, edges[k] : edges[k + 1]] = noise_only[-1][:, edges[k] : edges[k + 1]]
            with_noise.append(mixed)
        vocals = CLASSES.index("vocals")
        checks = [
            ValidityCheck("accuracy_full_vocal_vs_instrumental", accuracy, 0.90, ">="),
            ValidityCheck(f"hybrid_detection_rate_{self.form}", detected, 0.50, ">="),
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
        return checks, {c.name: c.value for c in checks}

    def prepare(self, progress: bool = True) -> None:
        if self._model is not None:
            return
        self._progress = self.excerpts.banks.progress = progress
        self._prepare_first_valid(self._build, range(self.seed, self.seed + self.max_attempts))

    def _build(self, train_seed: int):
        description = {
            "task": "vocals",
            "seed": self.seed,
            "train_seed": train_seed,
            "n_train": self.n_train,
            "epochs": self.epochs,
            "architecture": self.architecture,
            "banks": self.excerpts.banks.sizes,
            "gains_db": GAINS_DB,
            "role_probability": ROLE_PROBABILITY,
            "snr_db": SNR_DB,
            "partial_span": PARTIAL_SPAN,
            "frontend": self.frontend_config.to_dict(),
        }
        if self.noise_augmentation:  # absent when off, so models trained without it stay in the cache
            description["noise_augmentation"] = self.noise_augmentation

        def train(network, frontend):
            audio, labels = self._training_set("train", self.n_train)
            card = fit_classifier(
                network,
                frontend,
                audio,
                labels,
                TrainingConfig(epochs=self.epochs, seed=train_seed),
                standardise=True,
                augment=lambda features, labels: self._noise_copies(features, labels, train_seed),
                device=self.device,
                description=f"training vocals (seed {train_seed})",
                progress=self._progress,
            )
            return {**card, "architecture": self.architecture}

        model, card = cached_classifier(
            "vocals",
            description,
            lambda: self._make_modules(train_seed),
            train,
            CLASSES,
            self.device,
            round(SR * DURATION),
        )
        val_audio, val_labels = self._training_set(
            "val", min(self.n_validity, 2 * self.excerpts.banks.sizes["val"] * 4)
        )
        checks, values = self._measure_validity(model)
        card = {
            **card,
            **values,
            "accuracy_val_with_partial": float(np.mean(model.predict_proba(val_audio).argmax(1) == val_labels)),
            "n_validity": self.n_validity,
        }
        return model, checks, card

    # -- truth ---------------------------------------------------------------------------------
    def truth_for(self, example: Example, factorization: Factorization) -> GroundTruth | None:
        """The injected segments, for factorizations with 10 time segments: temporal segmentations
        (``tK``) and the vocal source x 10 segments (``vocals@tK``)."""
        injected = set(example.meta.get("injected_segments") or ())
        layout = factorization.layout
        if not injected or layout.n_time != N_SEGMENTS or layout.kind not in ("temporal", "sources"):
            return None
        vocals = CLASSES.index("vocals")
        if layout.kind == "temporal":
            return GroundTruth(factorization.names_where(lambda c: c.time in injected), "the injected segments", vocals)
        names = factorization.names_where(lambda c: c.source == "vocals" and c.time in injected)
        return GroundTruth(names, "the vocals inside the injected segments", vocals) if names else None
