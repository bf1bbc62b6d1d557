"""Weight initialisation as DiffusionKit's ``WeightInitializer`` does it, from one seeded generator.

Convolutions, transposed convolutions and linear layers: weight and bias uniform in ±1/sqrt(fan_in) (PyTorch's default
distribution); GroupNorm, BatchNorm and LayerNorm: ones and zeros. The modules are visited in TorchSharp's ``named_modules()``
order (see ``torchsharp_named_modules``) and each tensor is drawn with ``torch.rand`` from the generator, so with the
same seed the initial weights equal the .NET trainer's bit for bit (TorchSharp 0.107's CPU generator draws the same
numbers as PyTorch 1.13's).
"""

from __future__ import annotations

import math
from typing import Iterator

import torch
import torch.nn as nn


def torchsharp_named_modules(module: nn.Module) -> Iterator[tuple[str, nn.Module]]:
    """Sub-modules in TorchSharp's ``named_modules()`` order: all immediate children, then each child's sub-modules.

    PyTorch visits depth first (a child, then its sub-modules); the orders differ where a module has both leaf
    children and composite ones (the residual block's ``shortcut`` comes before ``conv1.0`` in TorchSharp).
    """
    children = list(module.named_children())
    yield from children
    for name, child in children:
        for sub_name, sub in torchsharp_named_modules(child):
            yield f"{name}.{sub_name}", sub


def _fan_in(weight: torch.Tensor) -> int:
    """PyTorch's fan-in: size(1) times the receptive field (for transposed convolutions size(1) is out/groups)."""
    fan_in = weight.shape[1]
    for size in weight.shape[2:]:
        fan_in *= size
    return fan_in


def _fill_uniform(target: torch.Tensor, bound: float, generator: torch.Generator | None) -> None:
    target.copy_(torch.rand(target.shape, dtype=target.dtype, generator=generator).mul(2.0 * bound).sub_(bound))


@torch.no_grad()
def initialize_weights(module: nn.Module, generator: torch.Generator | None) -> None:
    """Initialises every convolution, linear and normalisation layer of ``module`` in place."""
    for _, child in torchsharp_named_modules(module):
        if isinstance(child, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            bound = 1.0 / math.sqrt(_fan_in(child.weight))
            _fill_uniform(child.weight, bound, generator)
            if child.bias is not None:
                _fill_uniform(child.bias, bound, generator)
        elif isinstance(child, (nn.GroupNorm, nn.BatchNorm2d, nn.LayerNorm)):
            if child.weight is not None:
                child.weight.fill_(1.0)
            if child.bias is not None:
                child.bias.fill_(0.0)
