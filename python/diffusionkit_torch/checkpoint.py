"""Checkpoint folders as .NET's ``DiffusionCheckpoint`` writes and reads them.

A folder holds ``config.json`` (model sizes, the scheduler section, the prompt encoder, informational training settings,
recommended sampling settings), ``model.safetensors`` (the U-Net's ``state_dict``, PyTorch names, with the
``diffusionkit.sha256`` digest) and, for the learned encoder, ``text_encoder.safetensors``. Every file is written
atomically. ``config.json`` is byte for byte what .NET writes for the same content.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Mapping

import torch

from . import dotnet_json, networks, safetensors_io
from .bag_of_words import BagOfWordsEncoder
from .checkpoint_directory import resolve
from .learned_encoder import POOLINGS, LearnedTextEncoder
from .model import ModelOptions
from .scheduler_config import SchedulerOptions

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
ENCODER_WEIGHTS_FILE = "text_encoder.safetensors"
FORMAT = "diffusionkit-checkpoint"
VERSION = 1

TextEncoder = BagOfWordsEncoder | LearnedTextEncoder


class CheckpointError(ValueError):
    """A checkpoint folder is missing a file or holds an invalid one; the message names the file and the field."""


@dataclass
class CheckpointConfig:
    """A parsed ``config.json``."""

    model: ModelOptions
    scheduler: SchedulerOptions
    text_encoder: dict[str, Any]
    training: dict[str, str]
    sampling: dict[str, Any] | None


def describe(model: ModelOptions, scheduler: SchedulerOptions, encoder: TextEncoder, training: Mapping[str, str],
             guidance_scale: float | None) -> dict[str, Any]:
    """``config.json``'s content, keys in .NET's order (``DiffusionCheckpoint.Describe`` + the training writer)."""
    if encoder.context_size != model.context_size:
        raise ValueError(f"The encoder produces {encoder.context_size}-dimensional contexts but the model expects {model.context_size}.")
    config: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "model": {"type": networks.type_name(model.network), "in_channels": model.in_channels, "n_feat": model.features,
                  "n_cfeat": model.context_size, "height": model.image_size},
        "scheduler": scheduler.to_json(),
        "text_encoder": encoder.describe(),
        "training": dict(training),
    }
    if guidance_scale is not None:
        # config.json's guidance_scale is diffusers' s = w + 1 (the weight w is the course's, what --guidance takes).
        config["sampling"] = {"guidance_scale": float(guidance_scale) + 1.0, "guidance_convention": DIFFUSERS_CONVENTION}
    return config


DIFFUSERS_CONVENTION = "diffusers"


def guidance_weight(sampling: Mapping[str, Any] | None) -> float | None:
    """The weight w a ``sampling`` section recommends: diffusers' s − 1 (0 for s ≤ 1) with the ``diffusers``
    convention, the value itself in files written before ``guidance_convention`` (as .NET's ``GuidanceWeight``)."""
    if not sampling or sampling.get("guidance_scale") is None:
        return None
    scale = float(sampling["guidance_scale"])
    convention = sampling.get("guidance_convention")
    if convention is None:
        return scale
    if convention != DIFFUSERS_CONVENTION:
        raise CheckpointError(f"field 'sampling.guidance_convention' is '{convention}'; the known convention is '{DIFFUSERS_CONVENTION}'.")
    return max(0.0, scale - 1.0)


def save(folder: str, config: Mapping[str, Any], model_state: Mapping[str, torch.Tensor],
         encoder_state: Mapping[str, torch.Tensor] | None) -> None:
    """Writes ``model.safetensors``, ``text_encoder.safetensors`` (learned encoder only) and ``config.json``."""
    os.makedirs(folder, exist_ok=True)
    _write_weights(os.path.join(folder, WEIGHTS_FILE), model_state)
    if config["text_encoder"]["type"] == LearnedTextEncoder.kind:
        if encoder_state is None:
            raise ValueError("A learned encoder's checkpoint needs its weights.")
        _write_weights(os.path.join(folder, ENCODER_WEIGHTS_FILE), encoder_state)
    path = os.path.join(folder, CONFIG_FILE)
    temporary = f"{path}.{os.getpid()}.tmp"
    with open(temporary, "w", encoding="utf-8", newline="") as stream:
        stream.write(dotnet_json.dumps(config))
    os.replace(temporary, path)


def _write_weights(path: str, state: Mapping[str, torch.Tensor]) -> None:
    weights = {name: tensor.detach().cpu().contiguous() for name, tensor in state.items()}
    metadata = {"format": "pt", safetensors_io.DIGEST_KEY: safetensors_io.compute_digest(weights)}
    safetensors_io.write(path, weights, metadata)


def read_config(path: str) -> CheckpointConfig:
    """Reads and checks ``config.json`` of a checkpoint folder (or of a training output folder's current checkpoint)."""
    folder = resolve(path)
    config_path = os.path.join(folder, CONFIG_FILE)
    if not os.path.isdir(folder):
        raise CheckpointError(f"Checkpoint folder '{folder}' does not exist.")
    if not os.path.isfile(config_path):
        raise CheckpointError(f"'{folder}' is not a checkpoint folder: {CONFIG_FILE} is missing.")
    raw = dotnet_json.read_format_object(config_path, FORMAT, CheckpointError)
    if not isinstance(raw.get("version"), int) or not 1 <= raw["version"] <= VERSION:
        raise CheckpointError(f"'{config_path}': version {raw.get('version')} is not supported (this reader reads 1..{VERSION}).")
    unknown = set(raw) - {"format", "version", "model", "scheduler", "text_encoder", "training", "sampling"}
    if unknown:
        raise CheckpointError(f"'{config_path}': unknown field(s) {', '.join(sorted(unknown))}.")
    model = raw.get("model")
    if not isinstance(model, dict):
        raise CheckpointError(f"'{config_path}': field 'model' must be an object with 'type', 'in_channels', 'n_feat', 'n_cfeat' and 'height'.")
    network = networks.from_type_name(model.get("type"))
    if network is None:
        raise CheckpointError(f"'{config_path}': field 'model.type' is {_quoted(model.get('type'))}, which this trainer does not "
                              f"train; supported types: {networks.supported_types()}.")
    try:
        options = ModelOptions(in_channels=int(model["in_channels"]), features=int(model["n_feat"]),
                               context_size=int(model["n_cfeat"]), image_size=int(model["height"]), network=network)
        options.validate()
    except (KeyError, TypeError, ValueError) as ex:
        raise CheckpointError(f"'{config_path}': field 'model' is invalid ({ex}).") from ex
    if "scheduler" not in raw:
        raise CheckpointError(f"'{config_path}': field 'scheduler' is missing; it says how the model was trained, so it cannot be guessed.")
    try:
        scheduler = SchedulerOptions.from_json(raw["scheduler"])
    except ValueError as ex:
        raise CheckpointError(f"'{config_path}': {ex}") from ex
    encoder = raw.get("text_encoder")
    if not isinstance(encoder, dict) or not isinstance(encoder.get("type"), str):
        raise CheckpointError(f"'{config_path}': field 'text_encoder.type' is missing.")
    training = raw.get("training", {})
    if not isinstance(training, dict) or not all(isinstance(v, str) for v in training.values()):
        raise CheckpointError(f"'{config_path}': field 'training' must be an object of strings.")
    image_mode = training.get("image_mode")
    if image_mode is not None:
        # Written since the key existed (.NET's CheckpointConfig.ImageModeKey); older files load by in_channels alone.
        if image_mode not in ("L", "RGB"):
            raise CheckpointError(f"'{config_path}': training.image_mode is '{image_mode}'; allowed values: L, RGB.")
        if (1 if image_mode == "L" else 3) != options.in_channels:
            raise CheckpointError(f"'{config_path}': training.image_mode is '{image_mode}' but the model has {options.in_channels} channel(s).")
    sampling = raw.get("sampling")
    if sampling is not None and not isinstance(sampling, dict):
        raise CheckpointError(f"'{config_path}': field 'sampling' must be an object.")
    return CheckpointConfig(options, scheduler, encoder, training, sampling)


def _quoted(value: object) -> str:
    return "missing" if value is None else f"'{value}'"


def load_encoder(folder: str, config: CheckpointConfig) -> TextEncoder:
    """The checkpoint's prompt encoder (a learned one with its ``text_encoder.safetensors`` weights, in eval mode)."""
    settings = config.text_encoder
    kind = settings["type"]
    if kind == BagOfWordsEncoder.kind:
        return BagOfWordsEncoder(settings.get("vocabulary") or [], settings.get("stop_words"))
    if kind == LearnedTextEncoder.kind:
        pooling = settings.get("pooling") or "mean"
        if pooling not in POOLINGS or not isinstance(settings.get("dim"), int):
            raise CheckpointError(f"'{folder}': the learned encoder needs 'dim' and a pooling of {', '.join(POOLINGS)}.")
        encoder = LearnedTextEncoder(settings.get("vocabulary") or [], settings["dim"], config.model.context_size, pooling=pooling)
        weights, _ = safetensors_io.read(os.path.join(folder, ENCODER_WEIGHTS_FILE))
        encoder.load_state_dict(weights)
        return encoder.eval()
    if kind == "minilm":
        raise CheckpointError(f"'{folder}' uses the MiniLM encoder, which this Python package does not offer.")
    raise CheckpointError(f"'{folder}': unknown text_encoder.type '{kind}'.")


def load(path: str) -> tuple[CheckpointConfig, torch.nn.Module, TextEncoder]:
    """Loads a checkpoint (folder or training output folder): its config, the network (eval mode) and the encoder."""
    folder = resolve(path)
    config = read_config(folder)
    encoder = load_encoder(folder, config)
    if encoder.context_size != config.model.context_size:
        raise CheckpointError(f"'{folder}': the encoder produces {encoder.context_size}-dimensional contexts but model.n_cfeat is {config.model.context_size}.")
    model = networks.create(config.model)
    weights, _ = safetensors_io.read(os.path.join(folder, WEIGHTS_FILE))
    for name, tensor in weights.items():
        if tensor.is_floating_point() and not torch.isfinite(tensor).all():
            raise CheckpointError(f"'{folder}/{WEIGHTS_FILE}': tensor '{name}' holds NaN or infinite values.")
    model.load_state_dict({k: v.to(torch.float32) if v.is_floating_point() else v for k, v in weights.items()})
    return config, model.eval(), encoder
