"""MinutiaeBatch: many fingers' minutiae in flat arrays, for galleries and generators.

A million identities hold ten million minutiae sets; as `Minutiae` objects they would cost
far more than the minutiae themselves.  A batch keeps them end to end: set i is rows
``offsets[i]:offsets[i+1]`` of the column arrays.  Coordinates are pixels at `ppi`, angles
radians in [0, 2*pi) with the ISO/IEC 19794-2 conventions of `Minutiae`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from scomm.biometrics.minutiae import Minutiae


@dataclass(frozen=True, eq=False)
class MinutiaeBatch:
    offsets: np.ndarray  # int64, n + 1, non-decreasing, offsets[0] == 0
    x: np.ndarray  # float32
    y: np.ndarray  # float32
    angle: np.ndarray  # float32 radians
    kind: np.ndarray  # uint8
    quality: np.ndarray  # uint8
    width: int = 416
    height: int = 560
    ppi: int = 500

    def __post_init__(self) -> None:
        offsets = np.ascontiguousarray(self.offsets, dtype=np.int64)
        if offsets.ndim != 1 or offsets.size == 0 or offsets[0] != 0:
            raise ValueError("offsets must be a 1-D array starting at 0")
        if np.any(np.diff(offsets) < 0):
            raise ValueError("offsets must be non-decreasing")
        total = int(offsets[-1])
        object.__setattr__(self, "offsets", offsets)
        for name, dtype in (
            ("x", np.float32),
            ("y", np.float32),
            ("angle", np.float32),
            ("kind", np.uint8),
            ("quality", np.uint8),
        ):
            value = np.ascontiguousarray(getattr(self, name), dtype=dtype)
            if value.shape != (total,):
                raise ValueError(f"{name} has shape {value.shape}, offsets say ({total},)")
            object.__setattr__(self, name, value)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def counts(self) -> np.ndarray:
        """Minutiae per set (int64)."""
        return np.diff(self.offsets)

    def __getitem__(self, i: int) -> Minutiae:
        if not -len(self) <= i < len(self):
            raise IndexError(f"set {i} of a batch of {len(self)}")
        i %= len(self)
        s, e = int(self.offsets[i]), int(self.offsets[i + 1])
        return Minutiae(
            self.x[s:e],
            self.y[s:e],
            self.angle[s:e],
            self.kind[s:e],
            self.quality[s:e],
            self.width,
            self.height,
            self.ppi,
        )

    def take(self, indices: Sequence[int] | np.ndarray) -> MinutiaeBatch:
        """A new batch of the sets at `indices`, in that order."""
        idx = np.asarray(indices, dtype=np.int64)
        counts = self.counts()[idx]
        offsets = np.zeros(len(idx) + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        shift = np.repeat(self.offsets[idx] - offsets[:-1], counts)
        rows = np.arange(int(offsets[-1]), dtype=np.int64) + shift
        return MinutiaeBatch(
            offsets,
            self.x[rows],
            self.y[rows],
            self.angle[rows],
            self.kind[rows],
            self.quality[rows],
            self.width,
            self.height,
            self.ppi,
        )

    def slice(self, begin: int, end: int) -> MinutiaeBatch:
        """Sets begin..end-1 (views of this batch's arrays, no copy)."""
        begin, end = max(0, begin), min(len(self), end)
        end = max(begin, end)
        s, e = int(self.offsets[begin]), int(self.offsets[end])
        return MinutiaeBatch(
            self.offsets[begin : end + 1] - s,
            self.x[s:e],
            self.y[s:e],
            self.angle[s:e],
            self.kind[s:e],
            self.quality[s:e],
            self.width,
            self.height,
            self.ppi,
        )

    @classmethod
    def from_minutiae(cls, sets: Sequence[Minutiae], ppi: int = 500) -> MinutiaeBatch:
        """Sets rescaled to `ppi`; the batch's frame is the largest of theirs."""
        scaled = [m.at_ppi(ppi) for m in sets]
        offsets = np.zeros(len(scaled) + 1, dtype=np.int64)
        np.cumsum([len(m) for m in scaled], out=offsets[1:])

        def cat(name: str, dtype: type) -> np.ndarray:
            if not scaled:
                return np.zeros(0, dtype)
            return np.concatenate([getattr(m, name) for m in scaled]).astype(dtype)

        return cls(
            offsets,
            cat("x", np.float32),
            cat("y", np.float32),
            cat("angle", np.float32),
            cat("kind", np.uint8),
            cat("quality", np.uint8),
            max((m.width for m in scaled), default=416),
            max((m.height for m in scaled), default=560),
            ppi,
        )
