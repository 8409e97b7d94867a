"""Shared fixtures for the fingerprint-engine tests: the shared data folder, synthetic people."""

from __future__ import annotations

import numpy as np
import pytest

from scomm.biometrics.baseline import CorrelationExtractor, CorrelationGallery, CorrelationTemplate
from scomm.biometrics.protocols import FINGER_POSITIONS
from scomm.sim.synth.fingers import impression, master_finger, tenprint_seeds

ENROLLED = 200  # persons 0..199, ids "P0".."P199"
BASELINE_SIZE = 128  # the master size the correlation engine was calibrated on


def _capture(
    person: int, rng: np.random.Generator, extractor: CorrelationExtractor
) -> dict[int, CorrelationTemplate]:
    """Templates of one fresh ten-finger capture of a synthetic person."""
    return {
        finger: extractor.extract(
            impression(master_finger(seed, size=BASELINE_SIZE), rng), 500, finger
        )
        for finger, seed in zip(FINGER_POSITIONS, tenprint_seeds(person), strict=True)
    }


@pytest.fixture(scope="session")
def capture_person():
    """`capture_person(person, rng, extractor)` -> {finger: template} of a fresh capture."""
    return _capture


@pytest.fixture(scope="session")
def enrolled_gallery() -> CorrelationGallery:
    """Persons 0..199 enrolled under ids "P0".."P199" (fresh gallery per session: do not mutate)."""
    extractor = CorrelationExtractor()
    rng = np.random.default_rng(20_240)
    gallery = CorrelationGallery()
    for person in range(ENROLLED):
        gallery.enrol(f"P{person}", _capture(person, rng, extractor))
    return gallery
