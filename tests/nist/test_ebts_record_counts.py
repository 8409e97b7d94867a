"""EBTS CAR/CNA record counts: `1:1 2:1 (4|14):1-14 10:0-4 (7|13):0-2 15:0-8` (DOMAIN.md 6.1).

The transactions are written by our encoder; the extra records (Type-7, -10, -13, -15) are
built field by field as ANSI/NIST-ITL 1-2011 lays them out.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import nistitl
import numpy as np
import pytest

from scomm.nist import TenprintSubmission, TransactionError, decode_tenprint, encode_tenprint
from scomm.nist.finger_records import finger_record
from scomm.nist.wire import text_record

Maker = Callable[..., TenprintSubmission]


def _type10(idc: int) -> Any:
    """A mugshot: IMT FACE, SRC, PHD, HLL, VLL, SLC, THPS, TVPS, CGA, CSP, SAP, DATA."""
    record = text_record(
        10,
        idc,
        [
            (3, "FACE"),
            (4, "TX2270000"),
            (5, "20240430"),
            (6, "4"),
            (7, "4"),
            (8, "0"),
            (9, "1"),
            (10, "1"),
            (11, "JPEGB"),
            (12, "YCC"),
            (20, "F"),
        ],
    )
    record.DATA = b"\xff\xd8\xff\xd9"
    return record


def _type13(idc: int) -> Any:
    """A latent friction-ridge image: IMP 4 (latent impression), FGP 0 (unknown)."""
    record = text_record(
        13,
        idc,
        [
            (3, "4"),
            (4, "TX2270000"),
            (5, "20240430"),
            (6, "4"),
            (7, "4"),
            (8, "1"),
            (9, "1000"),
            (10, "1000"),
            (11, "NONE"),
            (12, "8"),
            (13, "0"),
        ],
    )
    record.DATA = bytes(16)
    return record


def _type15(idc: int) -> Any:
    """A palm print: IMP 10 (live-scan palm), PLP 22 (right full palm)."""
    record = text_record(
        15,
        idc,
        [
            (3, "10"),
            (4, "TX2270000"),
            (5, "20240430"),
            (6, "4"),
            (7, "4"),
            (8, "1"),
            (9, "500"),
            (10, "500"),
            (11, "NONE"),
            (12, "8"),
            (13, "22"),
        ],
    )
    record.DATA = bytes(16)
    return record


def _type7(idc: int) -> Any:
    """A user-defined image record: LEN, IDC, then bytes the user agreement defines."""
    record = nistitl.BinaryRecord(7)
    record.IDC = idc
    record.value = bytes(range(12))
    return record


_BUILDERS: dict[int, Callable[[int], Any]] = {7: _type7, 10: _type10, 13: _type13, 15: _type15}


def _with_records(raw: bytes, types: list[int]) -> bytes:
    message = nistitl.Message()
    message.parse(raw)
    for idc, record_type in enumerate(types, start=50):
        message += _BUILDERS[record_type](idc)
    data = message.NIST
    assert isinstance(data, bytes)
    return data


@pytest.fixture
def small(make_submission: Maker) -> tuple[TenprintSubmission, bytes]:
    sub = make_submission(n_fingers=2, size=(12, 10))
    return sub, encode_tenprint(sub, compression="NONE")


@pytest.mark.parametrize(
    "extra",
    [
        [10, 10, 10, 10],
        [13, 13],
        [7, 13],
        [7, 7],
        [15] * 8,
        [10] * 4 + [7, 13] + [15] * 8,
    ],
    ids=["4xType10", "2xType13", "Type7+Type13", "2xType7", "8xType15", "all-at-maximum"],
)
def test_car_with_ebts_record_counts_is_accepted(
    small: tuple[TenprintSubmission, bytes], extra: list[int]
) -> None:
    sub, raw = small
    assert decode_tenprint(_with_records(raw, extra)) == sub


@pytest.mark.parametrize(
    ("extra", "field", "count", "allowed"),
    [
        ([10] * 5, "Type-10", "5 Type-10 records", "0-4"),
        ([13, 13, 13], "Type-13", "3 Type-7/13 records", "0-2"),
        ([13, 7, 7], "Type-7", "3 Type-7/13 records", "0-2"),
        ([15] * 9, "Type-15", "9 Type-15 records", "0-8"),
    ],
)
def test_counts_over_ebts_name_the_record_type_and_the_allowed_count(
    small: tuple[TenprintSubmission, bytes],
    extra: list[int],
    field: str,
    count: str,
    allowed: str,
) -> None:
    _, raw = small
    with pytest.raises(TransactionError) as caught:
        decode_tenprint(_with_records(raw, extra))
    assert caught.value.field == field
    assert count in caught.value.reason and f"EBTS allows {allowed}" in caught.value.reason


def test_type4_and_type14_images_in_one_transaction(make_submission: Maker) -> None:
    sub = make_submission(n_fingers=4, size=(12, 10))
    raw = encode_tenprint(dataclasses.replace(sub, fingers=sub.fingers[:2]), "NONE", 4)
    message = nistitl.Message()
    message.parse(raw)
    for idc, finger in enumerate(sub.fingers[2:], start=3):
        message += finger_record(finger, idc, sub.ori, sub.transaction_date, "NONE")
    message += _type10(9)
    decoded = decode_tenprint(message.NIST)
    assert decoded.fingers == sub.fingers


def test_fourteen_images_split_over_type4_and_type14(make_submission: Maker) -> None:
    sub = make_submission(n_fingers=14, size=(6, 6))
    raw = encode_tenprint(dataclasses.replace(sub, fingers=sub.fingers[:7]), "NONE", 4)
    message = nistitl.Message()
    message.parse(raw)
    for idc, finger in enumerate(sub.fingers[7:], start=8):
        message += finger_record(finger, idc, sub.ori, sub.transaction_date, "NONE")
    assert decode_tenprint(message.NIST).fingers == sub.fingers
    extra = dataclasses.replace(sub.fingers[0], position=15)
    message += finger_record(extra, 15, sub.ori, sub.transaction_date, "NONE")
    with pytest.raises(TransactionError) as caught:
        decode_tenprint(message.NIST)
    assert caught.value.field == "Type-14"
    assert "15 Type-4/14 records; EBTS allows 1-14" in caught.value.reason


def test_the_same_finger_in_type4_and_type14_is_refused(make_submission: Maker) -> None:
    sub = make_submission(n_fingers=1, size=(12, 10))
    raw = encode_tenprint(sub, "NONE", 4)
    message = nistitl.Message()
    message.parse(raw)
    message += finger_record(sub.fingers[0], 2, sub.ori, sub.transaction_date, "NONE")
    with pytest.raises(TransactionError) as caught:
        decode_tenprint(message.NIST)
    assert caught.value.field == "14.013" and "appears twice" in caught.value.reason


@pytest.mark.parametrize("record_type", [8, 9, 16, 17])
def test_record_types_outside_ebts_car_are_refused(
    small: tuple[TenprintSubmission, bytes], record_type: int
) -> None:
    _, raw = small
    message = nistitl.Message()
    message.parse(raw)
    if record_type == 8:
        record = nistitl.BinaryRecord(record_type)
        record.IDC = 40
        record.value = bytes(20)
    else:
        record = nistitl.AsciiRecord(record_type)
        record.IDC = 40
    message += record
    with pytest.raises(TransactionError) as caught:
        decode_tenprint(message.NIST)
    assert caught.value.field == f"Type-{record_type}"
    assert "not accepted in a CAR/CNA" in caught.value.reason
    assert "Type-10 0-4" in caught.value.reason and "Type-4/14 1-14" in caught.value.reason


def test_two_type2_records_are_refused(small: tuple[TenprintSubmission, bytes]) -> None:
    _, raw = small
    message = nistitl.Message()
    message.parse(raw)
    message += text_record(2, 30, [(5, "Y")])
    with pytest.raises(TransactionError) as caught:
        decode_tenprint(message.NIST)
    assert caught.value.field == "Type-2" and "EBTS allows 1" in caught.value.reason


def test_pixels_survive_next_to_other_records(make_submission: Maker) -> None:
    sub = make_submission(n_fingers=1, size=(12, 10))
    raw = _with_records(encode_tenprint(sub, "NONE"), [15, 10, 13])
    (finger,) = decode_tenprint(raw).fingers
    assert np.array_equal(finger.pixels, sub.fingers[0].pixels)
