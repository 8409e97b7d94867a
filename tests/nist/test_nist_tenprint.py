"""The value types: FingerImage validation, immutability and equality; hashable submissions."""

from __future__ import annotations

import datetime
from collections.abc import Callable

import numpy as np
import pytest

from scomm.nist import FingerImage, TenprintSubmission, TransactionErrorResponse


def test_finger_image_copies_and_freezes_pixels() -> None:
    pixels = np.zeros((4, 5), dtype=np.uint8)
    image = FingerImage(3, pixels)
    pixels[0, 0] = 9
    assert image.pixels[0, 0] == 0
    assert (image.height, image.width) == (4, 5)
    with pytest.raises(ValueError):
        image.pixels[0, 0] = 1


def test_finger_image_equality_and_hash() -> None:
    a = FingerImage(1, np.full((3, 3), 7, dtype=np.uint8))
    b = FingerImage(1, np.full((3, 3), 7, dtype=np.uint8))
    c = FingerImage(1, np.full((3, 3), 8, dtype=np.uint8))
    assert a == b and hash(a) == hash(b)
    assert a != c
    assert a != FingerImage(2, a.pixels)
    assert "3x3" in repr(a)


@pytest.mark.parametrize(
    "pixels",
    [
        np.zeros((4, 4), dtype=np.uint16),
        np.zeros((4, 4, 3), dtype=np.uint8),
        np.zeros((0, 4), dtype=np.uint8),
    ],
)
def test_finger_image_rejects_non_grey_arrays(pixels: np.ndarray) -> None:
    with pytest.raises(ValueError):
        FingerImage(1, pixels)


def test_submission_is_hashable_and_coerces_sequences(
    make_submission: Callable[..., TenprintSubmission],
) -> None:
    sub = make_submission(n_fingers=2, size=(8, 8))
    as_lists = make_submission(n_fingers=2, size=(8, 8), charges=list(sub.charges))
    assert isinstance(as_lists.charges, tuple)
    assert as_lists == sub
    assert hash(as_lists) == hash(sub)
    assert isinstance(sub, TenprintSubmission)


def test_error_response_messages_become_tuple() -> None:
    response = TransactionErrorResponse(
        "T1", "T0", "WVIAFIS0Z", "TX2270000", datetime.date(2024, 5, 1), ["a", "b"]
    )
    assert response.messages == ("a", "b")
