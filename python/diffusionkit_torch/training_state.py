"""The resumable state of a run (.NET's ``TrainingStateFile``): ``training_state.safetensors`` and ``training_state.json``.

Tensors: ``model/<state_dict name>`` (live weights and buffers), ``encoder/<i>`` (a learned encoder's live parameters),
``adam/<i>/exp_avg`` and ``adam/<i>/exp_avg_sq`` (Adam's moments of optimiser parameter i: the model's parameters in
``named_parameters()`` order, then the encoder's), ``ema/<i>`` (the EMA shadows: the model's ``state_dict`` in
TorchSharp's order, parameters then buffers, then the encoder's parameters), ``rng/generator`` (the generator's state,
the same 5056 bytes in PyTorch 1.13 and libtorch 2.10) and ``data/order`` (the epoch's shuffled order). The JSON file
holds the counters, ``adam_parameters``/``ema_tensors`` (the name behind each index) and the settings a resume must
match (batch size, accumulation, data set size, precision).
"""

from __future__ import annotations

import math
import os
import uuid
from dataclasses import dataclass

import torch

from . import dotnet_json, safetensors_io
from .checkpoint_directory import resolve

STATE_FILE = "training_state.safetensors"
INFO_FILE = "training_state.json"
FORMAT = "diffusionkit-training-state"
VERSION = 1


class TrainingStateError(ValueError):
    """A training state is missing, corrupt or does not fit this run; the message says which setting and how to fix it."""


@dataclass
class TrainingStateInfo:
    """``training_state.json``."""

    step: int
    adam_steps: list[int]
    adam_parameters: list[str] | None
    ema_tensors: list[str] | None
    ema_updates: int
    ema_decay: float
    loss: float | None
    average_loss: float | None
    elapsed_seconds: float
    batch_size: int
    gradient_accumulation_steps: int
    dataset_count: int
    precision: str

    def to_json(self) -> dict:
        """The JSON object in .NET's key order."""
        return {
            "format": FORMAT,
            "version": VERSION,
            "step": self.step,
            "adam_steps": list(self.adam_steps),
            "adam_parameters": self.adam_parameters,
            "ema_tensors": self.ema_tensors,
            "ema_updates": self.ema_updates,
            "ema_decay": float(self.ema_decay),
            "loss": None if self.loss is None or not math.isfinite(self.loss) else float(self.loss),
            "average_loss": None if self.average_loss is None or not math.isfinite(self.average_loss) else float(self.average_loss),
            "elapsed_seconds": float(self.elapsed_seconds),
            "batch_size": self.batch_size,
            "gradient_accumulation_steps": self.gradient_accumulation_steps,
            "dataset_count": self.dataset_count,
            "precision": self.precision,
        }


def write(folder: str, info: TrainingStateInfo, tensors: dict[str, torch.Tensor]) -> None:
    """Writes both files into ``folder``; each is replaced atomically."""
    safetensors_io.write(os.path.join(folder, STATE_FILE), tensors, {"format": FORMAT})
    path = os.path.join(folder, INFO_FILE)
    temporary = os.path.join(folder, f".{INFO_FILE}.{uuid.uuid4().hex}.tmp")
    with open(temporary, "x", encoding="utf-8", newline="") as stream:
        stream.write(dotnet_json.dumps(info.to_json()))
        stream.flush()
        os.fsync(stream.fileno())
    os.replace(temporary, path)


def read(path: str) -> tuple[TrainingStateInfo, dict[str, torch.Tensor], str]:
    """Reads the state of a step folder (or of a training output folder's current checkpoint); returns it and the folder."""
    folder = resolve(path)
    info_path = os.path.join(folder, INFO_FILE)
    tensors_path = os.path.join(folder, STATE_FILE)
    if not (os.path.isfile(info_path) and os.path.isfile(tensors_path)):
        raise TrainingStateError(f"'{path}' holds no training state ({INFO_FILE} and {STATE_FILE}); only checkpoints written during training can be resumed.")
    raw = dotnet_json.read_format_object(info_path, FORMAT, TrainingStateError)
    if raw.get("version") != VERSION:
        raise TrainingStateError(f"'{info_path}': version {raw.get('version')} is not supported (this reader reads {VERSION}).")
    if not isinstance(raw.get("step"), int) or raw["step"] < 0 or not isinstance(raw.get("adam_steps"), list) or raw.get("ema_updates", 0) < 0:
        raise TrainingStateError(f"'{info_path}': 'step', 'adam_steps' and 'ema_updates' must be present and not negative.")
    info = TrainingStateInfo(
        step=raw["step"], adam_steps=[int(s) for s in raw["adam_steps"]], adam_parameters=raw.get("adam_parameters"),
        ema_tensors=raw.get("ema_tensors"), ema_updates=int(raw.get("ema_updates", 0)), ema_decay=float(raw.get("ema_decay", 0)),
        loss=raw.get("loss"), average_loss=raw.get("average_loss"), elapsed_seconds=float(raw.get("elapsed_seconds", 0)),
        batch_size=int(raw.get("batch_size", 0)), gradient_accumulation_steps=int(raw.get("gradient_accumulation_steps", 0)),
        dataset_count=int(raw.get("dataset_count", 0)), precision=str(raw.get("precision", "")))
    tensors, _ = safetensors_io.read(tensors_path)
    return info, tensors, folder


def get(tensors: dict[str, torch.Tensor], name: str) -> torch.Tensor:
    """The saved tensor ``name``; a clear error when the file lacks it."""
    try:
        return tensors[name]
    except KeyError:
        raise TrainingStateError(f"The saved training state has no tensor '{name}'; its {STATE_FILE} is incomplete.") from None


def require_same_order(saved: list[str] | None, now: list[str], field: str) -> None:
    """Refuses a state whose ``adam_parameters``/``ema_tensors`` name another tensor at some index than this run."""
    if saved is None:
        return
    for i in range(max(len(saved), len(now))):
        saved_name = saved[i] if i < len(saved) else "(none)"
        now_name = now[i] if i < len(now) else "(none)"
        if saved_name != now_name:
            raise TrainingStateError(f"The saved training state's {INFO_FILE} field '{field}' names '{saved_name}' at index {i}, "
                                     f"but this run's tensor there is '{now_name}'; the state was written for another model or in another order.")
