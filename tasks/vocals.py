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

The detector (its data, training and validity checks) is :mod:`audiox_bench.tasks.detector`.
"""

from __future__ import annotations

from audiox_bench.core.classifier import Classifier
from audiox_bench.core.components import Factorization
from audiox_bench.core.data import Example, GroundTruth, TruthSpans
from audiox_bench.core.documents import Selection
from audiox_bench.core.task import Task
from audiox_bench.tasks.detector import (
    CLASSES,
    DETECTOR_BASELINE,
    DETECTOR_BASELINE_REASON,
    FORMS,
    N_SEGMENTS,
    NOISE_AUGMENTATION,
    TRAINING,
    SingingVoiceDetector,
    segment_seconds,
)
from audiox_bench.tasks.trained_model import TrainingSettings

MAX_CANDIDATES_PER_EXAMPLE = 20


class VocalInjectionTask(Task):
    """Singing-voice detection; 3 of 10 segments of an instrumental excerpt take the vocal version.

    The detector's training settings (``seed``, ``n_train``: excerpts, half with vocals and half of those
    sung in part only; ``n_stems``, ``epochs``, ``architecture``, ``n_validity``, ``max_attempts``) are those
    of :class:`~audiox_bench.tasks.trained_model.TrainingSettings`.

    Parameters
    ----------
    form : str
        ``features`` (log-mel columns swapped, as in the paper) or ``audio`` (vocal stem gated into the
        segments; source explainers can run).
    level_db : float
        Difficulty knob: the gain of the injected vocal in dB relative to its training level (0, the
        default, is the paper's task; -6 makes the injected segments 6 dB fainter). The hybrid detection
        check is measured at this level, and the examples kept are hybrids the detector still calls vocal
        (``validity.json`` says how many were made to find them).
    noise_augmentation : float
        Share of the instrumental and fully sung training excerpts that are also trained on as a copy
        with 1-10 (instrumental) or 1-5 (sung) of their 10 segments replaced by band-standardised
        Gaussian noise, keeping their label: noise is then evidence neither for nor against singing,
        as for detectors trained on real recordings (0 disables it).
    device : str
        Torch device for training and inference.
    """

    reference = "Mishra, Benetos, Sturm, Dixon. Reliable Local Explanations for Machine Listening. IJCNN 2020"
    baseline = DETECTOR_BASELINE
    baseline_reason = DETECTOR_BASELINE_REASON
    parameters_documented_by = (TrainingSettings,)

    def __init__(
        self,
        form: str = "features",
        seed: int = TRAINING.seed,
        n_train: int = TRAINING.n_train,
        n_stems: int = TRAINING.n_stems,
        epochs: int = TRAINING.epochs,
        architecture: str = TRAINING.architecture,
        n_validity: int = TRAINING.n_validity,
        max_attempts: int = TRAINING.max_attempts,
        noise_augmentation: float = NOISE_AUGMENTATION,
        level_db: float = 0.0,
        device: str = "cpu",
    ) -> None:
        super().__init__()
        if form not in FORMS:
            raise ValueError(f"form must be one of {', '.join(FORMS)}, got {form!r}")
        self.form = form
        settings = TrainingSettings(seed, n_train, n_stems, epochs, architecture, n_validity, max_attempts)
        if not -30.0 <= level_db <= 12.0:
            raise ValueError(f"level_db must be between -30 and 12 (dB relative to training), got {level_db!r}")
        self.detector = SingingVoiceDetector(settings, float(noise_augmentation), device, float(level_db))

    def examples(self, n: int) -> list[Example]:
        """The first ``n`` hybrids the detector calls vocal (true positives), in index order."""
        return list(self.select(n).examples)

    def select(self, n: int) -> Selection:
        """The first ``n`` hybrids the detector calls vocal, and how many were made to find them."""
        model = self.model
        kept: list[Example] = []
        made = 0
        limit = MAX_CANDIDATES_PER_EXAMPLE * n
        while len(kept) < n and made < limit:
            batch = [self.detector.hybrid("test", made + i, model, self.form) for i in range(min(64, limit - made))]
            made += len(batch)
            kept += [e for e, hit in zip(batch, self.detector.detected(model, batch)) if hit]
        if len(kept) > n:  # count the candidates up to the n-th kept one, as if made one at a time
            kept = kept[:n]
            made = int(kept[-1].meta["index"]) + 1
        facts = {
            "hybrids_made": made,
            "hybrids_kept": len(kept),
            "kept_rate": len(kept) / made if made else None,
            "form": self.form,
        }
        return Selection(tuple(kept), facts)

    def prepare(self, progress: bool = True) -> None:
        if self._model is None:
            self._set_prepared(*self.detector.prepare(self.form, progress))

    def load_model(self, progress: bool = False) -> Classifier:
        cached = self.detector.load_model(self.form) if self._model is None else None
        if cached is None:
            return super().load_model(progress)
        self._remembered_valid = True  # the cache keeps only the verdict of a model that passed
        return cached

    # -- truth ---------------------------------------------------------------------------------
    def spans_for(self, example: Example) -> TruthSpans | None:
        """The injected segments in seconds (for segments of any grid)."""
        injected = sorted(example.meta.get("injected_segments") or ())
        if not injected:
            return None
        edges = segment_seconds(self.model, example, N_SEGMENTS)
        spans = tuple((float(edges[k]), float(edges[k + 1])) for k in injected)
        return TruthSpans(spans, "the injected segments", CLASSES.index("vocals"))

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
