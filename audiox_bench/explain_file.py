"""Explain a task model's prediction on one audio file, and write the explanation so a person can
listen to it (the point of audioLIME): the top components alone, and the input without them."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from audiox_bench.core import registry
from audiox_bench.core.audio import read_audio, resample
from audiox_bench.core.classifier import Classifier, FeatureClassifier
from audiox_bench.core.components import Factorization, FeatureFactorization
from audiox_bench.core.data import Example, Explanation
from audiox_bench.core.errors import AudioxError
from audiox_bench.engine.items import check_explanation
from audiox_bench.engine.plan import resolve_target
from audiox_bench.metrics.topk import top_positive
from audiox_bench.predict_file import windows

DEFAULT_EXPLAINER = "audiolime:separator=hpss"  # a file has no oracle stems: separate it
# An explanation is not informative when removing components barely moves the score, or when its
# surrogate explains almost none of the score's variation over the perturbations.
MIN_TOP_WEIGHT = 1e-3
MIN_SURROGATE_R2 = 0.1


@dataclass(frozen=True)
class ExplainResult:
    """An explanation of one audio file (``explanation.json``).

    Attributes
    ----------
    file : str
    explained_seconds : (float, float)
        The span of the file explained.
    task, explainer : str
        Canonical SPECs.
    task_valid : bool
        Whether the task's model passed its validity checks.
    classes, probabilities : tuple
        The model's classes and its probabilities on the explained span.
    target : int
        The class explained.
    components, weights : tuple
        The explanation.
    top_positive : tuple of str
        The components written as audio, best first.
    not_informative_because : str, optional
        Why the explanation says nothing worth listening to (None: it does).
    intercept, surrogate_r2 : float, optional
    n_model_calls : int
    seconds : float
    seed : int
    wavs : dict or str
        The WAV files written (with the gain applied), or why none was.
    """

    file: str
    explained_seconds: tuple[float, float]
    task: str
    explainer: str
    task_valid: bool
    classes: tuple[str, ...]
    probabilities: tuple[float, ...]
    target: int
    components: tuple[str, ...]
    weights: tuple[float, ...]
    top_positive: tuple[str, ...]
    not_informative_because: str | None
    intercept: float | None
    surrogate_r2: float | None
    n_model_calls: int
    seconds: float
    seed: int
    wavs: dict[str, Any] | str

    @property
    def target_name(self) -> str:
        return self.classes[self.target]

    @property
    def informative(self) -> bool:
        return self.not_informative_because is None

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of ``explanation.json``."""
        data = {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}
        data.update(target_name=self.target_name, informative=self.informative)
        return data


def listenable_parts(
    factorization: Factorization, model: Classifier, audio: np.ndarray, top: list[str]
) -> dict[str, np.ndarray]:
    """Waveforms of each top component, of the top components together, and of the input without
    them: audio-domain factorizations compose them, temporal segments are cut from the input; other
    segmentations have no audio form (empty)."""
    names = list(factorization.names)
    if factorization.domain == "audio":

        def keep(selected: set[str]) -> np.ndarray:
            return factorization.compose(np.array([[n in selected for n in names]]))[0]
    elif (
        isinstance(factorization, FeatureFactorization)
        and factorization.layout.kind == "temporal"
        and isinstance(model, FeatureClassifier)
    ):
        n_frames = factorization.features.shape[1]
        spans = {
            c.name: model.frame_sample_bounds(np.array(c.frames), n_frames, audio.size)
            for c in factorization.components
        }

        def keep(selected: set[str]) -> np.ndarray:
            out = np.zeros_like(audio)
            for name in selected:
                start, end = spans[name]
                out[start:end] = audio[start:end]
            return out
    else:
        return {}
    parts = {f"component_{name}": keep({name}) for name in top}
    parts["top_together"] = keep(set(top))
    parts["without_top"] = keep(set(names) - set(top))
    return parts


def write_wav(path: Path, audio: np.ndarray, sr: int) -> float:
    """16-bit PCM WAV; scaled down if it would clip. Returns the gain applied."""
    peak = float(np.max(np.abs(audio))) if audio.size else 0.0
    gain = 0.99 / peak if peak > 0.99 else 1.0
    sf.write(path, (audio * gain).astype(np.float32), sr, subtype="PCM_16")
    return gain


def uninformative_because(explanation: Explanation) -> str | None:
    """Why ``explanation`` says nothing worth listening to, or None if it is informative."""
    weights = np.asarray(explanation.weights, dtype=np.float64)
    top = float(weights.max()) if weights.size else 0.0
    reasons = []
    if explanation.score is not None and explanation.score < MIN_SURROGATE_R2:
        reasons.append(
            f"the surrogate explains little of the model (R^2 = {explanation.score:.2g} < {MIN_SURROGATE_R2})"
        )
    if top < MIN_TOP_WEIGHT:
        reasons.append(
            f"the largest weight is {top:.2g} (< {MIN_TOP_WEIGHT}): removing components barely changes the score"
        )
    return "; ".join(reasons) or None


def explain_file(
    path: str | Path,
    task_spec: str,
    explainer_spec: str = DEFAULT_EXPLAINER,
    out: str | Path = "explained",
    target: str | None = None,
    seed: int = 0,
    k: int = 3,
    device: str = "cpu",
    progress: bool = False,
) -> ExplainResult:
    """Explain ``task_spec``'s model on the audio file ``path``; write ``explanation.json`` and WAVs.

    The file is read and checked before the task is built, so a bad file fails at once.

    Returns
    -------
    ExplainResult
        What ``explanation.json`` holds.

    Raises
    ------
    AudioxError
        For unreadable or unusable audio, unknown names, or an unwritable ``out``.
    """
    out = Path(out)
    audio, file_sr = read_audio(path)
    resolved_task = registry.tasks.resolve(task_spec, device=device)
    resolved_explainer = registry.explainers.resolve(explainer_spec)
    task, explainer = resolved_task.obj, resolved_explainer.obj
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise AudioxError(f"cannot write to {str(out)!r}: {exc.strerror or exc}") from exc
    task.prepare(progress=progress)
    model = task.model
    audio = resample(audio, file_sr, model.sr)
    full_seconds = audio.size / model.sr
    if model.input_samples is not None:  # a model trained on a fixed length explains its first window
        audio = windows(audio, model.input_samples)[0]
    example = Example(Path(path).stem, audio, model.sr)
    probabilities = model.predict_proba(audio)[0]
    index = int(np.argmax(probabilities)) if target is None else resolve_target(target, model.classes, task_spec)
    factorization = explainer.factorize_for(model, example, seed)
    explanation = check_explanation(
        explainer.explain(model, example, factorization, index, seed), factorization.n_components
    )
    top = top_positive(explanation.components, explanation.weights, k)
    uninformative = uninformative_because(explanation)
    wavs = {}
    for name, part in listenable_parts(factorization, model, audio, top).items():
        file = out / f"{name}.wav"
        wavs[file.name] = {"gain": write_wav(file, part, model.sr)}
    if not wavs:
        no_wavs = (
            "none: no component has a positive weight"
            if not top
            else "none: spectral and time-frequency segments have no audio form"
        )
    result = ExplainResult(
        file=str(path),
        explained_seconds=(0.0, round(min(full_seconds, audio.size / model.sr), 3)),
        task=resolved_task.canonical,
        explainer=resolved_explainer.canonical,
        task_valid=task.is_valid,
        classes=tuple(model.classes),
        probabilities=tuple(float(p) for p in probabilities),
        target=index,
        components=tuple(explanation.components),
        weights=tuple(float(w) for w in explanation.weights),
        top_positive=tuple(top),
        not_informative_because=uninformative,
        intercept=explanation.intercept,
        surrogate_r2=explanation.score,
        n_model_calls=explanation.n_model_calls,
        seconds=round(explanation.seconds, 4),
        seed=seed,
        wavs=wavs or no_wavs,
    )
    (out / "explanation.json").write_text(json.dumps(result.to_dict(), indent=2, default=str) + "\n")
    return result
