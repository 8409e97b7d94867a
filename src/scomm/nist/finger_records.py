"""Finger image records: FingerImage to Type-14 (WSQ20, NONE or PNG) or Type-4 and back.

Type-14 is the tagged variable-resolution record EBTS asks for; Type-4 the legacy binary
500 ppi record (18-byte header: LEN, IDC, IMP, FGP (6 bytes, unused ones 255), ISR, HLL,
VLL, GCA (0 none, 1 WSQ), then the pixels), which older CARs carry instead.
"""

from __future__ import annotations

import datetime
import io
import struct
from collections.abc import Sequence
from dataclasses import dataclass

import nistitl
import numpy as np
from PIL import Image

from scomm.biometrics.wsq_codec import (
    WSQ_MIN_SIDE,
    DecodedImageCache,
    WsqError,
    WsqJob,
    decode_wsq_images,
    encode_wsq,
)
from scomm.nist import ebts
from scomm.nist.errors import TransactionError
from scomm.nist.tenprint import TENPRINT_IMPRESSIONS, FingerImage, PixelArray
from scomm.nist.wire import Record, record_idc, required_text, text_record

# 14.011 CGA values scomm reads and writes; older transactions may say "WSQ" for WSQ20.
COMPRESSIONS: tuple[str, ...] = ("WSQ20", "NONE", "PNG")
_READABLE_COMPRESSIONS: tuple[str, ...] = (*COMPRESSIONS, "WSQ")
MIN_PPI = 100
MAX_PPI = 4000
_DATA = 999
_SLC_PPI = 1
_SLC_PPCM = 2


@dataclass(frozen=True)
class PendingFinger:
    """A Type-14 record whose fields are valid but whose pixels are still compressed."""

    idc: int
    position: int
    impression: int
    ppi: int
    width: int
    height: int
    compression: str
    data: bytes


# --- encoding -------------------------------------------------------------------------


def check_finger(image: FingerImage) -> None:
    """The Type-14 rules for an image about to be encoded."""
    if not isinstance(image, FingerImage):
        raise TransactionError("Type-14", f"expected a FingerImage, got {type(image).__name__}")
    ebts.check_number("14.013", image.position, 1, 15)
    if image.impression not in TENPRINT_IMPRESSIONS:
        raise TransactionError("14.003", f"impression {image.impression} is not one of 0-3")
    ebts.check_number("14.009", image.ppi, MIN_PPI, MAX_PPI)
    ebts.check_number("14.006", image.width, 1, ebts.MAX_IMAGE_SIDE)
    ebts.check_number("14.007", image.height, 1, ebts.MAX_IMAGE_SIDE)


def check_compression(compression: str) -> None:
    """One of COMPRESSIONS."""
    ebts.check_code("14.011", compression, COMPRESSIONS)


def finger_record(
    image: FingerImage, idc: int, source: str, capture_date: datetime.date, compression: str
) -> Record:
    """The Type-14 record (IDC `idc`) carrying `image`, compressed with `compression`."""
    check_finger(image)
    check_compression(compression)
    record = text_record(
        14,
        idc,
        [
            (3, str(image.impression)),
            (4, source),
            (5, ebts.format_date(capture_date)),
            (6, str(image.width)),
            (7, str(image.height)),
            (8, str(_SLC_PPI)),
            (9, str(image.ppi)),
            (10, str(image.ppi)),
            (11, compression),
            (12, "8"),
            (13, str(image.position)),
        ],
    )
    record.DATA = _compress(image, compression)
    return record


def _compress(image: FingerImage, compression: str) -> bytes:
    if compression == "NONE":
        return image.pixels.tobytes()
    if compression == "PNG":
        out = io.BytesIO()
        Image.fromarray(np.ascontiguousarray(image.pixels)).save(out, format="PNG")
        return out.getvalue()
    if image.width < WSQ_MIN_SIDE or image.height < WSQ_MIN_SIDE:
        field = "14.006" if image.width < WSQ_MIN_SIDE else "14.007"
        raise TransactionError(
            field,
            f"WSQ needs images of at least {WSQ_MIN_SIDE}x{WSQ_MIN_SIDE} pixels "
            f"(FGP {image.position} is {image.width}x{image.height}); use NONE or PNG",
        )
    try:
        return encode_wsq(image.pixels)
    except WsqError as exc:
        raise TransactionError("14.999", f"FGP {image.position}: {exc.reason}") from exc


# Type-4: compressions it can carry (4.008 GCA code) and its header after LEN and IDC.
LEGACY_COMPRESSIONS: dict[str, int] = {"NONE": 0, "WSQ20": 1}
_LEGACY_GCA = {code: name for name, code in LEGACY_COMPRESSIONS.items()}
_LEGACY_HEADER = struct.Struct("!B6sBHHB")  # IMP, FGP, ISR, HLL, VLL, GCA
_LEGACY_PPI = 500
_UNUSED_FGP = 255


def legacy_finger_record(image: FingerImage, idc: int, compression: str) -> Record:
    """The Type-4 record (IDC `idc`) carrying `image` (500 ppi, FGP 1-14), "WSQ20" or
    "NONE"."""
    check_finger(image)
    ebts.check_code("4.008", compression, tuple(LEGACY_COMPRESSIONS))
    if image.ppi != _LEGACY_PPI:
        raise TransactionError(
            "4.005", f"Type-4 images are 500 ppi, FGP {image.position} is {image.ppi}"
        )
    if image.position > 14:
        raise TransactionError("4.004", f"finger position {image.position} has no Type-4 code")
    fgp = bytes([image.position]) + bytes([_UNUSED_FGP]) * 5
    record = nistitl.BinaryRecord(4)
    record.IDC = idc
    header = _LEGACY_HEADER.pack(
        image.impression, fgp, 0, image.width, image.height, LEGACY_COMPRESSIONS[compression]
    )
    record.value = header + _compress(image, compression)
    return record


# --- decoding -------------------------------------------------------------------------


def read_pending_finger(record: Record) -> PendingFinger:
    """Validate the fields of one Type-14 record, naming the field (and the record's IDC)."""
    idc = record_idc(record)
    try:
        return _read_pending(record, idc)
    except TransactionError as exc:
        raise TransactionError(exc.field, f"{exc.reason} (Type-14 IDC {idc})") from exc


def _read_pending(record: Record, idc: int) -> PendingFinger:
    def required(number: int) -> str:
        return required_text(record, number)

    impression = ebts.parse_number("14.003", required(3), 0, 99)
    if impression not in TENPRINT_IMPRESSIONS:
        raise TransactionError("14.003", f"impression {impression} is not one of 0-3")
    ebts.check_text("14.004", required(4), max_len=35)
    ebts.parse_date("14.005", required(5))
    width = ebts.parse_number("14.006", required(6), 1, ebts.MAX_IMAGE_SIDE)
    height = ebts.parse_number("14.007", required(7), 1, ebts.MAX_IMAGE_SIDE)
    scale = ebts.parse_number("14.008", required(8), 0, 2)
    if scale not in (_SLC_PPI, _SLC_PPCM):
        raise TransactionError("14.008", "scale units must be 1 (ppi) or 2 (pixels per cm)")
    horizontal = ebts.parse_number("14.009", required(9), 1, 99999)
    vertical = ebts.parse_number("14.010", required(10), 1, 99999)
    if horizontal != vertical:
        raise TransactionError("14.010", f"{vertical} differs from 14.009 THPS {horizontal}")
    ppi = horizontal if scale == _SLC_PPI else round(horizontal * 2.54)
    if not MIN_PPI <= ppi <= MAX_PPI:
        raise TransactionError("14.009", f"{ppi} ppi outside {MIN_PPI}..{MAX_PPI}")
    compression = ebts.check_code("14.011", required(11), _READABLE_COMPRESSIONS)
    if compression == "WSQ":
        compression = "WSQ20"
    bits = ebts.parse_number("14.012", required(12), 0, 99)
    if bits != 8:
        raise TransactionError("14.012", f"{bits} bits per pixel; only 8-bit grey is accepted")
    position = ebts.parse_number("14.013", required(13), 0, 255)
    if not 1 <= position <= 15:
        raise TransactionError("14.013", f"finger position {position} outside 1..15")
    field = record[_DATA]
    data = None if field is None else field.value
    if not isinstance(data, bytes) or not data:
        raise TransactionError("14.999", "missing image data")
    return PendingFinger(idc, position, impression, ppi, width, height, compression, data)


def read_pending_legacy_finger(record: Record) -> PendingFinger:
    """Validate the binary header of one Type-4 record, naming the field and the IDC."""
    idc = record_idc(record)
    value = record.value
    if not isinstance(value, bytes) or len(value) <= _LEGACY_HEADER.size:
        raise TransactionError(
            "4.009", f"record too short for its header and data (Type-4 IDC {idc})"
        )
    impression, fgp, _isr, width, height, gca = _LEGACY_HEADER.unpack_from(value)
    where = f"(Type-4 IDC {idc})"
    if impression not in TENPRINT_IMPRESSIONS:
        raise TransactionError("4.003", f"impression {impression} is not one of 0-3 {where}")
    position = fgp[0]
    if not 1 <= position <= 14:
        raise TransactionError("4.004", f"finger position {position} outside 1..14 {where}")
    if not (1 <= width <= ebts.MAX_IMAGE_SIDE and 1 <= height <= ebts.MAX_IMAGE_SIDE):
        raise TransactionError("4.006", f"image size {width}x{height} out of range {where}")
    if gca not in _LEGACY_GCA:
        raise TransactionError(
            "4.008", f"compression code {gca} is not 0 (none) or 1 (WSQ) {where}"
        )
    data = value[_LEGACY_HEADER.size :]
    return PendingFinger(
        idc, position, impression, _LEGACY_PPI, width, height, _LEGACY_GCA[gca], data
    )


def decode_fingers(
    pending: Sequence[PendingFinger], cache: DecodedImageCache | None = None
) -> tuple[FingerImage, ...]:
    """Decompress the pixels of validated Type-14 records (all WSQ in one isolated decoder
    run; streams `cache` holds are not decoded again)."""
    pixels: dict[int, PixelArray] = {}
    wsq_slots = [i for i, p in enumerate(pending) if p.compression == "WSQ20"]
    jobs = [WsqJob(pending[i].data, pending[i].width, pending[i].height) for i in wsq_slots]
    for i, p in enumerate(pending):
        if p.compression == "NONE":
            pixels[i] = _raw_pixels(p)
        elif p.compression == "PNG":
            pixels[i] = _png_pixels(p)
    try:
        decoded = decode_wsq_images(jobs, cache=cache)
    except WsqError as exc:
        bad = pending[wsq_slots[exc.index]] if exc.index < len(wsq_slots) else None
        where = f" (Type-14 IDC {bad.idc}, FGP {bad.position})" if bad else ""
        raise TransactionError("14.999", f"{exc.reason}{where}") from exc
    pixels.update(zip(wsq_slots, decoded, strict=True))
    return tuple(
        FingerImage(p.position, pixels[i], ppi=p.ppi, impression=p.impression)
        for i, p in enumerate(pending)
    )


def _raw_pixels(p: PendingFinger) -> PixelArray:
    expected = p.width * p.height
    if len(p.data) != expected:
        raise TransactionError(
            "14.999",
            f"uncompressed image holds {len(p.data)} bytes but HLL x VLL is {expected} "
            f"(Type-14 IDC {p.idc}, FGP {p.position})",
        )
    return np.frombuffer(p.data, dtype=np.uint8).reshape(p.height, p.width)


def _png_pixels(p: PendingFinger) -> PixelArray:
    where = f"(Type-14 IDC {p.idc}, FGP {p.position})"
    try:
        with Image.open(io.BytesIO(p.data), formats=["PNG"]) as image:
            if image.size != (p.width, p.height):
                raise TransactionError(
                    "14.999",
                    f"PNG image is {image.size[0]}x{image.size[1]} but HLL x VLL is "
                    f"{p.width}x{p.height} {where}",
                )
            if image.mode != "L":
                raise TransactionError(
                    "14.999", f"PNG image is mode {image.mode}, not 8-bit grey {where}"
                )
            image.load()
            return np.asarray(image, dtype=np.uint8).reshape(p.height, p.width)
    except TransactionError:
        raise
    except Exception as exc:  # Pillow raises OSError, SyntaxError, ValueError, zlib.error...
        raise TransactionError("14.999", f"undecodable PNG image {where}: {exc}"[:200]) from exc
