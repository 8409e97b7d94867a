"""The compact internal form of a template for galleries: minutiae only, 6 bytes each.

Layout (big-endian): magic b"SCM1", width u16, height u16, count u16, then per minutia
48 bits: x and y as 14-bit quarter pixels (a 28-bit field), 4 spare bits, the angle as one
byte (2*pi/256), then kind (2 bits) and quality (6 bits: quality / 100 * 63, rounded).
At 500 ppi and 40 minutiae: 10 + 40 * 6 = 250 bytes, against 2,185 bytes for the matcher's
prepared form with its default 8x4 cylinders (`MatcherTemplate.to_bytes`), which is rebuilt
from this on load.
"""

from __future__ import annotations

import numpy as np

from scomm.biometrics.errors import BiometricsError
from scomm.biometrics.minutiae import Minutiae

MAGIC = b"SCM1"
_HEADER = 4 + 2 + 2 + 2
BYTES_PER_MINUTIA = 6
_MAX_QUARTER_PIXELS = (1 << 14) - 1


class CompactTemplateError(BiometricsError, ValueError):
    """The bytes are not a compact minutiae template."""


def encode(minutiae: Minutiae) -> bytes:
    """Minutiae at 500 ppi (rescaled if need be) in the compact form."""
    m = minutiae.at_ppi(500)
    n = len(m)
    if n > 0xFFFF or max(m.width, m.height) > 0xFFFF:
        raise CompactTemplateError(f"cannot encode {n} minutiae on {m.width}x{m.height}")
    qx = np.clip(np.rint(m.x * 4), 0, _MAX_QUARTER_PIXELS).astype(np.uint32)
    qy = np.clip(np.rint(m.y * 4), 0, _MAX_QUARTER_PIXELS).astype(np.uint32)
    position = (qx << 14) | qy  # 28 bits
    angle = np.rint(m.angle.astype(np.float64) * (256 / (2 * np.pi))).astype(np.uint32) % 256
    quality = np.rint(m.quality.astype(np.float64) * 63 / 100).astype(np.uint32)
    tail = ((m.kind.astype(np.uint32) & 0x3) << 6) | quality
    # 28 bits position + 8 bits angle + 8 bits kind/quality = 44 bits, stored in 6 bytes.
    packed = (
        (position.astype(np.uint64) << np.uint64(16))
        | (angle.astype(np.uint64) << np.uint64(8))
        | tail
    )
    body = packed.astype(">u8").tobytes()
    body = b"".join(body[i * 8 + 2 : i * 8 + 8] for i in range(n))
    header = MAGIC + m.width.to_bytes(2, "big") + m.height.to_bytes(2, "big") + n.to_bytes(2, "big")
    return header + body


def decode(data: bytes) -> Minutiae:
    if len(data) < _HEADER or data[:4] != MAGIC:
        raise CompactTemplateError("not a compact minutiae template (bad magic or too short)")
    width = int.from_bytes(data[4:6], "big")
    height = int.from_bytes(data[6:8], "big")
    n = int.from_bytes(data[8:10], "big")
    if len(data) != _HEADER + n * BYTES_PER_MINUTIA:
        raise CompactTemplateError(
            f"compact template declares {n} minutiae ({_HEADER + n * BYTES_PER_MINUTIA} bytes), "
            f"got {len(data)} bytes"
        )
    raw = np.frombuffer(data[_HEADER:], dtype=np.uint8).reshape(n, BYTES_PER_MINUTIA)
    padded = np.zeros((n, 8), dtype=np.uint8)
    padded[:, 2:] = raw
    packed = padded.view(">u8").reshape(n).astype(np.uint64)
    position = packed >> np.uint64(16)
    qx = (position >> np.uint64(14)) & np.uint64(_MAX_QUARTER_PIXELS)
    qy = position & np.uint64(_MAX_QUARTER_PIXELS)
    angle = (packed >> np.uint64(8)) & np.uint64(0xFF)
    tail = packed & np.uint64(0xFF)
    kind = (tail >> np.uint64(6)).astype(np.uint8)
    quality = np.rint((tail & np.uint64(63)).astype(np.float64) * 100 / 63).astype(np.uint8)
    return Minutiae(
        (qx.astype(np.float32) / np.float32(4)).astype(np.float32),
        (qy.astype(np.float32) / np.float32(4)).astype(np.float32),
        angle.astype(np.float32) * np.float32(2 * np.pi / 256),
        kind,
        quality,
        width,
        height,
        500,
    )
