"""Values captured from the .NET build (TorchSharp 0.107, libtorch 2.10) that this package must reproduce.

The golden values were printed by a small .NET console app referencing DiffusionKit (see the report in README.md,
"Checked against .NET"). They pin: the generator's draws, .NET's System.Random, the shapes data set, the tokenizer,
JSON number formatting, and the seeded initial weights of the U-Net and the learned encoder.
"""

import hashlib
import os
import unittest

import torch

import helpers  # noqa: F401
from diffusionkit_torch import dotnet_json, safetensors_io
from diffusionkit_torch.dotnet_random import DotNetRandom
from diffusionkit_torch.learned_encoder import LearnedTextEncoder
from diffusionkit_torch.model import ContextUnet, ModelOptions, dotnet_state_order
from diffusionkit_torch.shapes import ShapesDataset
from diffusionkit_torch.tokenizer import tokenize
from diffusionkit_torch.training_data import draw_augmentation_seed

FIXTURE = os.path.join(helpers.PYTHON_DIR, "..", "tests", "DiffusionKit.Tests", "Fixtures", "pytorch_contextunet")


def sha(tensor: torch.Tensor) -> str:
    return hashlib.sha256(tensor.detach().contiguous().numpy().tobytes()).hexdigest()


class GeneratorTests(unittest.TestCase):
    def test_torch_draws_what_torchsharp_draws_for_the_same_seed(self) -> None:
        g = torch.Generator().manual_seed(0)
        self.assertEqual(sha(g.get_state()), "1ccf17250133dec5e96478acd63e13d728d0dbbabb30389415a302c6f872f81f")
        self.assertEqual(torch.randperm(10, generator=g).tolist(), [4, 1, 7, 5, 3, 9, 0, 8, 6, 2])
        self.assertEqual(torch.randint(1, 501, (5,), generator=g).tolist(), [184, 102, 367, 257, 400])
        self.assertEqual([f"{v:.7g}" for v in torch.randn(5, generator=g).tolist()],
                         ["-0.7830641", "1.062171", "-0.2613142", "1.0667", "0.4158912"])
        self.assertEqual([f"{v:.7g}" for v in torch.rand(5, 1, generator=g).flatten().tolist()],
                         ["0.9527381", "0.03616482", "0.185231", "0.3734174", "0.3051"])
        g = torch.Generator().manual_seed(0)
        torch.randperm(100, generator=g)
        torch.randn(20, generator=g)
        self.assertEqual(sha(torch.randn(50, 3, 16, 16, generator=g)), "20fd1241171b6d2f04f4af48a5b163d6d3e6de5209744b7df1ab4d3171fd12df")
        self.assertEqual(sha(torch.rand(1000, generator=g)), "5b5402b4a75879c61f93afc42f574afbea2c602113540c2cd1f7866d2ab59aba")

    def test_the_augmentation_seed_is_libtorch_2_10s_64_bit_draw(self) -> None:
        # TorchSharp: randint(0, int.MaxValue, [3]) with seed 0 gives 818069386, ...; torch 1.13's randint would give 209652397.
        self.assertEqual(draw_augmentation_seed(torch.Generator().manual_seed(0)), 818069386)


class DataAndTextTests(unittest.TestCase):
    def test_dotnet_random(self) -> None:
        r = DotNetRandom(0)
        self.assertEqual([r.next(1000) for _ in range(5)], [726, 817, 768, 558, 206])
        self.assertEqual(r.next_double(), 0.5588847946184151)

    def test_shapes_are_the_dotnet_data_sets_pixels_and_captions(self) -> None:
        data = ShapesDataset(10, 16, 0)
        self.assertEqual(hashlib.sha256(data.images.tobytes()).hexdigest(), "bcb496d8d4773c9d3d5803db431c7a2c77f0ac99c2a10525c028f4bdf24b444d")
        self.assertEqual(data.captions[:5], ["a small cyan cross", "a small green triangle", "a small red triangle",
                                             "a large red triangle", "a large magenta circle"])
        data = ShapesDataset(500, 32, 3)
        self.assertEqual(hashlib.sha256(data.images.tobytes()).hexdigest(), "b0724f8e5e96f16b47779abde15016c457582db22268c3ca7f0b0b95c267e352")

    def test_tokenizer(self) -> None:
        self.assertEqual(tokenize("A Red-Circle, blue  square!"), ["a", "red-circle", "blue", "square"])
        self.assertEqual(tokenize("--x-- İstanbul ÉCOLE 3d x²  𝐀bc naïve"), ["x", "İstanbul", "école", "3d", "x", "bc", "naïve"])
        self.assertEqual(tokenize("hero:0.6 dog"), ["hero", "0", "6", "dog"])

    def test_json_is_written_as_system_text_json_writes_it(self) -> None:
        text = dotnet_json.dumps({"s": "a\"b\\c\n\t<>&'+`é\x01\x7f\U0001F600 ü", "d1": 1.0, "d2": 1e-5, "d3": 1e15, "d4": 0.1 + 0.2,
                                  "d7": -0.0, "arr": [], "o": {}})
        self.assertEqual(text, '{\n  "s": "a\\u0022b\\\\c\\n\\t\\u003C\\u003E\\u0026\\u0027\\u002B\\u0060\\u00E9\\u0001\\u007F\\uD83D\\uDE00 \\u00FC",\n'
                               '  "d1": 1,\n  "d2": 1E-05,\n  "d3": 1000000000000000,\n  "d4": 0.30000000000000004,\n'
                               '  "d7": -0,\n  "arr": [],\n  "o": {}\n}')
        self.assertEqual([dotnet_json.format_double(v) for v in (1e16, 1.5e300, 5e-324, 0.995, 2e-3)],
                         ["1E+16", "1.5E+300", "5E-324", "0.995", "0.002"])


class ModelTests(unittest.TestCase):
    def test_seeded_initial_weights_equal_dotnets_bit_for_bit(self) -> None:
        model = ContextUnet.seeded(ModelOptions(3, 16, 12, 16), 0)
        state = model.state_dict()
        combined = hashlib.sha256("".join(sha(state[n]) for n in dotnet_state_order(model)).encode()).hexdigest()
        self.assertEqual(combined, "b21bdda252f566db9287bfdaef028e2e2ffe519b4d9b78324df2001465304caf")
        encoder = LearnedTextEncoder.from_captions(["a red circle", "blue square"], 8, 12, seed=0)
        names = [n for n, _ in encoder.named_parameters()]
        self.assertEqual(names, ["null_context", "token_embedding.weight", "projection.0.weight", "projection.0.bias",
                                 "projection.2.weight", "projection.2.bias"])
        combined = hashlib.sha256("".join(sha(encoder.state_dict()[n]) for n in names).encode()).hexdigest()
        self.assertEqual(combined, "fb684b20671a1c02e3cb65eee34dcdffcfff1d19d1f00c87b34d75a4b026aa4b")
        self.assertEqual([f"{v:.6g}" for v in encoder.encode(["a red circle"]).flatten()[:3].tolist()], ["-0.395003", "1.04335", "-0.270908"])

    @unittest.skipUnless(os.path.isdir(FIXTURE), "the repository's PyTorch parity fixture is not here")
    def test_the_repositorys_pytorch_fixture_predicts_the_same(self) -> None:
        weights, _ = safetensors_io.read(os.path.join(FIXTURE, "weights.safetensors"))
        io, _ = safetensors_io.read(os.path.join(FIXTURE, "io.safetensors"))
        model = ContextUnet(ModelOptions(3, 16, 5, 16))
        model.load_state_dict(weights)
        model.eval()
        with torch.no_grad():
            for context, expected in ((io["c"], io["eps"]), (None, io["eps_uncond"])):
                eps = model(io["x"], io["t"], context)
                self.assertLess(float((eps - expected).norm() / expected.norm()), 1e-5)


if __name__ == "__main__":
    unittest.main()
