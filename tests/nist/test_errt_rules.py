"""An ERRT names the field at fault and the EBTS rule it broke (issue 6 item 1)."""

from __future__ import annotations

import dataclasses
import datetime

from scomm.nist import TransactionError, TransactionErrorResponse, decode_errt, encode_errt
from scomm.nist.responses import STRUCTURE_RULE, errt_messages

RESPONSE = TransactionErrorResponse(
    tcn="WVIAFIS0Z240501000043",
    tcr="TXSO2024050100001",
    ori="WVIAFIS0Z",
    dai="TX2270000",
    transaction_date=datetime.date(2024, 5, 1),
    messages=("placeholder",),
)


def test_the_field_and_its_rule_are_named() -> None:
    lines = errt_messages(TransactionError("2.022", "date of birth is after the date of arrest"))
    assert lines == (
        "FIELD 2.022 DOB: date of birth is after the date of arrest",
        "RULE 2.022 DOB: mandatory, date of birth CCYYMMDD, a real date not after 2.045 DOA",
    )


def test_a_record_or_no_field_gets_the_structure_rule() -> None:
    lines = errt_messages(TransactionError(None, "not an ANSI/NIST-ITL transaction"))
    assert lines[0].startswith("FIELD TRANSACTION:")
    assert lines[-1] == f"RULE TRANSACTION: {STRUCTURE_RULE}"
    assert "1-14 finger image records" in errt_messages(TransactionError("Type-14", "x"))[-1]


def test_the_rule_survives_a_long_reason_and_the_wire() -> None:
    lines = errt_messages(TransactionError("2.018", "word " * 800))
    assert len(lines) == 11 and all(len(line) <= 300 for line in lines)
    assert lines[-1].startswith("RULE 2.018 NAM:")
    raw = encode_errt(dataclasses.replace(RESPONSE, messages=lines))
    assert decode_errt(raw).messages == lines
