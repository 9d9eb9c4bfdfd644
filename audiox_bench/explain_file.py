"""Explain a task model's prediction on one audio file, and write the explanation so a person can
listen to it (the point of audioLIME): the top components alone, and the input without them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from audiox_bench.core import registry
from audiox_bench.core.audio import load_audio
from audiox_bench.core.contracts import Example, Factorization
from audiox_bench.core.errors import AudioxError
from audiox_bench.metrics.topk import top_positive
from audiox_bench.engine.runner import resolve_target
from audiox_bench.factorizations.segmentation import segment_sample_bounds
from audiox_bench.engine.items import check_explanation

MIN_SECONDS = 0.5


def listenable_parts(factorization: Factorization, audio: np.ndarray, top: list[str],
                     hop_length: int | None) -> dict[str, np.ndarray]:
    """Waveforms of each top component, of the top components together, and of the input without
    them; empty when the factorization has no audio form (spectral and time-frequency segments)."""
    names = list(factorization.names)
    if not top:
        return {}
    if factorization.domain == "audio":
        def keep(selected):
            mask = np.array([[n in selected for n in names]])
            return factorization.compose(mask)[0]
    elif getattr(factorization, "layout", None) == "temporal" and hop_length:
        bounds = segment_sample_bounds(factorization.features.shape[1], factorization.n_components, audio.size,
                                       hop_length)
        ranges = {name: (int(bounds[k]), int(bounds[k + 1])) for k, name in enumerate(factorization.names)}

        def keep(selected):
            out = np.zeros_like(audio)
            for name in selected:
                start, end = ranges[name]
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


def explain_file(path: str | Path, task_spec: str, explainer_spec: str, out: str | Path,
                 target: str | None = None, seed: int = 0, k: int = 3, device: str = "cpu",
                 progress: bool = False) -> dict[str, Any]:
    """Explain ``task_spec``'s model on the audio file ``path``; write ``explanation.json`` and WAVs.

    Returns
    -------
    dict
        The content of ``explanation.json``.

    Raises
    ------
    AudioxError
        For unreadable or unusable audio, unknown names, or an unwritable ``out``.
    """
    out = Path(out)
    task = registry.tasks.build(task_spec, device=device)
    explainer = registry.explainers.build(explainer_spec)
    task.prepare(progress=progress)
    model = task.model
    audio = load_audio(path, model.sr)
    if audio.size < MIN_SECONDS * model.sr:
        raise AudioxError(f"audio file {str(path)!r} is too short: {audio.size / model.sr:.2f} s, "
                          f"at least {MIN_SECONDS} s needed")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise AudioxError(f"cannot write to {str(out)!r}: {exc.strerror or exc}") from exc
    example = Example(Path(path).stem, audio, model.sr)
    probabilities = model.predict_proba(audio)[0]
    index = int(np.argmax(probabilities)) if target is None else resolve_target(target, model.classes, task_spec)
    factorization = explainer.factorize(model, example)
    explanation = check_explanation(explainer.explain(model, example, factorization, index, seed),
                                    factorization.n_components)
    top = top_positive(explanation.components, explanation.weights, k)
    hop = getattr(getattr(getattr(model, "frontend", None), "config", None), "hop_length", None)
    wavs = {}
    for name, part in listenable_parts(factorization, audio, top, hop).items():
        file = out / f"{name}.wav"
        wavs[file.name] = {"gain": write_wav(file, part, model.sr)}
    result = {
        "file": str(path), "task": registry.canonical_spec(registry.tasks, task_spec),
        "explainer": registry.canonical_spec(registry.explainers, explainer_spec),
        "task_valid": task.is_valid, "classes": list(model.classes),
        "probabilities": [float(p) for p in probabilities], "target": index, "target_name": model.classes[index],
        "components": list(explanation.components), "weights": [float(w) for w in explanation.weights],
        "top_positive": top, "intercept": explanation.intercept, "surrogate_r2": explanation.score,
        "n_model_calls": explanation.n_model_calls, "seconds": round(explanation.seconds, 4), "seed": seed,
        "wavs": wavs or "none: only source and temporal factorizations have an audio form",
    }
    (out / "explanation.json").write_text(json.dumps(result, indent=2, default=str) + "\n")
    return result
