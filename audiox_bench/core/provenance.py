"""Where a run's code comes from: package versions, the git commit, and the file and digest of every
plugin, so a run directory says what made its records and a rerun can tell which plugin changed."""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import subprocess
import sys
from pathlib import Path
from typing import Any

PACKAGES = (
    "audiox-bench",
    "numpy",
    "torch",
    "librosa",
    "scikit-learn",
    "scipy",
    "pandas",
    "pretty_midi",
    "midirenderer",
    "soundfile",
)


def origin(factory: Any) -> dict[str, str] | None:
    """Where a registered factory comes from, if not from AudioX-Bench itself: its module, file and the
    file's SHA-256, and its distribution's version when it was installed as a package."""
    module_name = getattr(factory, "__module__", "") or ""
    if module_name.startswith("audiox_bench."):
        return None
    described = {"module": module_name}
    module = sys.modules.get(module_name)
    file = Path(module.__file__) if module is not None and module.__file__ else None
    if file is not None and file.is_file():
        described.update(file=str(file.resolve()), sha256=hashlib.sha256(file.read_bytes()).hexdigest())
    for distribution in importlib.metadata.packages_distributions().get(module_name.split(".")[0], []):
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            described["version"] = f"{distribution} {importlib.metadata.version(distribution)}"
    return described


def package_versions() -> dict[str, str]:
    """Versions of the packages whose code makes the numbers ("not installed" where absent)."""
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def git_hash() -> str | None:
    """The commit of the source tree, if it is a git checkout."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None
