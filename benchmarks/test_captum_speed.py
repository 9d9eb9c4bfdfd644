"""Captum alone vs Captum through our prediction path vs our own baselines, on the same model and inputs.

"Captum alone" is what a user writes without the benchmark: Captum's method with ``feature_mask`` over
the model's input features (SLIME's 10 temporal segments), the occlusion content as baseline, and a
forward function that runs the network on every perturbed input Captum builds (``perturbations_per_eval``
= our batch size, so both batch alike). "Through our path" is ``captum:method=...``: Captum perturbs a
mask over the components and our cache composes, de-duplicates and batches them. Ours is ``kernelshap``
/ ``occlusion`` over the same segments. Each records seconds and model inputs per explanation, cold.
"""

import numpy as np
import pytest
import torch

from audiox_bench.core.registry import explainers
from audiox_bench.perturbation.prediction_cache import forget_predictions, model_batch_size

N_EXAMPLES = 5
N_SAMPLES = 512
CASES = [
    ("KernelShap", "kernelshap", {"n_samples": N_SAMPLES}),
    ("FeatureAblation", "occlusion", {}),
    ("ShapleyValueSampling", None, {"n_samples": 25}),
    ("Lime", None, {"n_samples": N_SAMPLES}),
]


def captum_alone(model, factorization, method: str, keywords: dict, target: int) -> tuple[np.ndarray, int]:
    """Captum on the model's features with a feature mask, every perturbed input sent to the network."""
    import captum.attr

    seen = 0

    def forward(features: torch.Tensor) -> torch.Tensor:
        nonlocal seen
        seen += len(features)
        with torch.no_grad():
            return model.probabilities(model.network(features.to(model.device)))[:, target].double().cpu()

    inputs = torch.from_numpy(factorization.features[None].copy())
    baselines = torch.from_numpy(factorization.fill[None].copy())
    mask = torch.from_numpy(factorization.cell_map[None].copy())
    attribution = getattr(captum.attr, method)(forward).attribute(
        inputs, baselines=baselines, feature_mask=mask, perturbations_per_eval=model_batch_size(model), **keywords
    )
    cells = attribution.numpy().reshape(factorization.features.shape)
    return np.bincount(factorization.cell_map.ravel(), cells.ravel(), factorization.n_components), seen


@pytest.mark.parametrize("method, ours, keywords", CASES)
@pytest.mark.parametrize("path", ["captum_alone", "captum_through_ours", "ours"])
def test_captum_speed(benchmark, vocals_task, method, ours, keywords, path):
    if path == "ours" and ours is None:
        pytest.skip(f"no baseline of ours computes {method}")
    model, examples = vocals_task.model, vocals_task.examples(N_EXAMPLES)
    settings = ",".join(f"{k}={v}" for k, v in keywords.items())
    spec = {
        "captum_through_ours": f"captum:method={method}" + (f",{settings}" if settings else ""),
        # max_exhaustive=1: sampled Kernel SHAP at the same number of coalitions, not the exact 2^10
        "ours": f"{ours}:over=slime" + (f",{settings},max_exhaustive=1" if ours == "kernelshap" else ""),
    }.get(path, "slime")
    explainer = explainers.build(spec)
    factorizations = [explainer.factorize(model, e) for e in examples]
    calls = []

    def explain_all():
        forget_predictions(model)
        calls.clear()
        for seed, factorization in enumerate(factorizations):
            if path == "captum_alone":
                torch.manual_seed(seed)
                calls.append(captum_alone(model, factorization, method, keywords, 1)[1])
            else:
                calls.append(explainer.explain(model, examples[seed], factorization, 1, seed).n_model_calls)

    benchmark.pedantic(explain_all, rounds=3, iterations=1, warmup_rounds=1)
    seconds = benchmark.stats.stats.median / len(examples)
    benchmark.extra_info.update(seconds_per_explanation=seconds, model_calls_per_explanation=float(np.mean(calls)))
    print(f"\n{method} {path}: {seconds:.3f} s and {np.mean(calls):.0f} model inputs per explanation")
