"""Shared fixtures for the scomm.nist tests: textured finger-like images, submissions, data dir."""

from __future__ import annotations

import datetime
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nistitl  # type: ignore[import-untyped]
import numpy as np
import pytest

from scomm.nist import ArrestCharge, FingerImage, TenprintSubmission

REPO_ROOT = Path(__file__).resolve().parents[2]

ImageMaker = Callable[..., np.ndarray]
SubmissionMaker = Callable[..., TenprintSubmission]


def textured_image(height: int, width: int, seed: int = 0) -> np.ndarray:
    """Ridge-like sinusoid, bending with position, plus mild noise: content WSQ handles well."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    angle = 0.5 + 0.3 * seed
    phase = 2 * np.pi * (x * np.cos(angle) + y * np.sin(angle)) / 9.0 + 3 * np.sin(x / 23.0)
    grey = 127 + 90 * np.sin(phase) + rng.normal(0.0, 6.0, (height, width))
    return np.clip(grey, 0, 255).astype(np.uint8)


@pytest.fixture
def textured() -> ImageMaker:
    """`textured(height, width, seed=0)` -> uint8 HxW array."""
    return textured_image


@pytest.fixture
def make_submission() -> SubmissionMaker:
    """`make_submission(n_fingers=10, size=(128, 128), **overrides)` -> TenprintSubmission."""

    def make(
        n_fingers: int = 10, size: tuple[int, int] = (128, 128), **overrides: Any
    ) -> TenprintSubmission:
        fingers = tuple(
            FingerImage(position, textured_image(*size, seed=position), ppi=500, impression=1)
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


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The shared data folder ($SCOMM_DATA_DIR, default ../shared/data next to the repository)."""
    configured = os.environ.get("SCOMM_DATA_DIR")
    path = Path(configured) if configured else REPO_ROOT.parent / "shared" / "data"
    if not path.is_dir():
        pytest.skip(f"shared data folder {path} not found (set SCOMM_DATA_DIR to run these tests)")
    return path
