"""SRE and ERRT responses: round trips, wire layout and rejected values."""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Callable
from typing import Any

import pytest

from scomm.nist import (
    SubmissionResults,
    TenprintSubmission,
    TransactionError,
    TransactionErrorResponse,
    decode_errt,
    decode_sre,
    decode_tenprint,
    encode_errt,
    encode_sre,
    encode_tenprint,
    read_tot,
)

Edit = Callable[[bytes, Callable[[Any], None]], bytes]

IDENT = SubmissionResults(
    tcn="WVIAFIS0Z240501000042",
    tcr="TXSO2024050100001",
    ori="WVIAFIS0Z",
    dai="TX2270000",
    transaction_date=datetime.date(2024, 5, 1),
    identified=True,
    fbi_number="123456AB7",
    name="DOE,JOHN QUINCY",
)
NON_IDENT = dataclasses.replace(IDENT, identified=False, fbi_number=None, name=None)
ERRT = TransactionErrorResponse(
    tcn="WVIAFIS0Z240501000043",
    tcr="TXSO2024050100002",
    ori="WVIAFIS0Z",
    dai="TX2270000",
    transaction_date=datetime.date(2024, 5, 2),
    messages=("2.022 DOB: missing mandatory field", "14.013 FGP: finger position 3 appears twice"),
)


@pytest.mark.parametrize("results", [IDENT, NON_IDENT])
def test_sre_round_trip(results: SubmissionResults) -> None:
    raw = encode_sre(results)
    assert read_tot(raw) == "SRE"
    assert decode_sre(raw) == results


def test_sre_wire_layout() -> None:
    raw = encode_sre(IDENT)
    assert b"1.004:SRE\x1d" in raw
    assert b"1.010:TXSO2024050100001\x1d" in raw
    assert b"2.014:123456AB7\x1d2.018:DOE,JOHN QUINCY\x1d2.059:I\x1c" in raw
    assert b"2.059:N\x1c" in encode_sre(NON_IDENT)


def test_errt_round_trip_and_layout() -> None:
    raw = encode_errt(ERRT)
    assert read_tot(raw) == "ERRT"
    assert decode_errt(raw) == ERRT
    assert b"2.060:2.022 DOB: missing mandatory field\x1e14.013 FGP:" in raw
    single = dataclasses.replace(ERRT, messages=("only one",))
    assert decode_errt(encode_errt(single)) == single


def test_errt_from_a_rejected_submission(
    make_submission: Callable[..., TenprintSubmission], edit: Edit
) -> None:
    raw = encode_tenprint(make_submission(n_fingers=1, size=(8, 8)), compression="NONE")

    def drop_dob(m: Any) -> None:
        del next(m.iter(2))[22]

    with pytest.raises(TransactionError) as caught:
        decode_tenprint(edit(raw, drop_dob))
    response = dataclasses.replace(ERRT, messages=tuple(caught.value.errt_messages()))
    assert decode_errt(encode_errt(response)).messages == ("2.022 DOB: missing mandatory field",)


@pytest.mark.parametrize(
    ("response", "field"),
    [
        (dataclasses.replace(IDENT, fbi_number=None), "2.014"),
        (dataclasses.replace(IDENT, fbi_number="12-34"), "2.014"),
        (dataclasses.replace(IDENT, name="NOCOMMA"), "2.018"),
        (dataclasses.replace(IDENT, tcr=None), "1.010"),  # type: ignore[arg-type]
        (dataclasses.replace(IDENT, ori="FBI"), "1.008"),
        (dataclasses.replace(ERRT, messages=()), "2.060"),
        (dataclasses.replace(ERRT, messages=("x",) * 12), "2.060"),
        (dataclasses.replace(ERRT, messages=("x" * 301,)), "2.060"),
        (dataclasses.replace(ERRT, messages=("tab\tinside",)), "2.060"),
    ],
)
def test_encoders_refuse_bad_values(response: Any, field: str) -> None:
    encode = encode_sre if isinstance(response, SubmissionResults) else encode_errt
    with pytest.raises(TransactionError) as caught:
        encode(response)
    assert caught.value.field == field


def test_decoders_check_tot_and_fields(edit: Edit) -> None:
    sre = encode_sre(IDENT)
    errt = encode_errt(ERRT)
    for decode, raw in ((decode_sre, errt), (decode_errt, sre)):
        with pytest.raises(TransactionError) as caught:
            decode(raw)
        assert caught.value.field == "1.004"

    def bad_flag(m: Any) -> None:
        next(m.iter(2))[59].value = "Y"

    def no_tcr(m: Any) -> None:
        del m[0][10]

    def no_msg(m: Any) -> None:
        del next(m.iter(2))[60]

    cases = [
        (decode_sre, edit(sre, bad_flag), "2.059"),
        (decode_sre, edit(sre, no_tcr), "1.010"),
        (decode_errt, edit(errt, no_msg), "2.060"),
    ]
    for decode, raw, field in cases:
        with pytest.raises(TransactionError) as caught:
            decode(raw)
        assert caught.value.field == field


def test_decoders_reject_garbage() -> None:
    for decode in (decode_sre, decode_errt):
        for raw in (b"", b"hello", encode_sre(IDENT)[:50]):
            with pytest.raises(TransactionError):
                decode(raw)
