"""Option resolution: the .NET CLI's folder and shapes (demo) defaults, and what is recorded in config.json."""

import contextlib
import io
import os
import tempfile
import unittest

import numpy as np
from PIL import Image

from helpers import TINY, run_trainer
from diffusionkit_torch import settings as settings_module
from diffusionkit_torch.settings import (UsageError, attention_unet_forward_flops, build_parser, default_features,
                                        default_steps, resolve)


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
        context = "context-unet"
        self.assertEqual((default_steps(context, 16, 64, 100, large), default_steps(context, 32, 32, 100, large),
                          default_steps(context, 64, 32, 100, large)), (623, 623, 200))
        self.assertEqual((default_steps(context, 28, 32, 100, 7000), default_steps(context, 28, 32, 100, 500),
                          default_steps(context, 28, 32, 100, 10)), (814, 500, 200))
        with tempfile.TemporaryDirectory() as root:
            os.makedirs(os.path.join(root, "cats"))
            for i in range(3):
                Image.fromarray(np.full((32, 32, 3), i, dtype=np.uint8)).save(os.path.join(root, "cats", f"{i}.png"))
            s = settings_for("--data", root, "--out", "o", "--batch", "50")
            self.assertEqual((s.model.features, s.model.image_size, s.steps, s.batch), (32, 32, default_steps(settings_module.FOLDER_NETWORK, 32, 32, 50, 3), 50))
            self.assertEqual((s.lr_schedule, s.warmup, s.scheduler.prediction_type, s.guidance), ("cosine", 100, "v_prediction", 1.0))
            self.assertEqual(s.data_name, os.path.basename(root))
            self.assertIsNone(settings_for("--data", root, "--out", "o", "--epochs", "2").steps)

    def test_attention_unet_step_budget_counts_its_flops_as_dotnet_does(self) -> None:
        # .NET's NetworkFlops.Forward(AttentionUnetOptions) with in_channels 1 and context size 1, as DefaultSteps calls it.
        self.assertEqual(attention_unet_forward_flops(28, 32, 1, 1), 231684608.0)
        self.assertEqual(attention_unet_forward_flops(16, 64, 1, 1), 373032448.0)
        attention = "attention-unet"
        self.assertEqual(default_steps(attention, 28, 32, 100, 7000), 809, "a 7,000-photo folder at 28 px")
        self.assertEqual(default_steps("context-unet", 28, 32, 100, 7000), 814)
        self.assertEqual((default_steps(attention, 16, 64, 100, 10**6), default_steps(attention, 32, 32, 100, 10**6),
                          default_steps(attention, 64, 32, 100, 10**6), default_steps(attention, 28, 32, 100, 500)), (503, 618, 200, 500))
        with self.assertRaises(ValueError):
            default_steps("unet", 28, 32, 100, 7000)

    def test_model_option_picks_the_network_and_a_resume_takes_the_checkpoints(self) -> None:
        shapes = ["--data", "shapes", "--count", "10", "--out", "o"]
        s = settings_for(*shapes)
        self.assertEqual(s.model.network, "context-unet")
        self.assertIn("model: ContextUnet n_feat 32", s.describe())
        s = settings_for(*shapes, "--model", "attention-unet")
        self.assertEqual(s.model.network, "attention-unet")
        self.assertIn("model: AttentionUnet n_feat 32", s.describe())
        with self.assertRaises(SystemExit), contextlib.redirect_stderr(io.StringIO()) as err:  # argparse: exit 2
            build_parser().parse_args([*shapes, "--model", "unet"])
        self.assertIn("choose from 'context-unet', 'attention-unet'", err.getvalue())
        with tempfile.TemporaryDirectory() as root:
            os.makedirs(os.path.join(root, "cats"))
            for i in range(3):
                Image.fromarray(np.full((28, 28), i, dtype=np.uint8), "L").save(os.path.join(root, "cats", f"{i}.png"))
            folder = ["--data", root, "--out", "o"]
            s = settings_for(*folder)
            self.assertEqual((s.model.network, s.steps), (settings_module.FOLDER_NETWORK, default_steps(settings_module.FOLDER_NETWORK, 28, 32, 100, 3)))
            s = settings_for(*folder, "--model", "attention-unet", "--epochs", "1000")
            self.assertEqual((s.model.network, s.model.features, s.steps), ("attention-unet", 32, None))
            self.assertEqual(settings_for(*folder, "--model", "attention-unet").steps,
                             default_steps("attention-unet", 28, 32, 100, 3))
        with tempfile.TemporaryDirectory() as tmp:
            run_trainer(TINY + ["--steps", "1", "--model", "attention-unet", "--out", tmp])
            resumed = settings_for("--data", "shapes", "--count", "40", "--out", "o", "--resume", tmp)
            self.assertEqual((resumed.model.network, resumed.model.features), ("attention-unet", 8))
            self.assertEqual(settings_for("--data", "shapes", "--count", "40", "--out", "o", "--resume", tmp,
                                          "--model", "attention-unet").model.network, "attention-unet")
            with self.assertRaisesRegex(UsageError, "--model context-unet does not match the checkpoint .* \\(attention-unet\\); "
                                                    "with --resume the model comes from the checkpoint, leave --model out"):
                settings_for("--data", "shapes", "--count", "40", "--out", "o", "--resume", tmp, "--model", "context-unet")

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
