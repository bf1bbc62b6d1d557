"""The training loop: .NET's ``DiffusionTrainer.Run``, step for step, distributed over DDP ranks.

Every rank holds the same generator, seeded with ``--seed``, and draws the whole global batch's randomness in .NET's
order: ``randperm(count)`` at each epoch start, an augmentation seed when augmenting, ``randint`` timesteps, ``randn``
noise and ``rand >= dropout`` keep flags for the effective batch; rank r then trains on its contiguous slice r. So the
global batch is exactly the single-process batch (and, since TorchSharp 0.107 draws the same numbers as PyTorch 1.13,
exactly the .NET trainer's batch). DDP averages the slices' gradients (the gradient of the whole batch's mean loss);
BatchNorm uses the global batch's statistics (``GlobalBatchNorm2d`` on the CPU, ``SyncBatchNorm`` on CUDA; the context
U-Net has BatchNorm, the attention U-Net none, and then the conversion changes nothing). Rank 0 writes the checkpoints.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel

from . import checkpoint, checkpoint_directory, networks, training_state
from .dotnet_json import format_double
from .distributed import Context, all_reduce_max, all_reduce_mean, barrier
from .ema import ExponentialMovingAverage
from .global_batchnorm import to_global_batchnorm
from .learned_encoder import LearnedTextEncoder
from .lr_schedule import learning_rate_at
from .model import dotnet_state_order
from .noise_schedule import NoiseSchedule
from .settings import Settings, UsageError
from .training_data import TrainingData, draw_augmentation_seed
from .training_state import TrainingStateError, TrainingStateInfo, get, require_same_order

LOSS_SMOOTHING = 0.98
PROGRESS_SECONDS = 5.0


class Interrupted(Exception):
    """Training stopped on SIGINT/SIGTERM; ``code`` is 130 or 143, ``saved`` whether a new checkpoint was written."""

    def __init__(self, code: int, saved: bool) -> None:
        super().__init__("interrupted")
        self.code = code
        self.saved = saved


class Diverged(RuntimeError):
    """The loss became NaN or infinite."""


@dataclass
class TrainingResult:
    """The run's summary."""

    steps: int
    loss: float
    average_loss: float
    elapsed_seconds: float
    images_per_second: float
    steps_per_second: float
    last_checkpoint: str | None


class TrainingNetwork(nn.Module):
    """The U-Net plus, when learned, the text encoder: one module for DDP, whose forward computes the contexts too."""

    def __init__(self, unet: nn.Module, encoder: LearnedTextEncoder | None) -> None:
        super().__init__()
        self.unet = unet
        self.encoder = encoder

    def forward(self, noisy: torch.Tensor, time: torch.Tensor, contexts: torch.Tensor | None, tokens: torch.Tensor | None,
                unconditional: torch.Tensor | None, keep: torch.Tensor | None) -> torch.Tensor:
        if self.encoder is not None:
            contexts = self.encoder(tokens)
            unconditional = self.encoder.unconditional_for_training()
        if keep is not None:
            contexts = (contexts * keep) + (unconditional * (1 - keep))
        return self.unet(noisy, time, contexts)


class StopFlag:
    """Set by the signal handlers (130 for SIGINT, 143 for SIGTERM); polled by every rank before each step."""

    def __init__(self, parent_pid: int | None = None) -> None:
        self.code = 0
        self.parent_pid = parent_pid

    def local_code(self) -> int:
        """This process's request: the signal's code, or 143 when the spawning parent has gone."""
        if self.code == 0 and self.parent_pid is not None and os.getppid() != self.parent_pid:
            return 143
        return self.code


def train(settings: Settings, context: Context, stop: StopFlag, log: Callable[[str], None]) -> TrainingResult:
    """Runs the training loop; raises ``Interrupted`` (after saving) on a signal, ``Diverged`` on a non-finite loss."""
    device = context.device
    data = TrainingData(settings.data.images, settings.data.captions, getattr(settings.data, "full_images", None),
                        settings.random_flip, settings.random_crop)
    count = data.count
    batch = min(settings.batch, count)
    if batch % context.world_size != 0:
        raise UsageError(f"--batch {batch} does not divide among {context.world_size} processes; use a multiple of {context.world_size}.")
    per_rank = batch // context.world_size
    schedule = NoiseSchedule(settings.scheduler)

    resume_info, resume_tensors = None, None
    if settings.resume is not None:
        resume_info, resume_tensors, _ = training_state.read(settings.resume)
        _check_fits(resume_info, resume_tensors, settings, count, batch)

    # .NET's new ContextUnet(options, seed) / new AttentionUnet(options, seed): the same initial weights, bit for bit.
    model = networks.create(settings.model, seed=settings.seed)
    encoder = settings.encoder if isinstance(settings.encoder, LearnedTextEncoder) else None
    if resume_info is not None:
        _load_live_weights(resume_tensors, model, encoder)
    model.to(device)
    if encoder is not None:
        encoder.to(device).train()
    if context.distributed:
        model = to_global_batchnorm(model, context.batchnorm_group) if device.type == "cpu" else nn.SyncBatchNorm.convert_sync_batchnorm(model)
    encoder_parameters = list(encoder.parameters()) if encoder is not None else []
    encoder_index_names = [f"encoder/{i}" for i in range(len(encoder_parameters))]
    parameters = list(model.parameters()) + encoder_parameters
    adam_names = [name for name, _ in model.named_parameters()] + encoder_index_names
    optimizer = torch.optim.Adam(parameters, lr=settings.lr, foreach=False)
    state_names = dotnet_state_order(model)
    model_state = model.state_dict()
    ema = None
    ema_names: list[str] = []
    if settings.ema > 0:
        ema_names = state_names + encoder_index_names
        ema = ExponentialMovingAverage([model_state[n] for n in state_names] + encoder_parameters, settings.ema)
    generator = torch.Generator().manual_seed(settings.seed)
    order: torch.Tensor | None = None
    if resume_info is not None:
        order = _restore(resume_info, resume_tensors, optimizer, parameters, adam_names, ema, ema_names, generator)

    batches_per_epoch = count // batch
    planned = settings.steps if settings.steps is not None else settings.epochs * batches_per_epoch
    network: nn.Module = TrainingNetwork(model, encoder)
    if context.distributed:
        network = DistributedDataParallel(network, device_ids=[device.index] if device.type == "cuda" else None,
                                          broadcast_buffers=False,
                                          find_unused_parameters=encoder is not None and settings.dropout == 0)
    contexts_all = None if encoder is not None else _encode_captions(settings.encoder, data.captions)
    unconditional = None if encoder is not None or settings.dropout == 0 else settings.encoder.encode_unconditional().to(device)

    start_step = resume_info.step if resume_info is not None else 0
    step = start_step
    last_checkpoint = start_step if resume_info is not None else -1
    loss = resume_info.loss if resume_info is not None and resume_info.loss is not None else math.nan
    average = resume_info.average_loss if resume_info is not None and resume_info.average_loss is not None else math.nan
    earlier = resume_info.elapsed_seconds if resume_info is not None else 0.0
    clock = time.monotonic()
    written: str | None = None

    def elapsed() -> float:
        return earlier + time.monotonic() - clock

    def publish(reason: str) -> None:
        nonlocal written
        if context.is_main:
            written = _publish(settings, model, encoder, optimizer, parameters, adam_names, ema, ema_names, state_names,
                               generator, order, step, loss, average, elapsed(), batch, count, reason)
        barrier(context)

    if context.is_main:
        checkpoint_directory.clean_leftovers(settings.output)
    model.train()
    last_report = time.monotonic()
    end = planned if settings.stop_at_step is None else min(planned, settings.stop_at_step)
    while step < end:
        code = all_reduce_max(context, stop.local_code())
        if code:
            if last_checkpoint != step:
                publish("interrupted")
            raise Interrupted(code, saved=last_checkpoint != step)
        in_epoch = step % batches_per_epoch
        if in_epoch == 0 or order is None:
            order = torch.randperm(count, generator=generator)
        lr = learning_rate_at(settings.lr, settings.lr_schedule, settings.warmup, step, planned)
        for group in optimizer.param_groups:
            group["lr"] = lr

        drawn = draw_global_batch(data, order, in_epoch, batch, schedule, settings.dropout, generator)
        rows = slice(context.rank * per_rank, (context.rank + 1) * per_rank)
        x0 = drawn.x0[rows].to(device)
        t = drawn.timesteps[rows]
        noise = drawn.noise[rows].to(device)
        keep = drawn.keep[rows].to(device) if drawn.keep is not None else None
        contexts = contexts_all.index_select(0, drawn.index[rows]).to(device) if contexts_all is not None else None
        tokens = (encoder.tokens([data.captions[i] for i in drawn.index.tolist()])[rows].to(device)
                  if encoder is not None else None)

        optimizer.zero_grad()
        mse = compute_loss(network, schedule, x0, t, noise, contexts, tokens, unconditional, keep, settings.snr_gamma)
        mse.backward()
        loss = all_reduce_mean(context, mse)
        if not math.isfinite(loss):
            raise Diverged(f"Training diverged at step {step + 1}: the loss is {loss}. Lower the learning rate (now {lr})"
                           f"{', set --max-grad-norm' if settings.max_grad_norm is None else ''} or check the data for NaN.")
        if settings.max_grad_norm is not None:
            nn.utils.clip_grad_norm_(parameters, settings.max_grad_norm)
        optimizer.step()
        if ema is not None:
            ema.update()
        step += 1
        average = loss if math.isnan(average) else LOSS_SMOOTHING * average + (1 - LOSS_SMOOTHING) * loss
        now = time.monotonic()
        if context.is_main and (step == start_step + 1 or step == end or now - last_report >= PROGRESS_SECONDS):
            last_report = now
            rate = (step - start_step) / max(now - clock, 1e-9)
            log(f"step {step}/{planned} loss {average:.4f} lr {lr:.3g} {rate * batch:.0f} img/s {rate:.2f} steps/s")
        is_last = step >= end
        if settings.save_every is not None and step % settings.save_every == 0 and not is_last:
            publish("periodic")
            last_checkpoint = step
            if context.is_main:
                log(f"checkpoint {written}")

    if last_checkpoint != step:
        publish("completed" if step >= planned else "stopped")
    if ema is not None:
        ema.copy_to_live()
    seconds = max(time.monotonic() - clock, 1e-9)
    return TrainingResult(step, loss, average, elapsed(), (step - start_step) * batch / seconds,
                          (step - start_step) / seconds, written)


@dataclass
class GlobalBatch:
    """One step's randomness for the whole effective batch (every rank draws all of it, then keeps its slice)."""

    index: torch.Tensor
    x0: torch.Tensor
    timesteps: torch.Tensor
    noise: torch.Tensor
    keep: torch.Tensor | None


def draw_global_batch(data: TrainingData, order: torch.Tensor, in_epoch: int, batch: int, schedule: NoiseSchedule,
                      dropout: float, generator: torch.Generator) -> GlobalBatch:
    """Draws one step's batch in .NET's order: [augmentation seed], timesteps, noise, keep flags (``rand >= dropout``)."""
    index = order.narrow(0, in_epoch * batch, batch)
    seed = draw_augmentation_seed(generator) if data.augments else None
    x0 = data.batch(index, seed)
    first = schedule.first_train_timestep
    timesteps = torch.randint(first, first + schedule.train_timesteps, (batch,), generator=generator)
    noise = torch.randn(x0.shape, dtype=torch.float32, generator=generator)
    keep = torch.rand((batch, 1), generator=generator).ge(dropout).to(torch.float32) if dropout > 0 else None
    return GlobalBatch(index, x0, timesteps, noise, keep)


def compute_loss(network: nn.Module, schedule: NoiseSchedule, x0: torch.Tensor, timesteps: torch.Tensor, noise: torch.Tensor,
                 contexts: torch.Tensor | None, tokens: torch.Tensor | None, unconditional: torch.Tensor | None,
                 keep: torch.Tensor | None, snr_gamma: float | None) -> torch.Tensor:
    """This rank's loss: noise x0 at the timesteps, predict from (x_t, t/T, context), MSE or Min-SNR-weighted MSE."""
    noisy = schedule.add_noise(x0, noise, timesteps)
    time_input = (timesteps.to(torch.float32) / float(schedule.train_timesteps)).to(x0.device)
    predicted = network(noisy, time_input, contexts, tokens, unconditional, keep)
    target = schedule.training_target(x0, noise, timesteps)
    if snr_gamma is None:
        return F.mse_loss(predicted.to(torch.float32), target)
    weights = schedule.min_snr_weights(timesteps, snr_gamma).to(x0.device)
    return (predicted.to(torch.float32) - target).square().mean((1, 2, 3)).mul(weights).mean()


def _encode_captions(encoder, captions: list[str]) -> torch.Tensor:
    """Each image's context [N, context_size], encoding each distinct caption once (as .NET's ``TrainingData.Load``)."""
    distinct = list(dict.fromkeys(captions))
    row = {caption: i for i, caption in enumerate(distinct)}
    encoded = encoder.encode(distinct).to(torch.float32)
    return encoded.index_select(0, torch.tensor([row[c] for c in captions], dtype=torch.int64)).contiguous()


def _check_fits(info: TrainingStateInfo, tensors: dict, settings: Settings, count: int, batch: int) -> None:
    """Refuses a saved state that does not fit this run, naming the setting (.NET's ``TrainingStateRestore.CheckFits``)."""
    def require(ok: bool, what: str, saved, now, remedy: str) -> None:
        if not ok:
            raise TrainingStateError(f"Cannot resume from '{settings.resume}': the saved run used {what} {saved} but this one uses {now}; {remedy}")

    require(info.dataset_count == count, "a data set of", info.dataset_count, count, "resume on the same data.")
    require(info.batch_size == batch, "batch size", info.batch_size, batch, "resume with the same --batch.")
    require(info.gradient_accumulation_steps == 1, "GradientAccumulationSteps", info.gradient_accumulation_steps, 1,
            "this trainer does not offer gradient accumulation.")
    require(info.precision == "Float32", "precision", info.precision, "Float32", "this trainer trains in float32 only.")
    saved_ema = any(k.startswith("ema/") for k in tensors)
    require(saved_ema == (settings.ema > 0), "EMA", "on" if saved_ema else "off", "on" if settings.ema > 0 else "off",
            "resume with the same --ema.")


def _load_live_weights(tensors: dict, model: nn.Module, encoder: LearnedTextEncoder | None) -> None:
    weights = {k[len("model/"):]: v for k, v in tensors.items() if k.startswith("model/")}
    expected = set(model.state_dict())
    if set(weights) != expected:
        missing = sorted(expected - set(weights))[:3]
        unexpected = sorted(set(weights) - expected)[:3]
        raise TrainingStateError(f"The saved training state does not fit this model (missing {missing}, unexpected {unexpected}); resume with the checkpoint's model settings.")
    model.load_state_dict({k: v.to(torch.float32) if v.is_floating_point() else v for k, v in weights.items()})
    saved_encoder = sum(1 for k in tensors if k.startswith("encoder/"))
    parameters = list(encoder.parameters()) if encoder is not None else []
    if saved_encoder != len(parameters):
        raise TrainingStateError(f"The saved run had a text encoder with {saved_encoder} trainable tensors but this one has {len(parameters)}; resume with the checkpoint's text encoder.")
    with torch.no_grad():
        for i, parameter in enumerate(parameters):
            saved = get(tensors, f"encoder/{i}")
            if saved.shape != parameter.shape:
                raise TrainingStateError(f"Encoder parameter {i} has shape {list(saved.shape)} in the saved state but {list(parameter.shape)} here.")
            parameter.copy_(saved)


def _restore(info: TrainingStateInfo, tensors: dict, optimizer: torch.optim.Adam, parameters: list, adam_names: list[str],
             ema: ExponentialMovingAverage | None, ema_names: list[str], generator: torch.Generator) -> torch.Tensor | None:
    """Restores Adam's moments and step counts, the EMA and the generator; returns the saved epoch order, if any."""
    require_same_order(info.adam_parameters, adam_names, "adam_parameters")
    if ema is not None:
        require_same_order(info.ema_tensors, ema_names, "ema_tensors")
    if len(info.adam_steps) != len(parameters):
        raise TrainingStateError(f"The saved training state has Adam state for {len(info.adam_steps)} parameters but this run optimises {len(parameters)}.")
    for i, parameter in enumerate(parameters):
        if info.adam_steps[i] == 0:
            continue
        exp_avg, exp_avg_sq = get(tensors, f"adam/{i}/exp_avg"), get(tensors, f"adam/{i}/exp_avg_sq")
        if exp_avg.shape != parameter.shape or exp_avg_sq.shape != parameter.shape:
            raise TrainingStateError(f"Adam state {i} ({adam_names[i]}) has shape {list(exp_avg.shape)} but the parameter has {list(parameter.shape)}.")
        optimizer.state[parameter] = {"step": torch.tensor(float(info.adam_steps[i])),
                                      "exp_avg": exp_avg.to(parameter.device, torch.float32).clone(),
                                      "exp_avg_sq": exp_avg_sq.to(parameter.device, torch.float32).clone()}
    if ema is not None:
        with torch.no_grad():
            for i, shadow in enumerate(ema.shadows):
                saved = get(tensors, f"ema/{i}")
                if saved.shape != shadow.shape:
                    raise TrainingStateError(f"EMA shadow {i} ({ema_names[i]}) has shape {list(saved.shape)} but this run's has {list(shadow.shape)}.")
                shadow.copy_(saved)
        ema.updates = info.ema_updates
    generator.set_state(get(tensors, "rng/generator").clone())
    order = tensors.get("data/order")
    return order.clone() if order is not None else None


def _publish(settings: Settings, model: nn.Module, encoder: LearnedTextEncoder | None, optimizer: torch.optim.Adam,
             parameters: list, adam_names: list[str], ema: ExponentialMovingAverage | None, ema_names: list[str],
             state_names: list[str], generator: torch.Generator, order: torch.Tensor | None, step: int, loss: float,
             average: float, elapsed: float, batch: int, count: int, reason: str) -> str:
    """Writes the checkpoint of ``step`` (published weights: EMA when on) with its training state; returns the folder."""
    live_state = model.state_dict()
    encoder_names = [name for name, _ in encoder.named_parameters()] if encoder is not None else []
    if ema is not None:
        published = dict(zip(ema_names[:len(state_names)], ema.shadows[:len(state_names)]))
        published_encoder = dict(zip(encoder_names, ema.shadows[len(state_names):]))
    else:
        published = {name: live_state[name] for name in state_names}
        published_encoder = {name: p for name, p in encoder.named_parameters()} if encoder is not None else {}
    tensors: dict[str, torch.Tensor] = {f"model/{name}": live_state[name] for name in state_names}
    for i, parameter in enumerate(list(encoder.parameters()) if encoder is not None else []):
        tensors[f"encoder/{i}"] = parameter
    adam_steps = []
    for i, parameter in enumerate(parameters):
        state = optimizer.state.get(parameter, {})
        tensors[f"adam/{i}/exp_avg"] = state.get("exp_avg", torch.zeros_like(parameter))
        tensors[f"adam/{i}/exp_avg_sq"] = state.get("exp_avg_sq", torch.zeros_like(parameter))
        adam_steps.append(int(state["step"].item()) if "step" in state else 0)
    if ema is not None:
        for i, shadow in enumerate(ema.shadows):
            tensors[f"ema/{i}"] = shadow
    tensors["rng/generator"] = generator.get_state()
    if order is not None:
        tensors["data/order"] = order
    info = TrainingStateInfo(
        step=step, adam_steps=adam_steps, adam_parameters=adam_names, ema_tensors=ema_names if ema is not None else None,
        ema_updates=ema.updates if ema is not None else 0, ema_decay=settings.ema,
        loss=loss if math.isfinite(loss) else None, average_loss=average if math.isfinite(average) else None,
        elapsed_seconds=elapsed, batch_size=batch, gradient_accumulation_steps=1, dataset_count=count, precision="Float32")
    training = settings.training_info()
    training.update({"steps": str(step), "final_loss": format_double(average),
                     "completed": "true" if reason == "completed" else "false", "elapsed_seconds": f"{elapsed:.1f}"})
    encoder_for_config = encoder if encoder is not None else settings.encoder
    config = checkpoint.describe(settings.model, settings.scheduler, encoder_for_config, training, settings.guidance)

    def write(folder: str) -> None:
        checkpoint.save(folder, config, published, published_encoder if encoder is not None else None)
        training_state.write(folder, info, tensors)

    return checkpoint_directory.publish(settings.output, step, write, settings.keep)

