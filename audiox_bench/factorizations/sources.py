"""Source factorizations: components are separated sources, optionally x time segments.

A mask keeps the selected components and mixes them in the audio domain. Because the STFT is linear,
the complex STFT of a mix is the masked sum of the components' STFTs; models that accept spectra
(:meth:`TorchClassifier.predict_stft`) are therefore fed mixed spectra, computed with one matrix product
per batch, instead of re-running an STFT for every perturbation (exact up to float round-off).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch

from audiox_bench.core.contracts import Factorization
from audiox_bench.core.errors import InvalidInputError
from audiox_bench.perturbation.prediction_cache import fingerprint


def segment_edges(n_samples: int, n_segments: int) -> np.ndarray:
    """Sample indices of the boundaries of ``n_segments`` equal segments (``n_segments + 1`` values)."""
    return np.round(np.linspace(0, n_samples, n_segments + 1)).astype(int)


def source_label(name: str) -> str:
    """The source label of a component name: ``drums.1@t3`` -> ``drums``."""
    return name.split("@", 1)[0].split(".", 1)[0]


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
        source_names = list(sources)
        n_samples = next(iter(lengths))[0]
        if n_segments == 1:
            self.names = tuple(source_names)
            self.components = np.stack([np.asarray(sources[s], np.float32) for s in source_names])
        else:
            edges = segment_edges(n_samples, n_segments)
            names, rows = [], []
            for s in source_names:
                for k in range(n_segments):
                    row = np.zeros(n_samples, np.float32)
                    row[edges[k] : edges[k + 1]] = sources[s][edges[k] : edges[k + 1]]
                    names.append(f"{s}@t{k}")
                    rows.append(row)
            self.names = tuple(names)
            self.components = np.stack(rows)
        self.n_segments = n_segments
        self.key = f"{key}|{fingerprint(self.components)}"
        self._spectra: torch.Tensor | None = None  # (n_components, 2 * n_freq * n_frames), real and imaginary interleaved
        self._spectrum_shape: tuple[int, ...] = ()

    def source_of(self, name: str) -> str:
        """Source label of a component (``drums.1@t3`` -> ``drums``)."""
        return source_label(name)

    def compose(self, masks: np.ndarray) -> np.ndarray:
        """Mixes ``(n, n_samples)`` of the kept components."""
        return np.asarray(masks, dtype=np.float32) @ self.components

    def compose_spectra(self, masks: np.ndarray, stft) -> torch.Tensor:
        """Complex STFTs of the mixes, from the components' STFTs (computed once with ``stft``): one
        real matrix product over the interleaved real and imaginary parts."""
        if self._spectra is None:
            with torch.inference_mode():
                spectra = stft(torch.from_numpy(self.components))
            self._spectrum_shape = tuple(spectra.shape[1:])
            self._spectra = torch.view_as_real(spectra).reshape(len(spectra), -1).contiguous()
        weights = torch.from_numpy(np.asarray(masks, dtype=np.float32)).to(self._spectra.device)
        mixed = (weights @ self._spectra).reshape(len(weights), *self._spectrum_shape, 2)
        return torch.view_as_complex(mixed)
