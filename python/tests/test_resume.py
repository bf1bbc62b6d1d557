"""Resuming: N steps, then a resumed run to M, gives the same weights bit for bit as M steps at once."""

import json
import os
import tempfile
import unittest
from pathlib import Path

import torch

from helpers import TINY, run_module, run_trainer, state


class ResumeTests(unittest.TestCase):
    def test_resumed_run_is_bit_identical_to_an_uninterrupted_one(self) -> None:
        options = TINY + ["--steps", "6", "--ema", "0.9", "--encoder", "learned", "--encoder-dim", "8", "--keep", "5"]
        with tempfile.TemporaryDirectory() as tmp:
            straight, stopped = os.path.join(tmp, "straight"), os.path.join(tmp, "stopped")
            run_trainer(options + ["--out", straight])
            run_trainer(options + ["--out", stopped, "--save-every", "4"])
            resumed = os.path.join(tmp, "resumed")
            # Count 40 with batch 8 is 5 batches an epoch: steps 5 and 6 cross an epoch boundary after the resume.
            run_trainer(["--data", "shapes", "--threads", "1", "--steps", "6", "--resume", os.path.join(stopped, "step-0000004"),
                         "--out", resumed])
            a, b = state(os.path.join(straight, "step-0000006")), state(os.path.join(resumed, "step-0000006"))
            self.assertEqual(set(a), set(b))
            different = [n for n in a if not torch.equal(a[n], b[n])]
            self.assertEqual(different, [])
            for name in ("model.safetensors", "text_encoder.safetensors"):
                self.assertEqual(Path(os.path.join(straight, "step-0000006", name)).read_bytes(),
                                 Path(os.path.join(resumed, "step-0000006", name)).read_bytes(), name)

    def test_a_resume_that_does_not_fit_names_the_setting(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            run_trainer(TINY + ["--steps", "1", "--out", tmp])
            done = run_module("diffusionkit_torch.train", ["--data", "shapes", "--threads", "1", "--steps", "2", "--batch", "4",
                                                           "--resume", tmp, "--out", tmp])
            self.assertEqual(done.returncode, 3, done.stderr)
            self.assertIn("batch size 8 but this one uses 4", done.stderr)
            done = run_module("diffusionkit_torch.train", ["--data", "shapes", "--threads", "1", "--steps", "2", "--features", "16",
                                                           "--resume", tmp, "--out", tmp])
            self.assertEqual(done.returncode, 2, done.stderr)
            self.assertIn("--features 16 does not match", done.stderr)

    def test_training_state_records_dotnets_index_names(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            run_trainer(TINY + ["--steps", "1", "--out", tmp, "--encoder", "learned", "--encoder-dim", "4"])
            info = json.loads(Path(os.path.join(tmp, "step-0000001", "training_state.json")).read_text())
            self.assertEqual(info["adam_parameters"][:2], ["init_conv.conv1.0.weight", "init_conv.conv1.0.bias"])
            self.assertEqual(info["adam_parameters"][-6:], [f"encoder/{i}" for i in range(6)])
            # EMA shadows follow TorchSharp's state_dict: all parameters, then all buffers, then the encoder's.
            first_buffer = info["ema_tensors"].index("init_conv.conv1.1.running_mean")
            self.assertEqual(first_buffer, len(info["adam_parameters"]) - 6)
            self.assertEqual(info["precision"], "Float32")
            self.assertEqual(info["adam_steps"], [1] * len(info["adam_parameters"]))


if __name__ == "__main__":
    unittest.main()
