"""Named benchmark presets (``audiox run --benchmark NAME``).

``default`` runs every task with every built-in explainer configuration and every metric, at settings
that finish on a 2-core CPU machine in well under an hour; its result is published in ``leaderboard/``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from audiox_bench.core import defaults
from audiox_bench.core.errors import UnknownNameError
from audiox_bench.core.registry import close_matches_hint
from audiox_bench.engine.plan import RunSpec

_CONTENTS = "zero|min_data|min_inp|mean_inp|noise_norm"

PRESETS: dict[str, RunSpec] = {
    "default": RunSpec(
        tasks=("confound", "vocals", "adversarial"),
        explainers=(
            "audiolime",
            "audiolime:separator=hpss",
            f"slime:content={_CONTENTS}",
            "random",
            "random:over=slime",
            "occlusion",
            "occlusion:over=slime",
            "kernelshap",
            "kernelshap:over=slime",
            "gradient",
            # Captum's methods over SLIME's segments. Left out: FeatureAblation and Occlusion (with one
            # component per window they are occlusion:over=slime, equal to 1e-12 in the tests),
            # ShapleyValues (10! orderings of 10 segments; kernelshap:over=slime gives the exact values),
            # FeaturePermutation (needs a batch of different inputs; not applicable to one explanation).
            "captum:method=Saliency",
            "captum:method=InputXGradient",
            "captum:method=IntegratedGradients",
            "captum:method=GradientShap",
            "captum:method=DeepLift",
            "captum:method=DeepLiftShap",
            "captum:method=GuidedBackprop",
            "captum:method=Deconvolution",
            "captum:method=NoiseTunnel,base=Saliency",
            "captum:method=ShapleyValueSampling",
            "captum:method=KernelShap",
            "captum:method=Lime",
        ),
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
    ``n_examples`` says otherwise. ``fields`` are the other RunSpec fields (None keeps the default)."""
    overrides = {
        "tasks": tuple(tasks) or None,
        "explainers": tuple(explainers) or None,
        "metrics": tuple(metrics) or None,
        "n_examples": n_examples if n_examples is not None else (defaults.QUICK_N_EXAMPLES if quick else None),
        **fields,
    }
    base = preset(benchmark) if benchmark is not None else RunSpec()
    return replace(base, **{k: v for k, v in overrides.items() if v is not None})
