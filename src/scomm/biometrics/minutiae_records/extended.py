"""Extended data blocks: checking that a block is a well-formed sequence of areas, and the
content-sized walk that recovers blocks whose core/delta area lengths were written wrongly.

An extended data block is a sequence of areas, each: type code (u16), area length (u16), data.
INCITS 378 counts the 4 header bytes in the area length. ISO/IEC 19794-2:2005 is read both ways
in the wild (NIST's libbiomeval counts them, FingerprintIO does not), so for ISO records either
convention is accepted as long as the areas tile the block exactly.
"""

from __future__ import annotations

from enum import Enum

AREA_HEADER = 4
CORE_DELTA_TYPE = 2  # ridge counts are type 1, zonal quality (ISO) 3, vendor areas >= 0x0100


class Family(Enum):
    """Which encoding an extended data block follows: the areas' length convention and the
    layout of core/delta areas differ between ISO/IEC 19794-2 and INCITS 378."""

    ISO = "iso"
    INCITS = "incits"


def _u16(data: bytes, offset: int) -> int:
    return (data[offset] << 8) | data[offset + 1]


def _tiling_problem(block: bytes, header_counted: bool) -> tuple[str, int] | None:
    """Why `block` is not exactly a sequence of areas (reason, offset in the block), or None."""
    pos = 0
    while pos < len(block):
        left = len(block) - pos
        if left < AREA_HEADER:
            return (f"{left} stray byte(s) where an area header (4 bytes) should start", pos)
        length = _u16(block, pos + 2)
        size = length if header_counted else length + AREA_HEADER
        if size < AREA_HEADER:
            return (f"area length {length} is shorter than the 4-byte area header", pos + 2)
        if size > left:
            return (
                f"area (type 0x{_u16(block, pos):04x}) declares length {length} but only "
                f"{left} bytes of the block remain",
                pos + 2,
            )
        pos += size
    return None


def area_problem(block: bytes, family: Family) -> tuple[str, int] | None:
    """None if `block` is a well-formed sequence of areas for `family`, else (reason, offset of
    the offending field within the block) under the INCITS/libbiomeval convention."""
    problem = _tiling_problem(block, header_counted=True)
    if problem is None or family is Family.INCITS:
        return problem
    return None if _tiling_problem(block, header_counted=False) is None else problem


def _core_delta_size(data: bytes, pos: int, end: int, family: Family) -> int | None:
    """Size in bytes of the core/delta data starting at `pos` (counted from its content), or
    None when it runs past `end`.

    ISO/IEC 19794-2:2005: a count byte (low 4 bits), then per point x (u16, its top 2 bits the
    point type, 01 = with angle), y (u16) and 1 angle byte for a core / 3 for a delta when
    angular. INCITS 378: a count byte whose top 2 bits give the type for all points (01 = with
    angles, low 4 bits the count), then per point x, y and the angle byte(s) when angular.
    """
    start = pos
    for angle_bytes in (1, 3):  # cores, then deltas
        if pos >= end:
            return None
        info = data[pos]
        pos += 1
        count = info & 0x0F
        if family is Family.INCITS:
            pos += count * (4 + (angle_bytes if info >> 6 == 1 else 0))
            continue
        for _ in range(count):
            if pos + 4 > end:
                return None
            pos += 4 + (angle_bytes if data[pos] >> 6 == 1 else 0)
    return pos - start if pos <= end else None


def content_sized_block(
    data: bytes, pos: int, declared: int, end: int, family: Family
) -> tuple[bytes, int] | None:
    """Walk an extended data block the way NIST's libbiomeval reads it: count the declared area
    lengths down from the declared block length, but consume core/delta areas by their content
    (counts and angle flags) rather than by their length field.

    Returns the block with the core/delta area length fields corrected (so it is well formed)
    and the offset just after it, or None when the walk does not work out. Some test records
    (libbiomeval's own fmr.iso2005 and fmr.ansi2004) only parse consistently this way.
    """
    out = bytearray()
    left = declared
    while left > 0:
        if pos + AREA_HEADER > end:
            return None
        area_type = _u16(data, pos)
        length = _u16(data, pos + 2)
        if length < AREA_HEADER or length > left:
            return None
        size = length
        if area_type == CORE_DELTA_TYPE:
            content = _core_delta_size(data, pos + AREA_HEADER, end, family)
            if content is None:
                return None
            size = AREA_HEADER + content
        if pos + size > end:
            return None
        out += area_type.to_bytes(2, "big") + size.to_bytes(2, "big")
        out += data[pos + AREA_HEADER : pos + size]
        pos += size
        left -= length
    if len(out) > 0xFFFF:
        return None
    return bytes(out), pos
