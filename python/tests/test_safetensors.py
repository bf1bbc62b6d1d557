"""The safetensors reader/writer and DiffusionKit's content digest."""

import json
import os
import struct
import tempfile
import unittest
from pathlib import Path

import torch

import helpers  # noqa: F401  (puts the package on the path)
from diffusionkit_torch import safetensors_io as st

# Checked against .NET: SafeTensorsFile.Read accepts a file written here with this digest and refuses it once a value
# changes (golden value from the .NET DiffusionKit build of this repository).
GOLDEN_DIGEST = "v1:1bcaeeee72f71d18cf58b3ab6e3318966fb1ccb5dea1061d3b3ff4b537c28988"


def golden_tensors() -> dict:
    return {"a": torch.arange(6, dtype=torch.float32).reshape(2, 3), "b": torch.tensor([1, 2, 3]),
            "é/bf": torch.tensor([1.5, -2.0]).to(torch.bfloat16), "flag": torch.tensor([True, False]),
            "u": torch.arange(4, dtype=torch.uint8)}


class SafeTensorsTests(unittest.TestCase):
    def test_round_trip_keeps_every_dtype_shape_value_and_metadata(self) -> None:
        tensors = golden_tensors()
        tensors.update({"f64": torch.randn(3, 1, 2, dtype=torch.float64), "f16": torch.randn(5).half(),
                        "i32": torch.tensor([[7]], dtype=torch.int32), "scalar": torch.tensor(3.25), "empty": torch.zeros(0, 4)})
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "x.safetensors")
            st.write(path, tensors, {"format": "pt", "note": "ü"})
            read, metadata = st.read(path)
            self.assertEqual(metadata, {"format": "pt", "note": "ü"})
            self.assertEqual(set(read), set(tensors))
            for name, tensor in tensors.items():
                self.assertEqual(read[name].dtype, tensor.dtype, name)
                self.assertTrue(torch.equal(read[name], tensor), name)
            self.assertEqual([n for n in os.listdir(tmp)], ["x.safetensors"], "no temporary file is left")

    def test_layout_is_dotnets_sorted_compact_and_8_byte_aligned(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "x.safetensors")
            st.write(path, {"b": torch.ones(2), "a": torch.zeros(1, dtype=torch.int64)}, {"format": "pt"})
            blob = Path(path).read_bytes()
            (length,) = struct.unpack("<Q", blob[:8])
            self.assertEqual((8 + length) % 8, 0)
            header = blob[8:8 + length].decode().rstrip(" ")
            self.assertEqual(header, '{"__metadata__":{"format":"pt"},"a":{"dtype":"I64","shape":[1],"data_offsets":[0,8]},'
                                     '"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}')
            self.assertEqual(json.loads(header)["b"]["dtype"], "F32")

    def test_digest_matches_dotnet_and_detects_changes(self) -> None:
        tensors = golden_tensors()
        self.assertEqual(st.compute_digest(tensors), GOLDEN_DIGEST)
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "x.safetensors")
            st.write(path, tensors, {st.DIGEST_KEY: GOLDEN_DIGEST})
            st.read(path)
            tensors["a"][0, 0] = 0.5
            st.write(path, tensors, {st.DIGEST_KEY: GOLDEN_DIGEST})
            with self.assertRaisesRegex(st.SafeTensorsError, "digest"):
                st.read(path)

    def test_truncated_and_overlapping_files_are_refused(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "x.safetensors")
            st.write(path, {"a": torch.ones(4)})
            blob = Path(path).read_bytes()
            Path(path).write_bytes(blob[:-3])
            with self.assertRaises(st.SafeTensorsError):
                st.read(path)
            header = b'{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}'
            Path(path).write_bytes(struct.pack("<Q", len(header)) + header + b"\0" * 4)
            with self.assertRaisesRegex(st.SafeTensorsError, "overlaps"):
                st.read(path)


if __name__ == "__main__":
    unittest.main()
