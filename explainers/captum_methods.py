"""Every Captum attribution method as a benchmark explainer: ``captum:method=NAME,over=EXPLAINER,...``.

The method runs over the factorization of another explainer (``over=slime`` by default), like the
baselines do, and its attributions are read per component:

- **Perturbation methods** (FeatureAblation, ShapleyValueSampling, ShapleyValues, KernelShap, Lime,
  Occlusion) see the components as their features: the input is a mask over the components (all ones),
  the baseline all zeros, so every perturbation Captum makes is a mask, composed through the
  factorization (mixed sources, or segments filled with the occlusion content) and scored through the
  shared prediction path: batched (``perturbations_per_eval`` is the model's batch size), each distinct
  mask evaluated once, cached. For a segmentation this is Captum's ``feature_mask`` over the model's
  input with the occlusion content as baseline: a component's cells switch together. Occlusion slides a
  window of one component along the mask (stride 1): leave-one-out, as FeatureAblation.
- **Gradient methods** (Saliency, InputXGradient, IntegratedGradients, GradientShap, DeepLift,
  DeepLiftShap, GuidedBackprop, Deconvolution, and NoiseTunnel over any of them: ``method=NoiseTunnel,
  base=IntegratedGradients,nt_type=smoothgrad``) attribute the target probability to the model's input
  features, with the occlusion content as baseline (``baselines=content``, or ``zero``). A component's
  weight is read from its cells' attributions by a stated rule, ``aggregate``: ``sum`` by default
  (attributions are additive: for IntegratedGradients and DeepLift they sum to f(input) - f(baseline), so
  the sum is the component's share of the change; it is what the ``gradient`` baseline reports), ``mean``
  (per cell: SLIME's temporal segments hold 480 or 560 cells) or ``abs_sum`` (magnitude). Saliency is
  Captum's |gradient| unless ``abs=false`` (Captum's own default ``abs=True`` is kept): its attributions
  are then all positive, so its sum ranks by magnitude, not by direction. Per method:

  ===============================  ==========================================  =====================
  method                           cell attribution                            component weight
  ===============================  ==========================================  =====================
  Saliency                         abs(gradient) (``abs=true``) or gradient    ``aggregate`` (sum)
  InputXGradient                   gradient x input                            ``aggregate`` (sum)
  IntegratedGradients, DeepLift,   additive: sums to f(input) - f(baseline)    ``aggregate`` (sum)
  DeepLiftShap, GradientShap
  GuidedBackprop, Deconvolution    modified gradient (ReLU rules)              ``aggregate`` (sum)
  NoiseTunnel                      its base method's, averaged over noise      ``aggregate`` (sum)
  ===============================  ==========================================  =====================

  They need a differentiable model and a segmentation of its input; anything else is not applicable.
- **Layer methods** (LayerGradCam, GuidedGradCam, LayerIntegratedGradients, LayerConductance) attribute to a
  hidden layer (``layer=``, a module path; each built-in network names a default, e.g. musicnn's mid-end
  convolution ``midend.2``), upsampled to the input's cells (``interpolate=nearest`` or ``linear``) and read
  per component by ``aggregate`` as the gradient methods are (:mod:`audiox_bench.explainers.captum_layers`).
- FeaturePermutation permutes features across a batch of different inputs; an explanation has one input,
  so it is not applicable.

Captum draws its random numbers from torch's generator (and GradientShap also from numpy's global one); both
are seeded from the explanation's seed for the call and restored after it.

Length: Captum's methods share one adapter (inputs, baselines, the aggregation rule); a file per method would repeat
it.
"""

from __future__ import annotations

import copy
import time
import warnings
import weakref
from typing import Any

import numpy as np
import torch
from torch import nn

from audiox_bench.core.classifier import Classifier, Differentiable, require
from audiox_bench.core.components import AGGREGATION_RULES, Factorization, FeatureFactorization
from audiox_bench.core.data import DefaultConfiguration, Example, Explanation
from audiox_bench.core.errors import AudioxError, NotApplicableError
from audiox_bench.explainers import SKIP_ON_TAGS
from audiox_bench.explainers.baselines import OverExplainer
from audiox_bench.explainers.captum_layers import INTERPOLATIONS, LAYER_ATTRIBUTIONS, LAYER_METHODS, layer_cells
from audiox_bench.perturbation.prediction_cache import model_batch_size, prediction_cache

PERTURBATION = ("FeatureAblation", "ShapleyValueSampling", "ShapleyValues", "KernelShap", "Lime", "Occlusion")
GRADIENT = (
    "Saliency",
    "InputXGradient",
    "IntegratedGradients",
    "GradientShap",
    "DeepLift",
    "DeepLiftShap",
    "GuidedBackprop",
    "Deconvolution",
)
CELL_ATTRIBUTIONS = {  # what a gradient method attributes to each cell of the model input
    "Saliency": "|gradient|",
    "InputXGradient": "gradient x input",
    "IntegratedGradients": "integrated gradients (sum to f(input) - f(baseline))",
    "GradientShap": "expected gradients (sum to f(input) - E f(baseline))",
    "DeepLift": "DeepLift multipliers (sum to f(input) - f(baseline))",
    "DeepLiftShap": "DeepLift over a baseline distribution",
    "GuidedBackprop": "guided backpropagation (ReLU gradients clipped)",
    "Deconvolution": "deconvolution (ReLU of the backward signal)",
}
NOT_APPLICABLE = {
    "FeaturePermutation": "FeaturePermutation permutes features across a batch of different inputs; "
    "an explanation has one input"
}
METHODS = (*PERTURBATION, *GRADIENT, *LAYER_METHODS, "NoiseTunnel", *NOT_APPLICABLE)
SAMPLED = ("ShapleyValueSampling", "KernelShap", "Lime", "GradientShap")  # methods that read n_samples
SAMPLING_METHODS = ("ShapleyValueSampling", "KernelShap", "Lime")  # perturbation methods that sample masks
MAX_ORDERED_COMPONENTS = 8  # ShapleyValues: d! orderings, 40,320 at d = 8 (10! = 3.6 million)
# hook nn.ReLU modules
MODULE_METHODS = ("DeepLift", "DeepLiftShap", "GuidedBackprop", "Deconvolution", "GuidedGradCam")
INTEGRATED = ("IntegratedGradients", "DeepLift", "LayerIntegratedGradients", "LayerConductance")  # take a baseline
STEPPED = ("IntegratedGradients", "LayerIntegratedGradients", "LayerConductance")  # read n_steps
INPUT_LAYER_METHODS = ("LayerGradCam", "GuidedGradCam")  # one or two passes
INTEGRATED_LAYER_METHODS = ("LayerIntegratedGradients", "LayerConductance")  # n_steps passes
# Captum's notes on what it does to every input (hooks set and removed, gradients required): said once per
# call, they would fill a run's log without telling anything about the explanation
CAPTUM_NOTICES = ("Input Tensor", "Setting forward, backward hooks", "Setting backward hooks")
NT_TYPES = ("smoothgrad", "smoothgrad_sq", "vargrad")


def captum() -> Any:
    """The ``captum.attr`` module, or a one-line error saying how to install it."""
    try:
        import captum.attr
    except ImportError as exc:  # it is a dependency; a broken environment still gets one line
        raise AudioxError("the Captum explainers need captum: pip install 'captum>=0.9'") from exc
    return captum.attr


class _Probability(nn.Module):
    """The model's probabilities of its features, as a module Captum can hook; counts the inputs it sees."""

    def __init__(self, model: Differentiable, network: nn.Module) -> None:
        super().__init__()
        self.model, self.network, self.n_inputs = model, network, 0

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        self.n_inputs += len(features)
        return self.model.probabilities(self.network(features))


_HOOKABLE: weakref.WeakKeyDictionary[nn.Module, tuple[tuple[int, ...], nn.Module]] = weakref.WeakKeyDictionary()


def _relu_modules(network: nn.Module) -> nn.Module:
    """A copy of ``network`` whose ReLUs are not in-place (Captum's hooks cannot follow in-place ones),
    made once per network and reused while its parameters and buffers are unchanged (torch's in-place
    version counters), so every explanation of a model does not copy it again."""
    versions = tuple(t._version for t in (*network.parameters(), *network.buffers()))
    kept = _HOOKABLE.get(network)
    if kept is None or kept[0] != versions:
        hookable = copy.deepcopy(network)
        for module in hookable.modules():
            if isinstance(module, nn.ReLU):
                module.inplace = False
        kept = _HOOKABLE[network] = (versions, hookable)
    return kept[1]


class CaptumExplainer(OverExplainer):
    """A Captum attribution method over another explainer's components (perturbation methods through the
    shared prediction path, attributing to the components directly; gradient methods attributing to the
    input's cells, read per component by ``aggregate``: summed by default, Saliency's of |gradient| as
    Captum's ``abs=True`` gives them).

    Parameters
    ----------
    method : str
        Captum's class name: FeatureAblation, ShapleyValueSampling, ShapleyValues, KernelShap, Lime,
        Occlusion, Saliency, InputXGradient, IntegratedGradients, GradientShap, DeepLift, DeepLiftShap,
        GuidedBackprop, Deconvolution, the layer methods LayerGradCam, GuidedGradCam,
        LayerIntegratedGradients, LayerConductance, NoiseTunnel (over ``base``) or FeaturePermutation.
    over : str
        Registered explainer whose factorization is used (default ``slime``).
    base : str
        The gradient method NoiseTunnel wraps.
    nt_type : str
        NoiseTunnel's ``smoothgrad``, ``smoothgrad_sq`` or ``vargrad``.
    n_samples : int, optional
        Samples of the sampling methods (ShapleyValueSampling, KernelShap, Lime, GradientShap,
        NoiseTunnel); Captum's default when not given.
    n_steps : int, optional
        Steps of IntegratedGradients, LayerIntegratedGradients and LayerConductance (Captum's default 50
        when not given).
    stdevs : float
        Noise of GradientShap and NoiseTunnel, in the input's units.
    baselines : str
        Gradient methods' baseline: ``content`` (the factorization's occlusion content) or ``zero``.
    aggregate : str
        Gradient methods: how a component's weight is read from its cells' attributions, ``sum`` (the
        default: its share of an additive attribution), ``mean`` (per cell) or ``abs_sum`` (magnitude).
    abs : bool
        Saliency (and NoiseTunnel over it): attribute the absolute gradient (Captum's default) or the
        signed one.
    layer : str, optional
        Layer methods: the module path of the layer read (default: the network's ``cam_layer``, musicnn's
        ``midend.2``, its VGG's ``convs.4``, the synthetic tasks' last convolution).
    interpolate : str
        LayerGradCam and GuidedGradCam: how the Grad-CAM map is upsampled to the input's cells,
        ``nearest`` (Captum's default) or ``linear``. (LayerIntegratedGradients and LayerConductance
        share each position's attribution evenly among its nearest cells, keeping the total.)
    **factorization :
        The keywords of ``over``.
    """

    description = "a Captum attribution method over another explainer's components"
    # The gradient methods and Grad-CAM everywhere (they attribute to the model's input, over SLIME's segments;
    # the integrated layer methods not on tags: 51 musicnn passes with gradients per explanation and 4 times
    # that with the randomization check, 2.2 s per clip measured, where the default's budget is spent), and the
    # sampling methods over SLIME's segments, on tags over the sources instead (SKIP_ON_TAGS). Left out:
    # FeatureAblation and Occlusion (with one component per window they are occlusion: equal to 1e-12 in
    # the tests), ShapleyValues (10! orderings of 10 segments; kernelshap gives the exact values) and
    # FeaturePermutation (it never applies to one explanation).
    default_benchmark = (
        *(DefaultConfiguration(f"captum:method={method}") for method in (*GRADIENT, *INPUT_LAYER_METHODS)),
        *(DefaultConfiguration(f"captum:method={m}", skip_tasks=SKIP_ON_TAGS) for m in INTEGRATED_LAYER_METHODS),
        DefaultConfiguration("captum:method=NoiseTunnel,base=Saliency"),
        *(DefaultConfiguration(f"captum:method={m}", skip_tasks=SKIP_ON_TAGS) for m in SAMPLING_METHODS),
        *(DefaultConfiguration(f"captum:method={m},over=audiolime", only_tasks=SKIP_ON_TAGS) for m in SAMPLING_METHODS),
    )

    def __init__(
        self,
        method: str = "FeatureAblation",
        over: str = "slime",
        base: str = "IntegratedGradients",
        nt_type: str = "smoothgrad",
        n_samples: int | None = None,
        n_steps: int | None = None,
        stdevs: float = 0.1,
        baselines: str = "content",
        aggregate: str = "sum",
        abs: bool = True,
        layer: str | None = None,
        interpolate: str = "nearest",
        **factorization: Any,
    ) -> None:
        super().__init__(over, **factorization)
        if aggregate not in AGGREGATION_RULES:
            raise ValueError(f"aggregate must be one of {', '.join(AGGREGATION_RULES)}, got {aggregate!r}")
        self.aggregate, self.absolute = aggregate, bool(abs)
        if interpolate not in INTERPOLATIONS:
            raise ValueError(f"interpolate must be one of {', '.join(INTERPOLATIONS)}, got {interpolate!r}")
        self.layer, self.interpolate = layer, interpolate
        if method not in METHODS:
            raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
        if method == "NoiseTunnel" and base not in GRADIENT:
            raise ValueError(f"NoiseTunnel wraps a gradient method ({', '.join(GRADIENT)}), got {base!r}")
        if nt_type not in NT_TYPES:
            raise ValueError(f"nt_type must be one of {', '.join(NT_TYPES)}, got {nt_type!r}")
        if baselines not in ("content", "zero"):
            raise ValueError(f"baselines must be content or zero, got {baselines!r}")
        if (n_samples is not None and n_samples < 1) or (n_steps is not None and n_steps < 2) or stdevs < 0:
            raise ValueError("n_samples >= 1, n_steps >= 2 and stdevs >= 0 are needed")
        self.method, self.base, self.nt_type = method, base, nt_type
        self.n_samples, self.n_steps, self.stdevs, self.baselines = n_samples, n_steps, float(stdevs), baselines
        captum()  # a missing Captum fails when the SPEC is built, not on every item

    def canonical_params(self) -> dict[str, Any]:
        """Non-default parameters, without those the method does not read (NoiseTunnel's ``base`` of
        another method, ``n_steps`` of a method that is not IntegratedGradients ...)."""
        params = super().canonical_params()
        name = self.base if self.method == "NoiseTunnel" else self.method
        used = {
            "base": self.method == "NoiseTunnel",
            "nt_type": self.method == "NoiseTunnel",
            "n_samples": self.method in (*SAMPLED, "NoiseTunnel") or name in SAMPLED,
            "n_steps": name in STEPPED,
            "stdevs": self.method == "NoiseTunnel" or name == "GradientShap",
            "baselines": name in GRADIENT or name in INTEGRATED,
            "aggregate": name in GRADIENT or name in LAYER_METHODS,
            "layer": name in LAYER_METHODS,
            "interpolate": name in ("LayerGradCam", "GuidedGradCam"),
            "abs": name == "Saliency",
        }
        return {k: v for k, v in params.items() if used.get(k, True)}

    @classmethod
    def choices(cls) -> list[str]:
        """One line per method: what it attributes to and how a component's weight is read
        (``audiox list explainers captum`` prints them)."""
        lines = [f"{m}: attributes to the components themselves (no aggregation)" for m in PERTURBATION]
        lines += [
            f"{m}: {CELL_ATTRIBUTIONS[m]}{' (abs=true; abs=false: gradient)' if m == 'Saliency' else ''} per cell, "
            "aggregate=sum over each component's cells (or mean, abs_sum)"
            for m in GRADIENT
        ]
        lines += [
            f"{m}: {LAYER_ATTRIBUTIONS[m]} to the input's cells (layer=, interpolate=nearest|linear), "
            "aggregate=sum over each component's cells (or mean, abs_sum)"
            for m in LAYER_METHODS
        ]
        lines.append("NoiseTunnel: its base method's cell attributions averaged over noisy inputs, then as the base")
        lines += [f"{m}: not applicable ({why})" for m, why in NOT_APPLICABLE.items()]
        return lines

    @property
    def weight_rule(self) -> str:
        if self.method in PERTURBATION:
            return f"{self.method} attributes to the components themselves (no aggregation)"
        if self.method in LAYER_METHODS:
            where = f"layer {self.layer}" if self.layer else "the network's default layer"
            spread = self.interpolate if self.method in ("LayerGradCam", "GuidedGradCam") else "shared by nearest cells"
            return (
                f"{LAYER_ATTRIBUTIONS[self.method]} ({where}, {spread}) per cell, "
                f"aggregate={self.aggregate} over each component's cells"
            )
        name = self.base if self.method == "NoiseTunnel" else self.method
        cells = CELL_ATTRIBUTIONS[name] if name != "Saliency" else ("|gradient|" if self.absolute else "gradient")
        noise = f" averaged by NoiseTunnel ({self.nt_type})" if self.method == "NoiseTunnel" else ""
        return f"{cells}{noise} per cell, aggregate={self.aggregate} over each component's cells"

    def explain(
        self, model: Classifier, example: Example, factorization: Factorization, target: int, seed: int
    ) -> Explanation:
        start = time.perf_counter()
        if self.method in NOT_APPLICABLE:
            raise NotApplicableError(NOT_APPLICABLE[self.method])
        numpy_state = np.random.get_state()  # GradientShap draws from numpy's global generator
        try:
            np.random.seed(seed % 2**32)
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(seed)
                if self.method in PERTURBATION:
                    weights, n_calls = self._perturbation(model, factorization, target)
                else:
                    weights, n_calls = self._gradient(model, factorization, target)
        finally:
            np.random.set_state(numpy_state)
        return self._explanation(factorization, weights, target, n_calls, start, method=self.method)

    # -- perturbation methods over the components ----------------------------------------------------
    def _perturbation(self, model: Classifier, factorization: Factorization, target: int) -> tuple[np.ndarray, int]:
        d = factorization.n_components
        if self.method == "ShapleyValues" and d > MAX_ORDERED_COMPONENTS:
            raise NotApplicableError(
                f"Captum's ShapleyValues walks all {d}! orderings of {d} components; it is run for at most "
                f"{MAX_ORDERED_COMPONENTS} (kernelshap gives the same exact values from the 2^d coalitions)"
            )
        asked: set[bytes] = set()

        def forward(masks: torch.Tensor) -> torch.Tensor:
            binary = masks.detach().cpu().numpy() > 0.5
            asked.update(np.packbits(row).tobytes() for row in binary)
            unique, inverse = np.unique(binary, axis=0, return_inverse=True)
            probabilities = prediction_cache(model).predict(model, factorization, unique)
            # float64, so Captum's sums over many differences lose nothing to the model's float32
            return torch.from_numpy(probabilities[inverse.ravel(), target].astype(np.float64))

        inputs, baselines = torch.ones(1, d, dtype=torch.float64), torch.zeros(1, d, dtype=torch.float64)
        method = getattr(captum(), self.method)(forward)
        keywords: dict[str, Any] = {"baselines": baselines}
        if self.method == "Occlusion":
            keywords.update(sliding_window_shapes=(1,), strides=1)
        else:
            keywords["feature_mask"] = torch.arange(d).unsqueeze(0)
        if self.method in SAMPLED and self.n_samples is not None:
            keywords["n_samples"] = self.n_samples
        keywords["perturbations_per_eval"] = model_batch_size(model)
        attributions = method.attribute(inputs, **keywords)
        return attributions.detach().numpy().reshape(d).astype(np.float64), len(asked)

    # -- gradient methods on the model's features ---------------------------------------------------
    def _gradient(self, model: Classifier, factorization: Factorization, target: int) -> tuple[np.ndarray, int]:
        differentiable = require(model, Differentiable, f"captum:method={self.method}")
        if not isinstance(factorization, FeatureFactorization):
            raise NotApplicableError(
                f"captum:method={self.method} attributes to the model's input features, which "
                "only a segmentation of the input maps to components (over=slime)"
            )
        name = self.base if self.method == "NoiseTunnel" else self.method
        network = differentiable.network
        if name in MODULE_METHODS:
            if not any(isinstance(m, nn.ReLU) for m in network.modules()):
                raise NotApplicableError(
                    f"{name} follows the network's ReLU modules, and this network has none "
                    "(its nonlinearities are functions)"
                )
            network = _relu_modules(network)
        forward = _Probability(differentiable, network).to(differentiable.device).eval()
        device = differentiable.device
        inputs = torch.tensor(factorization.features[None], device=device)  # a copy: the factorization is read-only
        baseline = (
            torch.tensor(factorization.fill[None], device=device)
            if self.baselines == "content"
            else torch.zeros_like(inputs)
        )
        if name in LAYER_METHODS:
            with torch.enable_grad(), warnings.catch_warnings():
                for notice in CAPTUM_NOTICES:
                    warnings.filterwarnings("ignore", message=notice, category=UserWarning)
                cells = layer_cells(
                    captum(),
                    name,
                    forward,
                    network,
                    inputs,
                    baseline,
                    int(target),
                    self.layer,
                    self.interpolate,
                    self.n_steps,
                )
            return factorization.per_component(cells, self.aggregate), forward.n_inputs
        attribution = getattr(captum(), name)(forward)
        keywords: dict[str, Any] = {"target": int(target)}
        if name in ("IntegratedGradients", "DeepLift"):
            keywords["baselines"] = baseline
        if name in ("GradientShap", "DeepLiftShap"):  # a distribution of baselines: the content and zeros
            keywords["baselines"] = torch.cat([baseline, torch.zeros_like(baseline)])
        if name == "Saliency":
            keywords["abs"] = self.absolute
        if name == "IntegratedGradients" and self.n_steps is not None:
            keywords["n_steps"] = self.n_steps
        if name == "GradientShap":
            keywords["stdevs"] = self.stdevs
            if self.n_samples is not None:
                keywords["n_samples"] = self.n_samples
        if self.method == "NoiseTunnel":
            keywords.update(nt_type=self.nt_type, stdevs=self.stdevs, nt_samples=self.n_samples or 10)
            attribution = captum().NoiseTunnel(attribution)
        with torch.enable_grad(), warnings.catch_warnings():
            for notice in CAPTUM_NOTICES:
                warnings.filterwarnings("ignore", message=notice, category=UserWarning)
            cells = attribution.attribute(inputs, **keywords)
        cells = cells.detach().cpu().numpy().reshape(factorization.features.shape)
        return factorization.per_component(cells, self.aggregate), forward.n_inputs
