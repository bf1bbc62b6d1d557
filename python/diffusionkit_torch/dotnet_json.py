"""JSON text written byte for byte as .NET's System.Text.Json writes it.

DiffusionKit's files (``config.json``, ``training_state.json``, safetensors headers) are written by System.Text.Json
with its default encoder. Python's ``json`` module differs in small ways (``1.0`` vs ``1``, ``1e-05`` vs ``1E-05``,
which characters are escaped and in which case), so this module writes the .NET form, and files written by either
trainer are identical for the same content.
"""

from __future__ import annotations

import json
import math
from typing import Any


def read_format_object(path: str, format_name: str, error: type[Exception]) -> dict[str, Any]:
    """Reads a DiffusionKit JSON file (UTF-8, a BOM allowed) that must be an object whose ``format`` is
    ``format_name``; raises ``error`` naming the file otherwise."""
    try:
        with open(path, encoding="utf-8-sig") as stream:
            raw = json.load(stream)
    except (UnicodeDecodeError, json.JSONDecodeError) as ex:
        raise error(f"'{path}' is not valid UTF-8 JSON: {ex}") from ex
    if not isinstance(raw, dict) or raw.get("format") != format_name:
        raise error(f"'{path}': field 'format' must be '{format_name}'.")
    return raw

# JavaScriptEncoder.Default escapes these printable ASCII characters (HTML-sensitive ones and the JSON specials).
_ESCAPED_ASCII = set('"&\'+<>`')
_SHORT_ESCAPES = {"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}


def format_double(value: float) -> str:
    """A double as .NET formats it (``ToString("R")``, and System.Text.Json): shortest round-trip digits, ``E`` notation.

    Examples: ``1.0 -> "1"``, ``1e-05 -> "1E-05"``, ``1e16 -> "1E+16"``, ``0.1 -> "0.1"``, ``nan -> "NaN"``.
    """
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    # Python's repr and .NET agree on the shortest digits and on when to switch to exponent notation
    # (exponent < -4 or >= 16); only the spelling differs.
    text = repr(float(value))
    if "e" in text:
        mantissa, exponent = text.split("e")
        if mantissa.endswith(".0"):
            mantissa = mantissa[:-2]
        sign = exponent[0] if exponent[0] in "+-" else "+"
        digits = exponent.lstrip("+-").rjust(2, "0")
        return f"{mantissa}E{sign}{digits}"
    if text.endswith(".0"):
        text = text[:-2]
    return text


def escape_string(value: str) -> str:
    """A JSON string literal as System.Text.Json's default encoder writes it (non-ASCII as upper-case ``\\uXXXX``)."""
    out = ['"']
    for ch in value:
        code = ord(ch)
        if ch in _SHORT_ESCAPES:
            out.append(_SHORT_ESCAPES[ch])
        elif 0x20 <= code < 0x7F and ch not in _ESCAPED_ASCII:
            out.append(ch)
        elif code > 0xFFFF:
            code -= 0x10000
            out.append(f"\\u{0xD800 + (code >> 10):04X}\\u{0xDC00 + (code & 0x3FF):04X}")
        else:
            out.append(f"\\u{code:04X}")
    out.append('"')
    return "".join(out)


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"JSON cannot hold the non-finite number {value}.")
        return format_double(value)
    if isinstance(value, str):
        return escape_string(value)
    raise TypeError(f"Cannot write {type(value).__name__} as JSON.")


def dumps(value: Any, indented: bool = True) -> str:
    """Serialises dicts (in insertion order), lists, strings, numbers, booleans and None like System.Text.Json.

    ``indented=True`` is ``WriteIndented = true`` (two spaces, ``"key": value``); ``False`` is the compact form.
    """
    if not indented:
        if isinstance(value, dict):
            return "{" + ",".join(f"{escape_string(k)}:{dumps(v, False)}" for k, v in value.items()) + "}"
        if isinstance(value, (list, tuple)):
            return "[" + ",".join(dumps(v, False) for v in value) + "]"
        return _scalar(value)
    return _indented(value, 0)


def _indented(value: Any, depth: int) -> str:
    pad = "  " * (depth + 1)
    end = "  " * depth
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = [f"{pad}{escape_string(k)}: {_indented(v, depth + 1)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + end + "}"
    if isinstance(value, (list, tuple)):
        if not value:
            return "[]"
        items = [f"{pad}{_indented(v, depth + 1)}" for v in value]
        return "[\n" + ",\n".join(items) + "\n" + end + "]"
    return _scalar(value)
