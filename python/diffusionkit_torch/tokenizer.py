"""DiffusionKit's word tokenizer (``WordTokenizer.Tokenize``), reproduced character for character.

Lower-case (.NET's invariant, one UTF-16 unit at a time), then runs of letters, digits and hyphens are words, with
leading and trailing hyphens trimmed. .NET looks at UTF-16 code units, so a character outside the Basic Multilingual
Plane (a surrogate pair, not a letter to .NET) separates words; so does any other non-letter, non-digit.
"""

from __future__ import annotations

import unicodedata


def _lower(ch: str) -> str:
    """.NET's ``ToLowerInvariant`` of one character: the simple lower-case mapping, leaving U+0130 (İ) unchanged."""
    if ch == "\u0130":
        return ch
    lowered = ch.lower()
    return lowered if len(lowered) == 1 else ch


def _is_word_char(ch: str) -> bool:
    """``char.IsLetterOrDigit(ch) || ch == '-'`` for a BMP character; characters beyond the BMP are separators."""
    if ch == "-":
        return True
    if ord(ch) > 0xFFFF:
        return False
    category = unicodedata.category(ch)
    return category.startswith("L") or category == "Nd"


def tokenize(text: str) -> list[str]:
    """The words of ``text``: lower-case runs of letters, digits and inner hyphens, in order."""
    tokens: list[str] = []
    current: list[str] = []
    for ch in text:
        lowered = _lower(ch)
        if _is_word_char(lowered):
            current.append(lowered)
            continue
        if current:
            token = "".join(current).strip("-")
            if token:
                tokens.append(token)
            current = []
    if current:
        token = "".join(current).strip("-")
        if token:
            tokens.append(token)
    return tokens
