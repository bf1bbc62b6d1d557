#!/usr/bin/python3
"""Builds the PyTorch parity fixture for DiffusionKit's AttentionUnet.

Uses the PyTorch reference definition in python/diffusionkit_torch/attention_unet.py (the one the PyTorch trainer
uses). Trains a small configuration (in_channels 3, n_feat 16, n_cfeat 5, height 16: attention at 8x8, 4x4 and in the
middle) for 20 Adam steps on random data so every weight moves and the context path matters, switches to eval(), and
writes next to this script:

  weights.safetensors  the model's state_dict (PyTorch names)
  io.safetensors       fixed inputs x, t, c and PyTorch's outputs eps (with c) and eps_uncond (c = None)

Run with Debian's PyTorch from the repository root: /usr/bin/python3 tests/DiffusionKit.Tests/Fixtures/pytorch_attentionunet/make_fixture.py
"""

import os
import sys

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "..", "python"))
sys.path.insert(0, os.path.join(HERE, "..", "pytorch_contextunet"))

from diffusionkit_torch.attention_unet import AttentionUnet  # noqa: E402
from diffusionkit_torch.model import ModelOptions  # noqa: E402
from make_fixture import write_safetensors  # noqa: E402  (the ContextUnet fixture's hand-written safetensors writer)

OPTIONS = ModelOptions(in_channels=3, features=16, context_size=5, image_size=16)


def main():
    torch.manual_seed(1234)
    torch.set_num_threads(1)
    model = AttentionUnet.seeded(OPTIONS, 7)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    model.train()
    for _ in range(20):
        x0 = torch.randn(8, OPTIONS.in_channels, OPTIONS.image_size, OPTIONS.image_size)
        noise = torch.randn_like(x0)
        t = torch.rand(8)
        c = F.one_hot(torch.randint(0, OPTIONS.context_size, (8,)), OPTIONS.context_size).float()
        loss = F.mse_loss(model(x0 + noise, t, c), noise)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    model.eval()
    x = torch.randn(4, OPTIONS.in_channels, OPTIONS.image_size, OPTIONS.image_size)
    t = torch.tensor([0.0, 0.25, 0.6, 1.0])
    c = torch.tensor([[1, 0, 0, 0, 0], [0, 0, 1, 0, 0], [0.5, 0, 0, 0.5, 0], [0, 0, 0, 0, 0]], dtype=torch.float32)
    with torch.no_grad():
        eps = model(x, t, c)
        eps_uncond = model(x, t, None)

    meta = {"torch": torch.__version__, "type": "AttentionUnet", "n_feat": str(OPTIONS.features), "n_cfeat": str(OPTIONS.context_size),
            "height": str(OPTIONS.image_size), "in_channels": str(OPTIONS.in_channels)}
    write_safetensors(os.path.join(HERE, "weights.safetensors"), model.state_dict(), meta)
    write_safetensors(os.path.join(HERE, "io.safetensors"), {"x": x, "t": t, "c": c, "eps": eps, "eps_uncond": eps_uncond}, meta)
    print(f"wrote fixture: {sum(p.numel() for p in model.parameters())} parameters, {len(model.state_dict())} state_dict entries, "
          f"|eps| mean {eps.abs().mean():.4f}, |eps - eps_uncond| max {(eps - eps_uncond).abs().max():.4f}")


if __name__ == "__main__":
    main()
