"""Commands the .NET test suite calls to check the round trip; each prints ONE JSON line on stdout and exits 0 on success.

``train-tiny <trainer options>``
    The trainer itself (its log goes to stderr); the line names the checkpoint written.
``predict --checkpoint <folder> --io <io.safetensors> [--seed S]``
    Loads the checkpoint (eval mode), draws fixed inputs from a generator seeded with S and writes them with PyTorch's
    prediction: ``x`` [4, C, H, W] (randn), ``timesteps`` [4] int64 spread over the training range, ``t`` [4] float32
    (timesteps / T: the time input ``PredictNoise`` takes), ``c`` [4, n_cfeat] (the encoder's contexts of three captions
    made of the vocabulary's words, then the unconditional context), ``eps`` [4, C, H, W]. The captions are in the
    file's metadata (``captions``, JSON), so the .NET test can encode them itself too.
``resume-step --resume <step folder> --data <data> --out <folder> [trainer options]``
    Resumes the saved state (a .NET- or Python-written one) and takes exactly one step, with the saved run's options
    (its config.json ``training`` section and training_state.json; options given here win), the learning-rate schedule
    planned for ``--steps`` (default: the saved step + 1). The checkpoint written holds the live weights after that step
    in ``training_state.safetensors`` (``model/<name>``). This reproduces the .NET trainer's next step because the
    batch, timesteps, noise and dropout come from the restored generator, which draws the same numbers in PyTorch 1.13
    as in TorchSharp 0.107.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from typing import Sequence

import torch

from . import checkpoint, safetensors_io, training_state
from .checkpoint_directory import resolve
from .train import main as train_main

PREDICT_BATCH = 4


def _result(command: str, code: int, **fields) -> int:
    print(json.dumps({"ok": code == 0, "command": command, "exit_code": code, **fields}), flush=True)
    return code


def _latest_step(out: str) -> dict:
    folder = resolve(out)
    info_path = os.path.join(folder, training_state.INFO_FILE)
    if not os.path.isfile(info_path):
        return {}
    with open(info_path, encoding="utf-8") as stream:
        info = json.load(stream)
    return {"checkpoint": os.path.abspath(folder), "step": info["step"], "loss": info.get("loss")}


def _run_trainer(argv: list[str]) -> int:
    with contextlib.redirect_stdout(sys.stderr):
        return train_main(argv + ["--log-to-stderr"])


def train_tiny(argv: list[str]) -> int:
    """The trainer with the given options; the JSON line names the checkpoint it wrote."""
    out = build_out(argv)
    code = _run_trainer(argv)
    return _result("train-tiny", code, **(_latest_step(out) if code == 0 else {}))


def build_out(argv: list[str]) -> str:
    """The ``--out`` of a trainer command line."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--out", required=True)
    return parser.parse_known_args(argv)[0].out


def captions_for(encoder: checkpoint.TextEncoder) -> list[str]:
    """Three captions of two vocabulary words each, then the empty (unconditional) prompt."""
    words = encoder.vocabulary
    return [f"{words[i % len(words)]} {words[(i + 1) % len(words)]}" for i in range(PREDICT_BATCH - 1)] + [""]


def predict(argv: list[str]) -> int:
    """Writes fixed inputs and PyTorch's prediction for a checkpoint (see the module docstring)."""
    parser = argparse.ArgumentParser(prog="selftest predict")
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--io", required=True)
    parser.add_argument("--seed", type=int, default=1234)
    args = parser.parse_args(argv)
    config, model, encoder = checkpoint.load(args.checkpoint)
    generator = torch.Generator().manual_seed(args.seed)
    size, channels = config.model.image_size, config.model.in_channels
    x = torch.randn((PREDICT_BATCH, channels, size, size), generator=generator)
    total = config.scheduler.num_train_timesteps
    first = 1 if config.scheduler.convention == "course" else 0
    last = total if config.scheduler.convention == "course" else total - 1
    timesteps = torch.tensor([first + round(i * (last - first) / (PREDICT_BATCH - 1)) for i in range(PREDICT_BATCH)], dtype=torch.int64)
    t = timesteps.to(torch.float32) / float(total)
    captions = captions_for(encoder)
    c = encoder.encode(captions).to(torch.float32)
    with torch.no_grad():
        eps = model(x, t, c)
    safetensors_io.write(args.io, {"x": x, "t": t, "timesteps": timesteps, "c": c, "eps": eps},
                         {"captions": json.dumps(captions), "checkpoint": os.path.abspath(resolve(args.checkpoint)),
                          "torch": torch.__version__})
    return _result("predict", 0, checkpoint=os.path.abspath(resolve(args.checkpoint)), io=os.path.abspath(args.io),
                   captions=captions, timesteps=timesteps.tolist())


def resume_step(argv: list[str]) -> int:
    """Resumes ``--resume`` and takes exactly one step (see the module docstring)."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--resume", required=True)
    parser.add_argument("--steps", type=int)
    known, rest = parser.parse_known_args(argv)
    info, _, folder = training_state.read(known.resume)
    next_step = info.step + 1
    planned = known.steps if known.steps is not None else next_step
    code = _run_trainer(rest + ["--resume", folder, "--steps", str(planned), "--stop-at-step", str(next_step)])
    out = build_out(rest)
    return _result("resume-step", code, resumed=os.path.abspath(folder), **(_latest_step(out) if code == 0 else {}))


COMMANDS = {"train-tiny": train_tiny, "predict": predict, "resume-step": resume_step}


def main(argv: Sequence[str] | None = None) -> int:
    """Dispatches ``python3 -m diffusionkit_torch.selftest <command> ...``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in COMMANDS:
        print(json.dumps({"ok": False, "error": f"usage: selftest {{{','.join(COMMANDS)}}} ..."}))
        return 2
    try:
        return COMMANDS[argv[0]](argv[1:])
    except (ValueError, OSError) as error:
        return _result(argv[0], 3 if isinstance(error, ValueError) else 4, error=" ".join(str(error).split()))


if __name__ == "__main__":
    sys.exit(main())
