"""Property: whatever a damaged CAR looks like, `scomm.nist` answers with a TransactionError
that names the problem (or decodes it, if the damage left a valid transaction); no other
exception escapes, and a transaction over the size limit is refused before it is read."""

from __future__ import annotations

import datetime

import numpy as np
import pytest
from car_damage import damaged, record_spans, replace_field
from hypothesis import HealthCheck, given, settings

from scomm.nist import (
    ArrestCharge,
    FingerImage,
    TenprintSubmission,
    TransactionError,
    decode_tenprint,
    encode_tenprint,
    read_tot,
    wire,
)


def valid_car(compression: str = "NONE") -> bytes:
    y, x = np.mgrid[0:48, 0:40]
    ridges = (127 + 100 * np.sin(x / 1.7 + y / 3.1)).astype(np.uint8)
    return encode_tenprint(
        TenprintSubmission(
            tot="CAR",
            tcn="PROP000001",
            ori="CA0010000",
            dai="CA0000000",
            transaction_date=datetime.date(2010, 5, 1),
            priority=4,
            cri="CA0010000",
            retain=True,
            name="DOE,JOHN",
            dob=datetime.date(1980, 1, 2),
            pob="MX",
            sex="M",
            race="U",
            height="510",
            weight="180",
            eye="BRO",
            hair="BLK",
            date_of_arrest=datetime.date(2010, 5, 1),
            charges=(ArrestCharge(datetime.date(2010, 5, 1), "DUI"),),
            fingers=(FingerImage(1, ridges), FingerImage(2, np.roll(ridges, 3, axis=1))),
        ),
        compression=compression,
    )


VALID = valid_car()


def test_the_surgery_keeps_a_valid_car_valid() -> None:
    assert [end - start for start, end, _, _ in record_spans(VALID)][0] > 0
    same = replace_field(VALID, b"2.018", b"ROE,RICHARD")
    assert decode_tenprint(same).name == "ROE,RICHARD"


@settings(
    max_examples=250,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(damaged(VALID))
def test_a_damaged_car_is_decoded_or_refused_with_a_named_reason(case: tuple[str, bytes]) -> None:
    kind, raw = case
    for decode in (decode_tenprint, read_tot):
        try:
            result = decode(raw)
        except TransactionError as error:
            assert not error.reason.startswith("internal error"), (kind, str(error))
            assert error.errt_messages(), kind
            assert all(" " <= ch <= "~" for line in error.errt_messages() for ch in line)
        except Exception as exc:  # pragma: no cover - the failure being hunted
            pytest.fail(f"{kind}: {decode.__name__} raised {type(exc).__name__}: {exc}")
        else:
            if isinstance(result, TenprintSubmission):
                assert decode_tenprint(encode_tenprint(result, compression="NONE")) == result


def test_a_transaction_over_the_limit_is_refused_before_it_is_read() -> None:
    huge = VALID + b"\x00" * (wire.MAX_TRANSACTION_BYTES - len(VALID) + 1)
    with pytest.raises(TransactionError, match=f"over the limit of {wire.MAX_TRANSACTION_BYTES}"):
        decode_tenprint(huge)
    # One byte under the limit is read (and refused for what it holds, not for its size).
    under = huge[:-1]
    with pytest.raises(TransactionError) as error:
        decode_tenprint(under)
    assert "limit" not in str(error.value)
