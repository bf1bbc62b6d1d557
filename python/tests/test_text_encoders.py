"""The bag-of-words and learned prompt encoders, and a training step with the learned encoder."""

import json
import os
import tempfile
import unittest
from pathlib import Path

import torch

from helpers import TINY, run_trainer, state
from diffusionkit_torch import checkpoint, safetensors_io
from diffusionkit_torch.bag_of_words import BagOfWordsEncoder
from diffusionkit_torch.learned_encoder import LearnedTextEncoder


class BagOfWordsTests(unittest.TestCase):
    def test_vocabulary_from_captions_and_encoding(self) -> None:
        encoder = BagOfWordsEncoder.from_captions(["A red circle", "the Blue square", "red-ish dog"])
        self.assertEqual(encoder.vocabulary, ["blue", "circle", "dog", "red", "red-ish", "square"])
        rows = encoder.encode(["a red circle", "square:0.5 blue", ""])
        self.assertEqual(rows[0].tolist(), [0, 1, 0, 1, 0, 0])
        self.assertEqual(rows[1].tolist(), [1, 0, 0, 0, 0, 0.5])
        self.assertEqual(rows[2].tolist(), [0] * 6)
        with self.assertRaisesRegex(ValueError, "Unknown word 'cat'"):
            encoder.encode(["a cat"])
        self.assertEqual(encoder.describe()["stop_words"], ["a", "an", "of", "the", "with"])


class LearnedEncoderTests(unittest.TestCase):
    def test_token_ids_padding_and_null_context(self) -> None:
        encoder = LearnedTextEncoder(["blue", "red"], 4, 6, torch.Generator().manual_seed(0))
        self.assertEqual(encoder.token_ids("Red zebra blue"), [3, 1, 2])
        tokens = encoder.tokens(["red", "", "red blue"])
        self.assertEqual(tokens.tolist(), [[3, 0], [0, 0], [3, 2]])
        contexts = encoder.encode(["red", "", "red blue"])
        self.assertTrue(torch.equal(contexts[1], encoder.null_context.detach()))
        self.assertAlmostEqual(float(contexts[0].mean()), 0.0, places=5, msg="sum-layernorm pooling normalises")

    def test_training_step_trains_the_encoder_and_saves_it(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            run_trainer(TINY + ["--steps", "1", "--out", tmp, "--encoder", "learned", "--encoder-dim", "8", "--dropout", "0.5"])
            folder = os.path.join(tmp, "step-0000001")
            config = json.loads(Path(folder, "config.json").read_text())
            self.assertEqual(config["text_encoder"]["type"], "learned")
            self.assertEqual(config["text_encoder"]["pooling"], "sum-layernorm")
            self.assertEqual(config["text_encoder"]["dim"], 8)
            initial = LearnedTextEncoder.from_captions(config["text_encoder"]["vocabulary"], 8, config["model"]["n_cfeat"], seed=0)
            saved = state(folder)
            live = [saved[f"encoder/{i}"] for i in range(6)]
            moved = [not torch.equal(a, b.detach()) for a, b in zip(live, initial.parameters())]
            self.assertTrue(all(moved), "every encoder tensor took the step (the null context through dropped captions)")
            weights, metadata = safetensors_io.read(os.path.join(folder, "text_encoder.safetensors"))
            self.assertIn("diffusionkit.sha256", metadata)
            self.assertEqual(set(weights), {n for n, _ in initial.named_parameters()})
            _, _, encoder = checkpoint.load(tmp)
            self.assertEqual(encoder.encode(["a small red circle"]).shape, (1, config["model"]["n_cfeat"]))


if __name__ == "__main__":
    unittest.main()
