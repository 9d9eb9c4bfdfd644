"""Explain a task model's prediction on one audio file (``audiox explain``): the whole file (or a span of
it), window by window of the model's input, with an aggregate over the windows; written as
``explanation.json``, WAV files at the file's rate (:mod:`audiox_bench.listen`) and a figure.

Only the model is loaded (:meth:`~audiox_bench.core.task.Task.load_model`): explaining a file makes no task
data. The class explained is the one with the highest mean probability over the windows (what
``audiox predict`` prints first), the same for every window, unless ``target`` names one.

Length: the single-file flow of `audiox explain` and `audiox predict` (windows, aggregate, WAVs, figure) is one user
command, read top to bottom.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from audiox_bench.core import registry
from audiox_bench.core.audio import read_audio, resample
from audiox_bench.core.classifier import Classifier, FeatureClassifier
from audiox_bench.core.components import Component, Factorization
from audiox_bench.core.data import Example, Explanation
from audiox_bench.core.errors import AudioxError, InvalidInputError
from audiox_bench.engine.items import check_explanation
from audiox_bench.engine.plan import resolve_target
from audiox_bench.listen import at_file_rate, audible_form, stitch, window_part, write_parts
from audiox_bench.metrics.topk import top_positive
from audiox_bench.predict_file import window_starts
from audiox_bench.results.store import safe_file_name

DEFAULT_EXPLAINER = "audiolime:separator=hpss"  # a file has no oracle stems: separate it
# An explanation is not informative when removing components barely moves the score, or when its
# surrogate explains almost none of the score's variation over the perturbations.
MIN_TOP_WEIGHT = 1e-3
MIN_SURROGATE_R2 = 0.1
JSON_NAME, FIGURE_NAME = "explanation.json", "explanation.png"
AGGREGATE_RULE = (
    "a component confined to a time span is named by its span in the file (a segment of the last window that "
    "lies inside the window before it is left out); the weight of any other component is its mean over the windows"
)


@dataclass(frozen=True)
class WindowExplanation:
    """The explanation of one window of the model's input.

    Attributes
    ----------
    start, end : float
        The window's span in the file, in seconds.
    probability : float
        The model's probability of the explained class on the window.
    components, weights, top_positive, not_informative_because, intercept, surrogate_r2, n_model_calls, seconds :
        As :class:`ExplainResult`, for this window.
    """

    start: float
    end: float
    probability: float
    components: tuple[str, ...]
    weights: tuple[float, ...]
    top_positive: tuple[str, ...]
    not_informative_because: str | None
    intercept: float | None
    surrogate_r2: float | None
    n_model_calls: int
    seconds: float


@dataclass(frozen=True)
class ExplainResult:
    """An explanation of one audio file (``explanation.json``).

    Attributes
    ----------
    file : str
    explained_seconds : (float, float)
        The span of the file explained.
    window_seconds : float or None
        The model's input length (None: the whole span is one input).
    task, explainer : str
        Canonical SPECs.
    model_valid : bool or None
        Whether the task's model passed its validity checks (None: not measured here; ``audiox run``
        measures them).
    classes, probabilities : tuple
        The model's classes and its probabilities, averaged over the windows.
    target : int
        The class explained (in every window).
    components, weights : tuple
        The aggregate explanation over the windows (``aggregate_rule``).
    aggregate_rule : str
    top_positive : tuple of str
        The aggregate components written as audio, best first.
    not_informative_because : str, optional
        Why the aggregate explanation says nothing worth listening to (None: it does).
    windows : tuple of WindowExplanation
    n_model_calls : int
    seconds : float
    seed : int
    wavs : dict or str
        The WAV files written (with the gain applied) or why a part was not, or why none was.
    wav_note : str
        How the WAVs were made (rate, channels).
    figure : str
        The figure written, or why none was.
    """

    file: str
    explained_seconds: tuple[float, float]
    window_seconds: float | None
    task: str
    explainer: str
    model_valid: bool | None
    classes: tuple[str, ...]
    probabilities: tuple[float, ...]
    target: int
    components: tuple[str, ...]
    weights: tuple[float, ...]
    aggregate_rule: str
    top_positive: tuple[str, ...]
    not_informative_because: str | None
    windows: tuple[WindowExplanation, ...]
    n_model_calls: int
    seconds: float
    seed: int
    wavs: dict[str, Any] | str
    wav_note: str
    figure: str

    @property
    def target_name(self) -> str:
        return self.classes[self.target]

    @property
    def informative(self) -> bool:
        return self.not_informative_because is None

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of ``explanation.json``."""
        data = json.loads(json.dumps(asdict(self), default=str))
        data.update(target_name=self.target_name, informative=self.informative)
        return data


def uninformative_because(explanation: Explanation) -> str | None:
    """Why ``explanation`` says nothing worth listening to, or None if it is informative."""
    weights = np.asarray(explanation.weights, dtype=np.float64)
    top = float(weights.max()) if weights.size else 0.0
    reasons = []
    if explanation.score is not None and explanation.score < MIN_SURROGATE_R2:
        reasons.append(
            f"the surrogate explains little of the model (R^2 = {explanation.score:.2g} < {MIN_SURROGATE_R2})"
        )
    if top <= 0:
        reasons.append(f"no component has a positive weight (the largest is {top:.2g})")
    elif top < MIN_TOP_WEIGHT:
        reasons.append(
            f"the largest weight is {top:.2g} (< {MIN_TOP_WEIGHT}): removing components barely changes the score"
        )
    return "; ".join(reasons) or None


def prepare_out(out: Path) -> None:
    """Make ``out`` ready: created if missing; an earlier explanation there is replaced whole; a folder
    holding anything else is refused.

    Raises
    ------
    AudioxError
        If ``out`` holds files that are not an earlier explanation, or cannot be written.
    """
    if out.exists() and not out.is_dir():
        raise AudioxError(f"--out {str(out)!r} is a file; give a folder for the explanation")
    if out.is_dir() and any(out.iterdir()):
        ours = {JSON_NAME, FIGURE_NAME}
        foreign = sorted(p.name for p in out.iterdir() if p.name not in ours and p.suffix != ".wav")
        if foreign or not (out / JSON_NAME).is_file():
            first = foreign[0] if foreign else sorted(p.name for p in out.iterdir())[0]
            raise AudioxError(
                f"--out {str(out)!r} is not empty and holds no earlier explanation (e.g. {first!r}); give a new or "
                "empty folder (an earlier explanation's folder is replaced whole)"
            )
        shutil.rmtree(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise AudioxError(f"cannot write to {str(out)!r}: {exc.strerror or exc}") from exc


def _span_samples(component: Component, factorization: Factorization, model: Classifier, n: int):
    """The sample span of a time-confined component within its window (None if it spans the window)."""
    if component.samples is not None:
        return component.samples
    if component.frames is not None and isinstance(model, FeatureClassifier) and hasattr(factorization, "features"):
        n_frames = factorization.features.shape[1]
        start, end = model.frame_sample_bounds(np.array(component.frames), n_frames, n)
        return int(start), int(end)
    return None


def _aggregate_keys(
    factorizations: list[Factorization], starts: list[int], model: Classifier, length: int
) -> tuple[list[dict[str, str | None]], dict[str, tuple[float, float]]]:
    """Per window, the aggregate name of each of its components (None: left out, inside an earlier
    window); and the span in seconds (from the explained span's start) of each time-confined name."""
    keys: list[dict[str, str | None]] = []
    spans: dict[str, tuple[float, float]] = {}
    covered = 0
    for factorization, start in zip(factorizations, starts):
        window: dict[str, str | None] = {}
        for component in factorization.components:
            span = _span_samples(component, factorization, model, length)
            if span is None:
                window[component.name] = component.name
                continue
            a, b = start + span[0], start + span[1]
            if (a + b) / 2 < covered:
                window[component.name] = None
                continue
            if component.source:
                label = f"{component.source}@"
            else:
                label = f"f{component.band}@" if component.band is not None else ""
            key = f"{label}{a / model.sr:.2f}-{b / model.sr:.2f}s"
            window[component.name] = key
            spans[key] = (a / model.sr, b / model.sr)
        keys.append(window)
        covered = start + length
    return keys, spans


def _aggregate(keys: list[dict[str, str | None]], explanations: list[Explanation]) -> tuple[list[str], np.ndarray]:
    """Aggregate names (first seen first) and their weights: the mean over the windows that have them."""
    sums: dict[str, float] = {}
    counts: dict[str, int] = {}
    for window, explanation in zip(keys, explanations):
        for name, weight in zip(explanation.components, explanation.weights):
            key = window[name]
            if key is not None:
                sums[key] = sums.get(key, 0.0) + float(weight)
                counts[key] = counts.get(key, 0) + 1
    names = list(sums)
    return names, np.array([sums[n] / counts[n] for n in names])


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
    start: float = 0.0,
    duration: float | None = None,
) -> ExplainResult:
    """Explain ``task_spec``'s model on the audio file ``path`` (from ``start`` for ``duration`` seconds,
    by default all of it); write ``explanation.json``, WAVs and ``explanation.png`` into ``out``.

    The file is read and checked before the model is loaded, so a bad file fails at once.

    Raises
    ------
    AudioxError
        For unreadable or unusable audio, a span outside the file, unknown names, or an unusable ``out``.
    """
    out = Path(out)
    audio, file_sr = read_audio(path)
    channels, _ = sf.read(path, dtype="float32", always_2d=True)
    begin, end = _span(start, duration, audio.size / file_sr)
    channels = channels[round(begin * file_sr) : round(end * file_sr)]
    resolved_task = registry.tasks.resolve(task_spec, device=device)
    resolved_explainer = registry.explainers.resolve(explainer_spec)
    task, explainer = resolved_task.obj, resolved_explainer.obj
    prepare_out(out)
    model = task.load_model(progress=progress)
    span = resample(channels.mean(axis=1), file_sr, model.sr)
    length = model.input_samples or span.size
    padded = np.pad(span, (0, max(0, length - span.size)))
    starts = window_starts(padded.size, length)
    examples = [Example(f"{Path(path).stem}@{s / model.sr:.2f}s", padded[s : s + length], model.sr) for s in starts]
    per_window = model.predict_proba(np.stack([e.audio for e in examples]))
    probabilities = per_window.mean(axis=0)
    index = int(np.argmax(probabilities)) if target is None else resolve_target(target, model.classes, task_spec)
    factorizations = [explainer.factorize_for(model, example, seed) for example in examples]
    explanations = [
        check_explanation(explainer.explain(model, example, f, index, seed), f.n_components)
        for example, f in zip(examples, factorizations)
    ]
    keys, spans = _aggregate_keys(factorizations, starts, model, length)
    windows = _Windows(model, starts, length, examples, factorizations, keys)
    names, weights = _aggregate(keys, explanations)
    aggregate = Explanation(tuple(names), weights, index)
    top = top_positive(names, weights, k)
    wavs, wav_note = _write_wavs(out, windows, top, span.size, channels, file_sr)
    result = ExplainResult(
        file=str(path),
        explained_seconds=(round(begin, 3), round(end, 3)),
        window_seconds=None if model.input_samples is None else round(model.input_samples / model.sr, 3),
        task=resolved_task.canonical,
        explainer=resolved_explainer.canonical,
        model_valid=task.known_validity,
        classes=tuple(model.classes),
        probabilities=tuple(float(p) for p in probabilities),
        target=index,
        components=tuple(names),
        weights=tuple(float(w) for w in weights),
        aggregate_rule=AGGREGATE_RULE,
        top_positive=tuple(top),
        not_informative_because=uninformative_because(explanations[0] if len(explanations) == 1 else aggregate),
        windows=tuple(
            _window(begin + s / model.sr, length, model.sr, per_window[i, index], e)
            for i, (s, e) in enumerate(zip(starts, explanations))
        ),
        n_model_calls=sum(e.n_model_calls for e in explanations),
        seconds=round(sum(e.seconds for e in explanations), 4),
        seed=seed,
        wavs=wavs,
        wav_note=wav_note,
        figure=_figure(out, span, windows, begin, (names, weights, top, spans), resolved_explainer.canonical),
    )
    (out / JSON_NAME).write_text(json.dumps(result.to_dict(), indent=2) + "\n")
    return result


def _span(start: float, duration: float | None, file_seconds: float) -> tuple[float, float]:
    if start < 0 or start >= file_seconds:
        raise InvalidInputError(f"--start {start:g} s is outside the file ({file_seconds:.3g} s long)")
    if duration is not None and duration <= 0:
        raise InvalidInputError("--duration must be positive (seconds)")
    end = file_seconds if duration is None else min(file_seconds, start + duration)
    return start, end


def _window(start: float, length: int, sr: int, probability: float, e: Explanation) -> WindowExplanation:
    return WindowExplanation(
        start=round(start, 3),
        end=round(start + length / sr, 3),
        probability=float(probability),
        components=tuple(e.components),
        weights=tuple(float(w) for w in e.weights),
        top_positive=tuple(top_positive(e.components, e.weights, 3)),
        not_informative_because=uninformative_because(e),
        intercept=e.intercept,
        surrogate_r2=e.score,
        n_model_calls=e.n_model_calls,
        seconds=round(e.seconds, 4),
    )


@dataclass(frozen=True)
class _Windows:
    """The windows of the explained span: where they start (samples at the model's rate), their inputs,
    factorizations, and the aggregate name of each component (:func:`_aggregate_keys`)."""

    model: Classifier
    starts: list[int]
    length: int
    examples: list[Example]
    factorizations: list[Factorization]
    keys: list[dict[str, str | None]]


def _write_wavs(
    out: Path, windows: _Windows, top: list[str], n_samples: int, channels: np.ndarray, file_sr: int
) -> tuple[dict[str, Any] | str, str]:
    """The WAVs of the aggregate's top components (each, together) and of the input without them, and
    how they were made."""
    model = windows.model
    form = audible_form(windows.factorizations[0], model)
    if not top:
        return "none: no component has a positive weight", ""
    if form is None:
        return "none: spectral and time-frequency segments have no audio form", ""
    every = {key for window in windows.keys for key in window.values() if key is not None}
    selections = {f"component_{safe_file_name(name)}": {name} for name in top}
    selections.update(top_together=set(top), without_top=every - set(top))
    parts = {}
    for part_name, selected in selections.items():
        pieces = [
            window_part(f, model, e.audio, {n for n, key in window.items() if key in selected}, form)
            for f, e, window in zip(windows.factorizations, windows.examples, windows.keys)
        ]
        parts[part_name] = at_file_rate(stitch(pieces, windows.starts, n_samples), form, model.sr, channels, file_sr)
    why = {"without_top": "every component is among the top"} if not selections["without_top"] else {}
    note = (
        f"the file's own samples ({channels.shape[1]} channel(s), {file_sr} Hz) in the kept time spans"
        if form == "gate"
        else f"sources separated at the model's rate ({model.sr} Hz, mono), resampled to the file's {file_sr} Hz"
    )
    return write_parts(out, parts, file_sr, why), note


def _figure(out: Path, span: np.ndarray, windows: _Windows, begin: float, aggregate: tuple, explainer: str) -> str:
    from audiox_bench.results.figures import explanation_figure

    names, weights, top, spans = aggregate
    sr = windows.model.sr
    written = explanation_figure(
        span,
        sr,
        begin,
        [s / sr for s in windows.starts],
        names,
        weights,
        top,
        {name: spans[name] for name in top if name in spans},
        f"{explainer}: weights over the explained span",
        out / FIGURE_NAME,
    )
    return FIGURE_NAME if written else "none: matplotlib is not installed (pip install 'audiox-bench[plots]')"
