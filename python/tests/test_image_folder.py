"""Reading image folders as .NET does: metadata.jsonl, .txt captions, class folders, order, pixels, bad files."""

import json
import os
import tempfile
import unittest
from pathlib import Path

import numpy as np
from PIL import Image

import helpers  # noqa: F401
from diffusionkit_torch.image_folder import ImageFolderDataset, ImageFolderError


def save(path: str, pixels: np.ndarray, mode: str | None = None) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.fromarray(pixels, mode).save(path)


def solid(value: int, size: int = 8) -> np.ndarray:
    return np.full((size, size, 3), value, dtype=np.uint8)


class ImageFolderTests(unittest.TestCase):
    def test_class_folders_txt_files_order_and_ignored_files(self) -> None:
        with tempfile.TemporaryDirectory() as root:
            save(os.path.join(root, "dogs", "b.png"), solid(20))
            save(os.path.join(root, "cats", "a.png"), solid(10))
            save(os.path.join(root, "cats", "c.png"), solid(30))
            Path(root, "cats", "c.txt").write_text("  A Grey Cat \n")
            save(os.path.join(root, ".hidden", "x.png"), solid(40))
            save(os.path.join(root, "cats", ".y.png"), solid(50))
            Path(root, "README.md").write_text("not an image")
            data = ImageFolderDataset.open(root)
            self.assertEqual([os.path.relpath(p, root) for p in data.paths], ["cats/a.png", "cats/c.png", "dogs/b.png"])
            self.assertEqual(data.captions, ["cats", "A Grey Cat", "dogs"])
            self.assertEqual(data.sources, ["folder", "txt", "folder"])
            self.assertEqual(data.image_size, 8)
            self.assertEqual(data.images[:, 0, 0, 0].tolist(), [10, 30, 20])
            self.assertEqual([os.path.basename(p) for p in data.ignored], ["README.md"])
            self.assertEqual(data.distinct_captions, ["A Grey Cat", "cats", "dogs"])

    def test_metadata_jsonl_wins_and_bad_lines_are_skipped(self) -> None:
        with tempfile.TemporaryDirectory() as root:
            save(os.path.join(root, "img", "1.png"), solid(1))
            save(os.path.join(root, "img", "2.png"), solid(2))
            Path(root, "img", "2.txt").write_text("ignored: metadata.jsonl wins")
            lines = [{"file_name": "img/2.png", "caption": "second"}, {"file_name": "img/1.png", "caption": " first "},
                     {"file_name": "img/missing.png", "caption": "gone"}, {"file_name": "../outside.png", "caption": "no"},
                     {"file_name": "img/1.png", "text": "no caption column"}]
            Path(root, "metadata.jsonl").write_text("\n".join(json.dumps(line) for line in lines) + "\nnot json\n\n")
            data = ImageFolderDataset.open(root, caption_column="caption")
            self.assertEqual(data.captions, ["second", "first"])
            self.assertEqual(data.sources, ["metadata.jsonl"] * 2)
            self.assertEqual(len(data.skipped), 4)
            with self.assertRaisesRegex(ImageFolderError, "strict mode"):
                ImageFolderDataset.open(root, caption_column="caption", strict=True)

    def test_alpha_over_black_gray_and_palette_become_rgb(self) -> None:
        with tempfile.TemporaryDirectory() as root:
            rgba = np.zeros((8, 8, 4), dtype=np.uint8)
            rgba[...] = (200, 100, 50, 128)
            save(os.path.join(root, "c", "half.png"), rgba, "RGBA")
            save(os.path.join(root, "c", "gray.png"), np.full((8, 8), 77, dtype=np.uint8), "L")
            data = ImageFolderDataset.open(root)
            self.assertEqual(data.images[1, 0, 0].tolist(), [100, 50, 25], "premultiplied with Skia's rounding")
            self.assertEqual(data.images[0, 0, 0].tolist(), [77, 77, 77])

    def test_grayscale_folders_read_one_channel_and_mixed_folders_take_the_majority(self) -> None:
        with tempfile.TemporaryDirectory() as root:
            for i in range(3):
                save(os.path.join(root, "c", f"g{i}.png"), np.full((8, 8), 10 * (i + 1), dtype=np.uint8), "L")
            la = np.zeros((8, 8, 2), dtype=np.uint8)
            la[...] = (180, 128)
            save(os.path.join(root, "c", "la.png"), la, "LA")
            save(os.path.join(root, "c", "rgb.png"), np.full((8, 8, 3), (200, 100, 50), dtype=np.uint8))
            data = ImageFolderDataset.open(root)
            self.assertEqual((data.image_mode, data.channels, data.images.shape), ("L", 1, (5, 8, 8, 1)))
            self.assertEqual(data.images[:, 0, 0, 0].tolist(), [10, 20, 30, 90, 124], "LA over black; RGB to BT.601 luma")
            self.assertEqual(data.image_mode_note, "1 of 5 images are RGB, 4 grayscale: training in grayscale (L) (the majority); "
                                                   "the RGB images are converted with ITU-R BT.601 luma.")
            forced = ImageFolderDataset.open(root, image_mode="RGB")
            self.assertEqual((forced.channels, forced.images[0, 0, 0].tolist()), (3, [10, 10, 10]))
            self.assertIn("as set", forced.image_mode_note)
            with self.assertRaisesRegex(ImageFolderError, "--image-mode must be one of auto, L, RGB, not 'CMYK'"):
                ImageFolderDataset.open(root, image_mode="CMYK")

    def test_a_tie_keeps_rgb(self) -> None:
        with tempfile.TemporaryDirectory() as root:
            save(os.path.join(root, "c", "g.png"), np.full((8, 8), 77, dtype=np.uint8), "L")
            save(os.path.join(root, "c", "rgb.png"), solid(5))
            data = ImageFolderDataset.open(root)
            self.assertEqual((data.image_mode, data.channels), ("RGB", 3))
            self.assertTrue(data.image_mode_note.startswith("1 of 2 images are grayscale, 1 RGB: training in RGB (a tie"))

    def test_sizes_must_agree_unless_given_and_bad_files_are_skipped(self) -> None:
        with tempfile.TemporaryDirectory() as root:
            save(os.path.join(root, "c", "small.png"), solid(5, 8))
            wide = np.zeros((16, 24, 3), dtype=np.uint8)
            wide[:, 4:20] = 9
            save(os.path.join(root, "c", "wide.png"), wide)
            Path(root, "c", "broken.png").write_bytes(b"not a png")
            Path(root, "c", "empty.jpg").write_bytes(b"")
            save(os.path.join(root, "loose.png"), solid(1))
            with self.assertRaisesRegex(ImageFolderError, "do not share one square size"):
                ImageFolderDataset.open(root)
            data = ImageFolderDataset.open(root, size=16)
            self.assertEqual(data.images.shape, (2, 16, 16, 3))
            self.assertTrue((data.images[1] == 9).all(), "the centre square of a wide image, without resampling")
            reasons = {os.path.basename(p): r for p, r in data.skipped}
            self.assertEqual(set(reasons), {"loose.png", "broken.png", "empty.jpg"})
            self.assertIn("no caption", reasons["loose.png"])
            self.assertIn("empty", reasons["empty.jpg"])


if __name__ == "__main__":
    unittest.main()
