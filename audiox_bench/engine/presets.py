"""Named benchmark presets (``audiox run --benchmark NAME``).

``default`` runs every task with every built-in explainer configuration and every metric, at settings
that finish on a 2-core CPU machine in well under an hour; its result is published in ``leaderboard/``.
"""

from __future__ import annotations

from dataclasses import replace

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


def preset(name: str, **overrides) -> RunSpec:
    """The RunSpec of a named preset, with any fields overridden (e.g. ``seed``, ``device``)."""
    if name not in PRESETS:
        raise UnknownNameError(
            f"unknown benchmark {name!r}{close_matches_hint(name, PRESETS)}; available: {', '.join(sorted(PRESETS))}"
        )
    return replace(PRESETS[name], **{k: v for k, v in overrides.items() if v is not None})
