"""Source factorizations: components are separated sources, optionally x time segments.

A mask keeps the selected components and mixes them in the audio domain. Because the STFT is linear,
the complex STFT of a mix is the masked sum of the components' STFTs; models that accept spectra
(:class:`~audiox_bench.core.classifier.SpectrumClassifier`) are therefore fed mixed spectra, computed
with one matrix product per batch, instead of re-running an STFT for every perturbation (exact up to
float round-off).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import torch

from audiox_bench.core.components import (
    Component,
    Factorization,
    Layout,
    fingerprint,
    segment_edges,
)
from audiox_bench.core.errors import InvalidInputError


def source_label(name: str) -> str:
    """The source label of a separated source's name: ``drums.1`` -> ``drums`` (NMF numbering)."""
    return name.split(".", 1)[0]


class SourceFactorization(Factorization):
    """Sources (x time segments) of one example; compose = masked sum of the component waveforms.

    Parameters
    ----------
    sources : mapping of str to np.ndarray [shape=(n_samples,)]
        Separated sources, all of one length.
    n_segments : int
        Time segments per source (1 = sources only). Component ``s@tK`` is source ``s`` inside
        segment ``K`` (rectangular window) and zero elsewhere.
    key : str
        A readable label of this factorization; the cache key adds a digest of the components.
    """

    family = "source"
    domain = "audio"

    def __init__(self, sources: Mapping[str, np.ndarray], n_segments: int = 1, key: str = "") -> None:
        if not sources:
            raise InvalidInputError("a source factorization needs at least one source")
        lengths = {np.asarray(a).shape for a in sources.values()}
        if len(lengths) != 1 or len(next(iter(lengths))) != 1:
            raise InvalidInputError(f"sources must be 1-D and of equal length, got shapes {sorted(lengths)}")
        if n_segments < 1:
            raise InvalidInputError("n_segments must be at least 1")
        n_samples = next(iter(lengths))[0]
        components, rows = [], []
        if n_segments == 1:
            for name, audio in sources.items():
                components.append(Component(name, source=source_label(name)))
                rows.append(np.asarray(audio, np.float32))
        else:
            edges = segment_edges(n_samples, n_segments)
            for name, audio in sources.items():
                for k in range(n_segments):
                    row = np.zeros(n_samples, np.float32)
                    row[edges[k] : edges[k + 1]] = np.asarray(audio, np.float32)[edges[k] : edges[k + 1]]
                    components.append(
                        Component(
                            f"{name}@t{k}",
                            source=source_label(name),
                            time=k,
                            samples=(int(edges[k]), int(edges[k + 1])),
                        )
                    )
                    rows.append(row)
        self.components = tuple(components)
        self.layout = Layout("sources", n_time=n_segments)
        self.waveforms = np.stack(rows)  # (n_components, n_samples)
        self.key = f"{key}|{fingerprint(self.waveforms)}"
        # Per STFT configuration: (n_components, 2 * n_freq * n_frames) real and imaginary interleaved,
        # and the spectrum shape.
        self._spectra: dict[str, tuple[torch.Tensor, tuple[int, ...]]] = {}

    def compose(self, masks: np.ndarray) -> np.ndarray:
        """Mixes ``(n, n_samples)`` of the kept components."""
        return np.asarray(masks, dtype=np.float32) @ self.waveforms

    def compose_spectra(
        self, masks: np.ndarray, stft: Callable[[torch.Tensor], torch.Tensor], stft_key: str
    ) -> torch.Tensor:
        """Complex STFTs of the mixes, from the components' STFTs: one real matrix product over the
        interleaved real and imaginary parts.

        Parameters
        ----------
        masks : np.ndarray [shape=(n, n_components), dtype=bool]
        stft : callable
            Audio ``(n, n_samples)`` tensor -> complex STFTs; called once per ``stft_key``.
        stft_key : str
            Identifies the STFT configuration; the components' spectra are kept per key, so models
            with different front ends each get their own.
        """
        if stft_key not in self._spectra:
            with torch.inference_mode():
                spectra = stft(torch.from_numpy(self.waveforms))
            self._spectra[stft_key] = (
                torch.view_as_real(spectra).reshape(len(spectra), -1).contiguous(),
                tuple(spectra.shape[1:]),
            )
        flat, shape = self._spectra[stft_key]
        weights = torch.from_numpy(np.asarray(masks, dtype=np.float32)).to(flat.device)
        mixed = (weights @ flat).reshape(len(weights), *shape, 2)
        return torch.view_as_complex(mixed)
