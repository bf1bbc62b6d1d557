"""BatchNorm over the global batch of all DDP ranks, on the CPU (gloo), where ``nn.SyncBatchNorm`` does not run.

PyTorch 1.13's ``nn.SyncBatchNorm`` needs CUDA. On the CPU each rank would otherwise normalise with its own slice's
statistics, and a 2-process step would differ from the 1-process step on the whole batch. ``GlobalBatchNorm2d``
all-reduces each channel's count and sum, then the sum of squared deviations from the global mean (two passes, like a
single process's batch norm), through ``torch.distributed.nn.functional.all_reduce``, which is autograd-aware: its
backward all-reduces the gradients, so every rank's gradient is the gradient of the global batch's loss. The running
statistics are updated on every rank with the global mean and the unbiased global variance (momentum as PyTorch's,
computed in float64 like PyTorch's CPU kernel), so the buffers equal one process's with the whole batch and stay equal
on all ranks. In eval mode it is the ordinary BatchNorm.
"""

from __future__ import annotations

import torch
import torch.distributed as dist
import torch.distributed.nn.functional as dist_fn
import torch.nn as nn
import torch.nn.functional as F


class GlobalBatchNorm2d(nn.BatchNorm2d):
    """``nn.BatchNorm2d`` whose training statistics are those of the batch of all ranks of ``group``."""

    def __init__(self, num_features: int, group: dist.ProcessGroup, eps: float = 1e-5, momentum: float = 0.1) -> None:
        super().__init__(num_features, eps=eps, momentum=momentum)
        self.group = group

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training:
            return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias, False, 0.0, self.eps)
        dims = (0, 2, 3)
        local_count = torch.tensor([x.numel() // x.shape[1]], dtype=x.dtype, device=x.device)
        totals = dist_fn.all_reduce(torch.cat([x.sum(dims), local_count]), group=self.group)
        count = totals[-1]
        mean = totals[:-1] / count
        centred = x - mean.view(1, -1, 1, 1)
        variance = dist_fn.all_reduce(centred.square().sum(dims), group=self.group) / count
        with torch.no_grad():
            n = float(count.item())
            m = self.momentum
            unbiased = variance.detach().double() * (n / (n - 1)) if n > 1 else variance.detach().double()
            self.running_mean.copy_((m * mean.detach().double() + (1 - m) * self.running_mean.double()).to(self.running_mean.dtype))
            self.running_var.copy_((m * unbiased + (1 - m) * self.running_var.double()).to(self.running_var.dtype))
            self.num_batches_tracked.add_(1)
        scale = torch.rsqrt(variance + self.eps) * self.weight
        return centred * scale.view(1, -1, 1, 1) + self.bias.view(1, -1, 1, 1)


def to_global_batchnorm(module: nn.Module, group: dist.ProcessGroup) -> nn.Module:
    """Replaces every ``nn.BatchNorm2d`` of ``module`` (in place) by a ``GlobalBatchNorm2d`` holding the same tensors."""
    for name, child in list(module.named_children()):
        if type(child) is nn.BatchNorm2d:
            replacement = GlobalBatchNorm2d(child.num_features, group, child.eps, child.momentum)
            with torch.no_grad():
                replacement.weight.copy_(child.weight)
                replacement.bias.copy_(child.bias)
                replacement.running_mean.copy_(child.running_mean)
                replacement.running_var.copy_(child.running_var)
                replacement.num_batches_tracked.copy_(child.num_batches_tracked)
            replacement.train(child.training)
            setattr(module, name, replacement)
        else:
            to_global_batchnorm(child, group)
    return module
