"""The correlation engine's template: a small int8 texture patch, and its byte codec."""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

from scomm.biometrics.errors import BiometricsError

GRID = 32  # features are GRID x GRID samples ...
FEATURE_PPI = 250  # ... at this resolution (0.1 mm per sample: a 3.25 mm square patch)

_MAGIC = b"SCC1"  # scomm correlation, format 1
_HEADER = struct.Struct(">4sBBH")  # magic, finger, grid, reserved (0)
TEMPLATE_BYTES = _HEADER.size + GRID * GRID  # 1032


class TemplateDecodeError(BiometricsError, ValueError):
    """The bytes are not a correlation template (or not the finger they were filed under)."""


@dataclass(frozen=True, eq=False)
class CorrelationTemplate:
    """Band-passed, foreground-weighted ridge texture of one finger, GRID x GRID int8.

    Only the direction of `features` matters (scores are normalised), so the extractor
    stores it scaled to use the full int8 range.
    """

    finger: int
    features: np.ndarray

    def __post_init__(self) -> None:
        features = np.asarray(self.features)
        if features.shape != (GRID, GRID) or features.dtype != np.int8:
            raise ValueError(
                f"features must be a {GRID}x{GRID} int8 array, "
                f"got {features.shape} {features.dtype}"
            )
        if not 0 <= self.finger <= 255:
            raise ValueError(f"finger position must be in 0..255, got {self.finger}")
        if not features.any():
            raise ValueError("features are all zero: nothing to correlate")
        features = np.ascontiguousarray(features).copy()
        features.flags.writeable = False
        object.__setattr__(self, "features", features)

    def to_bytes(self) -> bytes:
        """8-byte header (magic, finger, grid) and the GRID x GRID int8 samples, row-major."""
        return _HEADER.pack(_MAGIC, self.finger, GRID, 0) + self.features.tobytes()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CorrelationTemplate):
            return NotImplemented
        return self.finger == other.finger and np.array_equal(self.features, other.features)


class CorrelationCodec:
    """Reads back `CorrelationTemplate.to_bytes()`."""

    def decode(self, data: bytes, finger: int) -> CorrelationTemplate:
        if len(data) != TEMPLATE_BYTES:
            raise TemplateDecodeError(
                f"a correlation template is {TEMPLATE_BYTES} bytes, got {len(data)}"
            )
        magic, stored_finger, grid, _ = _HEADER.unpack_from(data)
        if magic != _MAGIC or grid != GRID:
            raise TemplateDecodeError(f"not a correlation template (magic {magic!r}, grid {grid})")
        if stored_finger != finger:
            raise TemplateDecodeError(
                f"template was made from finger {stored_finger}, filed under finger {finger}"
            )
        features = np.frombuffer(data, dtype=np.int8, offset=_HEADER.size).reshape(GRID, GRID)
        try:
            return CorrelationTemplate(finger=finger, features=features)
        except ValueError as exc:
            raise TemplateDecodeError(str(exc)) from exc
