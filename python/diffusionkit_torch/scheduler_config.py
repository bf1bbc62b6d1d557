"""The scheduler settings a checkpoint records (``SchedulerOptions``), read and written as .NET's ``SchedulerConfigJson``.

The checkpoint's ``scheduler`` section is a diffusers ``scheduler_config.json``: ``_class_name`` (the trainer's
algorithm, ``DDPMScheduler``), ``diffusionkit_convention`` (``course``: T + 1 noise levels over t = 0..T; ``diffusers``:
T levels over 0..T-1), the beta schedule and the prediction type, and the sampler settings .NET keeps with them. Keys
are written in .NET's order; absent keys read as diffusers' defaults, unknown keys are ignored (as diffusers does).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

CLASS_NAMES = ("DDIMScheduler", "DDPMScheduler", "DPMSolverMultistepScheduler", "EulerAncestralDiscreteScheduler")
BETA_SCHEDULES = ("linear", "scaled_linear", "squaredcos_cap_v2")
PREDICTION_TYPES = ("epsilon", "v_prediction", "sample")
SPACINGS = ("linspace", "leading", "trailing")
VARIANCE_TYPES = ("fixed_small", "fixed_large")
FINAL_SIGMAS = ("zero", "sigma_min")
CONVENTIONS = ("course", "diffusers")
_SOLVER_ALGORITHMS = ("dpmsolver++", "sde-dpmsolver++")


@dataclass(frozen=True)
class SchedulerOptions:
    """The scheduler section's settings; the defaults are .NET's ``new SchedulerOptions()`` with the DDPM trainer's class."""

    class_name: str = "DDPMScheduler"
    algorithm_type: str | None = None
    convention: str = "course"
    num_train_timesteps: int = 500
    beta_start: float = 1e-4
    beta_end: float = 0.02
    beta_schedule: str = "linear"
    prediction_type: str = "epsilon"
    timestep_spacing: str = "trailing"
    steps_offset: int = 0
    clip_sample: bool = False
    clip_sample_range: float = 1.0
    set_alpha_to_one: bool = True
    eta: float = 0.0
    variance_type: str = "fixed_large"
    solver_order: int = 2
    lower_order_final: bool = True
    final_sigmas_type: str = "zero"
    num_inference_steps: int | None = None

    def validate(self) -> None:
        """Raises ValueError for values .NET's ``SchedulerOptions.Validate`` refuses (the checks that apply to training)."""
        for value, allowed, key in ((self.class_name, CLASS_NAMES, "_class_name"), (self.convention, CONVENTIONS, "diffusionkit_convention"),
                                    (self.beta_schedule, BETA_SCHEDULES, "beta_schedule"), (self.prediction_type, PREDICTION_TYPES, "prediction_type"),
                                    (self.timestep_spacing, SPACINGS, "timestep_spacing"), (self.variance_type, VARIANCE_TYPES, "variance_type"),
                                    (self.final_sigmas_type, FINAL_SIGMAS, "final_sigmas_type")):
            if value not in allowed:
                raise ValueError(f"Unknown {key} \"{value}\"; allowed: {', '.join(allowed)}.")
        if self.num_train_timesteps < 1:
            raise ValueError("num_train_timesteps must be at least 1.")
        if not 0 < self.beta_start < 1:
            raise ValueError("beta_start must lie in (0, 1).")
        if not self.beta_start <= self.beta_end < 1:
            raise ValueError("beta_end must lie in [beta_start, 1).")
        if self.steps_offset < 0 or self.solver_order not in (1, 2) or self.eta < 0 or self.clip_sample_range <= 0:
            raise ValueError("steps_offset, solver_order, eta or clip_sample_range is out of range.")
        steps = self.resolved_inference_steps
        if self.class_name == "DDPMScheduler" and steps != self.num_train_timesteps:
            raise ValueError("DDPMScheduler walks every training timestep: num_inference_steps must equal num_train_timesteps.")
        if not 1 <= steps <= self.num_train_timesteps:
            raise ValueError("num_inference_steps must lie in 1..num_train_timesteps.")

    @property
    def resolved_inference_steps(self) -> int:
        """The inference steps (given, or the algorithm's default)."""
        if self.num_inference_steps is not None:
            return self.num_inference_steps
        if self.class_name == "DDPMScheduler":
            return self.num_train_timesteps
        if self.class_name == "DDIMScheduler":
            return min(25, self.num_train_timesteps)
        return min(20, self.num_train_timesteps)

    def to_json(self) -> dict[str, Any]:
        """The section as .NET writes it (key order and types included)."""
        self.validate()
        section: dict[str, Any] = {
            "_class_name": self.class_name,
            "diffusionkit_convention": self.convention,
            "num_train_timesteps": self.num_train_timesteps,
            "beta_start": float(self.beta_start),
            "beta_end": float(self.beta_end),
            "beta_schedule": self.beta_schedule,
            "prediction_type": self.prediction_type,
            "timestep_spacing": self.timestep_spacing,
            "steps_offset": self.steps_offset,
            "clip_sample": self.clip_sample,
            "clip_sample_range": float(self.clip_sample_range),
            "set_alpha_to_one": self.set_alpha_to_one,
            "eta": float(self.eta),
            "variance_type": self.variance_type,
            "solver_order": self.solver_order,
            "lower_order_final": self.lower_order_final,
            "final_sigmas_type": self.final_sigmas_type,
        }
        if self.class_name == "DPMSolverMultistepScheduler":
            section["algorithm_type"] = self.algorithm_type or "dpmsolver++"
        if self.num_inference_steps is not None:
            section["num_inference_steps"] = self.num_inference_steps
        return section

    @staticmethod
    def from_json(section: dict[str, Any]) -> "SchedulerOptions":
        """Reads a scheduler section like .NET: unknown keys ignored, absent keys default, unsupported features refused."""
        if not isinstance(section, dict):
            raise ValueError("The scheduler section must be a JSON object.")
        for key, bad in (("thresholding", True), ("use_karras_sigmas", True), ("rescale_betas_zero_snr", True)):
            if section.get(key) is bad:
                raise ValueError(f"Scheduler config key \"{key}\" = true is not supported.")
        if section.get("trained_betas") is not None:
            raise ValueError("Scheduler config key \"trained_betas\": explicit betas are not supported.")
        if "algorithm_type" in section and section["algorithm_type"] not in _SOLVER_ALGORITHMS:
            raise ValueError(f"Scheduler config key \"algorithm_type\": only {' and '.join(_SOLVER_ALGORITHMS)} are supported.")
        defaults = SchedulerOptions(class_name="DDIMScheduler")
        convention_key = "diffusionkit_convention" if "diffusionkit_convention" in section or "convention" not in section else "convention"

        def get(key: str, kind: type, fallback: Any) -> Any:
            value = section.get(key)
            if value is None:
                return fallback
            if kind is float and isinstance(value, (int, float)) and not isinstance(value, bool):
                return float(value)
            if kind is int and isinstance(value, (int, float)) and not isinstance(value, bool) and float(value).is_integer():
                return int(value)
            if kind in (str, bool) and isinstance(value, kind):
                return value
            raise ValueError(f"Scheduler config key \"{key}\" must be {kind.__name__} but is {value!r}.")

        options = SchedulerOptions(
            class_name=get("_class_name", str, defaults.class_name),
            algorithm_type=section.get("algorithm_type"),
            convention=get(convention_key, str, "diffusers"),
            num_train_timesteps=get("num_train_timesteps", int, defaults.num_train_timesteps),
            beta_start=get("beta_start", float, defaults.beta_start),
            beta_end=get("beta_end", float, defaults.beta_end),
            beta_schedule=get("beta_schedule", str, defaults.beta_schedule),
            prediction_type=get("prediction_type", str, defaults.prediction_type),
            timestep_spacing=get("timestep_spacing", str, defaults.timestep_spacing),
            steps_offset=get("steps_offset", int, defaults.steps_offset),
            clip_sample=get("clip_sample", bool, defaults.clip_sample),
            clip_sample_range=get("clip_sample_range", float, defaults.clip_sample_range),
            set_alpha_to_one=get("set_alpha_to_one", bool, defaults.set_alpha_to_one),
            eta=get("eta", float, defaults.eta),
            variance_type=get("variance_type", str, defaults.variance_type),
            solver_order=get("solver_order", int, defaults.solver_order),
            lower_order_final=get("lower_order_final", bool, defaults.lower_order_final),
            final_sigmas_type=get("final_sigmas_type", str, defaults.final_sigmas_type),
            num_inference_steps=get("num_inference_steps", int, None),
        )
        options.validate()
        return options

    def for_training(self, prediction_type: str, beta_schedule: str) -> "SchedulerOptions":
        """The options the .NET CLI trains a new model with: DDPM, the course convention, the given schedule and target."""
        return replace(self, class_name="DDPMScheduler", prediction_type=prediction_type, beta_schedule=beta_schedule)
