"""audioLIME (Haunschmid, Manilow, Widmer 2020): LIME over separated sources, listenable by design."""

from __future__ import annotations

from typing import Any

from audiox_bench.core.classifier import Classifier
from audiox_bench.core.components import Factorization
from audiox_bench.core.data import DefaultConfiguration, Example
from audiox_bench.core.errors import NotApplicableError
from audiox_bench.core.registry import separators
from audiox_bench.factorizations.sources import SourceFactorization
from audiox_bench.perturbation.lime import LIME, LimeExplainer, LimeSettings


class AudioLIME(LimeExplainer):
    """LIME over sources (x time segments) from a separator; masks mix the kept sources in audio.

    ``n_samples``, ``max_exhaustive``, ``kernel_width``, ``distance`` and ``alpha`` are LIME's
    (:class:`~audiox_bench.perturbation.lime.LimeSettings`).

    Parameters
    ----------
    separator : str
        Registered separator: ``oracle`` (true stems), ``hpss``, ``nmf``, or a plugin's.
    n_segments : int
        Time segments per source (1 = sources only; tau in the paper).
    n_components : int
        NMF components (``separator=nmf`` only).
    """

    family = "source"
    description = "LIME over separated sources (x time segments), perturbations mix sources in audio"
    factorization_keys = ("separator", "n_segments", "n_components")
    parameters_documented_by = (LimeSettings,)
    default_benchmark = (DefaultConfiguration("audiolime"), DefaultConfiguration("audiolime:separator=hpss"))

    def __init__(
        self,
        separator: str = "oracle",
        n_segments: int = 1,
        n_components: int = 6,
        n_samples: int | None = LIME.n_samples,
        max_exhaustive: int = LIME.max_exhaustive,
        kernel_width: float = LIME.kernel_width,
        distance: str = LIME.distance,
        alpha: float = LIME.alpha,
    ) -> None:
        if n_segments < 1:
            raise ValueError("n_segments must be at least 1")
        self.separator_name = separator
        self.separator = separators.build(separator, n_components=n_components)
        self.n_segments = int(n_segments)
        self.settings = LimeSettings(n_samples, max_exhaustive, kernel_width, distance, alpha)

    def canonical_params(self) -> dict[str, Any]:
        """Non-default parameters, without those this configuration does not use (``n_components`` of a
        separator other than NMF, ``max_exhaustive`` when masks are sampled)."""
        params = super().canonical_params()
        if self.separator_name != "nmf":
            params.pop("n_components", None)
        if self.settings.n_samples is not None:
            params.pop("max_exhaustive", None)
        return params

    def factorize(self, model: Classifier, example: Example) -> Factorization:
        if example.features is not None:
            raise NotApplicableError(
                f"example {example.id!r} exists only as model features (a feature-domain edit), "
                "so it has no sources to separate; use the task's audio form "
                "(e.g. vocals:form=audio)"
            )
        sources = self.separator.separate(example)
        key = f"{example.id}|sources:{self.separator_name}|{self.n_segments}"
        return SourceFactorization(sources, self.n_segments, key=key)
