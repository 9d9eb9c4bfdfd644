"""Build a task's classifier once, cache it with its model card, and load it safely afterwards."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from torch import nn

from audiox_bench.core.disk_cache import (
    atomic_write_text,
    cache_dir,
    cache_key,
    load_json,
    load_state,
    save_state,
)
from audiox_bench.models.torch_classifier import TorchClassifier
from audiox_bench.models.frontends import LogMel


def cached_classifier(
    name: str,
    description: dict[str, Any],
    make_modules: Callable[[], tuple[nn.Module, LogMel]],
    train: Callable[[nn.Module, LogMel], dict[str, Any]],
    classes: tuple[str, ...],
    device: str = "cpu",
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

    Returns
    -------
    (TorchClassifier, dict)
        The classifier and its model card (``card["cache"]`` says whether it was loaded or trained).
    """
    entry = cache_dir() / "models" / f"{name}-{cache_key(description)}"
    network, frontend = make_modules()
    state = load_state(entry / "model.pt")
    card = load_json(entry / "card.json")
    if state is not None and isinstance(card, dict) and _load_into(network, frontend, state):
        card = {**card, "cache": "loaded", "cache_path": str(entry)}
        return TorchClassifier(network, frontend, classes, device=device), card
    card = train(network, frontend)
    card = {**card, "description": description}
    combined = {f"network.{k}": v for k, v in network.state_dict().items()}
    combined.update({f"frontend.{k}": v for k, v in frontend.state_dict().items()})
    save_state(entry / "model.pt", combined)
    atomic_write_text(entry / "card.json", json.dumps(card, indent=2, sort_keys=True, default=str))
    card = {**card, "cache": "trained", "cache_path": str(entry)}
    return TorchClassifier(network, frontend, classes, device=device), card


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
