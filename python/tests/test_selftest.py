"""The commands the .NET test suite calls: one JSON line on stdout each, exit 0."""

import json
import os
import tempfile
import unittest

import torch

from helpers import TINY, run_module, state
from diffusionkit_torch import checkpoint, safetensors_io


def json_line(done) -> dict:
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or len(lines) != 1:
        raise AssertionError(f"exit {done.returncode}\nstdout:\n{done.stdout}\nstderr:\n{done.stderr}")
    return json.loads(lines[0])


class SelftestTests(unittest.TestCase):
    def test_train_tiny_predict_and_resume_step(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "run")
            trained = json_line(run_module("diffusionkit_torch.selftest", ["train-tiny"] + TINY + ["--steps", "3", "--save-every", "2",
                                                                                                    "--out", out, "--nproc-per-node", "2"]))
            self.assertEqual((trained["ok"], trained["step"]), (True, 3))
            io_path = os.path.join(tmp, "io.safetensors")
            predicted = json_line(run_module("diffusionkit_torch.selftest", ["predict", "--checkpoint", out, "--io", io_path]))
            self.assertEqual(predicted["timesteps"], [1, 167, 334, 500])
            io, metadata = safetensors_io.read(io_path)
            self.assertEqual(json.loads(metadata["captions"])[-1], "")
            self.assertEqual((io["x"].shape, io["t"].shape, io["c"].shape, io["eps"].shape), ((4, 3, 16, 16), (4,), (4, 12), (4, 3, 16, 16)))
            _, model, _ = checkpoint.load(out)
            with torch.no_grad():
                self.assertTrue(torch.allclose(model(io["x"], io["t"], io["c"]), io["eps"], atol=1e-6))
            resumed = json_line(run_module("diffusionkit_torch.selftest", ["resume-step", "--resume", os.path.join(out, "step-0000002"),
                                                                           "--steps", "3", "--data", "shapes", "--threads", "1",
                                                                           "--out", os.path.join(tmp, "next")]))
            self.assertEqual(resumed["step"], 3)
            a, b = state(os.path.join(out, "step-0000003")), state(resumed["checkpoint"])
            names = [n for n in a if n.startswith("model/") and a[n].is_floating_point()]
            diff = sum(((a[n] - b[n]).double() ** 2).sum() for n in names) / sum((a[n].double() ** 2).sum() for n in names)
            self.assertLess(float(diff.sqrt()), 1e-5, "one resumed step (1 process) reproduces the 2-process run's step")

    def test_failures_are_reported_on_the_json_line(self) -> None:
        done = run_module("diffusionkit_torch.selftest", ["predict", "--checkpoint", "/no/such/checkpoint", "--io", "/tmp/x"])
        result = json.loads(done.stdout.strip())
        self.assertFalse(result["ok"])
        self.assertNotEqual(done.returncode, 0)


if __name__ == "__main__":
    unittest.main()
