"""Learning-rate schedule, noise schedule, training targets and Min-SNR-gamma weights."""

import math
import unittest

import torch

import helpers  # noqa: F401
from diffusionkit_torch.lr_schedule import learning_rate_at
from diffusionkit_torch.noise_schedule import NoiseSchedule
from diffusionkit_torch.scheduler_config import SchedulerOptions


class LearningRateTests(unittest.TestCase):
    def test_warmup_then_each_schedule(self) -> None:
        self.assertAlmostEqual(learning_rate_at(1e-3, "constant", 10, 0, 100), 1e-4)
        self.assertAlmostEqual(learning_rate_at(1e-3, "constant", 10, 9, 100), 1e-3)
        self.assertAlmostEqual(learning_rate_at(1e-3, "constant", 0, 99, 100), 1e-3)
        self.assertAlmostEqual(learning_rate_at(1e-3, "linear", 0, 25, 100), 0.75e-3)
        self.assertAlmostEqual(learning_rate_at(1e-3, "linear", 0, 150, 100), 0.0, msg="past the plan the fraction stops at 1")
        self.assertAlmostEqual(learning_rate_at(2e-3, "cosine", 0, 50, 100), 1e-3)
        self.assertAlmostEqual(learning_rate_at(2e-3, "cosine", 0, 0, 100), 2e-3)
        self.assertAlmostEqual(learning_rate_at(2e-3, "cosine", 100, 49, 200), 2e-3 * 0.5 * 0.5 * (1 + math.cos(math.pi * 49 / 200)))


class NoiseScheduleTests(unittest.TestCase):
    def test_course_schedule(self) -> None:
        schedule = NoiseSchedule(SchedulerOptions())
        self.assertEqual(len(schedule.alpha_bars), 501)
        self.assertEqual(schedule.alpha_bars[0], 1.0)
        self.assertEqual(schedule.first_train_timestep, 1)
        self.assertAlmostEqual(schedule.betas[500], 0.02)
        expected = math.exp(sum(math.log(1 - ((0.02 - 1e-4) * t / 500 + 1e-4)) for t in range(0, 251)))
        self.assertAlmostEqual(schedule.alpha_bars[250], expected, places=12)
        diffusers = NoiseSchedule(SchedulerOptions(convention="diffusers", num_train_timesteps=1000))
        self.assertEqual((len(diffusers.alpha_bars), diffusers.first_train_timestep), (1000, 0))

    def test_add_noise_and_targets(self) -> None:
        x0, noise, t = torch.randn(3, 2, 4, 4), torch.randn(3, 2, 4, 4), torch.tensor([1, 250, 500])
        for prediction in ("epsilon", "v_prediction", "sample"):
            schedule = NoiseSchedule(SchedulerOptions(prediction_type=prediction))
            a = torch.tensor([math.sqrt(schedule.alpha_bars[int(i)]) for i in t], dtype=torch.float32).view(-1, 1, 1, 1)
            b = torch.tensor([math.sqrt(1 - schedule.alpha_bars[int(i)]) for i in t], dtype=torch.float32).view(-1, 1, 1, 1)
            self.assertTrue(torch.equal(schedule.add_noise(x0, noise, t), a * x0 + b * noise))
            expected = {"epsilon": noise, "sample": x0, "v_prediction": a * noise - b * x0}[prediction]
            self.assertTrue(torch.equal(schedule.training_target(x0, noise, t), expected))

    def test_min_snr_weights_per_prediction_type(self) -> None:
        steps = torch.tensor([1, 40, 100, 250, 500])
        for prediction in ("epsilon", "v_prediction", "sample"):
            schedule = NoiseSchedule(SchedulerOptions(prediction_type=prediction))
            weights = schedule.min_snr_weights(steps, 5.0)
            self.assertEqual(weights.dtype, torch.float32)
            for i, t in enumerate(steps.tolist()):
                snr = schedule.alpha_bars[t] / (1 - schedule.alpha_bars[t])
                expected = {"epsilon": min(snr, 5) / snr, "v_prediction": min(snr, 5) / (snr + 1), "sample": min(snr, 5)}[prediction]
                self.assertAlmostEqual(float(weights[i]), expected, delta=1e-6 * max(1, expected))
            if prediction == "epsilon":
                self.assertTrue(5e-4 <= float(weights[0]) <= 2e-3)
                self.assertEqual(float(weights[4]), 1.0)
        with self.assertRaises(ValueError):
            NoiseSchedule(SchedulerOptions()).min_snr_weights(steps, 0.0)

    def test_scheduler_section_round_trips_like_dotnet(self) -> None:
        options = SchedulerOptions().for_training("v_prediction", "squaredcos_cap_v2")
        section = options.to_json()
        self.assertEqual(list(section)[:3], ["_class_name", "diffusionkit_convention", "num_train_timesteps"])
        self.assertEqual(SchedulerOptions.from_json(section), options)
        legacy = SchedulerOptions.from_json({"num_train_timesteps": 1000, "beta_start": 0.00085, "beta_end": 0.012, "unknown": 1})
        self.assertEqual((legacy.convention, legacy.class_name, legacy.prediction_type), ("diffusers", "DDIMScheduler", "epsilon"))
        with self.assertRaises(ValueError):
            SchedulerOptions.from_json({"thresholding": True})


if __name__ == "__main__":
    unittest.main()
