"""Shared fixtures for the scomm.nist tests: textured finger-like images, submissions, data dir."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import nistitl
import numpy as np
import pytest

from scomm.nist import ArrestCharge, FingerImage, TenprintSubmission

ImageMaker = Callable[..., np.ndarray]
SubmissionMaker = Callable[..., TenprintSubmission]


@pytest.fixture
def make_submission(textured: ImageMaker) -> SubmissionMaker:
    """`make_submission(n_fingers=10, size=(128, 128), **overrides)` -> TenprintSubmission."""

    def make(
        n_fingers: int = 10, size: tuple[int, int] = (128, 128), **overrides: Any
    ) -> TenprintSubmission:
        fingers = tuple(
            FingerImage(position, textured(*size, seed=position), ppi=500, impression=1)
            for position in range(1, n_fingers + 1)
        )
        values: dict[str, Any] = {
            "tot": "CAR",
            "tcn": "TXSO2024050100001",
            "ori": "TX2270000",
            "dai": "WVIAFIS0Z",
            "transaction_date": datetime.date(2024, 5, 1),
            "priority": 4,
            "cri": "TX2270000",
            "retain": True,
            "name": "DOE,JOHN QUINCY",
            "dob": datetime.date(1980, 2, 29),
            "pob": "TX",
            "sex": "M",
            "race": "W",
            "height": "510",
            "weight": "180",
            "eye": "BRO",
            "hair": "BLK",
            "date_of_arrest": datetime.date(2024, 4, 30),
            "charges": (
                ArrestCharge(datetime.date(2024, 4, 29), "BURGLARY OF A HABITATION"),
                ArrestCharge(datetime.date(2024, 4, 30), "RESISTING ARREST"),
            ),
            "fingers": fingers,
            "atn": "DET J SMITH",
            "oca": "2024-000123",
            "citizenship": "US",
            "tcr": None,
        }
        values.update(overrides)
        return TenprintSubmission(**values)

    return make


def mutate(raw: bytes, change: Callable[[Any], None]) -> bytes:
    """Parse `raw` with nistitl, let `change` edit the Message, write it back (LEN, CNT redone)."""
    message = nistitl.Message()
    message.parse(raw)
    change(message)
    data = message.NIST
    assert isinstance(data, bytes)
    return data


@pytest.fixture
def edit() -> Callable[[bytes, Callable[[Any], None]], bytes]:
    """`edit(raw, change)`: see `mutate`."""
    return mutate
