"""A port of .NET's seeded ``System.Random`` (the legacy subtractive generator behind ``new Random(seed)``).

The built-in shapes data set and the image folder's augmentation draw from ``new Random(seed)``; this class gives the
same numbers, so ``--data shapes`` produces the same images as .NET and augmented batches match.
"""

from __future__ import annotations

_MBIG = 2147483647
_MSEED = 161803398
_INT_MAX = 2147483647


class DotNetRandom:
    """``new System.Random(seed)``: Knuth's subtractive generator as .NET seeds and advances it."""

    def __init__(self, seed: int) -> None:
        seed = to_int32(seed)
        subtraction = _INT_MAX if seed == -2147483648 else abs(seed)
        mj = _MSEED - subtraction
        seeds = [0] * 56
        seeds[55] = mj
        mk = 1
        ii = 0
        for _ in range(1, 55):
            ii += 21
            if ii >= 55:
                ii -= 55
            seeds[ii] = mk
            mk = mj - mk
            if mk < 0:
                mk += _MBIG
            mj = seeds[ii]
        for _ in range(1, 5):
            for i in range(1, 56):
                n = i + 30
                if n >= 55:
                    n -= 55
                seeds[i] = to_int32(seeds[i] - seeds[1 + n])
                if seeds[i] < 0:
                    seeds[i] += _MBIG
        self._seeds = seeds
        self._inext = 0
        self._inextp = 21

    def _internal_sample(self) -> int:
        inext = self._inext + 1
        if inext >= 56:
            inext = 1
        inextp = self._inextp + 1
        if inextp >= 56:
            inextp = 1
        value = self._seeds[inext] - self._seeds[inextp]
        if value == _MBIG:
            value -= 1
        if value < 0:
            value += _MBIG
        self._seeds[inext] = value
        self._inext = inext
        self._inextp = inextp
        return value

    def next_double(self) -> float:
        """``NextDouble()``: a double in [0, 1)."""
        return self._internal_sample() * (1.0 / _MBIG)

    def next(self, max_value: int) -> int:
        """``Next(maxValue)``: an integer in [0, max_value)."""
        if max_value < 0:
            raise ValueError("max_value must not be negative.")
        return int(self.next_double() * max_value)

    def next_range(self, min_value: int, max_value: int) -> int:
        """``Next(minValue, maxValue)``: an integer in [min_value, max_value) (ranges up to 2^31 - 1)."""
        span = max_value - min_value
        if span < 0 or span > _INT_MAX:
            raise ValueError("Only ranges 0 .. 2^31 - 1 wide are supported.")
        return int(self.next_double() * span) + min_value


def to_int32(value: int) -> int:
    """Wraps like C#'s unchecked int arithmetic."""
    value &= 0xFFFFFFFF
    return value - 0x100000000 if value >= 0x80000000 else value
