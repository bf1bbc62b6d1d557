"""The exponential moving average of the weights, as .NET's ``ExponentialMovingAverage``.

It averages the model's whole ``state_dict`` (parameters AND BatchNorm buffers; the integer ``num_batches_tracked`` is
copied, not averaged) followed by a learned encoder's parameters: ``shadow = d shadow + (1 - d) live`` with the
warm-up ``d = min(decay, (1 + n)/(10 + n))`` after n updates. Shadows of float32 tensors are float32.
"""

from __future__ import annotations

from typing import Sequence

import torch


class ExponentialMovingAverage:
    """Shadows of the given live tensors, in the given order (the training state's ``ema/<i>`` order)."""

    def __init__(self, tensors: Sequence[torch.Tensor], decay: float) -> None:
        self.decay = decay
        self.updates = 0
        self.live = list(tensors)
        with torch.no_grad():
            self.shadows = [t.detach().to(torch.float32, copy=True) if t.is_floating_point() and t.dtype != torch.float64
                            else t.detach().clone() for t in self.live]

    @torch.no_grad()
    def update(self) -> None:
        """Moves every shadow towards its live tensor (integer tensors are copied)."""
        decay = min(self.decay, (1.0 + self.updates) / (10.0 + self.updates))
        self.updates += 1
        for live, shadow in zip(self.live, self.shadows):
            if live.is_floating_point():
                shadow.mul_(decay).add_(live, alpha=1 - decay)
            else:
                shadow.copy_(live)

    @torch.no_grad()
    def copy_to_live(self) -> None:
        """Copies the averaged weights into the live tensors (what the .NET trainer does when the run ends)."""
        for live, shadow in zip(self.live, self.shadows):
            live.copy_(shadow)
