"""The general finger-image reader: every Type-4 and Type-14 image of any transaction.

Images come back in record order with their record type and IDC.  Positions and
impressions are checked against the full ANSI/NIST-ITL tables (`finger_tables`), not the
ten-print subset a CAR takes; Type-14 images may be WSQ, uncompressed, PNG, JPEG
(JPEGB; JPEGL, the lossless process of ITU-T T.81, through libjpeg-turbo 3) or
JPEG 2000 (JP2, JP2L; OpenJPEG), all decoded as the CAR reader decodes them
(`finger_records.decode_fingers`); Type-4 headers are read by the CAR reader's parser
without the ten-print rules.  No CAR rules apply (TOT, Type-2, counts).
"""

from __future__ import annotations

from dataclasses import dataclass

from scomm.biometrics.wsq_codec import DecodedImageCache
from scomm.nist import ebts
from scomm.nist.errors import TransactionError, only_transaction_errors
from scomm.nist.finger_records import (
    MAX_PPI,
    MIN_PPI,
    READABLE_COMPRESSIONS,
    PendingFinger,
    decode_fingers,
    read_pending_legacy_finger,
)
from scomm.nist.finger_tables import check_impression, check_position
from scomm.nist.tenprint import FingerImage
from scomm.nist.wire import Record, parse_records, record_idc, required_text

# 14.011 CGA values this reader takes (as the CAR reader does).
TYPE14_COMPRESSIONS: tuple[str, ...] = READABLE_COMPRESSIONS
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
    pending = [
        read_pending_legacy_finger(record, records[0], index=index, tenprint=False)
        if record.type == 4
        else _pending_type14(record)
        for index, record in enumerate(records, start=1)
        if record.type in (4, 14)
    ]
    decoded = decode_fingers(pending, cache)
    return tuple(
        RecordImage(p.record_type, p.idc, p.compression, image)
        for p, image in zip(pending, decoded, strict=True)
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
