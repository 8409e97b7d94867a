"""Minutiae: the features every extractor produces and every template format carries."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float32]
ByteArray = npt.NDArray[np.uint8]

# Fewer minutiae than this cannot anchor a comparison: the finger fails to enrol.  Every
# extractor's template stage and the engine check against this one floor.
MIN_COMPARABLE_MINUTIAE = 6


class MinutiaKind(IntEnum):
    """ISO/IEC 19794-2 minutia types (2 bits in the record)."""

    OTHER = 0
    RIDGE_ENDING = 1
    BIFURCATION = 2


@dataclass(frozen=True, eq=False)
class Minutiae:
    """The minutiae of one finger impression, in pixels of the image they came from.

    Conventions (those of ISO/IEC 19794-2:2005): origin at the top-left pixel, x to the
    right, y downwards; `angle` in radians in [0, 2*pi), measured counter-clockwise from the
    x axis (so, with y pointing down, towards -y for pi/2); `quality` 0-100 (0: unknown).
    `width`, `height` and `ppi` describe the image, so coordinates can be rescaled.
    """

    x: FloatArray
    y: FloatArray
    angle: FloatArray
    kind: ByteArray
    quality: ByteArray
    width: int
    height: int
    ppi: int = 500

    def __post_init__(self) -> None:
        n = len(self.x)
        for name in ("y", "angle", "kind", "quality"):
            if len(getattr(self, name)) != n:
                raise ValueError(
                    f"minutiae field {name} has {len(getattr(self, name))} values, x has {n}"
                )
        for name, dtype in (
            ("x", np.float32),
            ("y", np.float32),
            ("angle", np.float32),
            ("kind", np.uint8),
            ("quality", np.uint8),
        ):
            value = np.array(getattr(self, name), dtype=dtype, copy=True)
            value.flags.writeable = False
            object.__setattr__(self, name, value)
        object.__setattr__(
            self, "angle", np.mod(self.angle, np.float32(2 * np.pi)).astype(np.float32)
        )
        self.angle.flags.writeable = False

    def __len__(self) -> int:
        return len(self.x)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Minutiae):
            return NotImplemented
        return (self.width, self.height, self.ppi) == (
            other.width,
            other.height,
            other.ppi,
        ) and all(
            np.array_equal(getattr(self, f), getattr(other, f))
            for f in ("x", "y", "angle", "kind", "quality")
        )

    def __hash__(self) -> int:
        return hash((len(self), self.width, self.height, self.ppi))

    @classmethod
    def empty(cls, width: int, height: int, ppi: int = 500) -> Minutiae:
        zero = np.zeros(0, np.float32)
        return cls(
            zero, zero, zero, np.zeros(0, np.uint8), np.zeros(0, np.uint8), width, height, ppi
        )

    def at_ppi(self, ppi: int) -> Minutiae:
        """The same minutiae with coordinates rescaled to `ppi` (angles unchanged)."""
        if ppi == self.ppi:
            return self
        scale = ppi / self.ppi
        return Minutiae(
            self.x * scale,
            self.y * scale,
            self.angle,
            self.kind,
            self.quality,
            round(self.width * scale),
            round(self.height * scale),
            ppi,
        )
