"""The context U-Net of "How Diffusion Models Work" (DeepLearning.AI), as DiffusionKit's ``ContextUnet`` builds it.

Module and parameter names are the course's (and .NET's), e.g. ``init_conv.conv1.0.weight``, ``init_conv.shortcut.weight``
(the registered 1x1 shortcut: the course created an untrained one inside forward), ``timeembed1.model.0.weight``,
``up0.0.weight``, ``out.3.bias``, so ``state_dict``s move between the two trainers unchanged. The forward pass takes the
noisy images [B, C, H, W], the normalised time t/T (any shape with B elements, [B] in DiffusionKit) and the contexts
[B, n_cfeat] (None: zeros). This definition matches .NET's forward pass within 1e-4 (the repository's PyTorch parity
fixture uses the same one).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn

from .networks import CONTEXT_UNET, type_name
from .weight_init import initialize_weights


@dataclass(frozen=True)
class ModelOptions:
    """The network and its sizes: the checkpoint's ``model`` section (``type``; ``in_channels``, ``n_feat``, ``n_cfeat``,
    ``height``). ``network`` is the command-line name (``networks.NAMES``); both networks share the four sizes."""

    in_channels: int = 3
    features: int = 64
    context_size: int = 5
    image_size: int = 16
    network: str = CONTEXT_UNET

    def validate(self) -> None:
        """Raises ValueError naming the first invalid field (the limits of .NET's ``ContextUnetOptions`` and
        ``AttentionUnetOptions``, which are the same)."""
        type_name(self.network)
        if self.in_channels < 1:
            raise ValueError("in_channels must be at least 1.")
        if self.features < 8 or self.features % 8 != 0:
            raise ValueError("n_feat must be a positive multiple of 8 (GroupNorm uses 8 groups).")
        if self.context_size < 1:
            raise ValueError("n_cfeat must be at least 1.")
        if self.image_size < 8 or self.image_size % 4 != 0:
            raise ValueError("height must be a multiple of 4 and at least 8 (the U-Net halves the image twice).")


class ResidualConvBlock(nn.Module):
    """Two 3x3 conv-BatchNorm-GELU layers; with ``is_res`` a residual connection (a 1x1 shortcut when widths differ)."""

    def __init__(self, in_channels: int, out_channels: int, is_res: bool = False) -> None:
        super().__init__()
        self.is_res = is_res
        self.conv1 = nn.Sequential(nn.Conv2d(in_channels, out_channels, 3, 1, 1), nn.BatchNorm2d(out_channels), nn.GELU())
        self.conv2 = nn.Sequential(nn.Conv2d(out_channels, out_channels, 3, 1, 1), nn.BatchNorm2d(out_channels), nn.GELU())
        self.shortcut = nn.Conv2d(in_channels, out_channels, 1, 1, 0) if is_res and in_channels != out_channels else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x2 = self.conv2(self.conv1(x))
        if not self.is_res:
            return x2
        residual = x if self.shortcut is None else self.shortcut(x)
        return (residual + x2) / 1.414


class UnetDown(nn.Module):
    """Two residual blocks and a 2x2 max-pool."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.model = nn.Sequential(ResidualConvBlock(in_channels, out_channels), ResidualConvBlock(out_channels, out_channels),
                                   nn.MaxPool2d(2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


class UnetUp(nn.Module):
    """Concatenates the skip connection, up-samples 2x (transposed convolution), then two residual blocks."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.model = nn.Sequential(nn.ConvTranspose2d(in_channels, out_channels, 2, 2),
                                   ResidualConvBlock(out_channels, out_channels), ResidualConvBlock(out_channels, out_channels))

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        return self.model(torch.cat((x, skip), 1))


class EmbedFC(nn.Module):
    """A two-layer MLP (Linear, GELU, Linear) embedding a vector."""

    def __init__(self, input_dim: int, emb_dim: int) -> None:
        super().__init__()
        self.input_dim = input_dim
        self.model = nn.Sequential(nn.Linear(input_dim, emb_dim), nn.GELU(), nn.Linear(emb_dim, emb_dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x.view(-1, self.input_dim))


class ContextUnet(nn.Module):
    """Predicts the model output (noise, v or x0, as trained) from (x_t, t/T, context); context multiplies, time adds."""

    def __init__(self, options: ModelOptions, generator: torch.Generator | None = None) -> None:
        super().__init__()
        options.validate()
        self.options = options
        c, n, q = options.in_channels, options.features, options.image_size // 4
        self.n_feat = n
        self.n_cfeat = options.context_size
        self.init_conv = ResidualConvBlock(c, n, is_res=True)
        self.down1 = UnetDown(n, n)
        self.down2 = UnetDown(n, 2 * n)
        self.to_vec = nn.Sequential(nn.AvgPool2d(q), nn.GELU())
        self.timeembed1 = EmbedFC(1, 2 * n)
        self.timeembed2 = EmbedFC(1, n)
        self.contextembed1 = EmbedFC(options.context_size, 2 * n)
        self.contextembed2 = EmbedFC(options.context_size, n)
        self.up0 = nn.Sequential(nn.ConvTranspose2d(2 * n, 2 * n, q, q), nn.GroupNorm(8, 2 * n), nn.ReLU())
        self.up1 = UnetUp(4 * n, n)
        self.up2 = UnetUp(2 * n, n)
        self.out = nn.Sequential(nn.Conv2d(2 * n, n, 3, 1, 1), nn.GroupNorm(8, n), nn.ReLU(), nn.Conv2d(n, c, 3, 1, 1))
        initialize_weights(self, generator)

    @staticmethod
    def seeded(options: ModelOptions, seed: int) -> "ContextUnet":
        """The network .NET's ``new ContextUnet(options, seed)`` builds: weights drawn from a generator seeded with ``seed``."""
        return ContextUnet(options, torch.Generator().manual_seed(seed))

    def forward(self, x: torch.Tensor, t: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        x = self.init_conv(x)
        down1 = self.down1(x)
        down2 = self.down2(down1)
        hiddenvec = self.to_vec(down2)
        if c is None:
            c = torch.zeros(x.shape[0], self.n_cfeat, dtype=x.dtype, device=x.device)
        cemb1 = self.contextembed1(c).view(-1, self.n_feat * 2, 1, 1)
        temb1 = self.timeembed1(t).view(-1, self.n_feat * 2, 1, 1)
        cemb2 = self.contextembed2(c).view(-1, self.n_feat, 1, 1)
        temb2 = self.timeembed2(t).view(-1, self.n_feat, 1, 1)
        up1 = self.up0(hiddenvec)
        up2 = self.up1(cemb1 * up1 + temb1, down2)
        up3 = self.up2(cemb2 * up2 + temb2, down1)
        return self.out(torch.cat((up3, x), 1))


def dotnet_state_order(model: nn.Module) -> list[str]:
    """The model's ``state_dict`` names in TorchSharp's order: every parameter, then every buffer.

    PyTorch interleaves each module's parameters and buffers; TorchSharp lists all parameters first. The .NET trainer's
    EMA shadows (``ema/<i>``) follow TorchSharp's order, so this trainer uses it too.
    """
    return [name for name, _ in model.named_parameters()] + [name for name, _ in model.named_buffers()]
