"""Type-1 reading without a full parse, record framing, and CNT checks."""

from __future__ import annotations

import datetime
from collections.abc import Callable

import pytest

from scomm.nist import TenprintSubmission, TransactionError, encode_tenprint, read_header, read_tot
from scomm.nist.wire import check_framing, scan_type1


@pytest.fixture
def raw(make_submission: Callable[..., TenprintSubmission]) -> bytes:
    sub = make_submission(n_fingers=2, size=(8, 8), tcr="EARLIER0001")
    return encode_tenprint(sub, compression="NONE")


def test_read_header(raw: bytes) -> None:
    header = read_header(raw)
    assert (header.tot, header.tcn, header.tcr, header.ori, header.dai, header.priority) == (
        "CAR",
        "TXSO2024050100001",
        "EARLIER0001",
        "TX2270000",
        "WVIAFIS0Z",
        4,
    )
    assert header.transaction_date == datetime.date(2024, 5, 1)


def test_read_tot_survives_a_damaged_body(raw: bytes) -> None:
    body = raw.index(b"2.001:")
    assert read_tot(raw[: body + 5]) == "CAR"
    assert read_tot(raw[:body] + b"garbage") == "CAR"


def _type1(*fields: bytes, len_tag: bytes = b"1.001:") -> bytes:
    """A Type-1 record of `fields` with a correct LEN (which counts its own digits)."""
    body = b"\x1d".join(fields) + b"\x1c"
    length = 0
    for digits in range(1, 5):
        length = len(len_tag) + digits + 1 + len(body)
        if len(str(length)) == digits:
            break
    return len_tag + str(length).encode() + b"\x1d" + body


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (b"", "Type-1"),
        (b"2.001:10\x1d", "Type-1"),
        (b"1.001:500\x1d1.004:CAR\x1c", "Type-1"),  # LEN longer than the buffer
        (b"1.001:21\x1d1.004:CAR\x1d1.00", "1.001"),  # LEN does not end at FS
        (_type1(b"1.002:0400"), "1.004"),  # no TOT
        (_type1(b"1.004:C\x1fR"), "1.004"),  # TOT with items
        (_type1(b"1.004:CAR", b"1.004:CAR"), "1.004"),  # twice
        (_type1(b"1.004:CA R"), "1.004"),
    ],
)
def test_read_tot_names_faults(data: bytes, field: str) -> None:
    with pytest.raises(TransactionError) as caught:
        read_tot(data)
    assert caught.value.field == field, str(caught.value)


def test_field_numbers_without_leading_zeros() -> None:
    old_style = _type1(b"1.02:0201", b"1.04:CAR", len_tag=b"1.01:")
    assert scan_type1(old_style) == {1: "27", 2: "0201", 4: "CAR"}
    assert read_tot(old_style) == "CAR"


def test_framing_finds_trailing_garbage(raw: bytes) -> None:
    with pytest.raises(TransactionError) as caught:
        check_framing(raw + b"junk")
    assert "unrecognised data" in caught.value.reason
