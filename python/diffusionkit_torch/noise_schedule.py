"""The forward (noising) process exactly as .NET's ``NoiseSchedule``: betas, cumulative alphas, add_noise, targets.

Tables are computed in float64 and the square roots stored as float32, as .NET does, so ``add_noise`` and the training
targets give the same float32 numbers. Course convention: T + 1 levels, t = 0..T, ``alpha_bar[0] = 1``, training
timesteps 1..T; diffusers convention: T levels, t = 0..T-1, training timesteps 0..T-1.
"""

from __future__ import annotations

import math

import torch

from .scheduler_config import SchedulerOptions


class NoiseSchedule:
    """Noise levels of one scheduler configuration; tensors are created on the CPU and moved to the inputs' device."""

    def __init__(self, options: SchedulerOptions) -> None:
        options.validate()
        self.options = options
        self.train_timesteps = options.num_train_timesteps
        self.course = options.convention == "course"
        self.prediction_type = options.prediction_type
        count = self.train_timesteps + 1 if self.course else self.train_timesteps
        betas, alpha_bars = [], []
        log_sum, product = 0.0, 1.0
        for t in range(count):
            beta = self._beta(t, count, options)
            alpha = 1 - beta
            betas.append(beta)
            if self.course:
                log_sum += math.log(alpha)
                alpha_bars.append(1.0 if t == 0 else math.exp(log_sum))
            else:
                product *= alpha
                alpha_bars.append(product)
        self.betas = betas
        self.alpha_bars = alpha_bars
        self.sqrt_alpha_bars = torch.tensor([math.sqrt(a) for a in alpha_bars], dtype=torch.float64).to(torch.float32)
        self.sqrt_one_minus_alpha_bars = torch.tensor([math.sqrt(1 - a) for a in alpha_bars], dtype=torch.float64).to(torch.float32)

    @property
    def first_train_timestep(self) -> int:
        """The smallest training timestep: 1 (course) or 0 (diffusers)."""
        return 1 if self.course else 0

    def _beta(self, t: int, count: int, options: SchedulerOptions) -> float:
        start, end, steps = options.beta_start, options.beta_end, self.train_timesteps
        position = t / steps if self.course else (0.0 if count == 1 else t / (count - 1))
        if options.beta_schedule == "linear":
            return (end - start) * t / steps + start if self.course else start + (end - start) * position
        if options.beta_schedule == "scaled_linear":
            root = math.sqrt(start) + (math.sqrt(end) - math.sqrt(start)) * position
            return root * root

        def f(x: float) -> float:
            return math.cos((x + 0.008) / 1.008 * math.pi / 2) ** 2

        return min(1 - f((t + 1) / count) / f(t / count), 0.999)

    def _coefficients(self, like: torch.Tensor, timesteps: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        shape = [-1] + [1] * (like.dim() - 1)
        index = timesteps.cpu()
        a = self.sqrt_alpha_bars.index_select(0, index).to(like.device).to(like.dtype).view(shape)
        b = self.sqrt_one_minus_alpha_bars.index_select(0, index).to(like.device).to(like.dtype).view(shape)
        return a, b

    def add_noise(self, x0: torch.Tensor, noise: torch.Tensor, timesteps: torch.Tensor) -> torch.Tensor:
        """x_t = sqrt(alpha_bar_t) x0 + sqrt(1 - alpha_bar_t) noise."""
        a, b = self._coefficients(x0, timesteps)
        return a * x0 + b * noise

    def training_target(self, x0: torch.Tensor, noise: torch.Tensor, timesteps: torch.Tensor) -> torch.Tensor:
        """What the network learns to predict: the noise, x0, or v = sqrt(ab) noise - sqrt(1 - ab) x0."""
        if self.prediction_type == "epsilon":
            return noise
        if self.prediction_type == "sample":
            return x0
        a, b = self._coefficients(x0, timesteps)
        return a * noise - b * x0

    def min_snr_weights(self, timesteps: torch.Tensor, gamma: float) -> torch.Tensor:
        """Min-SNR-gamma loss weights per sample (float32 [B]) so the weight on the x0 error is min(SNR, gamma).

        epsilon: min(SNR, g)/SNR; v_prediction: min(SNR, g)/(SNR + 1); sample: min(SNR, g). Computed in float64.
        """
        if not (math.isfinite(gamma) and gamma > 0):
            raise ValueError("The Min-SNR cap gamma must be a finite number > 0.")
        weights = []
        for t in timesteps.cpu().tolist():
            alpha_bar = self.alpha_bars[t]
            snr = alpha_bar / (1 - alpha_bar)
            capped = min(snr, gamma)
            if self.prediction_type == "epsilon":
                weights.append(capped / snr)
            elif self.prediction_type == "v_prediction":
                weights.append(capped / (snr + 1))
            else:
                weights.append(capped)
        return torch.tensor(weights, dtype=torch.float64).to(torch.float32)
