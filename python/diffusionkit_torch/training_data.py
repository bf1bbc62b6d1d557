"""The training images as the trainer reads them (.NET's ``TrainingData``): batches in [-1, 1], optionally augmented.

Images are kept as uint8 [N, H, W, 3] and converted per batch (``/127.5 - 1`` in float32, the same arithmetic as .NET,
so the same numbers). With ``--random-flip``/``--random-crop`` each batch draws one seed from the run's generator and
image i of the batch uses .NET's ``Random(seed + 7919 i)`` for its crop and flip, as ``ImageFolderDataset`` does.
"""

from __future__ import annotations

import numpy as np
import torch

from .dotnet_random import DotNetRandom, to_int32

INT32_MAX = 2147483647


def draw_augmentation_seed(generator: torch.Generator) -> int:
    """The value .NET's ``randint(int.MaxValue, [1], generator)`` draws, consuming the same generator output.

    libtorch 2.10 (TorchSharp 0.107) draws a 64-bit number for ranges of 2^28 and more, PyTorch 1.13 a 32-bit one
    below 2^32, so ``torch.randint(2**31 - 1)`` here would differ. Drawing over the full 64-bit range makes PyTorch 1.13
    take its 64-bit path; the remainder modulo 2^31 - 1 is then libtorch 2.10's result.
    """
    value = int(torch.randint(-2 ** 63, 2 ** 63 - 1, (1,), dtype=torch.int64, generator=generator).item())
    return ((value + 2 ** 63) % 2 ** 64) % INT32_MAX


class TrainingData:
    """The data set's pixels and captions; ``batch`` returns float32 [B, 3, H, W] in [-1, 1] on the CPU."""

    def __init__(self, images: np.ndarray, captions: list[str], full_images: list[np.ndarray] | None = None,
                 random_flip: bool = False, random_crop: bool = False) -> None:
        self.images = torch.from_numpy(np.ascontiguousarray(images))
        self.captions = captions
        self.size = images.shape[1]
        self.full_images = full_images or []
        self.random_flip = random_flip
        self.random_crop = random_crop
        if random_crop and len(self.full_images) != len(captions):
            raise ValueError("--random-crop needs the images resized with their longer side kept.")

    @property
    def augments(self) -> bool:
        """True when batches are flipped or cropped at random (and draw a seed from the generator)."""
        return self.random_flip or self.random_crop

    @property
    def count(self) -> int:
        """The number of images."""
        return len(self.captions)

    def batch(self, index: torch.Tensor, seed: int | None = None) -> torch.Tensor:
        """The images at ``index``; augmented with ``seed`` (required when augmenting)."""
        if not self.augments:
            pixels = self.images.index_select(0, index)
        else:
            pixels = torch.from_numpy(np.stack([self._augmented(int(row), to_int32(seed + i * 7919))
                                                for i, row in enumerate(index.tolist())]))
        return pixels.permute(0, 3, 1, 2).to(torch.float32).div(127.5).sub(1).contiguous()

    def _augmented(self, row: int, seed: int) -> np.ndarray:
        size = self.size
        image = self.full_images[row] if self.random_crop else self.images[row].numpy()
        height, width = image.shape[:2]
        random = DotNetRandom(seed)
        left = random.next(width - size + 1) if self.random_crop else (width - size) // 2
        top = random.next(height - size + 1) if self.random_crop else (height - size) // 2
        crop = image[top:top + size, left:left + size]
        if self.random_flip and random.next(2) == 1:
            crop = crop[:, ::-1]
        return np.ascontiguousarray(crop)
