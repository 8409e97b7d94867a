"""`read_tenprint_fields`: a CAR's fields and finger set, read as `decode_tenprint` reads
them, without decoding a single image (what `POST /v1/transactions` needs at once)."""

from __future__ import annotations

import dataclasses

import pytest
from test_nist_fuzz import _submission

from scomm.nist import TransactionError, decode_tenprint, encode_tenprint
from scomm.nist.car import read_tenprint_fields


def test_the_fields_are_decode_tenprints_without_the_images() -> None:
    raw = encode_tenprint(_submission((64, 64), 3), compression="WSQ20")
    whole = decode_tenprint(raw)
    assert read_tenprint_fields(raw) == dataclasses.replace(whole, fingers=())


def test_no_image_is_decoded_but_the_fields_are_checked() -> None:
    raw = encode_tenprint(_submission((64, 64), 3), compression="WSQ20")
    # the WSQ stream of the first finger damaged after its start-of-image marker
    start = raw.index(b"\xff\xa0") + 2
    broken = raw[:start] + bytes(len(raw[start : start + 40])) + raw[start + 40 :]
    with pytest.raises(TransactionError):
        decode_tenprint(broken)
    assert read_tenprint_fields(broken).tcn == "FUZZ000001"
    with pytest.raises(TransactionError) as bad:
        read_tenprint_fields(raw.replace(b"ROE,RICHARD", b"ROE,RICHAR1"))
    assert bad.value.field == "2.018"
