"""Named benchmark presets (``audiox run --benchmark NAME``).

``default`` runs every task with every built-in explainer configuration and every metric (on ``tags``,
the real model, all but those that sample SLIME's segments), at settings that finish on a 2-core CPU
machine in well under an hour; its result is published in ``leaderboard/``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from audiox_bench.core import defaults
from audiox_bench.core.errors import UnknownNameError
from audiox_bench.core.registry import close_matches_hint
from audiox_bench.core.spec import parse_spec
from audiox_bench.engine.plan import RunSpec

_CONTENTS = "zero|min_data|min_inp|mean_inp|noise_norm"

# Over sources (audioLIME's factorization): the configurations a source truth applies to.
_OVER_SOURCES = ("audiolime", "audiolime:separator=hpss", "random", "occlusion", "kernelshap")
# Captum's gradient methods attribute to the model's input over SLIME's segments (the gradient baseline too).
_GRADIENT = (
    "gradient",
    "captum:method=Saliency",
    "captum:method=InputXGradient",
    "captum:method=IntegratedGradients",
    "captum:method=GradientShap",
    "captum:method=DeepLift",
    "captum:method=DeepLiftShap",
    "captum:method=GuidedBackprop",
    "captum:method=Deconvolution",
    "captum:method=NoiseTunnel,base=Saliency",
)
# Captum's sampling methods. Left out everywhere: FeatureAblation and Occlusion (with one component per
# window they are occlusion, equal to 1e-12 in the tests), ShapleyValues (10! orderings of 10 segments;
# kernelshap gives the exact values), FeaturePermutation (needs a batch of different inputs).
_SAMPLING = ("ShapleyValueSampling", "KernelShap", "Lime")

PRESETS: dict[str, RunSpec] = {
    "default": RunSpec(
        tasks=("confound", "vocals", "adversarial", "tags"),
        explainers=(
            *_OVER_SOURCES,
            f"slime:content={_CONTENTS}",
            "random:over=slime",
            "occlusion:over=slime",
            "kernelshap:over=slime",
            *_GRADIENT,
            *(f"captum:method={method}" for method in _SAMPLING),  # over SLIME's segments
        ),
        # tags explains musicnn (46-48 inputs/s on 2 cores). What samples SLIME's 2^10 segment subsets
        # (the five SLIME contents, kernelshap:over=slime, Captum's sampling methods over SLIME) costs
        # about 1,000 passes per clip, and the randomization check 3 times that: SLIME measured 26 s +
        # 78 s per clip, 35 minutes per configuration for 20 clips (nine configurations: over 5 hours),
        # with no truth to score them by (the truth is a source). tags runs everything else, and
        # Captum's sampling methods over the sources instead.
        task_explainers={
            "tags": (
                *_OVER_SOURCES,
                *(f"captum:method={method},over=audiolime" for method in _SAMPLING),
                "random:over=slime",
                "occlusion:over=slime",
                *_GRADIENT,
            )
        },
        metrics=(
            "topk_overlap",
            "faithfulness_correlation",
            "surrogate_fidelity",
            "content_agreement",
            "label_flip",
            "randomization_divergence:n_models=3,curve=false",
        ),
        n_examples=20,
        repeats=1,
    ),
}


def preset(name: str, **overrides: Any) -> RunSpec:
    """The RunSpec of a named preset, with any fields overridden (e.g. ``seed``, ``device``)."""
    if name not in PRESETS:
        raise UnknownNameError(
            f"unknown benchmark {name!r}{close_matches_hint(name, PRESETS)}; available: {', '.join(sorted(PRESETS))}"
        )
    return replace(PRESETS[name], **{k: v for k, v in overrides.items() if v is not None})


def make_spec(
    benchmark: str | None = None,
    tasks: Sequence[str] = (),
    explainers: Sequence[str] = (),
    metrics: Sequence[str] = (),
    n_examples: int | None = None,
    quick: bool = False,
    **fields: Any,
) -> RunSpec:
    """The RunSpec the command line and the Python API describe: a named preset (``benchmark``) or the
    defaults, with whatever is given overriding them; ``quick`` means 20 examples per task unless
    ``n_examples`` says otherwise. ``fields`` are the other RunSpec fields (None keeps the default).

    Explainers given here run on every task (a preset's per-task choice no longer applies); tasks given
    here keep the preset's explainers for those of them it chose explainers for.
    """
    overrides = {
        "tasks": tuple(tasks) or None,
        "explainers": tuple(explainers) or None,
        "metrics": tuple(metrics) or None,
        "n_examples": n_examples if n_examples is not None else (defaults.QUICK_N_EXAMPLES if quick else None),
        **fields,
    }
    base = preset(benchmark) if benchmark is not None else RunSpec()
    task_names = {parse_spec(text).name for text in overrides["tasks"] or base.tasks}
    overrides["task_explainers"] = fields.get("task_explainers") or {
        name: chosen for name, chosen in base.task_explainers.items() if not explainers and name in task_names
    }
    return replace(base, **{k: v for k, v in overrides.items() if v is not None})
