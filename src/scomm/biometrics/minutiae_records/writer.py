"""Writing finger-minutiae records: ISO/IEC 19794-2:2005 and INCITS 378-2004 (layouts in
`reader`). Both writers refuse, with MinutiaeRecordError, any value their format cannot hold,
so whatever they return reads back with `read_record`."""

from __future__ import annotations

import math
import struct

import numpy as np

from scomm.biometrics.minutiae import Minutiae
from scomm.biometrics.minutiae_records.extended import Family, area_problem
from scomm.biometrics.minutiae_records.model import (
    FORMAT_ID,
    IMPRESSION_TYPES_V20,
    INCITS378_2004,
    INCITS378_2009,
    INCITS_HEADER,
    ISO19794_2_2005,
    ISO_HEADER,
    MAX_FINGER_POSITION,
    MAX_QUALITY,
    MAX_VIEW_NUMBER,
    MINUTIA_DTYPE,
    VERSION_20,
    FingerView,
    MinutiaeRecord,
    MinutiaeRecordError,
    pixels_per_cm_from_ppi,
)

U8, U16, U32 = 0xFF, 0xFFFF, 0xFFFF_FFFF
COORDINATE_LIMIT = 1 << 14  # x and y have 14 bits


def write_iso19794_2(record: MinutiaeRecord) -> bytes:
    """Encode `record` as an ISO/IEC 19794-2:2005 record (version " 20").

    Coordinates are rounded to whole pixels and angles to units of 360/256 degrees. Minutiae
    whose `ppi` differs from the record's are rescaled to it. Extended data is written only for
    records read as ISO/IEC 19794-2 (INCITS 378 encodes core/delta areas differently, so INCITS
    extended data is dropped rather than mislabelled).
    """
    geometry = _header_fields(record)
    keep_extended = record.standard == ISO19794_2_2005
    body = _encode_views(record, 256, Family.ISO, keep_extended)
    total = ISO_HEADER + len(body)
    _check(total <= U32, f"record of {total} bytes exceeds the 4-byte length field")
    header = struct.pack(
        ">4s4sIH4HBB",
        FORMAT_ID,
        VERSION_20,
        total,
        record.capture_equipment,
        *geometry,
        len(record.views),
        0,
    )
    return header + body


def write_incits378(record: MinutiaeRecord) -> bytes:
    """Encode `record` as an INCITS 378-2004 record (version " 20"; 2-byte record length, or 0
    followed by a 4-byte length when the record exceeds 65,535 bytes).

    Coordinates are rounded to whole pixels and angles to units of 2 degrees. Minutiae whose
    `ppi` differs from the record's are rescaled to it. Extended data is written only for
    records read as INCITS 378 (2004 or 2009, which share the area encodings); ISO extended data
    is dropped.
    """
    geometry = _header_fields(record)
    _check(record.cbeff_product_id <= U32, "CBEFF product identifier exceeds 32 bits")
    keep_extended = record.standard in (INCITS378_2004, INCITS378_2009)
    body = _encode_views(record, 180, Family.INCITS, keep_extended)
    total = INCITS_HEADER + len(body)
    if total <= U16:
        length = struct.pack(">H", total)
    else:
        total += 4
        _check(total <= U32, f"record of {total} bytes exceeds the 4-byte length field")
        length = struct.pack(">HI", 0, total)
    header = (
        FORMAT_ID
        + VERSION_20
        + length
        + struct.pack(
            ">IH4HBB",
            record.cbeff_product_id,
            record.capture_equipment,
            *geometry,
            len(record.views),
            0,
        )
    )
    return header + body


def _check(condition: bool, reason: str) -> None:
    if not condition:
        raise MinutiaeRecordError(f"cannot encode record: {reason}")


def _header_fields(record: MinutiaeRecord) -> tuple[int, int, int, int]:
    """Validated (width, height, x resolution, y resolution), resolutions in pixels/cm."""
    _check(0 < record.width <= U16, f"image width {record.width} outside 1-65535")
    _check(0 < record.height <= U16, f"image height {record.height} outside 1-65535")
    xres = pixels_per_cm_from_ppi(record.ppi)
    yres = xres if record.ppi_y is None else pixels_per_cm_from_ppi(record.ppi_y)
    _check(0 < xres <= U16, f"resolution {record.ppi} ppi outside 1-65535 pixels/cm")
    _check(0 < yres <= U16, f"vertical resolution {record.ppi_y} ppi outside 1-65535 pixels/cm")
    _check(0 <= record.capture_equipment <= U16, "capture equipment field exceeds 16 bits")
    _check(record.cbeff_product_id >= 0, "negative CBEFF product identifier")
    _check(len(record.views) <= U8, f"{len(record.views)} finger views, at most 255 fit")
    return record.width, record.height, xres, yres


def _encode_views(
    record: MinutiaeRecord, angle_units: int, family: Family, keep_extended: bool
) -> bytes:
    return b"".join(
        _encode_view(record, view, index, angle_units, family, keep_extended)
        for index, view in enumerate(record.views, start=1)
    )


def _encode_view(
    record: MinutiaeRecord,
    view: FingerView,
    index: int,
    angle_units: int,
    family: Family,
    keep_extended: bool,
) -> bytes:
    where = f"finger view {index}"
    _check(
        0 <= view.finger_position <= MAX_FINGER_POSITION,
        f"{where}: finger position {view.finger_position} outside 0-{MAX_FINGER_POSITION}",
    )
    _check(
        0 <= view.view_number <= MAX_VIEW_NUMBER,
        f"{where}: view number {view.view_number} outside 0-{MAX_VIEW_NUMBER}",
    )
    _check(
        view.impression_type in IMPRESSION_TYPES_V20,
        f"{where}: impression type {view.impression_type} is not one of "
        f"{sorted(IMPRESSION_TYPES_V20)}",
    )
    _check(
        0 <= view.quality <= MAX_QUALITY,
        f"{where}: finger quality {view.quality} outside 0-{MAX_QUALITY}",
    )
    minutiae = view.minutiae
    _check(minutiae.ppi > 0, f"{where}: minutiae resolution {minutiae.ppi} ppi is not positive")
    if minutiae.ppi != record.ppi:
        minutiae = minutiae.at_ppi(record.ppi)
    _check(len(minutiae) <= U8, f"{where}: {len(minutiae)} minutiae, at most 255 fit")
    encoded = _encode_minutiae(minutiae, record, where, angle_units)
    extended = view.extended_data if keep_extended else b""
    _check(len(extended) <= U16, f"{where}: {len(extended)} bytes of extended data exceed 65535")
    problem = area_problem(extended, family)
    _check(problem is None, f"{where}: extended data: {problem[0] if problem else ''}")
    head = struct.pack(
        ">BBBB",
        view.finger_position,
        (view.view_number << 4) | view.impression_type,
        view.quality,
        len(minutiae),
    )
    return head + encoded + struct.pack(">H", len(extended)) + extended


def _encode_minutiae(
    minutiae: Minutiae, record: MinutiaeRecord, where: str, angle_units: int
) -> bytes:
    x = np.rint(minutiae.x.astype(np.float64))
    y = np.rint(minutiae.y.astype(np.float64))
    angle = minutiae.angle.astype(np.float64)
    for name, values, size in (("x", x, record.width), ("y", y, record.height)):
        limit = min(size, COORDINATE_LIMIT)  # inside the image, and within 14 bits
        bad = np.flatnonzero(~np.isfinite(values) | (values < 0) | (values >= limit))
        _check(
            bad.size == 0,
            f"{where}, minutia {int(bad[0]) + 1 if bad.size else 0}: {name}="
            f"{values[bad[0]] if bad.size else 0} outside 0-{limit - 1}",
        )
    _check(bool(np.all(np.isfinite(angle))), f"{where}: a minutia angle is not finite")
    _check(bool(np.all(minutiae.kind <= 2)), f"{where}: a minutia kind is not 0, 1 or 2")
    _check(
        bool(np.all(minutiae.quality <= MAX_QUALITY)),
        f"{where}: a minutia quality exceeds {MAX_QUALITY}",
    )
    units = np.rint(angle * (angle_units / (2 * math.pi))).astype(np.int64) % angle_units
    raw = np.zeros(len(minutiae), dtype=MINUTIA_DTYPE)
    raw["xt"] = (minutiae.kind.astype(np.uint16) << 14) | x.astype(np.uint16)
    raw["yr"] = y.astype(np.uint16)
    raw["angle"] = units.astype(np.uint8)
    raw["quality"] = minutiae.quality
    return raw.tobytes()
