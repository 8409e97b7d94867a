"""Finger image records: FingerImage to Type-14 (WSQ20, NONE or PNG) or Type-4 and back.

Type-14 is the tagged variable-resolution record EBTS asks for; Type-4 the legacy binary
record (18-byte header: LEN, IDC, IMP, FGP (6 bytes, unused ones 255), ISR, HLL, VLL,
GCA (0 none, 1 WSQ), then the pixels), which older CARs carry instead. A Type-4 record's
resolution is not in the record: its ISR byte says whether the image is sampled at the
minimum scanning resolution (ISR 0: 19.69 pixels per mm, 500 ppi) or at the native
scanning resolution (ISR 1), which the Type-1 record gives in 1.011 NSR, in pixels per
millimetre with two decimals.

Type-4 fields are bytes, not tags; errors name them as ANSI/NIST-ITL numbers them
(4.003 IMP ... 4.009 DATA) with the field's name and bytes, and the record.
"""

from __future__ import annotations

import datetime
import io
import re
import struct
from collections.abc import Sequence
from dataclasses import dataclass

import nistitl
import numpy as np
from PIL import Image, UnidentifiedImageError, features

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
from scomm.nist.finger_tables import impression_problem, position_problem
from scomm.nist.tenprint import TENPRINT_IMPRESSIONS, FingerImage, PixelArray
from scomm.nist.wire import Record, record_idc, required_text, text_record, text_value

# 14.011 CGA values scomm writes; older transactions may say "WSQ" for WSQ20.
COMPRESSIONS: tuple[str, ...] = ("WSQ20", "NONE", "PNG")
# The JPEG family of 14.011 CGA values scomm reads (through Pillow), with Pillow's format:
# baseline and lossless JPEG (ITU-T T.81; lossless needs libjpeg-turbo 3), JPEG 2000.
JPEG_COMPRESSIONS: dict[str, str] = {
    "JPEGB": "JPEG",
    "JPEGL": "JPEG",
    "JP2": "JPEG2000",
    "JP2L": "JPEG2000",
}
READABLE_COMPRESSIONS: tuple[str, ...] = (*COMPRESSIONS, "WSQ", *JPEG_COMPRESSIONS)
_PILLOW_FORMATS: dict[str, str] = {"PNG": "PNG", **JPEG_COMPRESSIONS}
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
    record_type: int = 14
    where: str = ""

    @property
    def data_field(self) -> str:
        """The tag of the image data field: 14.999 or Type-4's 4.009 DATA."""
        return "4.009" if self.record_type == 4 else "14.999"

    def describe(self) -> str:
        """The record and finger, for error messages: "(Type-14 IDC 3, FGP 2)"."""
        record = self.where or f"Type-{self.record_type} IDC {self.idc}"
        return f"({record}, FGP {self.position})"


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
    compression = ebts.check_code("14.011", required(11), READABLE_COMPRESSIONS)
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


# Type-4 fields as ANSI/NIST-ITL names them, with their bytes (1-based) in the record.
LEGACY_FIELDS: dict[str, str] = {
    "4.001": "Type-4 LEN (record length, bytes 1-4)",
    "4.002": "Type-4 IDC (information designation character, byte 5)",
    "4.003": "Type-4 IMP (impression type, byte 6)",
    "4.004": "Type-4 FGP (finger position, bytes 7-12)",
    "4.005": "Type-4 ISR (image scanning resolution, byte 13)",
    "4.006": "Type-4 HLL (horizontal line length, bytes 14-15)",
    "4.007": "Type-4 VLL (vertical line length, bytes 16-17)",
    "4.008": "Type-4 GCA (compression algorithm, byte 18)",
    "4.009": "Type-4 DATA (image data, from byte 19)",
}
# 1.011 NSR: pixels per millimetre, two digits, a point, two digits.
_PPMM = re.compile(r"\d{1,2}\.\d{2}")
_MM_PER_INCH = 25.4


def legacy_ppi(type1: Record | None, isr: int) -> int:
    """The resolution in ppi of a Type-4 image whose ISR byte is `isr`.

    ISR 0: the image is sampled at the minimum scanning resolution, 19.69 pixels per mm
    (500 ppi). ISR 1: at the native scanning resolution, which the Type-1 record gives in
    1.011 NSR (pixels per mm). Where 1.011 is absent or 00.00 (some writers leave it so),
    the image is taken at the 500 ppi Type-4 was made for.
    """
    if isr not in (0, 1):
        raise TransactionError(
            "4.005",
            f"ISR {isr} is not 0 (minimum scanning resolution, 500 ppi) or "
            "1 (native scanning resolution, 1.011 NSR)",
        )
    if isr == 0:
        return _LEGACY_PPI
    number = 11
    if type1 is None:
        return _LEGACY_PPI
    field = f"1.{number:03d}"
    text = text_value(type1, number, required=False)
    if text is None:
        return _LEGACY_PPI
    if not _PPMM.fullmatch(text):
        raise TransactionError(
            field,
            f"{text[:20]!r} is not a resolution in pixels per millimetre such as 19.69 "
            f"(needed by a Type-4 record with ISR {isr})",
        )
    ppmm = float(text)
    if ppmm == 0:
        return _LEGACY_PPI
    ppi = round(ppmm * _MM_PER_INCH)
    if not MIN_PPI <= ppi <= MAX_PPI:
        raise TransactionError(
            field,
            f"{text} pixels per mm is {ppi} ppi, outside {MIN_PPI}..{MAX_PPI} "
            f"(needed by a Type-4 record with ISR {isr})",
        )
    return ppi


def read_legacy_fingers(records: Sequence[Record]) -> list[PendingFinger]:
    """Every Type-4 record of a parsed transaction (Type-1 first), validated, with its
    resolution from ISR (500 ppi, or 1.011 NSR), and errors naming the record index."""
    type1 = records[0] if records and records[0].type == 1 else None
    return [
        read_pending_legacy_finger(record, type1, index=index)
        for index, record in enumerate(records, start=1)
        if record.type == 4
    ]


def read_pending_legacy_finger(
    record: Record,
    type1: Record | None = None,
    *,
    index: int | None = None,
    tenprint: bool = True,
) -> PendingFinger:
    """Validate the binary header of one Type-4 record, naming the Type-4 field, the record
    (its index in the transaction when `index` is given) and its IDC.

    Every Type-4 record is held to ANSI/NIST-ITL: IMP and FGP codes from the Type-4 column
    of the tables (`finger_tables`), the five alternate FGP bytes each 255 (unused) or a
    finger position, ISR 0 or 1, HLL and VLL at least 1, GCA 0 (none) or 1 (WSQ). With
    `tenprint` (a CAR's ten-print card) also IMP 0-3 and FGP 1-14. The resolution comes from
    ISR and `type1`'s 1.011 NSR (500 ppi without `type1`); see legacy_ppi.
    """
    idc = record_idc(record)
    where = f"record {index} (Type-4 IDC {idc})" if index is not None else f"Type-4 IDC {idc}"

    def fault(field: str, reason: str) -> TransactionError:
        return TransactionError(field, f"{LEGACY_FIELDS[field]} of {where}: {reason}")

    value = record.value
    if not isinstance(value, bytes) or len(value) <= _LEGACY_HEADER.size:
        size = len(value) if isinstance(value, bytes) else 0
        raise fault(
            "4.009",
            f"the record holds {size + 5} bytes, too few for its 18-byte header and image data",
        )
    impression, fgp, isr, width, height, gca = _LEGACY_HEADER.unpack_from(value)
    problem = impression_problem(4, impression)
    if problem is not None:
        raise fault("4.003", problem)
    if tenprint and impression not in TENPRINT_IMPRESSIONS:
        raise fault("4.003", f"impression {impression} is not one of 0-3")
    position = fgp[0]
    problem = position_problem(4, position)
    if problem is not None:
        raise fault("4.004", f"byte 7 (the finger position): {problem}")
    if tenprint and not 1 <= position <= 14:
        raise fault("4.004", f"finger position {position} outside 1..14")
    for byte, alternate in enumerate(fgp[1:], start=8):
        problem = position_problem(4, alternate)
        if alternate != _UNUSED_FGP and problem is not None:
            raise fault("4.004", f"byte {byte} (an alternate position, 255 if unused): {problem}")
    try:
        ppi = legacy_ppi(type1, isr)
    except TransactionError as exc:
        if exc.field == "4.005":
            raise fault("4.005", exc.reason) from exc
        raise TransactionError(exc.field, f"{exc.reason}, for {where}") from exc
    if not 1 <= width <= ebts.MAX_IMAGE_SIDE:
        raise fault("4.006", f"{width} pixels outside 1..{ebts.MAX_IMAGE_SIDE}")
    if not 1 <= height <= ebts.MAX_IMAGE_SIDE:
        raise fault("4.007", f"{height} pixels outside 1..{ebts.MAX_IMAGE_SIDE}")
    if gca not in _LEGACY_GCA:
        raise fault("4.008", f"compression code {gca} is not 0 (none) or 1 (WSQ)")
    data = value[_LEGACY_HEADER.size :]
    return PendingFinger(
        idc, position, impression, ppi, width, height, _LEGACY_GCA[gca], data, 4, where
    )


def decode_fingers(
    pending: Sequence[PendingFinger], cache: DecodedImageCache | None = None
) -> tuple[FingerImage, ...]:
    """Decompress the pixels of validated Type-14 and Type-4 records: WSQ all in one isolated
    decoder run (streams `cache` holds are not decoded again), PNG and the JPEG family
    through Pillow, uncompressed as they are."""
    pixels: dict[int, PixelArray] = {}
    wsq_slots = [i for i, p in enumerate(pending) if p.compression == "WSQ20"]
    jobs = [WsqJob(pending[i].data, pending[i].width, pending[i].height) for i in wsq_slots]
    for i, p in enumerate(pending):
        if p.compression == "NONE":
            pixels[i] = _raw_pixels(p)
        elif p.compression in _PILLOW_FORMATS:
            pixels[i] = _pillow_pixels(p)
    try:
        decoded = decode_wsq_images(jobs, cache=cache)
    except WsqError as exc:
        bad = pending[wsq_slots[exc.index]] if exc.index < len(wsq_slots) else None
        if bad is None:
            raise TransactionError("14.999", exc.reason) from exc
        raise TransactionError(bad.data_field, f"{exc.reason} {bad.describe()}") from exc
    pixels.update(zip(wsq_slots, decoded, strict=True))
    return tuple(
        FingerImage(p.position, pixels[i], ppi=p.ppi, impression=p.impression)
        for i, p in enumerate(pending)
    )


def _raw_pixels(p: PendingFinger) -> PixelArray:
    expected = p.width * p.height
    if len(p.data) != expected:
        raise TransactionError(
            p.data_field,
            f"uncompressed image holds {len(p.data)} bytes but HLL x VLL is {expected} "
            f"{p.describe()}",
        )
    return np.frombuffer(p.data, dtype=np.uint8).reshape(p.height, p.width)


def _pillow_pixels(p: PendingFinger) -> PixelArray:
    """The pixels of a PNG, JPEG (JPEGB, JPEGL) or JPEG 2000 (JP2, JP2L) image."""
    where = p.describe()
    data = p.data
    if p.compression == "JPEGL":
        _check_lossless_jpeg_decoder(p.data_field, where)
        data = lossless_tables_as_class_0(data)
    try:
        with Image.open(io.BytesIO(data), formats=[_PILLOW_FORMATS[p.compression]]) as image:
            if image.size != (p.width, p.height):
                raise TransactionError(
                    p.data_field,
                    f"{p.compression} image is {image.size[0]}x{image.size[1]} but HLL x VLL "
                    f"is {p.width}x{p.height} {where}",
                )
            if image.mode != "L":
                raise TransactionError(
                    p.data_field,
                    f"{p.compression} image is mode {image.mode}, not 8-bit grey {where}",
                )
            image.load()
            return np.asarray(image, dtype=np.uint8).reshape(p.height, p.width)
    except TransactionError:
        raise
    except Exception as exc:  # Pillow and its codecs raise OSError, SyntaxError, zlib.error...
        if isinstance(exc, UnidentifiedImageError):
            fmt = _PILLOW_FORMATS[p.compression].replace("JPEG2000", "JPEG 2000")
            words = f"not a {fmt} stream (it starts with {data[:4].hex(' ')})"
        else:
            words = _DECODER_WORDS.get(str(exc), str(exc))
        reason = f"undecodable {p.compression} image {where}: {words}"
        raise TransactionError(p.data_field, reason[:300]) from exc


# Pillow's decoder messages, said as what they mean for the image data.
_DECODER_WORDS: dict[str, str] = {
    "broken data stream when reading image file": (
        "the compressed data is damaged or uses a coding the decoder does not take "
        "(broken data stream)"
    ),
    "image file is truncated": "the compressed data ends early (image file is truncated)",
}


def _check_lossless_jpeg_decoder(field: str, where: str) -> None:
    """Lossless JPEG (T.81 process 14, SOF3) decodes through libjpeg-turbo 3.0 and later."""
    version = features.version("libjpeg_turbo") or ""
    major = version.split(".")[0]
    if not (major.isdigit() and int(major) >= 3):
        raise TransactionError(
            field,
            f"JPEGL lossless JPEG cannot be decoded {where}: Pillow's JPEG library "
            f"(libjpeg-turbo {version or 'absent'}) predates lossless decoding (3.0)",
        )


_SOF3, _DHT, _SOS, _EOI = 0xC3, 0xC4, 0xDA, 0xD9
_STANDALONE = frozenset({0x01, 0xD8, *range(0xD0, 0xD8)})  # TEM, SOI, RST0-7: no length


def lossless_tables_as_class_0(data: bytes) -> bytes:
    """`data`, a lossless JPEG stream, with Huffman tables declared as class 1 (AC) rewritten as
    class 0, where the stream has no class-0 table of that id; any other stream unchanged.

    ITU-T T.81 B.2.4.2 makes the tables of the lossless process class 0 ("DC table or
    lossless table"), and a lossless scan looks its table up there. NIST's NBIS JPEGL encoder
    writes its table as class 1 (NIST's reference transaction
    type-10-14-17-piv-index-iris.an2 has such images); NBIS's decoder ignores the class,
    libjpeg-turbo does not and finds no table. Only the marker segments before the first
    scan are read: the one scan of a grey image.
    """
    if data[:2] != b"\xff\xd8":
        return data
    lossless = False
    tables: list[int] = []  # offsets of the class/id bytes of the Huffman tables
    pos = 2
    while pos + 4 <= len(data) and data[pos] == 0xFF:
        marker = data[pos + 1]
        if marker == 0xFF:  # a fill byte
            pos += 1
            continue
        if marker in _STANDALONE:
            pos += 2
            continue
        if marker in (_SOS, _EOI):
            break
        end = pos + 2 + int.from_bytes(data[pos + 2 : pos + 4], "big")
        if end > len(data):
            return data
        if marker == _SOF3:
            lossless = True
        elif marker == _DHT:
            table = pos + 4
            while table + 17 <= end:
                tables.append(table)
                table += 17 + sum(data[table + 1 : table + 17])
        pos = end
    if not lossless:
        return data
    dc_ids = {data[t] & 0x0F for t in tables if data[t] >> 4 == 0}
    out = bytearray(data)
    for t in tables:
        if data[t] >> 4 == 1 and data[t] & 0x0F not in dc_ids:
            out[t] = data[t] & 0x0F
    return bytes(out)
