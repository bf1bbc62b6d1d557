"""Command-line options and their resolution into one run's settings, with the .NET CLI's names and defaults.

Precedence, as in ``diffusionkit train``: an option given on the command line wins; with ``--resume`` an option left
out takes the resumed run's value from its ``config.json`` ``training`` section; then the data's defaults apply: an
image folder's (``TrainingDataSource.ApplyFolderDefaults``: batch 100, lr 2e-3, cosine, warm-up 100, v_prediction,
snr-gamma 5, EMA 0.995, n_feat 64 up to 16x16 and 32 above, the network ``FOLDER_NETWORK``, a step budget from the
network, image size, width and batch) or, for ``--data shapes``, the ``demo`` command's (``TrainingDefaults.Demo``: 4000
steps, n_feat 32, batch 50, lr 2e-3, cosine, warm-up 200, v_prediction, snr-gamma 5, EMA 0.995, the context U-Net, 24000
images of 16x16). With ``--resume`` the network and its width come from the checkpoint.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from dataclasses import dataclass

from . import checkpoint, networks
from .checkpoint_directory import resolve as resolve_checkpoint
from .bag_of_words import BagOfWordsEncoder
from .dotnet_json import format_double
from .image_folder import ImageFolderDataset, ImageFolderError
from .learned_encoder import LearnedTextEncoder
from .lr_schedule import SCHEDULES
from .model import ModelOptions
from .scheduler_config import BETA_SCHEDULES, PREDICTION_TYPES, SchedulerOptions
from .shapes import COLORS, KINDS, ShapesDataset, create_encoder

ENCODERS = ("bow", "bag-of-words", "learned")
SHAPES_DEFAULTS = {"steps": 4000, "features": 32, "batch": 50, "lr": 2e-3, "lr_schedule": "cosine", "warmup": 200,
                   "prediction": "v_prediction", "snr_gamma": 5.0, "ema": 0.995}
FOLDER_DEFAULTS = {"batch": 100, "lr": 2e-3, "lr_schedule": "cosine", "warmup": 100, "prediction": "v_prediction",
                   "snr_gamma": 5.0, "ema": 0.995}
COMMON_DEFAULTS = {"dropout": 0.1, "seed": 0, "keep": 3, "encoder": "bow", "encoder_dim": 32, "beta_schedule": "linear",
                   "count": 24000, "image_size": 16, "caption_column": "text"}
# --resume: the options taken from the checkpoint's training section when not given (.NET's ResumeDefaults).
RESUME_KEYS = {"seed": "seed", "count": "images", "batch": "batch_size", "lr": "learning_rate", "lr_schedule": "lr_schedule",
               "warmup": "warmup_steps", "snr_gamma": "snr_gamma", "dropout": "context_dropout", "ema": "ema_decay",
               "max_grad_norm": "max_grad_norm"}
# The network --model picks when it is left out: for an image folder, and for --data shapes.
FOLDER_NETWORK = "attention-unet"
DEFAULT_NETWORK = networks.CONTEXT_UNET
FOLDER_BUDGET_FORWARD_FLOPS = 1.875e13
MAX_DEFAULT_EPOCHS = 100
MIN_DEFAULT_STEPS = 200
FORWARD_FLOPS_AT_16_BY_64 = 301e6
FOLDER_GUIDANCE = 1.0
DEFAULT_GUIDANCE = 3.0


class UsageError(ValueError):
    """Options contradict each other or the data (exit code 2, like the .NET CLI's usage errors)."""


def _optional_number(text: str) -> float | None:
    return None if text.lower() == "none" else float(text)


def build_parser(prog: str = "python3 -m diffusionkit_torch.train") -> argparse.ArgumentParser:
    """The trainer's options; every default is None here and resolved by ``resolve`` (so "given" is known)."""
    p = argparse.ArgumentParser(prog=prog, description="Train DiffusionKit's context U-Net or attention U-Net with PyTorch (DDP); reads and writes .NET checkpoint folders.")
    p.add_argument("--data", help="'shapes' (built in) or a folder of your own images [default: shapes]")
    p.add_argument("--out", required=True, help="the training output folder: <out>/step-NNNNNNN/ and <out>/latest")
    p.add_argument("--steps", type=int, help="optimizer steps (the total, with --resume)")
    p.add_argument("--epochs", type=int, help="passes over the data instead of --steps")
    p.add_argument("--batch", type=int, help="images per optimizer step (all processes together)")
    p.add_argument("--lr", type=float, help="peak learning rate")
    p.add_argument("--lr-schedule", choices=SCHEDULES, help="learning-rate decay after the warm-up")
    p.add_argument("--warmup", type=int, help="linear learning-rate warm-up steps")
    p.add_argument("--model", choices=networks.NAMES, help=f"the denoising network: the course's context U-Net, or a three-level U-Net with self- and cross-attention [default: {FOLDER_NETWORK} with a folder, else {DEFAULT_NETWORK}; with --resume the checkpoint's]")
    p.add_argument("--features", type=int, help="the U-Net's width (n_feat)")
    p.add_argument("--dropout", type=float, help="probability of training a caption as the empty prompt [default: 0.1]")
    p.add_argument("--ema", type=float, help="EMA decay of the saved weights (0: no EMA)")
    p.add_argument("--encoder", choices=ENCODERS, help="prompt encoder: bag of words or a learned embedding [default: bow]")
    p.add_argument("--encoder-dim", type=int, help="embedding width of the learned encoder [default: 32]")
    p.add_argument("--prediction", choices=PREDICTION_TYPES, help="what the network predicts")
    p.add_argument("--beta-schedule", choices=BETA_SCHEDULES, help="the noise schedule [default: linear]")
    p.add_argument("--snr-gamma", type=_optional_number, help="Min-SNR-gamma loss weighting ('none': off)")
    p.add_argument("--max-grad-norm", type=_optional_number, help="clip the gradients' norm to X [default: off]")
    p.add_argument("--save-every", type=int, help="also write a checkpoint every N steps [default: only at the end]")
    p.add_argument("--keep", type=int, help="step checkpoints kept, the newest [default: 3]")
    p.add_argument("--resume", help="continue that run (a step folder or an output folder, .NET- or Python-written) up to --steps")
    p.add_argument("--seed", type=int, help="seed of the data, the initialisation and the noise [default: 0]")
    p.add_argument("--threads", type=int, help="CPU threads per process [default: the cores divided among the local processes]")
    p.add_argument("--guidance", type=float, help="the guidance weight w config.json recommends (the course's; it is written as diffusers' guidance_scale s = w + 1) [default: 1 with a folder, else 3]")
    p.add_argument("--count", type=int, help="--data shapes: images to generate [default: 24000]")
    p.add_argument("--image-size", type=int, choices=(16, 32, 64), help="--data shapes: image size [default: 16]")
    p.add_argument("--hold-out", help="--data shapes: 'colour shape,...' combinations left out of training")
    p.add_argument("--size", type=int, help="image folder: resize (shorter side) and centre-crop to N pixels")
    p.add_argument("--caption-column", help="image folder: the metadata.jsonl field holding the caption [default: text]")
    p.add_argument("--strict", action="store_true", default=None, help="image folder: fail on the first bad file")
    p.add_argument("--random-flip", action="store_true", default=None, help="image folder: flip images horizontally at random")
    p.add_argument("--random-crop", action="store_true", default=None, help="image folder: crop at a random place instead of the centre")
    p.add_argument("--image-mode", help="image folder: L (grayscale, one channel), RGB, or auto: the mode most images have, a tie RGB [default: auto]")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto", help="auto: CUDA when available")
    p.add_argument("--nproc-per-node", type=int, default=1, help="processes to start on this machine (not under torchrun)")
    p.add_argument("--nnodes", type=int, default=1, help="machines taking part, when launching without torchrun")
    p.add_argument("--node-rank", type=int, default=0, help="this machine's index, when launching without torchrun")
    p.add_argument("--master-addr", default=None, help="rank 0's address [default: MASTER_ADDR or 127.0.0.1]")
    p.add_argument("--master-port", type=int, default=None, help="rank 0's port [default: MASTER_PORT or a free one]")
    p.add_argument("--log-to-stderr", action="store_true", help=argparse.SUPPRESS)
    # Stops (saving a checkpoint) after this step while the schedule still follows --steps; for selftest resume-step.
    p.add_argument("--stop-at-step", type=int, help=argparse.SUPPRESS)
    return p


@dataclass
class Settings:
    """One run's resolved settings (the data is loaded)."""

    output: str
    data: ShapesDataset | ImageFolderDataset
    data_name: str
    is_folder: bool
    encoder: BagOfWordsEncoder | LearnedTextEncoder
    scheduler: SchedulerOptions
    model: ModelOptions
    steps: int | None
    epochs: int | None
    batch: int
    lr: float
    lr_schedule: str
    warmup: int
    snr_gamma: float | None
    dropout: float
    ema: float
    seed: int
    max_grad_norm: float | None
    save_every: int | None
    keep: int
    resume: str | None
    threads: int | None
    guidance: float
    random_flip: bool
    random_crop: bool
    device: str
    stop_at_step: int | None = None

    def training_info(self) -> dict[str, str]:
        """``config.json``'s ``training`` section before the per-checkpoint fields, as .NET's ``train`` writes it."""
        return {
            "data": self.data_name,
            "images": str(self.data.count),
            "image_mode": "L" if self.model.in_channels == 1 else "RGB",
            "batch_size": str(self.batch),
            "gradient_accumulation_steps": "1",
            "learning_rate": format_double(self.lr),
            "lr_schedule": self.lr_schedule,
            "warmup_steps": str(self.warmup),
            "snr_gamma": "none" if self.snr_gamma is None else format_double(self.snr_gamma),
            "max_grad_norm": "none" if self.max_grad_norm is None else format_double(self.max_grad_norm),
            "ema_decay": format_double(self.ema),
            "context_dropout": format_double(self.dropout),
            "precision": "fp32",
            "seed": str(self.seed),
        }

    def describe(self) -> str:
        """The resolved settings, one line each, for the start of the run."""
        budget = f"{self.steps} steps" if self.steps is not None else f"{self.epochs} epochs"
        return "\n".join([
            f"data: {self.data_name} ({self.data.count} images, {self.model.image_size}x{self.model.image_size})",
            f"model: {networks.type_name(self.model.network)} n_feat {self.model.features}, n_cfeat {self.model.context_size}, encoder {self.encoder.kind}",
            f"scheduler: {self.scheduler.class_name} {self.scheduler.convention} T={self.scheduler.num_train_timesteps} "
            f"{self.scheduler.beta_schedule} {self.scheduler.prediction_type}",
            f"budget: {budget}, batch {self.batch}, lr {format_double(self.lr)} {self.lr_schedule}, warm-up {self.warmup}",
            f"loss: snr-gamma {'none' if self.snr_gamma is None else format_double(self.snr_gamma)}, dropout "
            f"{format_double(self.dropout)}, ema {format_double(self.ema)}, max-grad-norm "
            f"{'none' if self.max_grad_norm is None else format_double(self.max_grad_norm)}, seed {self.seed}",
            f"output: {self.output} (save every {self.save_every or 'end'}, keep {self.keep})"
            + (f", resuming from {self.resume}" if self.resume else ""),
        ])


def default_features(image_size: int) -> int:
    """An image folder's default width: 64 up to 16x16, 32 above."""
    return 64 if image_size <= 16 else 32


def attention_unet_forward_flops(image_size: int, features: int, in_channels: int, context_size: int) -> float:
    """Forward FLOPs per image of an attention U-Net (.NET's ``NetworkFlops.Forward(AttentionUnetOptions)``, term for
    term): its convolutions, linear layers and attention products, 2 FLOP per multiply-add."""
    f = float(features)
    w, e, c, k = 2 * f, 4 * f, float(in_channels), float(context_size)
    full = float(image_size) * image_size
    half, quarter = full / 4, full / 16
    attends_at_half = image_size // 2 <= 8
    attends_at_quarter = image_size // 4 <= 8

    def resnet(cin: float, cout: float, pixels: float) -> float:
        return pixels * (9 * cin * cout + 9 * cout * cout + (0 if cin == cout else cin * cout)) + e * cout

    def attention(pixels: float) -> float:
        return 16 * pixels * w * w + 2 * pixels * pixels * w + 2 * 4 * w * w + 2 * pixels * 4 * w

    macs = full * 9 * c * f + f * e + 2 * e * e + k * e + k * 4 * w                    # conv_in, time/context MLPs, tokens
    macs += resnet(f, f, full) + half * 9 * f * f                                        # level 0 down + stride-2 conv
    macs += resnet(f, w, half) + (attention(half) if attends_at_half else 0) + quarter * 9 * w * w
    macs += resnet(w, w, quarter) + (attention(quarter) if attends_at_quarter else 0)
    macs += 2 * resnet(w, w, quarter) + attention(quarter)                               # middle
    macs += resnet(2 * w, w, quarter) + (attention(quarter) if attends_at_quarter else 0) + quarter * 4 * w * w
    macs += resnet(2 * w, w, half) + (attention(half) if attends_at_half else 0) + half * 4 * w * w
    macs += resnet(w + f, f, full) + full * 9 * f * c                                    # level 0 up + conv_out
    return 2 * macs


def default_steps(network: str, image_size: int, features: int, batch: int, image_count: int) -> int:
    """An image folder's step budget (``TrainingDataSource.DefaultSteps``): 1.875e13 forward FLOPs of training (the
    context U-Net's cost scaled from 301 MFLOP at 16x16, n_feat 64; the attention U-Net's counted, as .NET counts it for
    the budget, with one input channel and a one-long context), at most 100 passes over the folder's images, at least
    200 steps."""
    networks.type_name(network)
    if network == networks.ATTENTION_UNET:
        per_image = attention_unet_forward_flops(image_size, features, in_channels=1, context_size=1)
    else:
        per_image = FORWARD_FLOPS_AT_16_BY_64 * (image_size / 16.0) ** 2 * (features / 64.0) ** 2
    by_compute = round(FOLDER_BUDGET_FORWARD_FLOPS / (per_image * batch))
    by_epochs = math.ceil(MAX_DEFAULT_EPOCHS * image_count / batch)
    return int(max(MIN_DEFAULT_STEPS, min(by_compute, by_epochs)))


def _parse_resumed(option: str, text: str):
    if option in ("seed", "count", "batch", "warmup"):
        return int(text)
    if option == "lr_schedule":
        return text
    return float(text)


def _held_out(text: str | None) -> frozenset[tuple[str, str]]:
    if not text:
        return frozenset()
    pairs = set()
    for pair in (p.strip() for p in text.split(",") if p.strip()):
        words = pair.lower().split()
        if len(words) != 2 or words[0] not in COLORS or words[1] not in KINDS:
            raise UsageError(f"--hold-out entries look like 'blue triangle' (colour: {'/'.join(COLORS)}; shape: {'/'.join(KINDS)}), not '{pair}'.")
        pairs.add((words[0], words[1]))
    return frozenset(pairs)


def resolve(args: argparse.Namespace) -> Settings:
    """Applies the resumed run's and the data's defaults to the options not given, loads the data, builds the encoder."""
    given = {k: v for k, v in vars(args).items() if v is not None}
    values = dict(given)
    resumed: checkpoint.CheckpointConfig | None = None
    resume_folder = None
    if args.resume is not None:
        try:
            resume_folder = resolve_checkpoint(args.resume)
            resumed = checkpoint.read_config(resume_folder)
        except checkpoint.CheckpointError as ex:
            raise UsageError(f"--resume '{args.resume}': {ex}") from ex
        if args.model is not None and args.model != resumed.model.network:
            raise UsageError(f"--model {args.model} does not match the checkpoint '{args.resume}' ({resumed.model.network}); with --resume the model comes from the checkpoint, leave --model out.")
        if args.features is not None and args.features != resumed.model.features:
            raise UsageError(f"--features {args.features} does not match the checkpoint '{args.resume}' (n_feat {resumed.model.features}); with --resume the model comes from the checkpoint, leave --features out.")
        for option in ("encoder", "encoder_dim", "prediction", "beta_schedule"):
            if option in given:
                raise UsageError(f"--{option.replace('_', '-')} cannot be combined with --resume: the model, its text encoder and its schedule come from the checkpoint '{args.resume}'.")
        for option, key in RESUME_KEYS.items():
            text = resumed.training.get(key)
            if option not in values and text is not None and text != "none":
                values[option] = _parse_resumed(option, text)
        accumulation = resumed.training.get("gradient_accumulation_steps", "1")
        if accumulation not in ("1", "none"):
            raise UsageError(f"--resume '{args.resume}': the run used gradient accumulation ({accumulation} steps), which this trainer does not offer.")
        if values.get("data", "shapes") == "shapes" and "image_size" not in values:
            values["image_size"] = resumed.model.image_size

    data_arg = values.get("data", "shapes")
    for option, value in COMMON_DEFAULTS.items():
        values.setdefault(option, value)
    if data_arg == "shapes":
        if values.get("random_flip") or values.get("random_crop") or "size" in values:
            raise UsageError("--size, --random-flip and --random-crop apply to image folders, not --data shapes.")
        if "image_mode" in given:
            raise UsageError("--image-mode applies to image folders; --data shapes is RGB.")
        data = ShapesDataset(values["count"], values["image_size"], values["seed"], _held_out(values.get("hold_out")))
        source_encoder: BagOfWordsEncoder = create_encoder()
        data_name, is_folder = "shapes", False
        for option, value in SHAPES_DEFAULTS.items():
            values.setdefault(option, value)
    else:
        if not os.path.isdir(data_arg):
            raise UsageError(f"--data must be 'shapes' or an image folder, but '{data_arg}' is neither (no such folder).")
        try:
            data = ImageFolderDataset.open(data_arg, values.get("size"), values["caption_column"], bool(values.get("strict")),
                                           keep_full=bool(values.get("random_crop")), image_mode=_image_mode(values, resumed))
        except ImageFolderError as ex:
            raise UsageError(str(ex)) from ex
        if data.image_mode_note is not None:
            print(f"note: {data.image_mode_note}", file=sys.stderr)
        source_encoder = BagOfWordsEncoder.from_captions(data.distinct_captions)
        data_name, is_folder = os.path.basename(data.folder), True
        for option, value in FOLDER_DEFAULTS.items():
            values.setdefault(option, value)
        values.setdefault("features", default_features(data.image_size))
        # As .NET's ApplyFolderDefaults: the budget counts --model or the folder default (with --resume as well).
        values.setdefault("model", FOLDER_NETWORK)
        if "steps" not in values and "epochs" not in values:
            values["steps"] = default_steps(values["model"], data.image_size, values["features"], values["batch"], data.count)

    if "epochs" in given and "steps" in given:
        raise UsageError("Give --steps or --epochs, not both.")
    if "epochs" in values and "steps" not in given:
        values.pop("steps", None)

    if resumed is not None:
        encoder = checkpoint.load_encoder(resume_folder, resumed)
        scheduler = resumed.scheduler
        features = resumed.model.features
        network = resumed.model.network
    else:
        if values["encoder"] == "learned":
            encoder = LearnedTextEncoder.from_captions(data.captions, values["encoder_dim"], seed=values["seed"])
        else:
            encoder = source_encoder
        scheduler = SchedulerOptions().for_training(values["prediction"], values["beta_schedule"])
        features = values["features"]
        network = values.get("model", DEFAULT_NETWORK)
    model = ModelOptions(in_channels=data.channels, features=features, context_size=encoder.context_size,
                         image_size=data.image_size, network=network)
    guidance = values.get("guidance")
    if guidance is None:
        guidance = checkpoint.guidance_weight(resumed.sampling) if resumed is not None else None
    if guidance is None:
        guidance = FOLDER_GUIDANCE if is_folder else DEFAULT_GUIDANCE
    settings = Settings(
        output=args.out, data=data, data_name=data_name, is_folder=is_folder, encoder=encoder, scheduler=scheduler,
        model=model, steps=values.get("steps"), epochs=values.get("epochs"), batch=values["batch"], lr=values["lr"],
        lr_schedule=values["lr_schedule"], warmup=values["warmup"], snr_gamma=values.get("snr_gamma"),
        dropout=values["dropout"], ema=values["ema"], seed=values["seed"], max_grad_norm=values.get("max_grad_norm"),
        save_every=values.get("save_every"), keep=values["keep"], resume=resume_folder, threads=values.get("threads"),
        guidance=float(guidance), random_flip=bool(values.get("random_flip")), random_crop=bool(values.get("random_crop")),
        device=args.device, stop_at_step=args.stop_at_step)
    _validate(settings)
    return settings


def _image_mode(values: dict, resumed: "checkpoint.CheckpointConfig | None") -> str | None:
    """``--image-mode`` as "L"/"RGB", None for auto; with --resume, the checkpoint's mode (its in_channels)."""
    text = values.get("image_mode")
    mode = None
    if text is not None and text.strip().lower() != "auto":
        mode = {"l": "L", "grayscale": "L", "greyscale": "L", "gray": "L", "grey": "L", "rgb": "RGB"}.get(text.strip().lower())
        if mode is None:
            raise UsageError(f"--image-mode must be one of auto, L, RGB, not '{text}'.")
    if resumed is not None:
        resumed_mode = "L" if resumed.model.in_channels == 1 else "RGB"
        if mode is not None and mode != resumed_mode:
            raise UsageError(f"--image-mode {mode} does not match the checkpoint ({resumed_mode}, in_channels {resumed.model.in_channels}); with --resume leave --image-mode out.")
        mode = resumed_mode
    return mode


def _validate(s: Settings) -> None:
    checks = [
        (s.steps is None or s.steps >= 1, "--steps must be at least 1."),
        (s.epochs is None or s.epochs >= 1, "--epochs must be at least 1."),
        (s.batch >= 1, "--batch must be at least 1."),
        (0 < s.lr <= 1, "--lr must lie in (0, 1]."),
        (s.warmup >= 0, "--warmup must be 0 or more."),
        (s.snr_gamma is None or s.snr_gamma > 0, "--snr-gamma must be > 0 (or 'none')."),
        (0 <= s.dropout <= 1, "--dropout must lie in [0, 1]."),
        (0 <= s.ema < 1, "--ema must lie in [0, 1)."),
        (s.max_grad_norm is None or s.max_grad_norm > 0, "--max-grad-norm must be > 0 (or 'none')."),
        (s.save_every is None or s.save_every >= 1, "--save-every must be at least 1."),
        (s.keep >= 1, "--keep must be at least 1."),
        (s.threads is None or s.threads >= 1, "--threads must be at least 1."),
        (0 <= s.guidance <= 100, "--guidance must lie in [0, 100]."),
    ]
    for ok, message in checks:
        if not ok:
            raise UsageError(message)
    try:
        s.model.validate()
    except ValueError as ex:
        raise UsageError(str(ex)) from ex
