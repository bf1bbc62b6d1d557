"""The U-Net with self- and cross-attention, as DiffusionKit's ``AttentionUnet`` builds it (``model.type`` ``AttentionUnet``).

Three levels (full, half, quarter resolution; F, 2F, 2F channels, F = ``n_feat``), one GroupNorm/SiLU residual block per
level down and up, a middle level of two residual blocks at quarter resolution; self-attention over the pixels and
cross-attention to 4 caption tokens after the residual blocks of every level whose side is at most 8 and the middle
one (heads 32 channels wide, or one head when 2F is not a multiple of 32). Time: sinusoidal features of 1000 * t/T (cosines, then sines) through a two-layer MLP; the context vector's MLP is
added to it, and a linear projection of the context makes the caption tokens. Names follow diffusers'
``UNet2DConditionModel`` (``down_blocks.1.attentions.0.transformer_blocks.0.attn2.to_k.weight``), and equal .NET's, so
``state_dict``s move between the two unchanged. The repository's PyTorch parity fixture
(tests/DiffusionKit.Tests/Fixtures/pytorch_attentionunet) is made from this definition.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from .model import ModelOptions
from .weight_init import initialize_weights

NORM_GROUPS = 8
HEAD_WIDTH = 32
CONTEXT_TOKENS = 4
MAX_ATTENTION_SIDE = 8


class ResnetBlock(nn.Module):
    def __init__(self, cin: int, cout: int, emb: int) -> None:
        super().__init__()
        self.norm1 = nn.GroupNorm(NORM_GROUPS, cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, 1, 1)
        self.time_emb_proj = nn.Linear(emb, cout)
        self.norm2 = nn.GroupNorm(NORM_GROUPS, cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1)
        self.conv_shortcut = nn.Conv2d(cin, cout, 1, 1, 0) if cin != cout else None

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.time_emb_proj(emb)[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        return (x if self.conv_shortcut is None else self.conv_shortcut(x)) + h


class Attention(nn.Module):
    def __init__(self, dim: int, key_dim: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.to_q = nn.Linear(dim, dim, bias=False)
        self.to_k = nn.Linear(key_dim, dim, bias=False)
        self.to_v = nn.Linear(key_dim, dim, bias=False)
        self.to_out = nn.ModuleList([nn.Linear(dim, dim)])

    def forward(self, x: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
        b, n, d = x.shape
        hd = d // self.heads

        def heads(t: torch.Tensor) -> torch.Tensor:
            return t.view(b, -1, self.heads, hd).transpose(1, 2)

        q, k, v = heads(self.to_q(x)), heads(self.to_k(keys)), heads(self.to_v(keys))
        w = (q @ k.transpose(-1, -2) * (1.0 / math.sqrt(hd))).softmax(-1)
        return self.to_out[0]((w @ v).transpose(1, 2).reshape(b, n, d))


class TransformerBlock(nn.Module):
    def __init__(self, dim: int, context_dim: int, heads: int) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn1 = Attention(dim, dim, heads)
        self.norm2 = nn.LayerNorm(dim)
        self.attn2 = Attention(dim, context_dim, heads)
        self.norm3 = nn.LayerNorm(dim)
        self.ff = nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim))

    def forward(self, x: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        n1 = self.norm1(x)
        x = x + self.attn1(n1, n1)
        x = x + self.attn2(self.norm2(x), context)
        return x + self.ff(self.norm3(x))


class SpatialTransformer(nn.Module):
    def __init__(self, channels: int, context_dim: int, heads: int) -> None:
        super().__init__()
        self.norm = nn.GroupNorm(NORM_GROUPS, channels, eps=1e-6)
        self.proj_in = nn.Linear(channels, channels)
        self.transformer_blocks = nn.ModuleList([TransformerBlock(channels, context_dim, heads)])
        self.proj_out = nn.Linear(channels, channels)

    def forward(self, x: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        tokens = self.norm(x).permute(0, 2, 3, 1).reshape(b, h * w, c)
        out = self.proj_out(self.transformer_blocks[0](self.proj_in(tokens), context))
        return x + out.reshape(b, h, w, c).permute(0, 3, 1, 2)


class Resample(nn.Module):
    def __init__(self, conv: nn.Module) -> None:
        super().__init__()
        self.conv = conv

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


class Stage(nn.Module):
    def __init__(self, resnets: list, attentions: list, downsample: nn.Module | None = None, upsample: nn.Module | None = None) -> None:
        super().__init__()
        self.resnets = nn.ModuleList(resnets)
        self.attentions = nn.ModuleList(attentions) if attentions else None
        self.downsamplers = nn.ModuleList([downsample]) if downsample is not None else None
        self.upsamplers = nn.ModuleList([upsample]) if upsample is not None else None

    def forward(self, x: torch.Tensor, emb: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        for i, resnet in enumerate(self.resnets):
            x = resnet(x, emb)
            if self.attentions is not None and i < len(self.attentions):
                x = self.attentions[i](x, context)
        return x

    def resample(self, x: torch.Tensor) -> torch.Tensor:
        if self.downsamplers is not None:
            return self.downsamplers[0](x)
        if self.upsamplers is not None:
            return self.upsamplers[0](x)
        return x


class Embedding(nn.Module):
    def __init__(self, inputs: int, size: int) -> None:
        super().__init__()
        self.linear_1 = nn.Linear(inputs, size)
        self.linear_2 = nn.Linear(size, size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear_2(F.silu(self.linear_1(x)))


class AttentionUnet(nn.Module):
    """Predicts the model output from (x_t, t/T, context); the context is added to the time embedding and attended to."""

    def __init__(self, options: ModelOptions, generator: torch.Generator | None = None) -> None:
        super().__init__()
        options.validate()
        self.options = options
        f, wide, emb = options.features, 2 * options.features, 4 * options.features
        heads = wide // HEAD_WIDTH if wide % HEAD_WIDTH == 0 else 1
        at_half = options.image_size // 2 <= MAX_ATTENTION_SIDE
        at_quarter = options.image_size // 4 <= MAX_ATTENTION_SIDE

        def attention(attends: bool) -> list:
            return [SpatialTransformer(wide, wide, heads)] if attends else []

        self.conv_in = nn.Conv2d(options.in_channels, f, 3, 1, 1)
        self.time_embedding = Embedding(f, emb)
        self.class_embedding = Embedding(options.context_size, emb)
        self.context_tokens = nn.Linear(options.context_size, CONTEXT_TOKENS * wide)
        self.down_blocks = nn.ModuleList([
            Stage([ResnetBlock(f, f, emb)], [], downsample=Resample(nn.Conv2d(f, f, 3, 2, 1))),
            Stage([ResnetBlock(f, wide, emb)], attention(at_half), downsample=Resample(nn.Conv2d(wide, wide, 3, 2, 1))),
            Stage([ResnetBlock(wide, wide, emb)], attention(at_quarter)),
        ])
        self.mid_block = Stage([ResnetBlock(wide, wide, emb), ResnetBlock(wide, wide, emb)], [SpatialTransformer(wide, wide, heads)])
        self.up_blocks = nn.ModuleList([
            Stage([ResnetBlock(2 * wide, wide, emb)], attention(at_quarter), upsample=Resample(nn.ConvTranspose2d(wide, wide, 2, 2))),
            Stage([ResnetBlock(2 * wide, wide, emb)], attention(at_half), upsample=Resample(nn.ConvTranspose2d(wide, wide, 2, 2))),
            Stage([ResnetBlock(wide + f, f, emb)], []),
        ])
        self.conv_norm_out = nn.GroupNorm(NORM_GROUPS, f)
        self.conv_out = nn.Conv2d(f, options.in_channels, 3, 1, 1)
        half = f // 2
        # Computed in double and rounded to float32 as .NET does; not a buffer, so the state_dict is the parameters alone.
        self.frequencies = [float(torch.tensor(math.exp(-math.log(10000.0) * i / half), dtype=torch.float32)) for i in range(half)]
        initialize_weights(self, generator)

    @staticmethod
    def seeded(options: ModelOptions, seed: int) -> "AttentionUnet":
        """The network .NET's ``new AttentionUnet(options, seed)`` builds."""
        return AttentionUnet(options, torch.Generator().manual_seed(seed))

    def forward(self, x: torch.Tensor, t: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        b = x.shape[0]
        if c is None:
            c = torch.zeros(b, self.options.context_size, dtype=x.dtype, device=x.device)
        frequencies = torch.tensor(self.frequencies, dtype=x.dtype, device=x.device)
        angles = (t.reshape(b) * 1000.0)[:, None] * frequencies[None, :]
        emb = F.silu(self.time_embedding(torch.cat([angles.cos(), angles.sin()], 1)) + self.class_embedding(c))
        context = self.context_tokens(c).view(b, CONTEXT_TOKENS, 2 * self.options.features)
        h = self.conv_in(x)
        skips = []
        for stage in self.down_blocks:
            h = stage(h, emb, context)
            skips.append(h)
            h = stage.resample(h)
        h = self.mid_block(h, emb, context)
        for stage in self.up_blocks:
            h = stage.resample(stage(torch.cat([h, skips.pop()], 1), emb, context))
        return self.conv_out(F.silu(self.conv_norm_out(h)))
