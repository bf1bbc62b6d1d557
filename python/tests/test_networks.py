"""Both networks: the attention U-Net trains, saves, loads and resumes like the context U-Net; config.json's model.type."""

import json
import os
import tempfile
import unittest
from pathlib import Path

import torch

from helpers import TINY, run_module, run_trainer, state
from diffusionkit_torch import checkpoint, dotnet_json, networks
from diffusionkit_torch.attention_unet import AttentionUnet
from diffusionkit_torch.bag_of_words import BagOfWordsEncoder
from diffusionkit_torch.model import ContextUnet, ModelOptions
from diffusionkit_torch.scheduler_config import SchedulerOptions

ATTENTION = TINY + ["--model", "attention-unet"]


class NetworkTests(unittest.TestCase):
    def test_names_types_and_seeded_construction(self) -> None:
        self.assertEqual(networks.NAMES, ("context-unet", "attention-unet"))
        self.assertEqual([networks.type_name(n) for n in networks.NAMES], ["ContextUnet", "AttentionUnet"])
        self.assertEqual([networks.from_type_name(t) for t in ("ContextUnet", "AttentionUnet", "TinyConvNet", None)],
                         ["context-unet", "attention-unet", None, None])
        options = ModelOptions(3, 8, 5, 16, network="attention-unet")
        created, reference = networks.create(options, seed=3), AttentionUnet.seeded(options, 3)
        self.assertIsInstance(created, AttentionUnet)
        self.assertEqual(list(created.state_dict()), list(reference.state_dict()))
        self.assertTrue(all(torch.equal(a, b) for a, b in zip(created.state_dict().values(), reference.state_dict().values())))
        self.assertIsInstance(networks.create(ModelOptions(3, 8, 5, 16), seed=3), ContextUnet)
        with self.assertRaisesRegex(ValueError, "model must be one of context-unet, attention-unet"):
            ModelOptions(3, 8, 5, 16, network="unet").validate()

    def test_an_attention_unet_checkpoint_round_trips_with_the_same_outputs(self) -> None:
        encoder = BagOfWordsEncoder.from_captions(["red circle", "blue square"])
        options = ModelOptions(3, 8, encoder.context_size, 16, network="attention-unet")
        model = AttentionUnet.seeded(options, 0)
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
        generator = torch.Generator().manual_seed(1)
        x = torch.randn((2, 3, 16, 16), generator=generator)
        t = torch.tensor([0.1, 0.9])
        c = encoder.encode(["red circle", "blue square"])
        for _ in range(2):  # trained weights, not the seeded ones
            optimizer.zero_grad()
            model(x, t, c).square().mean().backward()
            optimizer.step()
        model.eval()
        with torch.no_grad():
            expected = model(x, t, c)
        scheduler = SchedulerOptions().for_training("v_prediction", "linear")
        config = checkpoint.describe(options, scheduler, encoder, {"steps": "2"}, 1.0)
        self.assertEqual(config["model"], {"type": "AttentionUnet", "in_channels": 3, "n_feat": 8, "n_cfeat": encoder.context_size, "height": 16})
        with tempfile.TemporaryDirectory() as tmp:
            checkpoint.save(tmp, config, model.state_dict(), None)
            loaded_config, loaded, _ = checkpoint.load(tmp)
            self.assertEqual(loaded_config.model, options)
            self.assertIsInstance(loaded, AttentionUnet)
            with torch.no_grad():
                self.assertTrue(torch.equal(loaded(x, t, c), expected))

    def test_the_trainer_writes_attention_unet_checkpoints_that_load(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            done = run_trainer(ATTENTION + ["--steps", "2", "--ema", "0.9", "--out", tmp])
            self.assertIn("model: AttentionUnet n_feat 8", done.stdout)
            folder = os.path.join(tmp, "step-0000002")
            config = json.loads(Path(folder, "config.json").read_text())
            self.assertEqual(config["model"]["type"], "AttentionUnet")
            info = json.loads(Path(folder, "training_state.json").read_text())
            self.assertEqual(info["adam_parameters"][:2], ["conv_in.weight", "conv_in.bias"])
            self.assertEqual(info["ema_tensors"], info["adam_parameters"], "no buffers: the EMA covers the parameters")
            _, model, _ = checkpoint.load(tmp)
            self.assertIsInstance(model, AttentionUnet)
            saved = state(folder)
            published = model.state_dict()
            self.assertTrue(all(torch.equal(published[n], saved[f"ema/{i}"]) for i, n in enumerate(info["ema_tensors"])),
                            "model.safetensors holds the EMA weights")

    def test_a_resumed_attention_unet_run_is_bit_identical_to_an_uninterrupted_one(self) -> None:
        options = ATTENTION + ["--steps", "6", "--ema", "0.9", "--keep", "5"]
        with tempfile.TemporaryDirectory() as tmp:
            straight, stopped, resumed = (os.path.join(tmp, n) for n in ("straight", "stopped", "resumed"))
            run_trainer(options + ["--out", straight])
            run_trainer(options + ["--out", stopped, "--save-every", "4"])
            # No --model: the network comes from the checkpoint. Steps 5 and 6 cross an epoch boundary (5 batches an epoch).
            run_trainer(["--data", "shapes", "--threads", "1", "--steps", "6", "--resume", os.path.join(stopped, "step-0000004"),
                         "--out", resumed])
            a, b = state(os.path.join(straight, "step-0000006")), state(os.path.join(resumed, "step-0000006"))
            self.assertEqual(set(a), set(b))
            self.assertEqual([n for n in a if not torch.equal(a[n], b[n])], [])
            self.assertEqual(Path(straight, "step-0000006", "model.safetensors").read_bytes(),
                             Path(resumed, "step-0000006", "model.safetensors").read_bytes())
            done = run_module("diffusionkit_torch.train", ["--data", "shapes", "--threads", "1", "--steps", "6", "--model", "context-unet",
                                                           "--resume", stopped, "--out", os.path.join(tmp, "refused")])
            self.assertEqual(done.returncode, 2, done.stderr)
            self.assertIn("--model context-unet does not match the checkpoint", done.stderr)


class ModelTypeTests(unittest.TestCase):
    def write_config(self, folder: str, model: object) -> None:
        encoder = BagOfWordsEncoder.from_captions(["red circle"])
        config = checkpoint.describe(ModelOptions(3, 8, encoder.context_size, 16), SchedulerOptions().for_training("epsilon", "linear"),
                                     encoder, {}, None)
        config["model"] = model
        Path(folder, "config.json").write_text(dotnet_json.dumps(config), encoding="utf-8")

    def test_both_types_are_read_with_the_same_fields(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            for type_, network in (("ContextUnet", "context-unet"), ("AttentionUnet", "attention-unet")):
                self.write_config(tmp, {"type": type_, "in_channels": 1, "n_feat": 16, "n_cfeat": 2, "height": 28})
                self.assertEqual(checkpoint.read_config(tmp).model, ModelOptions(1, 16, 2, 28, network=network))
                self.write_config(tmp, {"type": type_, "in_channels": 1, "n_feat": 12, "n_cfeat": 2, "height": 28})
                with self.assertRaisesRegex(checkpoint.CheckpointError, r"field 'model' is invalid \(n_feat must be a positive multiple of 8"):
                    checkpoint.read_config(tmp)

    def test_other_types_are_refused_naming_the_field_and_the_supported_types(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            self.write_config(tmp, {"type": "TinyConvNet", "in_channels": 3, "n_feat": 8, "n_cfeat": 2, "height": 16})
            with self.assertRaisesRegex(checkpoint.CheckpointError, "field 'model.type' is 'TinyConvNet'.*supported types: ContextUnet, AttentionUnet"):
                checkpoint.read_config(tmp)
            self.write_config(tmp, {"in_channels": 3, "n_feat": 8, "n_cfeat": 2, "height": 16})
            with self.assertRaisesRegex(checkpoint.CheckpointError, "field 'model.type' is missing"):
                checkpoint.read_config(tmp)
            self.write_config(tmp, "ContextUnet")
            with self.assertRaisesRegex(checkpoint.CheckpointError, "field 'model' must be an object"):
                checkpoint.read_config(tmp)


if __name__ == "__main__":
    unittest.main()
