"""The bag-of-words prompt encoder (``BagOfWordsEncoder``): one context slot per vocabulary word, fixed, no weights."""

from __future__ import annotations

import re
from typing import Iterable, Sequence

import torch

from .tokenizer import tokenize

DEFAULT_STOP_WORDS = ("a", "an", "the", "of", "with")

# float.TryParse(NumberStyles.Float, InvariantCulture): optional surrounding white space, sign, digits with an optional
# point, optional exponent; also the invariant culture's infinity and NaN symbols (case-insensitive).
_FLOAT = re.compile(r"\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*")
_SPECIAL = re.compile(r"\s*(?:[+-]?(?:infinity|\u221e)|nan)\s*", re.IGNORECASE)
# .NET's String.Split(null) separators: char.IsWhiteSpace.
_WHITESPACE = re.compile("[\t\n\v\f\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+")


class BagOfWordsEncoder:
    """Encodes a prompt as a 0/1 vector over a vocabulary (``word:weight`` sets a weight); stop words are ignored."""

    kind = "bag-of-words"

    def __init__(self, vocabulary: Iterable[str], stop_words: Iterable[str] | None = None) -> None:
        stop = set()
        for word in DEFAULT_STOP_WORDS if stop_words is None else stop_words:
            tokens = tokenize(word)
            if len(tokens) != 1:
                raise ValueError(f"Stop word '{word}' is not a single token.")
            stop.add(tokens[0])
        words: list[str] = []
        index: dict[str, int] = {}
        for word in vocabulary:
            if tokenize(word) != [word]:
                raise ValueError(f"Vocabulary entry '{word}' is not a single lowercase token (letters, digits and inner hyphens).")
            if word in stop:
                raise ValueError(f"Vocabulary entry '{word}' is a stop word and could never be encoded.")
            if word in index:
                raise ValueError(f"Vocabulary entry '{word}' appears twice.")
            index[word] = len(words)
            words.append(word)
        if not words:
            raise ValueError("The vocabulary is empty; give at least one word.")
        self.vocabulary = words
        self.stop_words = stop
        self._index = index

    @staticmethod
    def from_captions(captions: Iterable[str], stop_words: Iterable[str] | None = None) -> "BagOfWordsEncoder":
        """The encoder whose vocabulary is every non-stop word of the captions, in ordinal order (``FromCaptions``)."""
        stop = list(DEFAULT_STOP_WORDS if stop_words is None else stop_words)
        stop_set = {w.lower() for w in stop}
        words = set()
        for caption in captions:
            words.update(t for t in tokenize(caption) if t not in stop_set)
        if not words:
            raise ValueError(f"The captions hold no words besides the stop words ({', '.join(sorted(stop_set))}).")
        return BagOfWordsEncoder(sorted(words, key=lambda w: w.encode("utf-16-be", "surrogatepass")), stop)

    @property
    def context_size(self) -> int:
        """The context vector's length: the vocabulary's size."""
        return len(self.vocabulary)

    def encode(self, prompts: Sequence[str]) -> torch.Tensor:
        """Contexts [len(prompts), context_size] float32; the empty prompt gives zeros (the unconditional context)."""
        rows = torch.zeros(len(prompts), self.context_size, dtype=torch.float32)
        for i, prompt in enumerate(prompts):
            self._encode_into(prompt, rows[i])
        return rows

    def encode_unconditional(self) -> torch.Tensor:
        """The unconditional context [1, context_size]: the empty prompt's (zeros)."""
        return self.encode([""])

    def describe(self) -> dict:
        """The checkpoint's ``text_encoder`` section (as ``DiffusionCheckpoint.Describe`` writes it)."""
        return {"type": self.kind, "vocabulary": list(self.vocabulary),
                "stop_words": sorted(self.stop_words, key=lambda w: w.encode("utf-16-be", "surrogatepass"))}

    def _encode_into(self, prompt: str, row: torch.Tensor) -> None:
        weighted: set[int] = set()
        plain: set[int] = set()
        for item in (part for part in _WHITESPACE.split(prompt) if part):
            colon = item.rfind(":")
            number = item[colon + 1:] if 0 < colon < len(item) - 1 else None
            if number is not None and (_FLOAT.fullmatch(number) or _SPECIAL.fullmatch(number)):
                tokens = tokenize(item[:colon])
                if len(tokens) != 1:
                    raise ValueError(f"'{item}' in prompt '{prompt}' must weight exactly one word, like 'hero:0.6'.")
                weight = float(number.strip().replace("\u221e", "inf"))
                if weight != weight or weight in (float("inf"), float("-inf")):
                    raise ValueError(f"Weight '{item}' in prompt '{prompt}' is not finite.")
                at = self._lookup(tokens[0], prompt)
                if at in weighted or at in plain:
                    raise ValueError(f"Word '{tokens[0]}' is weighted in prompt '{prompt}' but also appears elsewhere in it.")
                weighted.add(at)
                row[at] = weight
                continue
            for token in tokenize(item):
                if token in self.stop_words:
                    continue
                at = self._lookup(token, prompt)
                if at in weighted:
                    raise ValueError(f"Word '{token}' is weighted in prompt '{prompt}' but also appears elsewhere in it.")
                plain.add(at)
                row[at] = 1.0

    def _lookup(self, token: str, prompt: str) -> int:
        try:
            return self._index[token]
        except KeyError:
            raise ValueError(f"Unknown word '{token}' in prompt '{prompt}'. The vocabulary is: {', '.join(self.vocabulary)}.") from None
