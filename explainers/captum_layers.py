"""Captum's layer methods read on the model's input: Grad-CAM and the attributions to a hidden layer's units,
mapped back to the log-mel's cells.

A layer method attributes to the units of a hidden layer (``(1, channels, *positions)``), not to the input:

- ``LayerGradCam`` (Selvaraju et al., ICCV 2017, Sec. 3, Eq. 1-2): the ReLU of the channels' activations
  weighted by their spatially averaged gradients, one value per position;
- ``LayerIntegratedGradients`` and ``LayerConductance`` (Dhamdhere, Sundararajan, Yan, ICLR 2019): integrated
  gradients to the layer's units (they sum to f(input) - f(baseline)) and the conductance of each unit,
  summed over channels here, so one value per position;
- ``GuidedGradCam`` (Selvaraju et al., Sec. 3.1): guided backpropagation to the input times the Grad-CAM map
  upsampled to it (Captum's own class upsamples over the input's last axes only, which is right for a layer
  with one time axis and fails for 2-D maps; here both come through one upsampling).

A position of a layer covers a stretch of the input. A Grad-CAM map is upsampled (``interpolate``, ``nearest``
as in Captum's ``LayerAttribution.interpolate`` by default, or ``linear``) to the input's frames, and for 2-D
maps to its mel bands too. The integrated attributions add up to the change in score, so each position's
value is shared evenly by the cells nearest to it instead, and the cells keep the total (a component's sum
is its share of f(input) - f(baseline)). Cells are then read per component by the explainer's ``aggregate``.
Which input axis a layer's position axis stands for is the network's to say: a 1-D map is over time; a 2-D
map is over the axes the network's ``map_axes`` names (``("mel", "time")`` unless it says otherwise: features
``(n, mels, frames)`` with a channel axis added). ``layer`` is a module path in the network (``midend.2``); the
network's ``cam_layer`` is the default.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional

from audiox_bench.core.errors import NotApplicableError

LAYER_METHODS = ("LayerGradCam", "GuidedGradCam", "LayerIntegratedGradients", "LayerConductance")
LAYER_ATTRIBUTIONS = {
    "LayerGradCam": "Grad-CAM of the layer (ReLU of gradient-weighted channels), upsampled",
    "GuidedGradCam": "guided backpropagation x the layer's Grad-CAM upsampled",
    "LayerIntegratedGradients": "integrated gradients to the layer's units, summed over channels, spread",
    "LayerConductance": "conductance of the layer's units, summed over channels, spread",
}
INTERPOLATIONS = ("nearest", "linear")
DEFAULT_MAP_AXES = ("mel", "time")


def find_layer(network: nn.Module, layer: str | None) -> tuple[str, nn.Module]:
    """The module at ``layer`` (a dotted path in ``network``; None: the network's ``cam_layer``).

    Raises
    ------
    NotApplicableError
        If no layer is given and the network names none.
    ValueError
        If the path names no module of the network (the message lists its convolutions).
    """
    path = layer or getattr(network, "cam_layer", None)
    if path is None:
        raise NotApplicableError(
            f"{type(network).__name__} names no default layer (cam_layer); give one: layer=<module path>"
        )
    modules = dict(network.named_modules())
    if path not in modules or path == "":
        convolutions = [name for name, m in modules.items() if isinstance(m, (nn.Conv1d, nn.Conv2d))]
        raise ValueError(
            f"{type(network).__name__} has no module {path!r}; its convolutions: {', '.join(convolutions) or 'none'}"
        )
    return path, modules[path]


def _nearest_positions(n_positions: int, n_cells: int) -> np.ndarray:
    """For each of ``n_cells`` cells, the layer position nearest to it (torch's ``nearest`` rule)."""
    positions = torch.arange(n_positions, dtype=torch.float64)[None, None]
    return functional.interpolate(positions, size=n_cells, mode="nearest")[0, 0].long().numpy()


def _spread(values: np.ndarray, n_cells: int, axis: int) -> np.ndarray:
    """``values`` spread over ``n_cells`` along ``axis``: each position's value shared evenly by the cells
    nearest to it, so the total is kept."""
    nearest = _nearest_positions(values.shape[axis], n_cells)
    counts = np.bincount(nearest, minlength=values.shape[axis]).astype(np.float64)
    shape = [1] * values.ndim
    shape[axis] = n_cells
    return np.take(values, nearest, axis=axis) / counts[nearest].reshape(shape)


def to_input_grid(
    layer_map: torch.Tensor,
    shape: tuple[int, int],
    map_axes: tuple[str, str],
    interpolate: str,
    conserve: bool = False,
) -> np.ndarray:
    """A layer's per-position map ``(1, 1, *positions)`` on the input's ``(n_mels, n_frames)`` cells.

    A 1-D map (positions over time) is stretched over the frames and repeated over the mel bands; a 2-D
    map is stretched over both, its axes read as ``map_axes`` says. With ``conserve`` (attributions that
    add up, such as integrated gradients) each position's value is instead shared evenly by the cells
    nearest to it, so the cells sum to what the layer's positions sum to (``interpolate`` is not read).
    """
    n_mels, n_frames = shape
    values = layer_map.detach().cpu().double()
    if values.dim() == 3:
        if conserve:
            over_time = _spread(values[0, 0].numpy(), n_frames, 0)
            return np.broadcast_to(over_time / n_mels, (n_mels, n_frames)).copy()
        mode = "nearest" if interpolate == "nearest" else "linear"
        stretched = functional.interpolate(values, size=n_frames, mode=mode)[0, 0].numpy()
        return np.broadcast_to(stretched, (n_mels, n_frames)).copy()
    if values.dim() != 4:
        raise NotApplicableError(f"a layer with {values.dim() - 2} position axes cannot be mapped to a log-mel")
    if tuple(sorted(map_axes)) != ("mel", "time"):
        raise ValueError(f"map_axes must name mel and time, got {map_axes!r}")
    size = (n_mels, n_frames) if map_axes == ("mel", "time") else (n_frames, n_mels)
    if conserve:
        stretched = _spread(_spread(values[0, 0].numpy(), size[0], 0), size[1], 1)
    else:
        mode = "nearest" if interpolate == "nearest" else "bilinear"
        stretched = functional.interpolate(values, size=size, mode=mode)[0, 0].numpy()
    return stretched if map_axes == ("mel", "time") else stretched.T.copy()


def layer_cells(
    captum_attr: Any,
    method: str,
    forward: nn.Module,
    network: nn.Module,
    inputs: torch.Tensor,
    baseline: torch.Tensor,
    target: int,
    layer: str | None,
    interpolate: str,
    n_steps: int | None,
) -> np.ndarray:
    """The cell attributions ``(n_mels, n_frames)`` of a layer method on ``inputs`` ``(1, n_mels, n_frames)``.

    Parameters
    ----------
    captum_attr : module
        ``captum.attr``.
    method : str
        One of :data:`LAYER_METHODS`.
    forward : nn.Module
        Features to class probabilities, wrapping ``network`` (its layers are hooked there).
    network : nn.Module
        The network whose ``layer`` is read.
    baseline : torch.Tensor
        The integrated methods' baseline, the input's shape.
    n_steps : int, optional
        Integration steps (Captum's default 50).
    """
    _, module = find_layer(network, layer)
    map_axes = tuple(getattr(network, "map_axes", DEFAULT_MAP_AXES))
    shape = tuple(inputs.shape[1:])
    steps = {} if n_steps is None else {"n_steps": n_steps}
    if method in ("LayerGradCam", "GuidedGradCam"):
        grad_cam = captum_attr.LayerGradCam(forward, module).attribute(inputs, target=target, relu_attributions=True)
        cells = to_input_grid(grad_cam, shape, map_axes, interpolate)
        if method == "LayerGradCam":
            return cells
        guided = captum_attr.GuidedBackprop(forward).attribute(inputs, target=target)
        return guided.detach().cpu().numpy()[0] * cells
    if method == "LayerIntegratedGradients":
        attributions = captum_attr.LayerIntegratedGradients(forward, module).attribute(
            inputs, baselines=baseline, target=target, **steps
        )
    elif method == "LayerConductance":
        attributions = captum_attr.LayerConductance(forward, module).attribute(
            inputs, baselines=baseline, target=target, **steps
        )
    else:
        raise ValueError(f"method must be one of {', '.join(LAYER_METHODS)}, got {method!r}")
    return to_input_grid(attributions.sum(dim=1, keepdim=True), shape, map_axes, interpolate, conserve=True)
