"""audioLIME (Haunschmid, Manilow, Widmer 2020): LIME over separated sources, listenable by design."""

from __future__ import annotations

from audiox_bench.core.classifier import Classifier
from audiox_bench.core.components import Factorization
from audiox_bench.core.contracts import Example
from audiox_bench.core.errors import NotApplicableError
from audiox_bench.core.registry import explainers, separators
from audiox_bench.factorizations.sources import SourceFactorization
from audiox_bench.perturbation.lime import LimeExplainer, LimeSettings


@explainers.register("audiolime")
class AudioLIME(LimeExplainer):
    """LIME over sources (x time segments) from a separator; masks mix the kept sources in audio.

    Parameters
    ----------
    separator : str
        Registered separator: ``oracle`` (true stems), ``hpss``, ``nmf``, or a plugin's.
    n_segments : int
        Time segments per source (1 = sources only; tau in the paper).
    n_components : int
        NMF components (``separator=nmf`` only).
    n_samples : int or None
        Sampled masks; None enumerates all masks when there are at most ``max_exhaustive`` components.
    max_exhaustive : int
    kernel_width : float
    distance : str
        ``cosine`` (default) or ``l2``.
    alpha : float
        Ridge regularisation.
    """

    family = "source"
    description = "LIME over separated sources (x time segments), perturbations mix sources in audio"

    def __init__(
        self,
        separator: str = "oracle",
        n_segments: int = 1,
        n_components: int = 6,
        n_samples: int | None = None,
        max_exhaustive: int = 12,
        kernel_width: float = 0.25,
        distance: str = "cosine",
        alpha: float = 1.0,
    ) -> None:
        if n_segments < 1:
            raise ValueError("n_segments must be at least 1")
        self.separator_name = separator
        self.separator = separators.build(separator, n_components=n_components)
        self.n_segments = int(n_segments)
        self.settings = LimeSettings(n_samples, max_exhaustive, kernel_width, distance, alpha)

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
