"""The adversarial-regions task (Praher, Prinz, Flexer, Widmer, "On the Veracity of Local,
Model-agnostic Explanations in Audio Classification", ISMIR 2021; localised attacks: Hoedt et al. 2023).

Clean excerpts the singing-voice detector of the ``vocals`` task classifies correctly get a small additive
perturbation, confined to k regions drawn at random (default 3 of 10 temporal segments; or tiles of a
time-frequency grid), that flips the detector's decision. Only successful adversarial examples enter
the benchmark; the perturbed regions are the ground truth. ``label_flip`` then checks whether the
perturbation restricted to the explainer's top-k regions still flips the decision.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from audiox_bench.core.classifier import Classifier, Differentiable, require
from audiox_bench.core.components import Factorization, FeatureFactorization
from audiox_bench.core.data import Example, GroundTruth, Perturbation, TruthSpans
from audiox_bench.core.documents import Selection, ValidityCheck
from audiox_bench.core.task import Task
from audiox_bench.factorizations.segmentation import LAYOUTS, segment_components, segment_layout
from audiox_bench.tasks.attack import AttackResult, AttackSettings, region_attack
from audiox_bench.tasks.detector import (
    DETECTOR_BASELINE,
    DETECTOR_BASELINE_REASON,
    NOISE_AUGMENTATION,
    SR,
    TRAINING,
    SingingVoiceDetector,
    segment_seconds,
)
from audiox_bench.tasks.trained_model import TrainingSettings

DIRECTIONS = {"to_vocals": (0, 1), "to_no_vocals": (1, 0)}  # (clean label, adversarial label)
DOMAINS = ("features", "audio")
MAX_CANDIDATES_PER_EXAMPLE = 4


class AdversarialRegionsTask(Task):
    """Perturbations confined to k known regions flip the singing-voice detector; truth: those regions.

    Parameters
    ----------
    direction : str
        ``to_vocals`` (instrumental excerpts made to read as vocal) or ``to_no_vocals``.
    layout : str
        Regions the perturbation is drawn in: ``temporal`` (``n_time`` segments) or ``time_frequency``
        (``n_bands`` x ``n_time`` tiles).
    n_regions : int
        Regions perturbed (k).
    n_time, n_bands : int
        Segments along time; mel-band groups of the time-frequency grid.
    domain : str
        ``features`` (standardised log-mel, the default) or ``audio`` (waveform; temporal layout only).
    alpha, learning_rate, epsilon, max_steps :
        Attack settings (see :class:`audiox_bench.tasks.attack.AttackSettings`); ``learning_rate`` and
        ``epsilon`` default to 0.05 and 3.0 in features, 0.002 and 0.1 in audio.
    n_validity : int
        Excerpts attacked to measure the success rate.
    seed : int
        Seed of the detector (shared with ``vocals``), excerpts and regions.
    device : str
    **detector :
        Settings of the detector's ``vocals`` task, prefixed ``detector_`` (e.g. ``detector_epochs=8``);
        by default the ``vocals`` task's model, shared through the cache.
    """

    reference = (
        "Praher, Prinz, Flexer, Widmer. On the Veracity of Local, Model-agnostic Explanations in Audio "
        "Classification. ISMIR 2021"
    )
    baseline = DETECTOR_BASELINE
    baseline_reason = DETECTOR_BASELINE_REASON

    def __init__(
        self,
        direction: str = "to_vocals",
        layout: str = "temporal",
        n_regions: int = 3,
        n_time: int = 10,
        n_bands: int = 4,
        domain: str = "features",
        alpha: float = 100.0,
        learning_rate: float | None = None,
        epsilon: float | None = None,
        max_steps: int = 300,
        n_validity: int = 50,
        seed: int = 0,
        device: str = "cpu",
        **detector: Any,
    ) -> None:
        super().__init__()
        unknown = [key for key in detector if not key.startswith("detector_")]
        if unknown:
            raise ValueError(f"unknown parameter(s) {', '.join(unknown)} (detector settings start with detector_)")
        if "detector_seed" in detector or "detector_device" in detector:
            raise ValueError("the detector shares the task's seed and device: give seed= or device=, not detector_*")
        if direction not in DIRECTIONS:
            raise ValueError(f"direction must be one of {', '.join(DIRECTIONS)}, got {direction!r}")
        if layout not in LAYOUTS or layout == "spectral":
            raise ValueError(f"layout must be temporal or time_frequency, got {layout!r}")
        if domain not in DOMAINS:
            raise ValueError(f"domain must be one of {', '.join(DOMAINS)}, got {domain!r}")
        if domain == "audio" and layout != "temporal":
            raise ValueError("the audio domain confines perturbations to time segments: use layout=temporal")
        n_components = n_time * (n_bands if layout == "time_frequency" else 1)
        if not 1 <= n_regions < n_components:
            raise ValueError(f"n_regions must be between 1 and {n_components - 1}")
        if n_validity < 2:
            raise ValueError("n_validity must be at least 2")
        self.direction, self.layout, self.domain = direction, layout, domain
        self.n_regions, self.n_time, self.n_bands = int(n_regions), int(n_time), int(n_bands)
        self.region_layout = segment_layout(layout, self.n_time, self.n_bands)
        self.settings = AttackSettings(
            alpha,
            learning_rate or (0.05 if domain == "features" else 0.002),
            epsilon or (3.0 if domain == "features" else 0.1),
            int(max_steps),
        )
        self.n_validity, self.seed, self.device = int(n_validity), int(seed), device
        self.clean_label, self.adversarial_label = DIRECTIONS[direction]
        settings = {key[len("detector_") :]: value for key, value in detector.items()}
        noise_augmentation = float(settings.pop("noise_augmentation", NOISE_AUGMENTATION))
        fields = {f.name for f in dataclasses.fields(TrainingSettings)}
        unknown = sorted(set(settings) - fields)
        if unknown:
            raise ValueError(f"the detector has no setting {unknown[0]!r}; settings: {', '.join(sorted(fields))}")
        self.detector = SingingVoiceDetector(
            TrainingSettings(**{**vars(TRAINING), **settings, "seed": int(seed)}), noise_augmentation, device
        )
        self._attacks: dict[int, Example | None] = {}

    transient_attributes = ("_attacks",)

    # -- data --------------------------------------------------------------------------------
    def _clean(self, index: int) -> tuple[np.ndarray, np.random.Generator]:
        bed, vocal, rng = self.detector.excerpts.excerpt("adversarial", index)
        return (bed + vocal if self.clean_label == 1 else bed), rng

    def _mask(self, chosen: list[int], features: np.ndarray, n_samples: int) -> np.ndarray:
        """Where the perturbation may be non-zero, in its domain."""
        cell_map, components = segment_components(*features.shape, self.region_layout)
        if self.domain == "features":
            return np.isin(cell_map, chosen).astype(np.float32)
        mask = np.zeros(n_samples, np.float32)
        for k in chosen:
            start, end = self.model.frame_sample_bounds(np.array(components[k].frames), features.shape[1], n_samples)
            mask[start:end] = 1.0
        return mask

    def _attack(self, index: int) -> Example | None:
        """The adversarial example of candidate ``index``, or None (misclassified clean input, or the
        attack failed). Deterministic; computed once."""
        if index in self._attacks:
            return self._attacks[index]
        model = require(self.model, Differentiable, "the adversarial task")
        audio, rng = self._clean(index)
        features = model.features(audio)[0]
        example = None
        if int(model.predict_features(features).argmax(1)[0]) == self.clean_label:
            n_regions = self.region_layout.n_time * self.region_layout.n_bands
            chosen = sorted(int(k) for k in rng.choice(n_regions, self.n_regions, replace=False))
            clean = features if self.domain == "features" else audio
            result = region_attack(
                model,
                clean,
                self._mask(chosen, features, audio.size),
                self.adversarial_label,
                self.domain,
                self.settings,
            )
            example = self._example(index, audio, clean, result, chosen)
        self._attacks[index] = example
        return example

    def _example(
        self, index: int, audio: np.ndarray, clean: np.ndarray, result: AttackResult, chosen: list[int]
    ) -> Example:
        """The adversarial example: the perturbed input, the typed perturbation, and what to report."""
        regions = tuple(divmod(k, self.region_layout.n_time) for k in chosen)  # (band, time) of each region
        perturbation = Perturbation(
            self.domain,
            clean,
            result.perturbation,
            self.region_layout,
            regions,
            self.clean_label,
            self.adversarial_label,
        )
        meta: dict[str, Any] = {
            "regions": [list(r) for r in regions],
            "layout": self.layout,
            "domain": self.domain,
            "direction": self.direction,
            "success": result.success,
            "snr_db": result.snr_db,
            "steps": result.steps,
            "attack_seconds": result.seconds,
            "index": index,
        }
        example_id = f"{self.direction}-{index:04d}"
        if self.domain == "features":
            return Example(
                example_id,
                audio,
                SR,
                self.clean_label,
                None,
                meta,
                features=perturbation.perturbed,
                perturbation=perturbation,
            )
        return Example(example_id, perturbation.perturbed, SR, self.clean_label, None, meta, perturbation=perturbation)

    def _attacked(self, n: int, successful_only: bool) -> tuple[list[Example], int]:
        """The first ``n`` attacked examples (only successful ones if asked), and how many were attacked."""
        found, attacked, index = [], 0, 0
        while len(found) < n and index < MAX_CANDIDATES_PER_EXAMPLE * n + self.n_validity:
            example = self._attack(index)
            index += 1
            if example is not None:
                attacked += 1
                if example.meta["success"] or not successful_only:
                    found.append(example)
        return found, attacked

    def examples(self, n: int) -> list[Example]:
        """The first ``n`` successful adversarial examples (attacks that failed are counted, not served)."""
        return list(self.select(n).examples)

    def select(self, n: int) -> Selection:
        """The first ``n`` successful adversarial examples, with how many were attacked to find them."""
        kept, attacked = self._attacked(n, successful_only=True)
        snrs = [e.meta["snr_db"] for e in kept]
        facts = {
            "attacked": attacked,
            "successful": len(kept),
            "success_rate": len(kept) / attacked if attacked else None,
            "mean_snr_db": float(np.mean(snrs)) if snrs else None,
            "mean_attack_seconds": float(np.mean([e.meta["attack_seconds"] for e in kept])) if kept else None,
            "domain": self.domain,
        }
        return Selection(tuple(kept), facts)

    # -- model and validity --------------------------------------------------------------------
    def load_model(self, progress: bool = False) -> Classifier:
        cached = self.detector.load_model("features") if self._model is None else None
        if cached is None:
            return super().load_model(progress)
        self._remembered_valid = True  # the cache keeps only the verdict of a model that passed
        return cached

    def prepare(self, progress: bool = True) -> None:
        if self._model is not None:
            return
        model, _, detector_card = self.detector.prepare("features", progress)
        self._model = model  # the attacks below need it
        attempts, _ = self._attacked(self.n_validity, successful_only=False)
        successes = [e for e in attempts if e.meta["success"]]
        rate = len(successes) / len(attempts) if attempts else 0.0
        checks = [ValidityCheck(f"attack_success_rate_{self.direction}", rate, 0.9, ">=")]
        card = {
            **detector_card,
            "attack": {
                "settings": self.settings.__dict__,
                "direction": self.direction,
                "layout": self.layout,
                "n_regions": self.n_regions,
                "domain": self.domain,
                "attempted": len(attempts),
                "success_rate": rate,
                "mean_snr_db": float(np.mean([e.meta["snr_db"] for e in successes])) if successes else None,
                "mean_steps": float(np.mean([e.meta["steps"] for e in successes])) if successes else None,
                "mean_seconds_per_attack": float(np.mean([e.meta["attack_seconds"] for e in attempts]))
                if attempts
                else None,
            },
        }
        self._set_prepared(model, checks, card)

    # -- truth ---------------------------------------------------------------------------------
    def spans_for(self, example: Example) -> TruthSpans | None:
        """The time spans of the perturbed regions (for segments of any grid)."""
        perturbation = example.perturbation
        if perturbation is None:
            return None
        edges = segment_seconds(self.model, example, perturbation.layout.n_time)
        times = sorted({time for _, time in perturbation.regions})
        spans = tuple((float(edges[t]), float(edges[t + 1])) for t in times)
        return TruthSpans(spans, "the time spans of the perturbed regions", perturbation.adversarial_label)

    def truth_for(self, example: Example, factorization: Factorization) -> GroundTruth | None:
        """The perturbed regions, for segmentations on the grid they were drawn on."""
        perturbation = example.perturbation
        if (
            perturbation is None
            or not isinstance(factorization, FeatureFactorization)
            or factorization.layout != perturbation.layout
        ):
            return None
        regions = set(perturbation.regions)
        return GroundTruth(
            factorization.names_where(lambda c: (c.band or 0, c.time) in regions),
            "the perturbed regions",
            perturbation.adversarial_label,
        )
