"""Reads and writes safetensors files, with DiffusionKit's ``diffusionkit.sha256`` content digest.

Written by hand because the ``safetensors`` package is not available here (Debian 12 ships no python3-safetensors and
this project installs nothing from PyPI). The format: an 8-byte little-endian header length, a JSON header mapping
each tensor name to its dtype, shape and byte range (plus optional ``__metadata__`` strings), then the raw
little-endian tensor bytes. Files are written exactly as .NET's ``SafeTensorsFile.Write`` writes them: tensors in
ordinal name order, compact JSON, the header padded with spaces to 8 bytes, written to a hidden temporary file,
flushed to disk and renamed over the target.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
import uuid
from typing import Mapping

import torch

from . import dotnet_json

METADATA_KEY = "__metadata__"
DIGEST_KEY = "diffusionkit.sha256"
MAX_HEADER_BYTES = 100_000_000

_DTYPES: dict[str, torch.dtype] = {
    "F64": torch.float64,
    "F32": torch.float32,
    "F16": torch.float16,
    "BF16": torch.bfloat16,
    "I64": torch.int64,
    "I32": torch.int32,
    "I16": torch.int16,
    "I8": torch.int8,
    "U8": torch.uint8,
    "BOOL": torch.bool,
}
_NAMES = {dtype: name for name, dtype in _DTYPES.items()}


class SafeTensorsError(ValueError):
    """A file is not a valid safetensors file (or fails its digest); the message names the file and the reason."""


def ordinal_key(name: str) -> bytes:
    """Sort key equal to .NET's ``StringComparer.Ordinal`` (UTF-16 code units), which .NET uses to order tensors."""
    return name.encode("utf-16-be", "surrogatepass")


def tensor_bytes(tensor: torch.Tensor) -> bytes:
    """The tensor's little-endian bytes in C order (bfloat16 via an int16 view, since numpy has no bfloat16)."""
    cpu = tensor.detach().cpu().contiguous()
    if cpu.dtype == torch.bfloat16:
        cpu = cpu.view(torch.int16)
    return cpu.numpy().tobytes()


def dtype_name(tensor: torch.Tensor) -> str:
    """The safetensors dtype name of a tensor; raises for dtypes the format (as DiffusionKit uses it) does not hold."""
    try:
        return _NAMES[tensor.dtype]
    except KeyError:
        raise ValueError(f"dtype {tensor.dtype} cannot be stored; use one of {', '.join(_DTYPES)}.") from None


def compute_digest(tensors: Mapping[str, torch.Tensor]) -> str:
    """DiffusionKit's content digest (``SafeTensorsDigest``): SHA-256 over each tensor's name, dtype, shape and bytes.

    Per tensor: SHA-256 of (len+UTF-8 name, len+dtype name, rank, each dim as int64 LE, data); then SHA-256 over
    (len+name, tensor hash) in ordinal name order; written as ``v1:`` and lower-case hex.
    """
    def with_length(data: bytes) -> bytes:
        return struct.pack("<q", len(data)) + data

    per_tensor = {}
    for name, tensor in tensors.items():
        shape = list(tensor.shape)
        h = hashlib.sha256()
        h.update(with_length(name.encode("utf-8")))
        h.update(with_length(dtype_name(tensor).encode("utf-8")))
        h.update(struct.pack("<q", len(shape)))
        for dim in shape:
            h.update(struct.pack("<q", dim))
        h.update(tensor_bytes(tensor))
        per_tensor[name] = h.digest()
    total = hashlib.sha256()
    for name in sorted(per_tensor, key=ordinal_key):
        total.update(with_length(name.encode("utf-8")))
        total.update(per_tensor[name])
    return "v1:" + total.hexdigest()


def write(path: str, tensors: Mapping[str, torch.Tensor], metadata: Mapping[str, str] | None = None) -> None:
    """Writes ``tensors`` (and string metadata) to ``path`` atomically: a hidden temporary file, fsync, rename."""
    names = sorted(tensors, key=ordinal_key)
    header: dict = {}
    if metadata:
        header[METADATA_KEY] = {key: metadata[key] for key in sorted(metadata, key=ordinal_key)}
    chunks = []
    offset = 0
    for name in names:
        if not name or name == METADATA_KEY:
            raise ValueError(f"Tensor name '{name}' is empty or reserved.")
        tensor = tensors[name]
        data = tensor_bytes(tensor)
        header[name] = {"dtype": dtype_name(tensor), "shape": [int(d) for d in tensor.shape],
                        "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    encoded = dotnet_json.dumps(header, indented=False).encode("utf-8")
    encoded += b" " * (-len(encoded) % 8)
    full = os.path.abspath(path)
    temporary = os.path.join(os.path.dirname(full), f".{os.path.basename(full)}.{uuid.uuid4().hex}.tmp")
    try:
        with open(temporary, "xb") as stream:
            stream.write(struct.pack("<Q", len(encoded)))
            stream.write(encoded)
            for data in chunks:
                stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, full)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise


def read(path: str) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """Reads every tensor of a safetensors file (CPU tensors) and its metadata.

    Checks the header length, that the header is a JSON object, that every tensor's byte range has the size its dtype
    and shape need and that the ranges tile the data section; verifies ``diffusionkit.sha256`` when present.
    """
    with open(path, "rb") as stream:
        blob = stream.read()
    if len(blob) < 8:
        raise SafeTensorsError(f"'{path}' is not a valid safetensors file: it is shorter than the 8-byte header length.")
    (length,) = struct.unpack("<Q", blob[:8])
    if length > len(blob) - 8 or length > MAX_HEADER_BYTES:
        raise SafeTensorsError(f"'{path}' is not a valid safetensors file: the header claims {length} bytes.")
    try:
        header = json.loads(blob[8:8 + length].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as ex:
        raise SafeTensorsError(f"'{path}' is not a valid safetensors file: the header is not JSON ({ex}).") from ex
    if not isinstance(header, dict):
        raise SafeTensorsError(f"'{path}' is not a valid safetensors file: the header is not a JSON object.")
    data = memoryview(blob)[8 + length:]
    metadata = header.pop(METADATA_KEY, None) or {}
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise SafeTensorsError(f"'{path}': '{METADATA_KEY}' must be an object of strings.")
    entries = []
    for name, entry in header.items():
        try:
            dtype = _DTYPES[entry["dtype"]]
            shape = [int(d) for d in entry["shape"]]
            begin, end = (int(v) for v in entry["data_offsets"])
        except (KeyError, TypeError, ValueError) as ex:
            raise SafeTensorsError(f"'{path}': tensor '{name}' has a bad header entry ({ex}).") from ex
        size = torch.empty((), dtype=dtype).element_size()
        count = 1
        for dim in shape:
            if dim < 0:
                raise SafeTensorsError(f"'{path}': tensor '{name}' has a negative dimension.")
            count *= dim
        if end - begin != count * size:
            raise SafeTensorsError(f"'{path}': tensor '{name}' needs {count * size} bytes but spans {end - begin}.")
        entries.append((begin, end, name, dtype, shape))
    expected = 0
    for begin, end, name, _, _ in sorted(entries):
        if begin != expected:
            raise SafeTensorsError(f"'{path}': tensor '{name}' overlaps or leaves a gap (starts at {begin}, expected {expected}).")
        expected = end
    if expected != len(data):
        raise SafeTensorsError(f"'{path}': the tensors cover {expected} bytes but the data section is {len(data)}.")
    tensors: dict[str, torch.Tensor] = {}
    for begin, end, name, dtype, shape in entries:
        raw = bytearray(data[begin:end])
        flat = torch.frombuffer(raw, dtype=dtype) if raw else torch.empty(0, dtype=dtype)
        tensors[name] = flat.reshape(shape)
    expected_digest = metadata.get(DIGEST_KEY)
    if expected_digest is not None and compute_digest(tensors) != expected_digest:
        raise SafeTensorsError(f"'{path}': its content does not match its '{DIGEST_KEY}' digest.")
    return tensors, dict(metadata)
