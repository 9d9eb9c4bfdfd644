"""Loading plugins: a ``.py`` file or an importable module whose decorators register tasks, explainers,
metrics, separators, contents or models (``--plugin``), loaded the same way in worker processes."""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
import zlib
from pathlib import Path

from audiox_bench.core.errors import AudioxError

LOADED_PLUGINS: list[str] = []  # in load order, so worker processes can load the same ones
_PLUGIN_DIGESTS: dict[str, str] = {}  # module name of a plugin file -> SHA-256 of the file it was loaded from


def load_plugin(target: str) -> None:
    """Import a plugin so that its decorators register what it defines.

    A file is imported under a stable module name (not Python's salted hash), so worker processes import
    it under the same name and its objects unpickle there; a file that changed since it was loaded is
    loaded again, replacing what it registered.

    Parameters
    ----------
    target : str
        A path to a ``.py`` file, or an importable module name.

    Raises
    ------
    AudioxError
        If it does not exist, cannot be imported, or raises while loading (one line).
    """
    path = Path(target)
    try:
        if target.endswith(".py") or path.is_file():
            if not path.is_file():
                raise AudioxError(f"plugin file {target!r} does not exist")
            module_name = f"audiox_plugin_{path.stem}_{zlib.crc32(str(path.resolve()).encode()):08x}"
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            if module_name in sys.modules and _PLUGIN_DIGESTS.get(module_name) == digest:
                return  # loaded already, unchanged (and listed)
            _PLUGIN_DIGESTS[module_name] = digest
            spec = importlib.util.spec_from_file_location(module_name, path)
            if spec is None or spec.loader is None:
                raise AudioxError(f"plugin file {target!r} cannot be imported")
            module = importlib.util.module_from_spec(spec)
            sys.modules[module_name] = module
            spec.loader.exec_module(module)
        else:
            importlib.import_module(target)
    except AudioxError:
        raise
    except ModuleNotFoundError as exc:
        raise AudioxError(f"plugin {target!r} could not be imported: {exc}") from exc
    except Exception as exc:
        raise AudioxError(f"plugin {target!r} raised while loading: {type(exc).__name__}: {exc}") from exc
    if target not in LOADED_PLUGINS:  # loaded: worker processes load it too
        LOADED_PLUGINS.append(target)
