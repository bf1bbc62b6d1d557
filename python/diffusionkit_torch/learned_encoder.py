"""The learned prompt encoder (``LearnedTextEncoder``): token embeddings, pooled, projected; trained with the U-Net.

Names and layout equal .NET's (``null_context``, ``token_embedding.weight``, ``projection.{0,2}.{weight,bias}``), and
so does the parameter order (``null_context`` first), which the training state's ``encoder/<i>`` indices follow.
"""

from __future__ import annotations

import math
from typing import Iterable, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from .tokenizer import tokenize
from .weight_init import initialize_weights

PAD_ID = 0
UNKNOWN_ID = 1
POOLINGS = ("sum-layernorm", "mean")


class LearnedTextEncoder(nn.Module):
    """Word i of the vocabulary has token id i + 2 (0 is padding, 1 unknown); an empty prompt gives ``null_context``."""

    kind = "learned"

    def __init__(self, vocabulary: Iterable[str], dimension: int, context_size: int | None = None,
                 generator: torch.Generator | None = None, pooling: str = "sum-layernorm") -> None:
        super().__init__()
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {', '.join(POOLINGS)}.")
        if dimension < 1:
            raise ValueError("dimension must be at least 1.")
        context = dimension if context_size is None else context_size
        words: list[str] = []
        ids: dict[str, int] = {}
        for word in vocabulary:
            if tokenize(word) != [word]:
                raise ValueError(f"Vocabulary entry '{word}' is not a single lowercase token.")
            if word in ids:
                raise ValueError(f"Vocabulary entry '{word}' appears twice.")
            ids[word] = len(words) + 2
            words.append(word)
        if not words:
            raise ValueError("The vocabulary is empty; give at least one word.")
        self.vocabulary = words
        self.dimension = dimension
        self.context_size = context
        self.pooling = pooling
        self._ids = ids
        self.null_context = nn.Parameter(torch.zeros(context))
        self.token_embedding = nn.Embedding(len(words) + 2, dimension)
        self.projection = nn.Sequential(nn.Linear(dimension, dimension), nn.GELU(), nn.Linear(dimension, context))
        # .NET's order of draws: the linear layers (WeightInitializer), the embedding ~ N(0, 1), the null context
        # uniform in ±1/sqrt(dimension).
        with torch.no_grad():
            initialize_weights(self, generator)
            self.token_embedding.weight.copy_(torch.randn(self.token_embedding.weight.shape, generator=generator))
            bound = 1.0 / math.sqrt(dimension)
            self.null_context.copy_(torch.rand(context, generator=generator).mul_(2 * bound).sub_(bound))

    @staticmethod
    def from_captions(captions: Iterable[str], dimension: int, context_size: int | None = None, seed: int = 0,
                      pooling: str = "sum-layernorm") -> "LearnedTextEncoder":
        """An encoder over every word of the captions (ordinal order), initialised from a generator seeded with ``seed``."""
        words = set()
        for caption in captions:
            words.update(tokenize(caption))
        if not words:
            raise ValueError("The captions hold no words; a learned encoder needs at least one.")
        generator = torch.Generator().manual_seed(seed)
        return LearnedTextEncoder(sorted(words, key=lambda w: w.encode("utf-16-be", "surrogatepass")), dimension,
                                  context_size, generator, pooling)

    def token_ids(self, prompt: str) -> list[int]:
        """The prompt's token ids (unknown words are ``UNKNOWN_ID``)."""
        return [self._ids.get(t, UNKNOWN_ID) for t in tokenize(prompt)]

    def tokens(self, prompts: Sequence[str]) -> torch.Tensor:
        """Token ids [B, L] int64, padded with ``PAD_ID`` to the longest prompt (at least 1)."""
        ids = [self.token_ids(p) for p in prompts]
        length = max([1] + [len(t) for t in ids])
        out = torch.zeros(len(prompts), length, dtype=torch.int64)
        for i, row in enumerate(ids):
            if row:
                out[i, :len(row)] = torch.tensor(row, dtype=torch.int64)
        return out

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """Contexts [B, context_size] from padded token ids; all-padding rows are the null context."""
        mask = tokens.ne(PAD_ID).unsqueeze(-1).to(torch.float32)
        summed = (self.token_embedding(tokens) * mask).sum(1)
        pooled = summed / mask.sum(1).clamp_min(1) if self.pooling == "mean" else summed
        projected = self.projection(pooled)
        if self.pooling == "sum-layernorm":
            projected = F.layer_norm(projected, (self.context_size,))
        empty = tokens.ne(PAD_ID).sum(1, keepdim=True).eq(0)
        return torch.where(empty, self.null_context.unsqueeze(0).expand(tokens.shape[0], self.context_size), projected)

    def encode(self, prompts: Sequence[str]) -> torch.Tensor:
        """Contexts [len(prompts), context_size] without gradients, on the CPU."""
        with torch.no_grad():
            device = self.null_context.device
            return self(self.tokens(prompts).to(device)).detach().cpu()

    def encode_unconditional(self) -> torch.Tensor:
        """The unconditional context [1, context_size]: the null context."""
        return self.encode([""])

    def unconditional_for_training(self) -> torch.Tensor:
        """The null context as a [1, context_size] row that carries gradients (what dropped captions train)."""
        return self.null_context.unsqueeze(0)

    def describe(self) -> dict:
        """The checkpoint's ``text_encoder`` section."""
        return {"type": self.kind, "pooling": self.pooling, "vocabulary": list(self.vocabulary), "stop_words": [],
                "dim": self.dimension}
