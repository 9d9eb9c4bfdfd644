"""Build a task's classifier once, cache it with its model card, and load it safely afterwards."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from audiox_bench.core.classifier import FeatureStats
from audiox_bench.core.disk_cache import cache_dir, cache_key
from audiox_bench.core.files import atomic_write_bytes, atomic_write_text, load_json
from audiox_bench.core.threads import TRAINING_THREADS
from audiox_bench.models.frontends import LogMel
from audiox_bench.models.torch_classifier import TorchClassifier


def cached_classifier(
    name: str,
    description: dict[str, Any],
    make_modules: Callable[[], tuple[nn.Module, LogMel]],
    train: Callable[[nn.Module, LogMel], dict[str, Any]],
    classes: tuple[str, ...],
    device: str = "cpu",
    input_samples: int | None = None,
) -> tuple[TorchClassifier, dict[str, Any]]:
    """Load the classifier ``description`` determines from the cache, or train and cache it.

    Parameters
    ----------
    name : str
        Prefix of the cache entry (the task name).
    description : dict
        Everything that determines the trained weights (data parameters, seeds, architecture).
    make_modules : callable
        Returns a fresh (untrained) network and front end of the right shapes.
    train : callable
        Trains the modules in place (may set the front end's band statistics) and returns the model
        card (JSON-serialisable facts: accuracies, training time, seed, sizes).
    classes : tuple of str
    device : str
    input_samples : int, optional
        The clip length the model is trained on.

    Returns
    -------
    (TorchClassifier, dict)
        The classifier and its model card (``card["cache"]`` says whether it was loaded or trained).
    """
    description = _keyed(description)
    entry = model_entry(name, description)
    loaded = load_cached(name, description, make_modules, classes, device, input_samples)
    if loaded is not None:
        return loaded
    network, frontend = make_modules()
    card = train(network, frontend)
    card = {**card, "description": description}
    combined = {f"network.{k}": v for k, v in network.state_dict().items()}
    combined.update({f"frontend.{k}": v for k, v in frontend.state_dict().items()})
    save_state(entry / "model.pt", combined)
    atomic_write_text(entry / "card.json", json.dumps(card, indent=2, sort_keys=True, default=str))
    card = {**card, "cache": "trained", "cache_path": str(entry)}
    return _classifier(network, frontend, classes, device, card, input_samples), card


def _keyed(description: dict[str, Any]) -> dict[str, Any]:
    # Models are trained with a fixed thread count (weight gradients depend on it): part of the key, so a
    # model trained with another count is never taken for this one.
    return {**description, "training_threads": TRAINING_THREADS}


def model_entry(name: str, description: dict[str, Any]) -> Path:
    """The cache folder of the model ``description`` determines (whether or not it exists)."""
    return cache_dir() / "models" / f"{name}-{cache_key(_keyed(description))}"


def load_cached(
    name: str,
    description: dict[str, Any],
    make_modules: Callable[[], tuple[nn.Module, LogMel]],
    classes: tuple[str, ...],
    device: str = "cpu",
    input_samples: int | None = None,
) -> tuple[TorchClassifier, dict[str, Any]] | None:
    """The cached classifier ``description`` determines and its card, or None if it is not cached (or
    its files do not fit the modules)."""
    entry = model_entry(name, description)
    state = load_state(entry / "model.pt")
    card = load_json(entry / "card.json")
    if state is None or not isinstance(card, dict):
        return None
    network, frontend = make_modules()
    if not _load_into(network, frontend, state):
        return None
    card = {**card, "cache": "loaded", "cache_path": str(entry)}
    return _classifier(network, frontend, classes, device, card, input_samples), card


def remember_validity(entry: str | Path, context: str, passed: bool) -> None:
    """Record in a cached model's folder whether it passed its task's validity checks in ``context``
    (e.g. ``confound``, ``vocals:audio``), so the model can be loaded later without measuring them."""
    path = Path(entry) / "validity.json"
    known = load_json(path)
    known = dict(known) if isinstance(known, dict) else {}
    known[context] = bool(passed)
    atomic_write_text(path, json.dumps(known, indent=2, sort_keys=True))


def remembered_validity(entry: str | Path, context: str) -> bool | None:
    """Whether the cached model in ``entry`` passed its checks in ``context`` (None: never measured)."""
    known = load_json(Path(entry) / "validity.json")
    value = known.get(context) if isinstance(known, dict) else None
    return value if isinstance(value, bool) else None


def _classifier(
    network: nn.Module,
    frontend: LogMel,
    classes: tuple[str, ...],
    device: str,
    card: dict[str, Any],
    input_samples: int | None,
) -> TorchClassifier:
    stats = card.get("feature_stats")
    return TorchClassifier(
        network,
        frontend,
        classes,
        device=device,
        input_samples=input_samples,
        feature_stats=FeatureStats.from_dict(stats) if isinstance(stats, dict) else None,
    )


def _load_into(network: nn.Module, frontend: LogMel, state: dict) -> bool:
    net_state = {k[len("network.") :]: v for k, v in state.items() if k.startswith("network.")}
    front_state = {k[len("frontend.") :]: v for k, v in state.items() if k.startswith("frontend.")}
    try:
        network.load_state_dict(net_state, strict=True)
        frontend.load_state_dict(front_state, strict=True)
    except (RuntimeError, KeyError, ValueError):
        return False
    network.eval()
    return True


def save_state(path: Path, state: Mapping[str, torch.Tensor]) -> None:
    """Save a torch state dict atomically."""
    buffer = io.BytesIO()
    torch.save(dict(state), buffer)
    atomic_write_bytes(path, buffer.getvalue())


def load_state(path: Path) -> dict[str, torch.Tensor] | None:
    """A state dict loaded with ``weights_only=True``, or None if missing or corrupt."""
    if not path.is_file():
        return None
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:
        return None
    return state if isinstance(state, dict) else None
