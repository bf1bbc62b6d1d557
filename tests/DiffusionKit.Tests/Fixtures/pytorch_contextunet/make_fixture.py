#!/usr/bin/python3
"""Builds the PyTorch parity fixture for DiffusionKit's ContextUnet.

Defines the course's ContextUnet ("How Diffusion Models Work", DeepLearning.AI) with the same module names, but with
the 1x1 shortcut of ResidualConvBlock registered in __init__ (the course created an untrained one inside forward).
Trains a small configuration for a few Adam steps on random data so the weights and BatchNorm running statistics are
non-trivial, switches to eval(), and writes:

  weights.safetensors  the model's state_dict (parameters and buffers, PyTorch names)
  io.safetensors       fixed inputs x, t, c and PyTorch's outputs eps (with c) and eps_uncond (c = None)

The safetensors files are written by hand (the safetensors package is not installed here).
Run with Debian's PyTorch: /usr/bin/python3 make_fixture.py  (writes next to this script).
"""

import json
import os
import struct

import torch
import torch.nn as nn
import torch.nn.functional as F

N_FEAT = 16
N_CFEAT = 5
HEIGHT = 16
IN_CHANNELS = 3


class ResidualConvBlock(nn.Module):
    def __init__(self, in_channels, out_channels, is_res=False):
        super().__init__()
        self.is_res = is_res
        self.conv1 = nn.Sequential(nn.Conv2d(in_channels, out_channels, 3, 1, 1), nn.BatchNorm2d(out_channels), nn.GELU())
        self.conv2 = nn.Sequential(nn.Conv2d(out_channels, out_channels, 3, 1, 1), nn.BatchNorm2d(out_channels), nn.GELU())
        # The fix: a registered (trained, saved) shortcut when the channel count changes.
        if is_res and in_channels != out_channels:
            self.shortcut = nn.Conv2d(in_channels, out_channels, 1, 1, 0)
        else:
            self.shortcut = None

    def forward(self, x):
        x2 = self.conv2(self.conv1(x))
        if not self.is_res:
            return x2
        residual = x if self.shortcut is None else self.shortcut(x)
        return (residual + x2) / 1.414


class UnetUp(nn.Module):
    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.model = nn.Sequential(
            nn.ConvTranspose2d(in_channels, out_channels, 2, 2),
            ResidualConvBlock(out_channels, out_channels),
            ResidualConvBlock(out_channels, out_channels))

    def forward(self, x, skip):
        return self.model(torch.cat((x, skip), 1))


class UnetDown(nn.Module):
    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.model = nn.Sequential(
            ResidualConvBlock(in_channels, out_channels),
            ResidualConvBlock(out_channels, out_channels),
            nn.MaxPool2d(2))

    def forward(self, x):
        return self.model(x)


class EmbedFC(nn.Module):
    def __init__(self, input_dim, emb_dim):
        super().__init__()
        self.input_dim = input_dim
        self.model = nn.Sequential(nn.Linear(input_dim, emb_dim), nn.GELU(), nn.Linear(emb_dim, emb_dim))

    def forward(self, x):
        return self.model(x.view(-1, self.input_dim))


class ContextUnet(nn.Module):
    def __init__(self, in_channels, n_feat, n_cfeat, height):
        super().__init__()
        self.in_channels = in_channels
        self.n_feat = n_feat
        self.n_cfeat = n_cfeat
        self.h = height
        self.init_conv = ResidualConvBlock(in_channels, n_feat, is_res=True)
        self.down1 = UnetDown(n_feat, n_feat)
        self.down2 = UnetDown(n_feat, 2 * n_feat)
        self.to_vec = nn.Sequential(nn.AvgPool2d(self.h // 4), nn.GELU())
        self.timeembed1 = EmbedFC(1, 2 * n_feat)
        self.timeembed2 = EmbedFC(1, 1 * n_feat)
        self.contextembed1 = EmbedFC(n_cfeat, 2 * n_feat)
        self.contextembed2 = EmbedFC(n_cfeat, 1 * n_feat)
        self.up0 = nn.Sequential(
            nn.ConvTranspose2d(2 * n_feat, 2 * n_feat, self.h // 4, self.h // 4),
            nn.GroupNorm(8, 2 * n_feat),
            nn.ReLU())
        self.up1 = UnetUp(4 * n_feat, n_feat)
        self.up2 = UnetUp(2 * n_feat, n_feat)
        self.out = nn.Sequential(
            nn.Conv2d(2 * n_feat, n_feat, 3, 1, 1),
            nn.GroupNorm(8, n_feat),
            nn.ReLU(),
            nn.Conv2d(n_feat, self.in_channels, 3, 1, 1))

    def forward(self, x, t, c=None):
        x = self.init_conv(x)
        down1 = self.down1(x)
        down2 = self.down2(down1)
        hiddenvec = self.to_vec(down2)
        if c is None:
            c = torch.zeros(x.shape[0], self.n_cfeat).to(x)
        cemb1 = self.contextembed1(c).view(-1, self.n_feat * 2, 1, 1)
        temb1 = self.timeembed1(t).view(-1, self.n_feat * 2, 1, 1)
        cemb2 = self.contextembed2(c).view(-1, self.n_feat, 1, 1)
        temb2 = self.timeembed2(t).view(-1, self.n_feat, 1, 1)
        up1 = self.up0(hiddenvec)
        up2 = self.up1(cemb1 * up1 + temb1, down2)
        up3 = self.up2(cemb2 * up2 + temb2, down1)
        return self.out(torch.cat((up3, x), 1))


DTYPES = {
    torch.float32: ("F32", "<f4"),
    torch.float64: ("F64", "<f8"),
    torch.int64: ("I64", "<i8"),
    torch.int32: ("I32", "<i4"),
    torch.uint8: ("U8", "u1"),
    torch.bool: ("BOOL", "?"),
}


def write_safetensors(path, tensors, metadata=None):
    """Writes the safetensors format: u64 LE header length, JSON header (sorted keys), space padding, raw LE data."""
    header = {}
    if metadata:
        header["__metadata__"] = dict(metadata)
    chunks = []
    offset = 0
    for name in sorted(tensors):
        tensor = tensors[name].detach().cpu().contiguous()
        dtype, np_dtype = DTYPES[tensor.dtype]
        data = tensor.numpy().astype(np_dtype).tobytes()
        header[name] = {"dtype": dtype, "shape": list(tensor.shape), "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    encoded = json.dumps(header, separators=(",", ":")).encode("utf-8")
    encoded += b" " * ((8 - len(encoded) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(encoded)))
        f.write(encoded)
        for data in chunks:
            f.write(data)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    torch.manual_seed(1234)
    torch.set_num_threads(1)
    model = ContextUnet(IN_CHANNELS, N_FEAT, N_CFEAT, HEIGHT)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)

    # A few training steps on random data: moves every weight and the BatchNorm running statistics.
    # lr 1e-2 and 20 steps make the context path matter (at initialisation eps barely depends on c).
    model.train()
    for _ in range(20):
        x0 = torch.randn(8, IN_CHANNELS, HEIGHT, HEIGHT)
        noise = torch.randn_like(x0)
        t = torch.rand(8)
        c = F.one_hot(torch.randint(0, N_CFEAT, (8,)), N_CFEAT).float()
        loss = F.mse_loss(model(x0 + noise, t, c), noise)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    model.eval()
    x = torch.randn(4, IN_CHANNELS, HEIGHT, HEIGHT)
    t = torch.tensor([0.0, 0.25, 0.6, 1.0])
    c = torch.tensor([[1, 0, 0, 0, 0], [0, 0, 1, 0, 0], [0.5, 0, 0, 0.5, 0], [0, 0, 0, 0, 0]], dtype=torch.float32)
    with torch.no_grad():
        eps = model(x, t, c)
        eps_uncond = model(x, t, None)

    meta = {"torch": torch.__version__, "n_feat": str(N_FEAT), "n_cfeat": str(N_CFEAT),
            "height": str(HEIGHT), "in_channels": str(IN_CHANNELS)}
    write_safetensors(os.path.join(here, "weights.safetensors"), model.state_dict(), meta)
    write_safetensors(os.path.join(here, "io.safetensors"),
                      {"x": x, "t": t, "c": c, "eps": eps, "eps_uncond": eps_uncond}, meta)
    params = sum(p.numel() for p in model.parameters())
    print(f"wrote fixture: {params} parameters, {len(model.state_dict())} state_dict entries, "
          f"|eps| mean {eps.abs().mean():.4f}")


if __name__ == "__main__":
    main()
