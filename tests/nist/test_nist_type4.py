"""Type-4 finger image records in a CAR: written, read back, checked field by field."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import nistitl
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scomm.nist import (
    FingerImage,
    TenprintSubmission,
    TransactionError,
    decode_tenprint,
    encode_tenprint,
    read_finger_images,
)
from scomm.nist.finger_records import finger_record, legacy_finger_record

Maker = Callable[..., TenprintSubmission]


def test_type4_round_trip_is_exact_without_compression(make_submission: Maker) -> None:
    sub = make_submission(n_fingers=3, size=(40, 30))
    raw = encode_tenprint(sub, compression="NONE", finger_record_type=4)
    message = nistitl.Message()
    message.parse(raw)
    assert [r.type for r in message] == [1, 2, 4, 4, 4]
    header = message[2].value[:13]
    assert header[0] == 1 and header[1] == 1 and header[2:7] == b"\xff" * 5  # IMP, FGP
    assert int.from_bytes(header[8:10], "big") == 30 and header[12] == 0  # HLL, GCA
    assert decode_tenprint(raw) == sub


def test_type4_wsq_round_trip_is_close(make_submission: Maker) -> None:
    sub = make_submission(n_fingers=1, size=(96, 80))
    back = decode_tenprint(encode_tenprint(sub, finger_record_type=4))
    a, b = sub.fingers[0].pixels.astype(int), back.fingers[0].pixels.astype(int)
    assert a.shape == b.shape and np.abs(a - b).mean() < 8.0


@settings(max_examples=25, deadline=None)
@given(
    st.integers(1, 14),
    st.sampled_from([0, 1, 2, 3]),
    st.integers(1, 24),
    st.integers(1, 24),
    st.integers(0, 2**32 - 1),
)
def test_any_type4_image_reads_back(position: int, imp: int, h: int, w: int, seed: int) -> None:
    pixels = np.random.default_rng(seed).integers(0, 256, (h, w), dtype=np.uint8)
    image = FingerImage(position, pixels, ppi=500, impression=imp)
    record = legacy_finger_record(image, 1, "NONE")
    message = nistitl.Message()
    message += record
    (back,) = read_finger_images(message.NIST)
    assert back == image


def test_type4_refuses_what_it_cannot_carry() -> None:
    pixels = np.zeros((8, 8), np.uint8)
    with pytest.raises(TransactionError) as caught:
        legacy_finger_record(FingerImage(1, pixels, ppi=1000), 1, "NONE")
    assert caught.value.field == "4.005"
    with pytest.raises(TransactionError) as caught:
        legacy_finger_record(FingerImage(15, pixels), 1, "NONE")
    assert caught.value.field == "4.004"
    with pytest.raises(TransactionError) as caught:
        legacy_finger_record(FingerImage(1, pixels), 1, "PNG")
    assert caught.value.field == "4.008"


def test_bad_type4_header_is_named(make_submission: Maker) -> None:
    raw = encode_tenprint(make_submission(n_fingers=1, size=(16, 12)), "NONE", 4)
    message = nistitl.Message()
    message.parse(raw)
    record = message[2]
    record.value = record.value[:12] + bytes([7]) + record.value[13:]  # GCA 7
    with pytest.raises(TransactionError) as caught:
        decode_tenprint(message.NIST)
    assert caught.value.field == "4.008" and "IDC 1" in caught.value.reason


def test_a_car_may_mix_type4_and_type14(make_submission: Maker) -> None:
    # EBTS counts (4|14):1-14 together: both kinds may carry images of one transaction.
    sub = make_submission(n_fingers=2, size=(16, 12))
    raw = encode_tenprint(dataclasses.replace(sub, fingers=sub.fingers[:1]), "NONE", 4)
    message = nistitl.Message()
    message.parse(raw)
    message += finger_record(sub.fingers[1], 2, sub.ori, sub.transaction_date, "NONE")
    assert decode_tenprint(message.NIST).fingers == sub.fingers


def test_images_of_both_kinds_come_back_in_record_order(make_submission: Maker) -> None:
    """A Type-4 image recorded before a Type-14 one is read first (Type-14 used to come
    first whatever the order)."""
    sub = make_submission(n_fingers=2, size=(16, 12))
    first, second = sub.fingers
    mixed = nistitl.Message()
    mixed.parse(encode_tenprint(dataclasses.replace(sub, fingers=(second,)), "NONE", 4))
    mixed += finger_record(first, 2, sub.ori, sub.transaction_date, "NONE")
    positions = [f.position for f in read_finger_images(mixed.NIST)]
    assert positions == [second.position, first.position]


def test_nist_type4_tenprint_card_reads_like_its_type14_twin(data_dir: Path) -> None:
    folder = data_dir / "ansi-nist" / "nist-reference"
    if not (folder / "type-4-tpcard.an2").is_file():
        pytest.skip(f"NIST reference transactions not found in {folder}")
    type4 = read_finger_images((folder / "type-4-tpcard.an2").read_bytes())
    type14 = read_finger_images((folder / "type-14-tpcard-nqm.an2").read_bytes())
    by_position = {f.position: f for f in type14}
    assert sorted(f.position for f in type4) == list(range(1, 15))
    for image in type4:
        assert np.array_equal(image.pixels, by_position[image.position].pixels)
