"""The general finger-image reader: every Type-4 and Type-14 image of any transaction.

Images come back in record order with their record type and IDC.  Positions and
impressions are checked against the full ANSI/NIST-ITL tables (`finger_tables`), not the
ten-print subset a CAR takes; Type-14 images may be WSQ, uncompressed, PNG, JPEG
(JPEGB; JPEGL, the lossless process of ITU-T T.81, through libjpeg-turbo 3) or
JPEG 2000 (JP2, JP2L; OpenJPEG), all through Pillow.  No CAR rules apply (TOT, Type-2, counts).
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass

import numpy as np
from PIL import Image

from scomm.biometrics.wsq_codec import DecodedImageCache
from scomm.nist import ebts
from scomm.nist.errors import TransactionError, only_transaction_errors
from scomm.nist.finger_records import (
    MAX_PPI,
    MIN_PPI,
    PendingFinger,
    decode_fingers,
    legacy_ppi,
)
from scomm.nist.finger_tables import check_impression, check_position
from scomm.nist.tenprint import FingerImage, PixelArray
from scomm.nist.wire import Record, parse_records, record_idc, required_text

# 14.011 CGA values this reader takes, and the Pillow format behind each JPEG kind.
TYPE14_COMPRESSIONS: tuple[str, ...] = (
    "NONE",
    "WSQ20",
    "WSQ",
    "PNG",
    "JPEGB",
    "JPEGL",
    "JP2",
    "JP2L",
)
_PILLOW_FORMATS: dict[str, str] = {
    "JPEGB": "JPEG",
    "JPEGL": "JPEG",
    "JP2": "JPEG2000",
    "JP2L": "JPEG2000",
}
_BY_DECODE_FINGERS = frozenset({"NONE", "WSQ20", "PNG"})
_TYPE4_HEADER = struct.Struct("!B6sBHHB")  # IMP, FGP, ISR, HLL, VLL, GCA after LEN, IDC
_TYPE4_GCA = {0: "NONE", 1: "WSQ20"}
_UNUSED_FGP = 255
_DATA = 999


@dataclass(frozen=True)
class RecordImage:
    """One finger image as its record carries it: record type (4 or 14), IDC, the 14.011
    CGA (or 4.008 GCA) it was compressed with, and the image (FGP, IMP, ppi, pixels)."""

    record_type: int
    idc: int
    compression: str
    image: FingerImage


def read_record_images(
    raw: bytes, images: DecodedImageCache | None = None
) -> tuple[RecordImage, ...]:
    """Every Type-4 and Type-14 image of a transaction, in record order (WSQ streams
    `images` holds are not decoded again). Raises only TransactionError, naming the field
    and the record."""
    return only_transaction_errors(lambda data: _read(data, images), raw)


def _read(raw: bytes, cache: DecodedImageCache | None) -> tuple[RecordImage, ...]:
    records = parse_records(raw)
    pending: list[tuple[int, PendingFinger]] = []
    for record in records[1:]:
        if record.type == 14:
            pending.append((14, _pending_type14(record)))
        elif record.type == 4:
            pending.append((4, _pending_type4(record, records[0])))
    pixels: dict[int, PixelArray] = {}
    plain = [i for i, (_, p) in enumerate(pending) if p.compression in _BY_DECODE_FINGERS]
    decoded = decode_fingers([pending[i][1] for i in plain], cache)
    pixels.update((i, image.pixels) for i, image in zip(plain, decoded, strict=True))
    for i, (record_type, p) in enumerate(pending):
        if i not in pixels:
            pixels[i] = _pillow_pixels(record_type, p)
    return tuple(
        RecordImage(
            record_type,
            p.idc,
            p.compression,
            FingerImage(p.position, pixels[i], ppi=p.ppi, impression=p.impression),
        )
        for i, (record_type, p) in enumerate(pending)
    )


def _pending_type14(record: Record) -> PendingFinger:
    idc = record_idc(record)
    try:
        return _read_type14(record, idc)
    except TransactionError as exc:
        raise TransactionError(exc.field, f"{exc.reason} (Type-14 IDC {idc})") from exc


def _read_type14(record: Record, idc: int) -> PendingFinger:
    def required(number: int) -> str:
        return required_text(record, number)

    impression = check_impression(14, "14.003", ebts.parse_number("14.003", required(3), 0, 99))
    width = ebts.parse_number("14.006", required(6), 1, ebts.MAX_IMAGE_SIDE)
    height = ebts.parse_number("14.007", required(7), 1, ebts.MAX_IMAGE_SIDE)
    scale = ebts.parse_number("14.008", required(8), 0, 2)
    if scale == 0:
        raise TransactionError("14.008", "scale units 0 (no scale) give no resolution")
    horizontal = ebts.parse_number("14.009", required(9), 1, 99999)
    vertical = ebts.parse_number("14.010", required(10), 1, 99999)
    if horizontal != vertical:
        raise TransactionError("14.010", f"{vertical} differs from 14.009 THPS {horizontal}")
    ppi = horizontal if scale == 1 else round(horizontal * 2.54)
    if not MIN_PPI <= ppi <= MAX_PPI:
        raise TransactionError("14.009", f"{ppi} ppi outside {MIN_PPI}..{MAX_PPI}")
    compression = ebts.check_code("14.011", required(11), TYPE14_COMPRESSIONS)
    if compression == "WSQ":
        compression = "WSQ20"
    bits = ebts.parse_number("14.012", required(12), 0, 99)
    if bits != 8:
        raise TransactionError("14.012", f"{bits} bits per pixel; only 8-bit grey is accepted")
    position = check_position(14, "14.013", ebts.parse_number("14.013", required(13), 0, 255))
    field = record[_DATA]
    data = None if field is None else field.value
    if not isinstance(data, bytes) or not data:
        raise TransactionError("14.999", "missing image data")
    return PendingFinger(idc, position, impression, ppi, width, height, compression, data)


def _pending_type4(record: Record, type1: Record) -> PendingFinger:
    idc = record_idc(record)
    where = f"(Type-4 IDC {idc})"
    value = record.value
    if not isinstance(value, bytes) or len(value) <= _TYPE4_HEADER.size:
        raise TransactionError("4.009", f"record too short for its header and data {where}")
    impression, fgp, isr, width, height, gca = _TYPE4_HEADER.unpack_from(value)
    try:
        check_impression(4, "4.003", impression)
        position = check_position(4, "4.004", fgp[0])
    except TransactionError as exc:
        raise TransactionError(exc.field, f"{exc.reason} {where}") from exc
    for other in fgp[1:]:
        if other != _UNUSED_FGP:
            try:
                check_position(4, "4.004", other)
            except TransactionError as exc:
                raise TransactionError(exc.field, f"{exc.reason} {where}") from exc
    try:
        ppi = legacy_ppi(type1, isr)  # ISR 0: 500 ppi; ISR 1: 1.011 NSR
    except TransactionError as exc:
        raise TransactionError(exc.field, f"{exc.reason} {where}") from exc
    if not MIN_PPI <= ppi <= MAX_PPI:
        raise TransactionError("4.005", f"{ppi} ppi outside {MIN_PPI}..{MAX_PPI} {where}")
    if not 1 <= width <= ebts.MAX_IMAGE_SIDE:
        raise TransactionError("4.006", f"HLL {width} outside 1..{ebts.MAX_IMAGE_SIDE} {where}")
    if not 1 <= height <= ebts.MAX_IMAGE_SIDE:
        raise TransactionError("4.007", f"VLL {height} outside 1..{ebts.MAX_IMAGE_SIDE} {where}")
    if gca not in _TYPE4_GCA:
        raise TransactionError("4.008", f"GCA {gca} is not 0 (none) or 1 (WSQ) {where}")
    data = value[_TYPE4_HEADER.size :]
    return PendingFinger(idc, position, impression, ppi, width, height, _TYPE4_GCA[gca], data)


def _pillow_pixels(record_type: int, p: PendingFinger) -> PixelArray:
    """The pixels of a JPEG (JPEGB, JPEGL) or JPEG 2000 (JP2, JP2L) image."""
    where = f"(Type-{record_type} IDC {p.idc}, FGP {p.position})"
    field = f"{record_type}.999"
    try:
        with Image.open(io.BytesIO(p.data), formats=[_PILLOW_FORMATS[p.compression]]) as image:
            if image.size != (p.width, p.height):
                raise TransactionError(
                    field,
                    f"{p.compression} image is {image.size[0]}x{image.size[1]} but HLL x VLL "
                    f"is {p.width}x{p.height} {where}",
                )
            if image.mode != "L":
                raise TransactionError(
                    field, f"{p.compression} image is mode {image.mode}, not 8-bit grey {where}"
                )
            image.load()
            return np.asarray(image, dtype=np.uint8).reshape(p.height, p.width)
    except TransactionError:
        raise
    except Exception as exc:  # Pillow and its codecs raise OSError, SyntaxError, ValueError...
        raise TransactionError(
            field, f"undecodable {p.compression} image {where}: {exc}"[:300]
        ) from exc
