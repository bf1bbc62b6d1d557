"""The learning rate at each step, as .NET's ``DiffusionTrainer.LearningRateAt`` computes it."""

from __future__ import annotations

import math

SCHEDULES = ("constant", "linear", "cosine")


def learning_rate_at(peak: float, schedule: str, warmup_steps: int, step: int, planned_steps: int) -> float:
    """The rate of 0-based ``step``: ``peak`` x warm-up factor min(1, (step + 1)/warmup) x the schedule's shape.

    The shape is taken at fraction = min(step/planned_steps, 1): constant 1, linear 1 - fraction, cosine
    0.5 (1 + cos(pi fraction)).
    """
    warmup = min(1.0, (step + 1) / warmup_steps) if warmup_steps > 0 else 1.0
    fraction = min(step / planned_steps, 1.0)
    if schedule == "constant":
        shape = 1.0
    elif schedule == "linear":
        shape = 1 - fraction
    elif schedule == "cosine":
        shape = 0.5 * (1 + math.cos(math.pi * fraction))
    else:
        raise ValueError(f"Unknown learning-rate schedule '{schedule}'; allowed: {', '.join(SCHEDULES)}.")
    return peak * warmup * shape
