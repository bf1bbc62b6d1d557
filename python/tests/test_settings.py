"""Option resolution: the .NET CLI's folder and shapes (demo) defaults, and what is recorded in config.json."""

import os
import tempfile
import unittest

import numpy as np
from PIL import Image

import helpers  # noqa: F401
from diffusionkit_torch.settings import UsageError, build_parser, default_features, default_steps, resolve


def settings_for(*argv: str):
    return resolve(build_parser().parse_args(list(argv)))


class SettingsTests(unittest.TestCase):
    def test_shapes_take_the_demo_defaults(self) -> None:
        s = settings_for("--data", "shapes", "--count", "60", "--out", "o")
        self.assertEqual((s.steps, s.model.features, s.batch, s.lr, s.lr_schedule, s.warmup), (4000, 32, 50, 2e-3, "cosine", 200))
        self.assertEqual((s.scheduler.prediction_type, s.snr_gamma, s.ema, s.dropout, s.guidance), ("v_prediction", 5.0, 0.995, 0.1, 3.0))
        self.assertEqual(s.model.context_size, 12)
        self.assertEqual(s.training_info()["learning_rate"], "0.002")

    def test_folder_defaults_and_step_budget(self) -> None:
        self.assertEqual((default_features(16), default_features(32)), (64, 32))
        large = 1_000_000
        self.assertEqual((default_steps(16, 64, 100, large), default_steps(32, 32, 100, large), default_steps(64, 32, 100, large)), (623, 623, 200))
        self.assertEqual((default_steps(28, 32, 100, 7000), default_steps(28, 32, 100, 500), default_steps(28, 32, 100, 10)), (814, 500, 200))
        with tempfile.TemporaryDirectory() as root:
            os.makedirs(os.path.join(root, "cats"))
            for i in range(3):
                Image.fromarray(np.full((32, 32, 3), i, dtype=np.uint8)).save(os.path.join(root, "cats", f"{i}.png"))
            s = settings_for("--data", root, "--out", "o", "--batch", "50")
            self.assertEqual((s.model.features, s.model.image_size, s.steps, s.batch), (32, 32, default_steps(32, 32, 50, 3), 50))
            self.assertEqual((s.lr_schedule, s.warmup, s.scheduler.prediction_type, s.guidance), ("cosine", 100, "v_prediction", 1.0))
            self.assertEqual(s.data_name, os.path.basename(root))
            self.assertIsNone(settings_for("--data", root, "--out", "o", "--epochs", "2").steps)

    def test_a_grayscale_folder_builds_a_one_channel_model_and_records_l(self) -> None:
        with tempfile.TemporaryDirectory() as root:
            os.makedirs(os.path.join(root, "digits"))
            for i in range(3):
                Image.fromarray(np.full((16, 16), i, dtype=np.uint8), "L").save(os.path.join(root, "digits", f"{i}.png"))
            s = settings_for("--data", root, "--out", "o")
            self.assertEqual((s.model.in_channels, s.training_info()["image_mode"]), (1, "L"))
            self.assertEqual(list(s.training_info())[:3], ["data", "images", "image_mode"], ".NET's key order")
            rgb = settings_for("--data", root, "--out", "o", "--image-mode", "RGB")
            self.assertEqual((rgb.model.in_channels, rgb.training_info()["image_mode"]), (3, "RGB"))
            with self.assertRaisesRegex(UsageError, "--image-mode must be one of auto, L, RGB"):
                settings_for("--data", root, "--out", "o", "--image-mode", "bw")
        with self.assertRaisesRegex(UsageError, "--image-mode applies to image folders"):
            settings_for("--data", "shapes", "--count", "10", "--out", "o", "--image-mode", "L")
        self.assertEqual(settings_for("--data", "shapes", "--count", "10", "--out", "o").training_info()["image_mode"], "RGB")

    def test_contradictions_are_usage_errors(self) -> None:
        with self.assertRaises(UsageError):
            settings_for("--data", "/no/such/folder", "--out", "o")
        with self.assertRaises(UsageError):
            settings_for("--data", "shapes", "--count", "10", "--out", "o", "--steps", "3", "--epochs", "1")
        with self.assertRaises(UsageError):
            settings_for("--data", "shapes", "--count", "10", "--out", "o", "--hold-out", "purple blob")


if __name__ == "__main__":
    unittest.main()
