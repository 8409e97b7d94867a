"""Type-4 resolution from ISR (0: 500 ppi, 1: 1.011 NSR), Type-4 field names in errors, damaged tags
named with their byte offset, and the binary record blamed when its LEN is wrong.

Transactions are built here byte by byte to the letter of ANSI/NIST-ITL 1-2011: a tagged
Type-1 record and binary Type-4 records (4-byte LEN, IDC, IMP, 6-byte FGP, ISR, 2-byte
HLL and VLL, GCA, then the image).
"""

from __future__ import annotations

import struct
from collections.abc import Callable

import numpy as np
import pytest

from scomm.nist import TenprintSubmission, TransactionError, encode_tenprint
from scomm.nist.finger_images import read_record_images
from scomm.nist.finger_records import decode_fingers, read_legacy_fingers
from scomm.nist.wire import parse_records

Maker = Callable[..., TenprintSubmission]
_GS, _RS, _US, _FS = b"\x1d", b"\x1e", b"\x1f", b"\x1c"


def _tagged_record(record_type: int, fields: list[tuple[int, bytes]]) -> bytes:
    """A tagged record with its x.001 LEN computed (LEN counts its own digits)."""
    body = b"".join(_GS + f"{record_type}.{n:03d}:".encode() + v for n, v in fields) + _FS
    length = 0
    while True:
        head = f"{record_type}.001:{length}".encode()
        if len(head) + len(body) == length:
            return head + body
        length = len(head) + len(body)


def _type4(
    idc: int,
    pixels: bytes,
    *,
    isr: int = 0,
    imp: int = 1,
    fgp: int = 2,
    size: tuple[int, int] = (4, 3),
    gca: int = 0,
    alternates: bytes = b"\xff" * 5,
) -> bytes:
    header = struct.pack(
        "!BB6sBHHB", idc, imp, bytes([fgp]) + alternates, isr, size[0], size[1], gca
    )
    return struct.pack("!I", 4 + len(header) + len(pixels)) + header + pixels


def _transaction(
    type4_records: list[bytes], nsr: bytes | None = b"19.69", ntr: bytes | None = b"19.69"
) -> bytes:
    """Type-1 (version 0500, CNT listing the Type-4 records with IDC 1, 2...) + records."""
    cnt = b"1" + _US + str(len(type4_records)).encode()
    for idc in range(1, len(type4_records) + 1):
        cnt += _RS + b"4" + _US + f"{idc:02d}".encode()
    fields = [
        (2, b"0500"),
        (3, cnt),
        (4, b"CAR"),
        (5, b"20240501"),
        (7, b"WVIAFIS0Z"),
        (8, b"TX2270000"),
        (9, b"TXSO2024050100001"),
    ]
    if nsr is not None:
        fields.append((11, nsr))
    if ntr is not None:
        fields.append((12, ntr))
    return _tagged_record(1, fields) + b"".join(type4_records)


def _read(raw: bytes) -> list[tuple[int, int, int]]:
    """(position, ppi, width) of every Type-4 image, pixels decoded."""
    images = decode_fingers(read_legacy_fingers(parse_records(raw)))
    return [(image.position, image.ppi, image.width) for image in images]


def _error(raw: bytes) -> TransactionError:
    with pytest.raises(TransactionError) as caught:
        decode_fingers(read_legacy_fingers(parse_records(raw)))
    return caught.value


_PIXELS = bytes(range(12))  # 4 x 3, no compression


# --- 1. resolution from ISR: 500 ppi, or 1.011 NSR -----------------------------------


def test_isr_0_is_the_minimum_scanning_resolution_and_isr_1_the_native_one() -> None:
    raw = _transaction(
        [_type4(1, _PIXELS, isr=0, fgp=2), _type4(2, _PIXELS, isr=1, fgp=3)],
        nsr=b"39.37",  # scanned natively at 1000 ppi
        ntr=b"19.69",  # NTR is not what ISR points at
    )
    assert _read(raw) == [(2, 500, 4), (3, 1000, 4)]
    other = _transaction([_type4(1, _PIXELS, isr=1)], nsr=b"19.69", ntr=b"39.37")
    assert [ppi for _, ppi, _ in _read(other)] == [500]


def test_other_resolutions_convert_from_pixels_per_millimetre() -> None:
    raw = _transaction([_type4(1, _PIXELS, isr=1)], nsr=b"15.75", ntr=b"19.69")  # 400 ppi
    assert [ppi for _, ppi, _ in _read(raw)] == [400]


def test_a_native_resolution_that_is_zero_or_absent_is_the_500_ppi_of_type4() -> None:
    assert _read(_transaction([_type4(1, _PIXELS, isr=1)], nsr=b"00.00"))[0][1] == 500
    assert _read(_transaction([_type4(1, _PIXELS, isr=1)], nsr=None))[0][1] == 500


def test_our_writer_s_type4_records_read_back_at_500_ppi(make_submission: Maker) -> None:
    raw = encode_tenprint(make_submission(n_fingers=2, size=(16, 12)), "NONE", 4)
    assert [(p, ppi) for p, ppi, _ in _read(raw)] == [(1, 500), (2, 500)]


def test_a_bad_isr_or_resolution_is_named() -> None:
    error = _error(_transaction([_type4(1, _PIXELS), _type4(2, _PIXELS, isr=2)]))
    assert error.field == "4.005"
    assert "Type-4 ISR (image scanning resolution, byte 13)" in str(error)
    assert "record 3 (Type-4 IDC 2)" in str(error)
    error = _error(_transaction([_type4(1, _PIXELS, isr=1)], nsr=b"500"))
    assert error.field == "1.011" and "Type-4 IDC 1" in error.reason
    assert _read(_transaction([_type4(1, _PIXELS, isr=1)], nsr=b"99.99"))[0][1] == 2540
    error = _error(_transaction([_type4(1, _PIXELS, isr=1)], nsr=b"01.00"))
    assert error.field == "1.011" and "25 ppi" in error.reason


# --- 2. errors name Type-4 fields ------------------------------------------------------


@pytest.mark.parametrize(
    ("record", "field", "name"),
    [
        (_type4(1, _PIXELS, imp=7), "4.003", "Type-4 IMP (impression type, byte 6)"),
        (_type4(1, _PIXELS, fgp=0), "4.004", "Type-4 FGP (finger position, bytes 7-12)"),
        (_type4(1, _PIXELS, size=(0, 3)), "4.006", "Type-4 HLL"),
        (_type4(1, _PIXELS, size=(4, 0)), "4.007", "Type-4 VLL"),
        (_type4(1, _PIXELS, gca=7), "4.008", "Type-4 GCA (compression algorithm, byte 18)"),
        (_type4(1, _PIXELS[:-1]), "4.009", "(record 2 (Type-4 IDC 1), FGP 2)"),
        (_type4(1, b"not a WSQ image", gca=1), "4.009", "(record 2 (Type-4 IDC 1), FGP 2)"),
    ],
)
def test_type4_errors_name_type4_fields(record: bytes, field: str, name: str) -> None:
    error = _error(_transaction([record]))
    assert error.field == field
    assert name in str(error) and "14.999" not in str(error)
    assert "record 2" in str(error)


def test_alternate_finger_positions_are_255_or_positions_in_both_readers() -> None:
    """ANSI/NIST-ITL Type-4 FGP: the finger position, then up to five alternates, the unused
    bytes 255. The CAR reader and the general reader read the header with one parser."""
    some = _transaction([_type4(1, _PIXELS, fgp=2, alternates=bytes([3, 7, 255, 255, 255]))])
    assert _read(some) == [(2, 500, 4)]
    assert [i.image.position for i in read_record_images(some)] == [2]
    for alternates, byte, words in (
        (bytes([255, 16, 255, 255, 255]), 9, "value 16 (right extra digit) is not a finger"),
        (bytes([3, 255, 255, 255, 200]), 12, "value 200 is not a finger position"),
    ):
        raw = _transaction([_type4(1, _PIXELS, alternates=alternates)])
        for error in (_error(raw), _general_error(raw)):
            assert error.field == "4.004", str(error)
            assert str(error).startswith(
                "4.004 FGP: Type-4 FGP (finger position, bytes 7-12) of record 2 "
                f"(Type-4 IDC 1): byte {byte} (an alternate position, 255 if unused): {words}"
            )


def test_the_ten_print_rules_apply_to_a_car_only() -> None:
    """IMP 8 (live-scan swipe) and FGP 0 (unknown finger) are Type-4 codes: the general
    reader takes them, a CAR's ten-print card does not."""
    raw = _transaction([_type4(1, _PIXELS, imp=8, fgp=0)])
    (image,) = read_record_images(raw)
    assert (image.image.impression, image.image.position) == (8, 0)
    error = _error(raw)
    assert error.field == "4.003" and "impression 8 is not one of 0-3" in error.reason
    assert "Type-4 IMP (impression type, byte 6) of record 2 (Type-4 IDC 1)" in error.reason


def _general_error(raw: bytes) -> TransactionError:
    with pytest.raises(TransactionError) as caught:
        read_record_images(raw)
    return caught.value


# --- 3. damaged tags -------------------------------------------------------------------


def _damage(raw: bytes, good: bytes, bad: bytes) -> tuple[bytes, int]:
    at = raw.index(_GS + good) + 1
    return raw[:at] + bad + raw[at + len(good) :], at


@pytest.mark.parametrize(
    ("good", "bad", "field", "record"),
    [
        (b"2.018:", b"2.O18:", "Type-2", "record 2 (Type-2)"),
        (b"2.018:", b"2.018", "2.018", "record 2 (Type-2)"),  # the ':' is missing
        (b"2.018:", b"2.01X:", "Type-2", "record 2 (Type-2)"),
        (b"14.006:", b"14.0O6:", "Type-14", "record 3 (Type-14)"),
        (b"1.009:", b"1.0O9:", "Type-1", "record 1 (Type-1)"),
    ],
)
def test_a_damaged_tag_is_named_with_its_record_and_byte_offset(
    make_submission: Maker, good: bytes, bad: bytes, field: str, record: str
) -> None:
    raw = encode_tenprint(make_submission(n_fingers=1, size=(16, 12)), "NONE")
    damaged, at = _damage(raw, good, bad)
    if len(bad) != len(good):  # keep LEN right so that only the tag is at fault
        damaged = _fix_lengths(damaged)
    with pytest.raises(TransactionError) as caught:
        parse_records(damaged)
    assert caught.value.field == field
    assert record in caught.value.reason and f"at byte {at} " in caught.value.reason


def _fix_lengths(raw: bytes) -> bytes:
    """Recompute each tagged record's LEN after a tag lost or gained a byte."""
    out = b""
    for chunk in raw.split(_FS)[:-1]:
        head, rest = chunk.split(_GS, 1)
        record_type = head.split(b".")[0].decode()
        body = _GS + rest + _FS
        length = 0
        while True:
            first = f"{record_type}.001:{length}".encode()
            if len(first) + len(body) == length:
                break
            length = len(first) + len(body)
        out += first + body
    return out


def test_image_data_full_of_separators_is_not_a_damaged_tag(make_submission: Maker) -> None:
    sub = make_submission(n_fingers=1, size=(16, 12))
    finger = sub.fingers[0]
    pixels = np.full_like(finger.pixels, 0x1D)
    pixels[0, :4] = list(b"2.O:")
    image = type(finger)(finger.position, pixels, ppi=500, impression=1)
    raw = encode_tenprint(TenprintSubmission(**{**vars(sub), "fingers": (image,)}), "NONE")
    assert len(parse_records(raw)) == 3


# --- 4. the binary record whose LEN is wrong is blamed ---------------------------------


def _with_len(record: bytes, delta: int) -> bytes:
    return struct.pack("!I", len(record) + delta) + record[4:]


@pytest.mark.parametrize("delta", [-1, +1, -3, +5])
def test_a_type4_len_that_misses_the_next_record_blames_that_type4(delta: int) -> None:
    first, second = _type4(1, _PIXELS, fgp=2), _type4(2, _PIXELS, fgp=3)
    error = _error(_transaction([_with_len(first, delta), second]))
    assert error.field == "4.001"
    assert "record 2 (Type-4 IDC 1" in error.reason and "IDC 2)" in error.reason


def test_the_last_type4_len_too_short_or_too_long_blames_it() -> None:
    first, last = _type4(1, _PIXELS, fgp=2), _type4(2, _PIXELS, fgp=3)
    short = _error(_transaction([first, _with_len(last, -2)]))
    assert short.field == "4.001" and "record 3 (Type-4 IDC 2" in short.reason
    long = _error(_transaction([first, _with_len(last, +2)]))
    assert long.field == "Type-4" and "record 3 declares" in long.reason


def test_a_type4_len_shorter_than_its_header_is_named() -> None:
    record = _type4(1, _PIXELS)
    error = _error(_transaction([struct.pack("!I", 10) + record[4:]]))
    assert error.field == "4.001" and "18-byte header" in error.reason
    assert "record 2 (Type-4 IDC 1" in error.reason


def test_our_writer_s_type4_with_a_wrong_len_is_blamed_not_the_next_record(
    make_submission: Maker,
) -> None:
    # Our writer's CAR: Type-1, Type-2, then two Type-4 records; the first one's LEN is
    # 7 bytes too long.
    raw = encode_tenprint(make_submission(n_fingers=2, size=(16, 12)), "NONE", 4)
    records = parse_records(raw)
    start = len(raw) - sum(len(r.value) + 5 for r in records[2:])
    length = int.from_bytes(raw[start : start + 4], "big")
    damaged = raw[:start] + struct.pack("!I", length + 7) + raw[start + 4 :]
    with pytest.raises(TransactionError) as caught:
        parse_records(damaged)
    assert caught.value.field == "4.001" and "record 3 (Type-4 IDC 1" in caught.value.reason
