"""Parameter randomization of torch networks (the sanity check of Adebayo et al. 2018).

A network's *layers* are its weight layers (convolutions and linear layers), in forward order, each
together with the normalisation layers that follow it. ``cascading`` re-initialises the top ``n``
layers (from the output down; Adebayo et al.'s "top-down"), ``bottom_up`` the first ``n`` (from the input
up; Hedström et al. 2023 discuss both), ``independent`` only the ``n``-th layer from the top. Initialisation
uses the layers' own ``reset_parameters`` under a fixed seed, on a deep copy: the trained network is
never touched.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

ORDERS = ("cascading", "bottom_up", "independent")
_WEIGHT_LAYERS = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.Linear)
_NORM_LAYERS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.LayerNorm, nn.GroupNorm)


class BlockNetwork(nn.Module):
    """A network that names its own layers for randomization (e.g. a published architecture whose
    blocks are not a chain of weight layers): :meth:`randomization_blocks`, input side first."""

    def randomization_blocks(self) -> list[list[nn.Module]]:
        """Groups of modules re-initialised together, in forward order."""
        raise NotImplementedError


def layer_groups(network: nn.Module) -> list[list[nn.Module]]:
    """The network's layers for randomization, input side first: its own blocks if it is a
    :class:`BlockNetwork`, else its weight layers with their following normalisation layers, in
    forward (registration) order."""
    if isinstance(network, BlockNetwork):
        return network.randomization_blocks()
    groups: list[list[nn.Module]] = []
    for module in network.modules():
        if isinstance(module, _WEIGHT_LAYERS):
            groups.append([module])
        elif isinstance(module, _NORM_LAYERS) and groups:
            groups[-1].append(module)
    return groups


def randomized_network(
    network: nn.Module, order: str = "cascading", layers: int | None = None, seed: int = 0
) -> nn.Module:
    """A copy of ``network`` with re-initialised layers.

    Parameters
    ----------
    network : torch.nn.Module
    order : str
        ``cascading`` (the top ``layers`` layers), ``bottom_up`` (the first ``layers`` layers) or
        ``independent`` (only the ``layers``-th from the top).
    layers : int, optional
        How many layers (cascading, bottom_up; default all) or which one, counted from the output starting
        at 1 (independent; default 1).
    seed : int
        Seed of the new parameters.

    Raises
    ------
    ValueError
        For an unknown order or a layer count outside ``1..n_layers``.
    """
    if order not in ORDERS:
        raise ValueError(f"order must be one of {', '.join(ORDERS)}, got {order!r}")
    clone = copy.deepcopy(network)
    groups = layer_groups(clone)
    n = len(groups)
    count = (1 if order == "independent" else n) if layers is None else int(layers)
    if not 1 <= count <= n:
        raise ValueError(f"layers must be between 1 and {n} for this network, got {count}")
    if order == "cascading":
        chosen = groups[n - count :]
    elif order == "bottom_up":
        chosen = groups[:count]
    else:
        chosen = [groups[n - count]]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for group in reversed(chosen):  # from the output down, so a seed gives the same top layers
            for module in group:
                module.reset_parameters()  # convolutions, linear and normalisation layers all have it
    return clone.eval()
