#!/usr/bin/python3
"""Proxy for issue 10's real-image bar: ~1,400 small REAL images in ten caption classes.

Uses scikit-learn's copy of the UCI handwritten digits (1797 real 8x8 scans, 10 classes; Debian: python3-sklearn).

  make   writes 1,400 of them (140 per class) as grayscale PNGs into class folders named by the caption
         ("zero" ... "nine"), optionally upscaled (--size 16 / 28 / 32), and keeps the other 397 aside for the judge.
  judge  reads a `diffusionkit sample` output folder (manifest.jsonl + PNGs), and reports
         - accuracy: an SVM trained on the 397 held-out real digits (never seen by the diffusion model) classifies each
           sample at 8x8; the bar is >= 90% of samples recognised as their prompt's class;
         - variety: per class, the mean pairwise distance between samples divided by the same for the real training
           images of that class (1.0 = as varied as the real data; near 0 = one image per class). Samples are compared
           at 8x8, so an upscaled folder's own images lose detail on the way (bicubic up, box down): with --data the
           judge also reports the folder's images through the same round trip against the original digits
           (`folder_variety_vs_digits`: 0.82 for --size 16, 0.80 for 28, 1.0 for 8) and the samples against the
           folder's images (`variety_ratio_vs_folder_mean`), the like-for-like comparison;
         - memorisation: the median distance from each sample to its nearest training image, divided by the same for
           the held-out real digits (about 1 = samples are as far from the training set as new real digits are).

Usage (see docs/training.md, "Your own images"):
  /usr/bin/python3 build/research/digits_bar.py make --out /tmp/digits8
  dotnet run --project src/DiffusionKit.Cli -c Release -- train --data /tmp/digits8 --out /tmp/digits8-ckpt
  dotnet run --project src/DiffusionKit.Cli -c Release -- sample --checkpoint /tmp/digits8-ckpt --out /tmp/digits8-samples \
      --per-prompt 40 --prompt zero --prompt one ... --prompt nine
  /usr/bin/python3 build/research/digits_bar.py judge --data /tmp/digits8 --samples /tmp/digits8-samples
"""
import argparse
import glob
import json
import os

import numpy as np
from PIL import Image
from sklearn.datasets import load_digits
from sklearn.svm import SVC

NAMES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
PER_CLASS = 140
SPLIT_SEED = 0


def split():
    digits = load_digits()
    rng = np.random.default_rng(SPLIT_SEED)
    train, held = [], []
    for c in range(10):
        idx = np.flatnonzero(digits.target == c)
        rng.shuffle(idx)
        train += list(idx[:PER_CLASS])
        held += list(idx[PER_CLASS:])
    return digits.images, digits.target, np.array(train), np.array(held)


def make(args):
    images, labels, train, _ = split()
    for i in train:
        u8 = (images[i] * (255.0 / 16.0)).round().clip(0, 255).astype(np.uint8)
        img = Image.fromarray(u8, mode="L")
        if args.size != 8:
            img = img.resize((args.size, args.size), Image.BICUBIC)
        folder = os.path.join(args.out, NAMES[labels[i]])
        os.makedirs(folder, exist_ok=True)
        img.save(os.path.join(folder, f"{i:04d}.png"))
    print(f"wrote {len(train)} images ({PER_CLASS} per class, {args.size}x{args.size}) to {args.out}")


def to8(path):
    img = Image.open(path).convert("L")
    if img.size != (8, 8):
        img = img.resize((8, 8), Image.BOX)
    return np.asarray(img, dtype=np.float64).reshape(-1) * (16.0 / 255.0)


def mean_pairwise(x):
    if len(x) < 2:
        return float("nan")
    d = np.sqrt(((x[:, None, :] - x[None, :, :]) ** 2).sum(-1))
    n = len(x)
    return d.sum() / (n * (n - 1))


def nearest(a, b):
    d = np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(-1))
    return d.min(1)


def judge(args):
    images, labels, train, held = split()
    flat = images.reshape(len(images), -1)
    clf = SVC(gamma=0.001, C=10).fit(flat[held], labels[held])
    train_acc = (clf.predict(flat[train]) == labels[train]).mean()

    samples, want = [], []
    with open(os.path.join(args.samples, "manifest.jsonl")) as f:
        for line in f:
            e = json.loads(line)
            prompt = e.get("caption") or e["prompt"]
            if prompt not in NAMES:
                continue
            samples.append(to8(os.path.join(args.samples, e["file"])))
            want.append(NAMES.index(prompt))
    samples, want = np.array(samples), np.array(want)
    pred = clf.predict(samples)
    acc = (pred == want).mean()

    per_class, variety = {}, {}
    for c in range(10):
        m = want == c
        if not m.any():
            continue
        per_class[NAMES[c]] = round(float((pred[m] == c).mean()), 3)
        real = flat[train][labels[train] == c]
        variety[NAMES[c]] = round(float(mean_pairwise(samples[m]) / mean_pairwise(real)), 3)
    folder = {}
    if args.data:
        # The folder's own images through the same 8x8 round trip as the samples: what the model was shown, as the judge sees it.
        for c in range(10):
            files = sorted(glob.glob(os.path.join(args.data, NAMES[c], "*.png")))
            if not files or not (want == c).any():
                continue
            shown = np.array([to8(f) for f in files])
            real = flat[train][labels[train] == c]
            folder[NAMES[c]] = (mean_pairwise(shown) / mean_pairwise(real), mean_pairwise(samples[want == c]) / mean_pairwise(shown))
    nn_samples = np.median(nearest(samples, flat[train]))
    nn_real = np.median(nearest(flat[held], flat[train]))
    report = {
        "samples": int(len(samples)),
        "accuracy": round(float(acc), 4),
        "per_class_accuracy": per_class,
        "judge_accuracy_on_training_digits": round(float(train_acc), 4),
        "variety_ratio_mean": round(float(np.mean(list(variety.values()))), 3),
        "variety_ratio_per_class": variety,
        "nearest_training_distance_ratio": round(float(nn_samples / nn_real), 3),
    }
    if folder:
        report["folder_variety_vs_digits"] = round(float(np.mean([v[0] for v in folder.values()])), 3)
        report["variety_ratio_vs_folder_mean"] = round(float(np.mean([v[1] for v in folder.values()])), 3)
        report["variety_ratio_vs_folder_per_class"] = {k: round(float(v[1]), 3) for k, v in folder.items()}
    print(json.dumps(report, indent=1))


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("make")
    m.add_argument("--out", required=True)
    m.add_argument("--size", type=int, default=8)
    j = sub.add_parser("judge")
    j.add_argument("--data", required=False, help="the folder the model was trained on, for the like-for-like variety")
    j.add_argument("--samples", required=True)
    a = p.parse_args()
    make(a) if a.cmd == "make" else judge(a)


if __name__ == "__main__":
    main()
