"""On-disk cache of synthesised data and trained models, keyed by everything that determines them.

Location: ``$AUDIOX_CACHE`` if set, else the user's cache directory (``platformdirs``). Files are written
to a temporary name and renamed, so a killed process never leaves a half-written entry; anything that
fails to load (corrupt, truncated, wrong format) is treated as missing and rebuilt, never trusted.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import platformdirs

from audiox_bench.core.files import atomic_write_bytes

# Bump when the synthesis or training code changes what a cached entry contains.
CACHE_FORMAT = 3


def cache_dir() -> Path:
    """The cache root (created if missing)."""
    root = os.environ.get("AUDIOX_CACHE") or platformdirs.user_cache_dir("audiox-bench")
    path = Path(root)
    path.mkdir(parents=True, exist_ok=True)
    return path


def cache_key(description: Mapping[str, Any]) -> str:
    """A short stable hash of a JSON-serialisable description."""
    text = json.dumps({"format": CACHE_FORMAT, **description}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def save_arrays(path: Path, arrays: Mapping[str, np.ndarray]) -> None:
    """Save named arrays (``.npz``) atomically."""
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    atomic_write_bytes(path, buffer.getvalue())


def load_arrays(path: Path) -> dict[str, np.ndarray] | None:
    """Named arrays from ``path``, or None if missing or unreadable (never unpickles)."""
    try:
        with np.load(path, allow_pickle=False) as data:
            return {name: data[name] for name in data.files}
    except (OSError, ValueError, EOFError, KeyError):
        return None
    except Exception:
        return None
