"""Hyper-parameter sweep for the shapes demo, run in PyTorch on a GPU to choose DiffusionKit's CPU demo defaults.

Not part of the library or its tests. It re-implements, in PyTorch, the pieces the demo uses (the course's context
U-Net with the registered shortcut, the shapes data set per docs/reference.md, the DDPM schedule, DDIM sampling with
classifier-free guidance and the rule-based judge of src/DiffusionKit.Demo/Evaluation/ShapesJudge.cs) so that many training
recipes can be compared at the same *image budget* (images seen in training), which is what the 2-core CPU's time
budget buys. The chosen recipe is then re-measured with the real `diffusionkit demo` on the CPU (docs/benchmarks.md).

Usage: python3 shapes_sweep.py OUT_DIR [--only NAME,...] [--workers N]

It reads the recipes from sweep_configs.json beside it (that file holds the last round, the held-out one); each line of
results-round*.jsonl repeats the full config it was run with. Run on the lent H200 with `--workers 10..13`
(about 1.5 minutes per batch of recipes). docs/benchmarks.md summarises the results.
"""
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

COLORS = {"red": (255, 0, 0), "green": (0, 255, 0), "blue": (0, 0, 255), "yellow": (255, 255, 0),
          "magenta": (255, 0, 255), "cyan": (0, 255, 255)}
KINDS = ["circle", "square", "triangle", "cross"]
SIZES = ["small", "large"]
VOCAB = SIZES + list(COLORS) + KINDS  # bag-of-words order does not matter for the sweep
SPECS = [(s, c, k) for s in SIZES for c in COLORS for k in KINDS]


def contains(kind, x, y, w, h):
    dx = 2 * x + 1 - w
    dy = 2 * y + 1 - h
    if kind == "circle":
        return dx * dx * h * h + dy * dy * w * w <= w * w * h * h
    if kind == "square":
        return np.ones_like(dx, dtype=bool)
    if kind == "triangle":
        return np.abs(dx) * h <= (y + 1) * w
    return (3 * np.abs(dx) <= w) | (3 * np.abs(dy) <= h)


def template(kind, w, h):
    y, x = np.mgrid[0:h, 0:w]
    return contains(kind, x, y, w, h)


def make_dataset(count, seed, held_out=()):
    rng = np.random.default_rng(seed)
    allowed = [s for s in SPECS if (s[1], s[2]) not in held_out]
    imgs = np.zeros((count, 16, 16, 3), np.uint8)
    labels = []
    for i in range(count):
        if i % len(allowed) == 0:
            order = rng.permutation(len(allowed))
        size, color, kind = allowed[order[i % len(allowed)]]
        side = int(rng.integers(5, 8) if size == "small" else rng.integers(9, 13))
        left, top = int(rng.integers(0, 17 - side)), int(rng.integers(0, 17 - side))
        mask = template(kind, side, side)
        imgs[i, top:top + side, left:left + side][mask] = COLORS[color]
        labels.append((size, color, kind))
    return imgs, labels


def bow(spec):
    v = np.zeros(len(VOCAB), np.float32)
    for word in spec:
        v[VOCAB.index(word)] = 1
    return v


def judge(img):
    """img: uint8 HWC 16x16x3 -> (size, color, kind) or None. Port of ShapesJudge."""
    fg = img.max(axis=2) >= 128
    hh, ww = fg.shape
    lab = np.zeros(fg.shape, np.int32)
    best, best_count, nxt = 0, 0, 0
    for sy in range(hh):
        for sx in range(ww):
            if not fg[sy, sx] or lab[sy, sx]:
                continue
            nxt += 1
            lab[sy, sx] = nxt
            stack, count = [(sy, sx)], 0
            while stack:
                py, px = stack.pop()
                count += 1
                for y in range(max(py - 1, 0), min(py + 2, hh)):
                    for x in range(max(px - 1, 0), min(px + 2, ww)):
                        if fg[y, x] and not lab[y, x]:
                            lab[y, x] = nxt
                            stack.append((y, x))
            if count > best_count:
                best, best_count = nxt, count
    if best_count == 0:
        return None
    comp = lab == best
    ys, xs = np.nonzero(comp)
    top, bottom, left, right = ys.min(), ys.max(), xs.min(), xs.max()
    w, h = right - left + 1, bottom - top + 1
    size = "large" if max(w, h) >= 8 else "small"
    s = img[comp].astype(np.float64).sum(axis=0)
    rgb = s / s.max() * 255
    color = min(COLORS, key=lambda c: ((rgb - np.array(COLORS[c])) ** 2).sum())
    box = comp[top:bottom + 1, left:right + 1]
    kind = max(KINDS, key=lambda k: ((box == template(k, w, h)).sum(), -KINDS.index(k)))
    return size, color, kind


def score(images, specs):
    n = len(specs)
    c = k = z = a = 0
    for img, spec in zip(images, specs):
        v = judge(img)
        if v is None:
            continue
        z += v[0] == spec[0]
        c += v[1] == spec[1]
        k += v[2] == spec[2]
        a += v == spec
    return {"color": c / n, "shape": k / n, "size": z / n, "all": a / n}


# ---- the course's context U-Net (shortcut registered) ----
class RCB(nn.Module):
    def __init__(self, cin, cout, is_res=False):
        super().__init__()
        self.is_res, self.same = is_res, cin == cout
        self.conv1 = nn.Sequential(nn.Conv2d(cin, cout, 3, 1, 1), nn.BatchNorm2d(cout), nn.GELU())
        self.conv2 = nn.Sequential(nn.Conv2d(cout, cout, 3, 1, 1), nn.BatchNorm2d(cout), nn.GELU())
        if is_res and not self.same:
            self.shortcut = nn.Conv2d(cin, cout, 1)

    def forward(self, x):
        x2 = self.conv2(self.conv1(x))
        if not self.is_res:
            return x2
        return ((x if self.same else self.shortcut(x)) + x2) / 1.414


class Down(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.model = nn.Sequential(RCB(cin, cout), RCB(cout, cout), nn.MaxPool2d(2))

    def forward(self, x):
        return self.model(x)


class Up(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.model = nn.Sequential(nn.ConvTranspose2d(cin, cout, 2, 2), RCB(cout, cout), RCB(cout, cout))

    def forward(self, x, skip):
        return self.model(torch.cat((x, skip), 1))


class EmbedFC(nn.Module):
    def __init__(self, i, o):
        super().__init__()
        self.i = i
        self.model = nn.Sequential(nn.Linear(i, o), nn.GELU(), nn.Linear(o, o))

    def forward(self, x):
        return self.model(x.view(-1, self.i))


class ContextUnet(nn.Module):
    def __init__(self, n=64, ncf=12, h=16):
        super().__init__()
        self.n = n
        self.init_conv = RCB(3, n, True)
        self.down1, self.down2 = Down(n, n), Down(n, 2 * n)
        self.to_vec = nn.Sequential(nn.AvgPool2d(h // 4), nn.GELU())
        self.timeembed1, self.timeembed2 = EmbedFC(1, 2 * n), EmbedFC(1, n)
        self.contextembed1, self.contextembed2 = EmbedFC(ncf, 2 * n), EmbedFC(ncf, n)
        self.up0 = nn.Sequential(nn.ConvTranspose2d(2 * n, 2 * n, h // 4, h // 4), nn.GroupNorm(8, 2 * n), nn.ReLU())
        self.up1, self.up2 = Up(4 * n, n), Up(2 * n, n)
        self.out = nn.Sequential(nn.Conv2d(2 * n, n, 3, 1, 1), nn.GroupNorm(8, n), nn.ReLU(), nn.Conv2d(n, 3, 3, 1, 1))

    def forward(self, x, t, c):
        n = self.n
        x = self.init_conv(x)
        d1 = self.down1(x)
        d2 = self.down2(d1)
        hv = self.to_vec(d2)
        c1 = self.contextembed1(c).view(-1, 2 * n, 1, 1)
        t1 = self.timeembed1(t).view(-1, 2 * n, 1, 1)
        c2 = self.contextembed2(c).view(-1, n, 1, 1)
        t2 = self.timeembed2(t).view(-1, n, 1, 1)
        u1 = self.up0(hv)
        u2 = self.up1(c1 * u1 + t1, d2)
        u3 = self.up2(c2 * u2 + t2, d1)
        return self.out(torch.cat((u3, x), 1))


class LearnedEncoder(nn.Module):
    """Embedding + masked mean pooling + MLP, as DiffusionKit's LearnedTextEncoder; variants for the sweep."""

    def __init__(self, dim=32, variant=""):
        super().__init__()
        self.variant = variant
        self.token_embedding = nn.Embedding(len(VOCAB) + 3, dim)
        nn.init.normal_(self.token_embedding.weight)
        self.projection = nn.Sequential(nn.Linear(dim, dim), nn.GELU(), nn.Linear(dim, dim))
        b = 1 / math.sqrt(dim)
        self.null_context = nn.Parameter(torch.empty(dim).uniform_(-b, b))
        self.norm = nn.LayerNorm(dim, elementwise_affine=False) if "norm" in variant else None

    def forward(self, bow):
        idx = bow.nonzero()[:, 1].view(-1, 3) + 3  # size, colour, shape word ids
        ids = torch.cat([torch.full((idx.shape[0], 1), 2, device=idx.device), idx], 1)  # "a" first
        e = self.token_embedding(ids)
        pooled = e.sum(1) if "sum" in self.variant else e.mean(1)
        out = self.projection(pooled)
        return self.norm(out) if self.norm is not None else out


T = 500


def schedule(device):
    b = (0.02 - 1e-4) * torch.linspace(0, 1, T + 1, dtype=torch.float64) + 1e-4
    ab = torch.cumsum(torch.log(1 - b), 0).exp()
    ab[0] = 1
    return b.to(device), ab.to(device)


def lr_at(cfg, step, steps):
    warm = cfg.get("warmup", 0)
    if step < warm:
        return cfg["lr"] * (step + 1) / warm
    p = (step - warm) / max(1, steps - warm)
    kind = cfg.get("sched", "linear")
    if kind == "linear":
        return cfg["lr"] * (1 - p)
    if kind == "cosine":
        return cfg["lr"] * 0.5 * (1 + math.cos(math.pi * p))
    return cfg["lr"]


@torch.no_grad()
def sample_ddim(model, ab, ctx, w, steps, gen, pred, uncond=None):
    n = ctx.shape[0]
    dev = ctx.device
    x = torch.randn(n, 3, 16, 16, device=dev, generator=gen)
    stride = T // steps
    uncond = torch.zeros_like(ctx) if uncond is None else uncond
    for i in range(T, 0, -stride):
        t = torch.full((2 * n, 1), i / T, device=dev)
        out = model(torch.cat([x, x]), t, torch.cat([ctx, uncond])).float()
        oc, ou = out[:n], out[n:]
        o = (1 + w) * oc - w * ou
        a, ap = ab[i].float(), ab[max(i - stride, 0)].float()
        if pred == "eps":
            eps = o
            x0 = (x - (1 - a).sqrt() * eps) / a.sqrt()
        elif pred == "v":
            x0 = a.sqrt() * x - (1 - a).sqrt() * o
            eps = (1 - a).sqrt() * x + a.sqrt() * o
        else:
            x0 = o
            eps = (x - a.sqrt() * x0) / (1 - a).sqrt()
        x = ap.sqrt() * x0 + (1 - ap).sqrt() * eps
    return x


def run(cfg, data, device):
    torch.manual_seed(cfg.get("seed", 0))
    imgs, ctxs = data
    enc = LearnedEncoder(32, cfg.get("enc_variant", "")).to(device) if cfg.get("enc") == "learned" else None
    ncf = 32 if enc is not None else len(VOCAB)
    model = ContextUnet(cfg.get("n", 64), ncf).to(device).to(memory_format=torch.channels_last)
    ema = ContextUnet(cfg.get("n", 64), ncf).to(device)
    ema.load_state_dict(model.state_dict())
    decay = cfg.get("ema", 0.995)
    ema_params, model_params = list(ema.parameters()), list(model.parameters())
    groups = [{"params": list(model.parameters()), "mult": 1.0}]
    if enc is not None:
        groups.append({"params": list(enc.parameters()), "mult": cfg.get("enc_lr_mult", 1.0)})
    opt = torch.optim.Adam(groups, lr=cfg["lr"], betas=(0.9, cfg.get("beta2", 0.999)), weight_decay=cfg.get("wd", 0.0))
    b, ab = schedule(device)
    bs = cfg.get("batch", 50)
    steps = int(cfg.get("images", 114000) // bs)
    pred = cfg.get("pred", "eps")
    g = torch.Generator(device=device).manual_seed(cfg.get("seed", 0))
    n_data = imgs.shape[0]
    perm = torch.randperm(n_data, device=device, generator=g)
    pos = 0
    bf16 = cfg.get("bf16", False)
    t0 = time.time()
    losses = []
    for step in range(steps):
        if pos + bs > n_data:
            perm = torch.randperm(n_data, device=device, generator=g)
            pos = 0
        idx = perm[pos:pos + bs]
        pos += bs
        x0 = imgs[idx]
        c = ctxs[idx]
        keep = (torch.rand(bs, 1, device=device, generator=g) >= cfg.get("drop", 0.1)).float()
        if enc is not None:
            c = enc(c) * keep + enc.null_context * (1 - keep)
        else:
            c = c * keep
        tmin = cfg.get("tmin", 1)
        t = torch.randint(tmin, T + 1, (bs,), device=device, generator=g)
        eps = torch.randn(x0.shape, device=device, generator=g)
        a = ab[t].float().view(-1, 1, 1, 1)
        xt = a.sqrt() * x0 + (1 - a).sqrt() * eps
        for gr in opt.param_groups:
            gr["lr"] = lr_at(cfg, step, steps) * gr.get("mult", 1.0)
        with torch.autocast(device, dtype=torch.bfloat16, enabled=bf16):
            out = model(xt, (t.float() / T).view(-1, 1), c)
        out = out.float()
        if pred == "eps":
            target = eps
        elif pred == "v":
            target = a.sqrt() * eps - (1 - a).sqrt() * x0
        else:
            target = x0
        per = ((out - target) ** 2).mean(dim=(1, 2, 3))
        snr_g = cfg.get("minsnr")
        if snr_g:
            snr = (a / (1 - a)).view(-1)
            wgt = torch.clamp(snr, max=snr_g)
            if pred == "eps":
                wgt = wgt / snr
            elif pred == "v":
                wgt = wgt / (snr + 1)
            per = per * wgt
        loss = per.mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if cfg.get("clip"):
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg["clip"])
        opt.step()
        with torch.no_grad():
            d = min(decay, (1 + step) / (10 + step)) if cfg.get("ema_warm") else decay
            if hasattr(torch, "_foreach_lerp_"):
                torch._foreach_lerp_(ema_params, model_params, 1 - d)
            else:  # PyTorch 1.13 (the local CPU check)
                for pe, pm in zip(ema_params, model_params):
                    pe.lerp_(pm, 1 - d)
        if step % 200 == 0:
            losses.append(round(loss.item(), 4))
    train_s = time.time() - t0
    with torch.no_grad():
        for be, bm in zip(ema.buffers(), model.buffers()):
            be.copy_(bm)
    net = ema if decay > 0 else model
    net.eval()
    per_prompt = cfg.get("per_prompt", 8)
    specs = [s for s in SPECS for _ in range(per_prompt)]
    ctx = torch.tensor(np.stack([bow(s) for s in specs]), device=device)
    uncond = None
    if enc is not None:
        with torch.no_grad():
            ctx = enc(ctx)
            uncond = enc.null_context.detach().expand_as(ctx)
    result = {"name": cfg["name"], "cfg": cfg, "steps": steps, "train_s": round(train_s, 1), "losses": losses}
    for w in cfg.get("guidance", [0, 1, 2, 3, 4]):
        gs = torch.Generator(device=device).manual_seed(1234)
        with torch.autocast(device, dtype=torch.bfloat16, enabled=bf16):
            x = sample_ddim(net, ab, ctx, w, cfg.get("ddim", 25), gs, pred, uncond)
        u8 = ((x.float().clamp(-1, 1) + 1) / 2 * 255).round().byte().permute(0, 2, 3, 1).cpu().numpy()
        sc = score(u8, specs)
        held = {tuple(p) for p in cfg.get("held_out", [])}
        if held:
            ho = [i for i, s in enumerate(specs) if (s[1], s[2]) in held]
            sc["held_out_all"] = score(u8[ho], [specs[i] for i in ho])["all"]
        result[f"w{w}"] = sc
    return result


def main():
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    cfgs = json.load(open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "sweep_configs.json")))
    only = None
    workers = 6
    args = sys.argv[2:]
    for i, a in enumerate(args):
        if a == "--only":
            only = set(args[i + 1].split(","))
        if a == "--workers":
            workers = int(args[i + 1])
    if only:
        cfgs = [c for c in cfgs if c["name"] in only]
    import torch.multiprocessing as mp
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    chunks = [cfgs[i::workers] for i in range(workers)]
    procs = [ctx.Process(target=worker, args=(ch, q)) for ch in chunks if ch]
    for p in procs:
        p.start()
    with open(os.path.join(out_dir, "results.jsonl"), "a") as f:
        for _ in range(len(cfgs)):
            r = q.get()
            f.write(json.dumps(r) + "\n")
            f.flush()
            best = max((k for k in r if k.startswith("w")), key=lambda k: r[k]["all"], default=None)
            msg = r.get("error") or f"steps {r['steps']} {r['train_s']}s best {best} {r[best]}"
            print(r["name"], msg, flush=True)
    for p in procs:
        p.join()


def worker(cfgs, q):
    device = "cuda"
    torch.backends.cudnn.benchmark = True
    cache = {}
    for cfg in cfgs:
        try:
            key = tuple(map(tuple, cfg.get("held_out", [])))
            if key not in cache:
                imgs, labels = make_dataset(24000, 7, set(key))
                x = torch.tensor(imgs, device=device).permute(0, 3, 1, 2).float() / 127.5 - 1
                c = torch.tensor(np.stack([bow(s) for s in labels]), device=device)
                cache[key] = (x.contiguous(memory_format=torch.channels_last), c)
            q.put(run(cfg, cache[key], device))
        except Exception as e:  # report and go on
            q.put({"name": cfg["name"], "error": repr(e)})


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--selftest":
        imgs, labels = make_dataset(960, 3)
        print("judge on real data", score(imgs, labels))
    else:
        main()
