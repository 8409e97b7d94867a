"""Reading finger-minutiae records: ISO/IEC 19794-2:2005, INCITS 378-2004 and INCITS 378-2009.

Layouts (all integers big-endian; "u16" two bytes):

ISO/IEC 19794-2:2005, version " 20\\0", 24-byte header:
    "FMR\\0" | " 20\\0" | record length u32 | capture equipment u16 | width u16 | height u16 |
    x resolution u16 | y resolution u16 (pixels/cm) | number of views u8 | reserved u8
INCITS 378-2004, version " 20\\0" too, 26-byte header (30 with the long length form):
    "FMR\\0" | " 20\\0" | record length u16 (0: a u32 length follows) | CBEFF product id u32 |
    capture equipment u16 | width | height | x resolution | y resolution | views u8 | reserved u8
Both then repeat per view: finger position u8 | view number (4 bits) and impression type
(4 bits) | finger quality u8 | minutiae count u8 | count x 6-byte minutiae | extended data block
length u16 | extended data block.
A minutia: type (2 bits: 00 other, 01 ridge ending, 10 bifurcation) and x (14 bits) | 2 reserved
bits and y (14 bits) | angle u8 | quality u8. The angle runs counter-clockwise from the x axis
(image y pointing down): ISO in units of 360/256 degrees (0-255), INCITS in 2 degrees (0-179).

INCITS 378-2009, version "030\\0": the header keeps record length (u32), CBEFF product id and
capture equipment, then number of views u8 and reserved u8 (20 bytes, the layout of NIST's test
record, which libbiomeval reads as "ANSI 378-2007"); FingerprintIO documents a 21-byte variant
(certification flags u8, capture device id u16), which is accepted too. Each view carries its
own geometry: position u8 | view number u8 | impression type u8 | quality u8 | quality algorithm
vendor u16 and id u16 | width | height | x resolution | y resolution | minutiae count u8 |
minutiae | extended data block (as above). Angles are in 2-degree units.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Final

import numpy as np
import numpy.typing as npt

from scomm.biometrics.minutiae import Minutiae
from scomm.biometrics.minutiae_records.extended import Family, area_problem, content_sized_block
from scomm.biometrics.minutiae_records.model import (
    FORMAT_ID,
    IMPRESSION_TYPES_2009,
    IMPRESSION_TYPES_V20,
    INCITS378_2004,
    INCITS378_2009,
    INCITS_HEADER,
    ISO19794_2_2005,
    ISO_HEADER,
    MAX_FINGER_POSITION,
    MAX_QUALITY,
    MAX_VIEW_NUMBER,
    MINUTIA_BYTES,
    MINUTIA_DTYPE,
    QUALITY_SPECIAL_2009,
    VERSION_030,
    VERSION_20,
    FingerView,
    MinutiaeRecord,
    MinutiaeRecordError,
    ppi_from_pixels_per_cm,
)

INCITS_2009_HEADER: Final = 20  # 21 in the FingerprintIO variant
V20_VIEW_MIN: Final = 6  # 4-byte view header + 2-byte extended data length
V2009_VIEW_MIN: Final = 19


class _Cursor:
    """Bounds-checked big-endian reads from `data`, never past `end` (the record's end)."""

    def __init__(self, data: bytes, pos: int, end: int) -> None:
        self.data = data
        self.pos = pos
        self.end = end

    @property
    def left(self) -> int:
        return self.end - self.pos

    def take(self, size: int, what: str) -> int:
        """Consume `size` bytes; return where they start."""
        if size > self.left:
            raise MinutiaeRecordError(
                f"record truncated in {what}: needs {size} bytes, only {self.left} left",
                self.pos,
            )
        start = self.pos
        self.pos += size
        return start

    def u8(self, what: str) -> int:
        return self.data[self.take(1, what)]

    def u16(self, what: str) -> int:
        start = self.take(2, what)
        return (self.data[start] << 8) | self.data[start + 1]

    def u32(self, what: str) -> int:
        start = self.take(4, what)
        return int.from_bytes(self.data[start : start + 4], "big")


def read_record(data: bytes) -> MinutiaeRecord:
    """Parse a finger-minutiae record, detecting its standard from the header.

    Raises MinutiaeRecordError, saying what is wrong and at which byte offset, for anything
    that is not a valid record of a supported standard: wrong format identifier, unsupported
    version, a record length past the data's end, bytes after the declared length that are
    not all zero (the error names the first non-zero one), truncation anywhere, view or minutiae
    counts the remaining bytes cannot hold, codes out of range (finger position 0-10, impression
    type, view number, qualities 0-100), minutiae outside the image or with reserved type 11,
    INCITS angles above 179, extended data areas that do not tile their block.

    Tolerated: zero padding after the record's declared length (the record is read to that
    length), reserved bits and bytes that are not zero (ignored), and extended data blocks
    whose core/delta area length fields are wrong in a way NIST's libbiomeval reads through
    (its test records have such blocks): when the record only parses consistently by sizing
    core/delta areas from their content, it is read that way and those length fields are
    corrected in `FingerView.extended_data`.
    """
    data = bytes(data)
    if len(data) < 8:
        raise MinutiaeRecordError(
            f"record too short: {len(data)} bytes, a finger-minutiae record starts with an "
            f"8-byte format identifier and version",
            0,
        )
    if data[:4] != FORMAT_ID:
        raise MinutiaeRecordError(
            f"not a finger-minutiae record: format identifier is {data[:4]!r}, "
            f"expected {FORMAT_ID!r}",
            0,
        )
    version = data[4:8]
    if version == VERSION_20:
        if _detect_v20(data) == ISO19794_2_2005:
            return _with_repair_fallback(lambda repair: _read_iso(data, repair))
        return _with_repair_fallback(lambda repair: _read_incits2004(data, repair))
    if version == VERSION_030:
        return _read_030(data)
    raise MinutiaeRecordError(
        f"unsupported record version {version!r}: supported are {VERSION_20!r} "
        f"(ISO/IEC 19794-2:2005, INCITS 378-2004) and {VERSION_030!r} (INCITS 378-2009)",
        4,
    )


def declared_length(data: bytes, standard: str) -> int:
    """The record length that the header of `data`, a record of `standard` (as `read_record`
    found it), declares; bytes after it are zero padding."""
    if standard == INCITS378_2004:
        incits = _declared_lengths(data)[1]
        if incits is None:
            raise MinutiaeRecordError("record too short to hold its record length", 8)
        return incits
    if standard not in (ISO19794_2_2005, INCITS378_2009) or len(data) < 12:
        raise MinutiaeRecordError(f"no record length of a {standard} record in {len(data)} bytes")
    return int.from_bytes(data[8:12], "big")


def _with_repair_fallback(parse: Callable[[bool], MinutiaeRecord]) -> MinutiaeRecord:
    """Parse by the declared lengths; if that fails, retry sizing core/delta areas by their
    content (see `content_sized_block`); report the first failure if both fail."""
    try:
        return parse(False)
    except MinutiaeRecordError as first:
        try:
            return parse(True)
        except MinutiaeRecordError:
            raise first from None


# ---------------------------------------------------------------------------------------------
# ISO/IEC 19794-2:2005 or INCITS 378-2004?
# ---------------------------------------------------------------------------------------------


def _declared_lengths(data: bytes) -> tuple[int | None, int | None]:
    """The record length under the ISO reading (u32 at byte 8) and the INCITS 378-2004 reading
    (u16 at byte 8, or the u32 at byte 10 when that u16 is 0); None where the data is too short
    to hold the field."""
    size = len(data)
    iso = int.from_bytes(data[8:12], "big") if size >= 12 else None
    incits: int | None = None
    if size >= 10:
        short = (data[8] << 8) | data[9]
        if short:
            incits = short
        elif size >= 14:
            incits = int.from_bytes(data[10:14], "big")
    return iso, incits


def _detect_v20(data: bytes) -> str:
    """Tell ISO/IEC 19794-2:2005 from INCITS 378-2004; both begin "FMR\\0 20\\0".

    Rule 1: the layout whose record-length field equals the data's length wins. For a
    well-formed record this is never ambiguous. Write n for the record's length:
    - ISO, n < 65536: bytes 8-9 are 0 and bytes 10-11 hold n >= 24, so the INCITS reading takes
      the long form, u32 at byte 10 = n * 65536 + (capture equipment) > n.
    - ISO, n >= 65536: bytes 8-9 hold n >> 16, which is non-zero and < n: INCITS reads n >> 16.
    - INCITS, short form: bytes 8-9 hold n >= 26, so the ISO u32 at byte 8 is >= n * 65536 > n.
    - INCITS, long form: bytes 8-9 are 0 and bytes 10-11 hold n >> 16 >= 1 (the long form is
      for n >= 65536), so the ISO u32 at byte 8 is n >> 16 < n.
    Rule 2 (a record followed by zero padding): the layout whose declared length is at least
    its header and shorter than the data, with only zero bytes after it, wins when it is the
    only one. The other reading of a padded record is off by a factor of ~65536 (see rule 1),
    so it is either past the data's end or falls inside the record's non-zero bytes.
    Rule 3 (neither matches: a truncated or corrupted record, which will fail to read anyway,
    and the error should speak the record's language): the layout whose declared length is
    closer to the data's length wins, ISO on a tie. A truncated or padded record keeps its
    true declared length near the data length, while the other reading of the same bytes is off
    by a factor of ~65536.
    """
    iso, incits = _declared_lengths(data)
    size = len(data)
    if iso == size:
        return ISO19794_2_2005
    if incits == size:
        return INCITS378_2004
    padded = [
        standard
        for standard, declared, header in (
            (ISO19794_2_2005, iso, ISO_HEADER),
            (INCITS378_2004, incits, INCITS_HEADER),
        )
        if declared is not None
        and header <= declared < size
        and _first_nonzero(data, declared) is None
    ]
    if len(padded) == 1:
        return padded[0]
    if incits is None:
        return ISO19794_2_2005
    if iso is None:
        return INCITS378_2004
    return ISO19794_2_2005 if abs(iso - size) <= abs(incits - size) else INCITS378_2004


def _check_length(declared: int, data: bytes, header: int, label: str, offset: int) -> int:
    """Check the declared record length against the data; return where the record ends.

    Bytes after the declared length are accepted when they are all zero (writers and
    transports that pad records to a block size); anything else after it is refused, naming
    the offset of the first non-zero trailing byte."""
    size = len(data)
    if declared > size:
        raise MinutiaeRecordError(
            f"record truncated: header declares {declared} bytes, got {size}", offset
        )
    if declared < header:
        raise MinutiaeRecordError(
            f"header declares a record length of {declared} bytes, less than the "
            f"{header}-byte {label} header",
            offset,
        )
    if declared < size:
        stray = _first_nonzero(data, declared)
        if stray is not None:
            raise MinutiaeRecordError(
                f"record length mismatch: header declares {declared} bytes, got {size} "
                f"({size - declared} trailing bytes, not zero padding: the first non-zero "
                f"trailing byte is 0x{data[stray]:02x} at offset {stray})",
                stray,
            )
    return declared


def _first_nonzero(data: bytes, start: int) -> int | None:
    """Offset of the first non-zero byte at or after `start`, or None."""
    tail = data[start:]
    stripped = tail.lstrip(b"\0")
    return None if not stripped else start + len(tail) - len(stripped)


# ---------------------------------------------------------------------------------------------
# Version " 20": ISO/IEC 19794-2:2005 and INCITS 378-2004
# ---------------------------------------------------------------------------------------------


class _Geometry:
    """Image size and resolution, as a header (or an INCITS 378-2009 view) declares them."""

    def __init__(self, cur: _Cursor, where: str) -> None:
        fields = []
        for name in ("width", "height", "x resolution", "y resolution"):
            offset = cur.pos
            value = cur.u16(f"{where} {name}")
            if value == 0:
                raise MinutiaeRecordError(f"{where} {name} is 0", offset)
            fields.append(value)
        self.width, self.height, xres, yres = fields
        self.ppi = ppi_from_pixels_per_cm(xres)
        self.ppi_y = None if yres == xres else ppi_from_pixels_per_cm(yres)


def _read_iso(data: bytes, repair: bool) -> MinutiaeRecord:
    size = len(data)
    cur = _Cursor(data, 8, size)
    declared = cur.u32("record length")
    cur.end = _check_length(declared, data, ISO_HEADER, "ISO/IEC 19794-2:2005", 8)
    capture = cur.u16("capture equipment")
    geometry = _Geometry(cur, "image")
    views = _read_v20_views(cur, geometry, Family.ISO, 256, repair)
    return MinutiaeRecord(
        ISO19794_2_2005,
        geometry.width,
        geometry.height,
        geometry.ppi,
        views,
        ppi_y=geometry.ppi_y,
        capture_equipment=capture,
    )


def _read_incits2004(data: bytes, repair: bool) -> MinutiaeRecord:
    size = len(data)
    cur = _Cursor(data, 8, size)
    declared = cur.u16("record length")
    header = INCITS_HEADER
    if declared == 0:
        declared = cur.u32("6-byte record length")
        header += 4
    cur.end = _check_length(declared, data, header, "INCITS 378-2004", 8)
    product = cur.u32("CBEFF product identifier")
    capture = cur.u16("capture equipment")
    geometry = _Geometry(cur, "image")
    views = _read_v20_views(cur, geometry, Family.INCITS, 180, repair)
    return MinutiaeRecord(
        INCITS378_2004,
        geometry.width,
        geometry.height,
        geometry.ppi,
        views,
        ppi_y=geometry.ppi_y,
        capture_equipment=capture,
        cbeff_product_id=product,
    )


def _view_count(cur: _Cursor, minimum_view_bytes: int) -> int:
    offset = cur.pos
    count = cur.u8("number of finger views")
    cur.u8("reserved byte")
    if count * minimum_view_bytes > cur.left:
        raise MinutiaeRecordError(
            f"header declares {count} finger views, but the {cur.left} bytes after the header "
            f"cannot hold them (each takes at least {minimum_view_bytes} bytes)",
            offset,
        )
    return count


def _read_v20_views(
    cur: _Cursor, geometry: _Geometry, family: Family, angle_units: int, repair: bool
) -> tuple[FingerView, ...]:
    views = []
    for index in range(1, _view_count(cur, V20_VIEW_MIN) + 1):
        where = f"finger view {index}"
        position = _finger_position(cur, where)
        offset = cur.pos
        packed = cur.u8(f"{where} view number/impression type")
        view_number, impression = packed >> 4, packed & 0x0F
        if impression not in IMPRESSION_TYPES_V20:
            raise MinutiaeRecordError(
                f"{where}: impression type {impression} is not a valid code "
                f"({sorted(IMPRESSION_TYPES_V20)})",
                offset,
            )
        quality = _quality(cur, f"{where} finger quality", allow_special=False)
        minutiae = _read_minutiae(cur, where, geometry, angle_units, allow_special=False)
        extended = _read_extended(cur, where, family, repair)
        views.append(FingerView(position, view_number, impression, quality, minutiae, extended))
    _expect_end(cur)
    return tuple(views)


def _finger_position(cur: _Cursor, where: str) -> int:
    offset = cur.pos
    position = cur.u8(f"{where} finger position")
    if position > MAX_FINGER_POSITION:
        raise MinutiaeRecordError(
            f"{where}: finger position {position} is not a valid code "
            f"(0 unknown, 1-10 right thumb to left little finger)",
            offset,
        )
    return position


def _quality(cur: _Cursor, what: str, allow_special: bool) -> int:
    offset = cur.pos
    quality = cur.u8(what)
    if quality > MAX_QUALITY and not (allow_special and quality in QUALITY_SPECIAL_2009):
        allowed = "0-100, 254 or 255" if allow_special else "0-100"
        raise MinutiaeRecordError(f"{what} {quality} out of range ({allowed})", offset)
    return quality


def _read_minutiae(
    cur: _Cursor, where: str, geometry: _Geometry, angle_units: int, allow_special: bool
) -> Minutiae:
    count_offset = cur.pos
    count = cur.u8(f"{where} minutiae count")
    if count * MINUTIA_BYTES > cur.left:
        raise MinutiaeRecordError(
            f"{where} declares {count} minutiae ({count * MINUTIA_BYTES} bytes), but only "
            f"{cur.left} bytes are left in the record",
            count_offset,
        )
    start = cur.take(count * MINUTIA_BYTES, f"{where} minutiae")
    raw = np.frombuffer(cur.data, dtype=MINUTIA_DTYPE, count=count, offset=start)
    kind = (raw["xt"] >> 14).astype(np.uint8)
    x = raw["xt"] & 0x3FFF
    y = raw["yr"] & 0x3FFF  # the top 2 bits of y are reserved: ignored
    angle = raw["angle"]
    quality = raw["quality"]
    special = np.isin(quality, list(QUALITY_SPECIAL_2009)) & allow_special
    checks: list[tuple[npt.NDArray[np.bool_], int, Callable[[int], str]]] = [
        (kind == 3, 0, lambda j: "has the reserved minutia type code 3 (binary 11)"),
        (
            x >= geometry.width,
            0,
            lambda j: f"lies outside the image: x={x[j]} >= width {geometry.width}",
        ),
        (
            y >= geometry.height,
            2,
            lambda j: f"lies outside the image: y={y[j]} >= height {geometry.height}",
        ),
        (
            angle >= angle_units,
            4,
            lambda j: f"angle {angle[j]} out of range 0-{angle_units - 1} (units of 2 degrees)",
        ),
        (
            (quality > MAX_QUALITY) & ~special,
            5,
            lambda j: f"quality {quality[j]} out of range 0-100",
        ),
    ]
    for bad, field_offset, reason in checks:
        hits = np.flatnonzero(bad)
        if hits.size:
            j = int(hits[0])
            raise MinutiaeRecordError(
                f"{where}, minutia {j + 1} {reason(j)}", start + j * MINUTIA_BYTES + field_offset
            )
    if allow_special:
        quality = np.where(quality > MAX_QUALITY, 0, quality).astype(np.uint8)
    radians = (angle.astype(np.float64) * (2 * math.pi / angle_units)).astype(np.float32)
    return Minutiae(
        x.astype(np.float32),
        y.astype(np.float32),
        radians,
        kind,
        quality,
        geometry.width,
        geometry.height,
        geometry.ppi,
    )


def _read_extended(cur: _Cursor, where: str, family: Family, repair: bool) -> bytes:
    length_offset = cur.pos
    declared = cur.u16(f"{where} extended data block length")
    if repair:
        walked = content_sized_block(cur.data, cur.pos, declared, cur.end, family)
        if walked is None:
            raise MinutiaeRecordError(f"{where}: malformed extended data block", length_offset)
        block, cur.pos = walked
        return block
    if declared > cur.left:
        raise MinutiaeRecordError(
            f"{where}: extended data block declares {declared} bytes, but only {cur.left} "
            f"are left in the record",
            length_offset,
        )
    start = cur.take(declared, f"{where} extended data block")
    block = cur.data[start : start + declared]
    problem = area_problem(block, family)
    if problem is not None:
        reason, offset = problem
        raise MinutiaeRecordError(f"{where}: extended data block: {reason}", start + offset)
    return block


def _expect_end(cur: _Cursor) -> None:
    if cur.left:
        raise MinutiaeRecordError(
            f"{cur.left} bytes left over after the last finger view "
            f"(the record declares {cur.end} bytes)",
            cur.pos,
        )


# ---------------------------------------------------------------------------------------------
# Version "030": INCITS 378-2009 (ISO/IEC 19794-2:2011 shares the version and is refused)
# ---------------------------------------------------------------------------------------------


def _read_030(data: bytes) -> MinutiaeRecord:
    attempts = [(header, repair) for repair in (False, True) for header in (INCITS_2009_HEADER, 21)]
    first: MinutiaeRecordError | None = None
    for header, repair in attempts:
        try:
            return _read_incits2009(data, header, repair)
        except MinutiaeRecordError as error:
            first = first or error
    assert first is not None
    if _looks_like_iso_2011(data):
        raise MinutiaeRecordError(
            "unsupported record: version '030' with the ISO/IEC 19794-2:2011 layout "
            "(only INCITS 378-2009 is supported for version '030')",
            4,
        )
    raise first


def _looks_like_iso_2011(data: bytes) -> bool:
    """ISO/IEC 19794-2:2011: length u32, number of representations u16, certification flag u8,
    then representations each starting with their own u32 length (at least 34 bytes)."""
    if len(data) < 15 or int.from_bytes(data[8:12], "big") != len(data):
        return False
    count = (data[12] << 8) | data[13]
    pos = 15
    for _ in range(count):
        if pos + 4 > len(data):
            return False
        length = int.from_bytes(data[pos : pos + 4], "big")
        if length < 34:
            return False
        pos += length
    return count > 0 and pos == len(data)


def _read_incits2009(data: bytes, header: int, repair: bool) -> MinutiaeRecord:
    size = len(data)
    cur = _Cursor(data, 8, size)
    declared = cur.u32("record length")
    cur.end = _check_length(declared, data, header, "INCITS 378-2009", 8)
    product = cur.u32("CBEFF product identifier")
    if header == INCITS_2009_HEADER:
        capture = cur.u16("capture equipment")
    else:  # certification flags u8 (bit 7: certified), capture device id u16
        certified = cur.u8("capture device certification") & 0x80
        capture = (certified << 8) | (cur.u16("capture device id") & 0x0FFF)
    views = []
    first_geometry: _Geometry | None = None
    for index in range(1, _view_count(cur, V2009_VIEW_MIN) + 1):
        where = f"finger view {index}"
        position = _finger_position(cur, where)
        offset = cur.pos
        view_number = cur.u8(f"{where} view number")
        if view_number > MAX_VIEW_NUMBER:
            raise MinutiaeRecordError(
                f"{where}: view number {view_number} out of range 0-{MAX_VIEW_NUMBER}", offset
            )
        offset = cur.pos
        impression = cur.u8(f"{where} impression type")
        if impression not in IMPRESSION_TYPES_2009:
            raise MinutiaeRecordError(
                f"{where}: impression type {impression} is not a valid code "
                f"({sorted(IMPRESSION_TYPES_2009)})",
                offset,
            )
        quality = _quality(cur, f"{where} finger quality", allow_special=True)
        cur.u32(f"{where} quality algorithm vendor/id")
        geometry = _Geometry(cur, where)
        first_geometry = first_geometry or geometry
        minutiae = _read_minutiae(cur, where, geometry, 180, allow_special=True)
        extended = _read_extended(cur, where, Family.INCITS, repair)
        views.append(FingerView(position, view_number, impression, quality, minutiae, extended))
    _expect_end(cur)
    return MinutiaeRecord(
        INCITS378_2009,
        first_geometry.width if first_geometry else 0,
        first_geometry.height if first_geometry else 0,
        first_geometry.ppi if first_geometry else 0,
        tuple(views),
        ppi_y=first_geometry.ppi_y if first_geometry else None,
        capture_equipment=capture,
        cbeff_product_id=product,
    )
