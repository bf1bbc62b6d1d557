"""Shared helpers of the tests: run the trainer in a subprocess, read step folders, compare tensors."""

from __future__ import annotations

import os
import subprocess
import sys

import torch

PYTHON_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, PYTHON_DIR)

from diffusionkit_torch import safetensors_io  # noqa: E402

# A small, fast configuration: 8x8 features at 16x16, one thread per process.
TINY = ["--data", "shapes", "--count", "40", "--features", "8", "--batch", "8", "--threads", "1"]


def run_module(module: str, args: list[str], timeout: float = 120) -> subprocess.CompletedProcess:
    """Runs ``python3 -m <module> <args>`` from the python/ folder; returns the finished process (output captured)."""
    return subprocess.run([sys.executable, "-m", module, *args], cwd=PYTHON_DIR, capture_output=True, text=True, timeout=timeout)


def run_trainer(args: list[str], timeout: float = 120) -> subprocess.CompletedProcess:
    """Runs the trainer and fails with its output when it does not exit 0."""
    done = run_module("diffusionkit_torch.train", args, timeout)
    if done.returncode != 0:
        raise AssertionError(f"trainer exited {done.returncode}\nstdout:\n{done.stdout}\nstderr:\n{done.stderr}")
    return done


def state(step_folder: str) -> dict[str, torch.Tensor]:
    """The tensors of a step folder's ``training_state.safetensors``."""
    tensors, _ = safetensors_io.read(os.path.join(step_folder, "training_state.safetensors"))
    return tensors


def relative(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor], names: list[str]) -> float:
    """||a - b|| / ||a|| over the named tensors together (float64)."""
    diff = sum(((a[n].double() - b[n].double()) ** 2).sum() for n in names)
    norm = sum((a[n].double() ** 2).sum() for n in names)
    return float((diff / norm).sqrt())
