"""Synthetic booking transactions parse with nistitl and with scomm's parser; images decode."""

from __future__ import annotations

import dataclasses

import nistitl
import numpy as np
import pytest

from scomm.nist import FingerImage, TenprintSubmission, decode_tenprint, encode_tenprint
from scomm.sim.synth.booking_transactions import booking_transaction, synthetic_booking


def _parses_and_matches(raw: bytes, sent: TenprintSubmission, record_type: int) -> None:
    message = nistitl.Message()
    message.parse(raw)
    assert [record.type for record in message] == [1, 2, *[record_type] * len(sent.fingers)]
    back = decode_tenprint(raw)
    assert dataclasses.replace(back, fingers=()) == dataclasses.replace(sent, fingers=())
    for a, b in zip(sent.fingers, back.fingers, strict=True):
        assert (a.position, a.impression, a.pixels.shape) == (
            b.position,
            b.impression,
            b.pixels.shape,
        )
        error = np.abs(a.pixels.astype(int) - b.pixels.astype(int)).mean()
        assert error < 8.0  # WSQ is lossy, but only a little


def test_a_booking_transaction_parses_with_nistitl_and_scomm_and_every_image_decodes() -> None:
    booking = synthetic_booking(8, 2)
    raw = booking_transaction(8, 2)
    assert [f.position for f in booking.fingers] == list(range(1, 15))
    _parses_and_matches(raw, booking, 14)


def test_type4_images_round_trip_too() -> None:
    booking = synthetic_booking(8, 3)
    some = dataclasses.replace(booking, fingers=booking.fingers[:2] + booking.fingers[10:11])
    _parses_and_matches(encode_tenprint(some, finger_record_type=4), some, 4)
    exact = encode_tenprint(some, compression="NONE", finger_record_type=4)
    assert decode_tenprint(exact) == some


def test_type2_fields_are_valid_ebts_values_and_deterministic() -> None:
    image = FingerImage(1, np.full((64, 64), 200, np.uint8))
    for number in range(100):
        booking = synthetic_booking(4, number, with_images=False)
        assert booking == synthetic_booking(4, number, with_images=False)
        # encode_tenprint applies every EBTS rule to the Type-1 and Type-2 fields
        with_image = dataclasses.replace(booking, fingers=(image,))
        assert decode_tenprint(encode_tenprint(with_image, compression="NONE")) == with_image
        assert booking.dob < booking.date_of_arrest
        assert all(c.offense_date <= booking.date_of_arrest for c in booking.charges)


def test_negative_booking_numbers_are_refused() -> None:
    with pytest.raises(ValueError, match="booking number"):
        synthetic_booking(1, -1)
