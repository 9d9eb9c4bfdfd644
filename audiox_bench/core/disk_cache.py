"""On-disk cache of synthesised data and trained models, keyed by everything that determines them.

Location: ``$AUDIOX_CACHE`` if set, else the user's cache directory (``platformdirs``). Files are written
to a temporary name and renamed, so a killed process never leaves a half-written entry; anything that
fails to load (corrupt, truncated, wrong format) is treated as missing and rebuilt, never trusted.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import platformdirs
import torch

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


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see either the old file or the whole new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    """Text version of :func:`atomic_write_bytes` (UTF-8)."""
    atomic_write_bytes(path, text.encode("utf-8"))


def save_arrays(path: Path, arrays: Mapping[str, np.ndarray]) -> None:
    """Save named arrays (``.npz``) atomically."""
    import io

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
    except Exception:  # noqa: BLE001 - zipfile.BadZipFile and friends: corrupt entry
        return None


def save_state(path: Path, state: Mapping[str, torch.Tensor]) -> None:
    """Save a torch state dict atomically."""
    import io

    buffer = io.BytesIO()
    torch.save(dict(state), buffer)
    atomic_write_bytes(path, buffer.getvalue())


def load_state(path: Path) -> dict[str, torch.Tensor] | None:
    """A state dict loaded with ``weights_only=True``, or None if missing or corrupt."""
    if not path.is_file():
        return None
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:  # noqa: BLE001 - any unreadable or unsafe file is a cache miss, rebuilt
        return None
    return state if isinstance(state, dict) else None


def load_json(path: Path) -> Any | None:
    """Parsed JSON, or None if missing or corrupt."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
