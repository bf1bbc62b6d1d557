"""The built-in shapes data set (``DiffusionKit.Demo.Shapes``): coloured circles, squares, triangles and crosses.

A port of ``ShapesDataset``, ``ShapesCatalog`` and ``ShapeRaster``: the same .NET ``Random(seed)`` draws in the same
order, so ``--data shapes`` gives the .NET data set's images and captions byte for byte.
"""

from __future__ import annotations

import numpy as np

from .bag_of_words import BagOfWordsEncoder
from .dotnet_random import DotNetRandom

SIZES = ("small", "large")
COLORS = ("red", "green", "blue", "yellow", "magenta", "cyan")
KINDS = ("circle", "square", "triangle", "cross")
RGB = {"red": (255, 0, 0), "green": (0, 255, 0), "blue": (0, 0, 255), "yellow": (255, 255, 0), "magenta": (255, 0, 255),
       "cyan": (0, 255, 255)}
SUPPORTED_IMAGE_SIZES = (16, 32, 64)
# Every (size, colour, kind), size slowest: the order of ShapesCatalog.AllSpecs.
ALL_SPECS = [(size, color, kind) for size in SIZES for color in COLORS for kind in KINDS]


def caption(spec: tuple[str, str, str]) -> str:
    """``a {size} {colour} {shape}``."""
    return f"a {spec[0]} {spec[1]} {spec[2]}"


def create_encoder() -> BagOfWordsEncoder:
    """The shapes' bag-of-words encoder: colours, then shapes, then sizes (``ShapesCatalog.CreateEncoder``)."""
    return BagOfWordsEncoder(list(COLORS) + list(KINDS) + list(SIZES))


def _side_range(size: str, image_size: int) -> tuple[int, int]:
    scale = image_size // 16
    return (5 * scale, 7 * scale) if size == "small" else (9 * scale, 12 * scale)


def _contains(kind: str, x: int, y: int, w: int, h: int) -> bool:
    dx = 2 * x + 1 - w
    dy = 2 * y + 1 - h
    if kind == "circle":
        return dx * dx * h * h + dy * dy * w * w <= w * w * h * h
    if kind == "square":
        return True
    if kind == "triangle":
        return abs(dx) * h <= (y + 1) * w
    return 3 * abs(dx) <= w or 3 * abs(dy) <= h


class ShapesDataset:
    """``count`` images of ``image_size`` pixels, captions ``a {size} {colour} {shape}``, drawn from ``Random(seed)``.

    Specs are dealt in shuffled rounds of all 48 (minus held-out colour/shape pairs); each image gets a random side and
    position. ``images`` is uint8 [N, H, W, 3].
    """

    channels = 3

    def __init__(self, count: int, image_size: int = 16, seed: int = 0,
                 held_out: frozenset[tuple[str, str]] = frozenset()) -> None:
        if image_size not in SUPPORTED_IMAGE_SIZES:
            raise ValueError("--image-size must be 16, 32 or 64 (the shapes data set's supported resolutions).")
        if count < 1:
            raise ValueError("--count must be at least 1.")
        allowed = [s for s in ALL_SPECS if (s[1], s[2]) not in held_out]
        random = DotNetRandom(seed)
        images = np.zeros((count, image_size, image_size, 3), dtype=np.uint8)
        specs = []
        round_ = list(allowed)
        stamps: dict[tuple[str, int], np.ndarray] = {}
        for i in range(count):
            in_round = i % len(round_)
            if in_round == 0:
                round_ = list(allowed)
                for j in range(len(round_) - 1, 0, -1):
                    k = random.next(j + 1)
                    round_[j], round_[k] = round_[k], round_[j]
            spec = round_[in_round]
            low, high = _side_range(spec[0], image_size)
            side = random.next_range(low, high + 1)
            left = random.next(image_size - side + 1)
            top = random.next(image_size - side + 1)
            key = (spec[2], side)
            if key not in stamps:
                stamps[key] = np.array([[_contains(spec[2], x, y, side, side) for x in range(side)] for y in range(side)])
            images[i, top:top + side, left:left + side][stamps[key]] = RGB[spec[1]]
            specs.append(spec)
        self.image_size = image_size
        self.images = images
        self.captions = [caption(s) for s in specs]

    @property
    def count(self) -> int:
        """The number of images."""
        return len(self.captions)
