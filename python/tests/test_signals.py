"""SIGTERM stops training after the current step, saves a checkpoint and exits 143 (as the .NET CLI does)."""

import json
import os
import signal
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

from helpers import PYTHON_DIR, TINY


class SignalTests(unittest.TestCase):
    def _interrupt(self, extra: list[str]) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            process = subprocess.Popen([sys.executable, "-m", "diffusionkit_torch.train", *TINY, "--steps", "100000",
                                        "--out", tmp, *extra], cwd=PYTHON_DIR, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            try:
                for line in process.stdout:
                    if line.startswith("step 1/"):
                        break
                process.send_signal(signal.SIGTERM)
                out, err = process.communicate(timeout=60)
            finally:
                if process.poll() is None:
                    process.kill()
            self.assertEqual(process.returncode, 143, err)
            self.assertIn("Interrupted: saved a checkpoint", out)
            folder = os.path.join(tmp, Path(tmp, "latest").read_text().strip())
            config = json.loads(Path(folder, "config.json").read_text())
            info = json.loads(Path(folder, "training_state.json").read_text())
            self.assertEqual(config["training"]["completed"], "false")
            self.assertEqual(config["training"]["steps"], str(info["step"]))
            self.assertGreaterEqual(info["step"], 1)

    def test_sigterm_saves_and_exits_143(self) -> None:
        self._interrupt([])

    def test_sigterm_to_the_launcher_stops_every_rank(self) -> None:
        self._interrupt(["--nproc-per-node", "2"])


if __name__ == "__main__":
    unittest.main()
