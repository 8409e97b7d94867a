"""The demo's engine: a deterministic coder, calibrated thresholds, and searches that find mates."""

from __future__ import annotations

import numpy as np
import pytest

from scomm.biometrics.protocols import FINGER_POSITIONS
from scomm.sim.synth import demo_engine
from scomm.sim.synth.world_prints import ENROLMENT_CAPTURE, booking_capture, capture_images


def capture(person: int, number: int, fingers=FINGER_POSITIONS) -> dict:
    """Templates of capture `number` of the person's rolled fingers (those in `fingers`)."""
    extractor = demo_engine.demo_extractor()
    return {
        image.position: extractor.extract(image.pixels, image.ppi, image.position)
        for image in capture_images(person, number)
        if image.position in fingers
    }


def test_the_pair_coder_is_fitted_once_and_deterministically() -> None:
    assert demo_engine.demo_pair_coder() is demo_engine.demo_pair_coder()
    fit = demo_engine.demo_pair_coder.__wrapped__
    assert np.array_equal(fit(people=2).mean, fit(people=2).mean)


def test_fitting_and_calibration_use_people_outside_every_world() -> None:
    assert demo_engine.CALIBRATION_PERSON_SEED >= demo_engine.OUTSIDE_PERSON_SEED >= 2**31 - 1
    with pytest.raises(ValueError, match="world"):
        demo_engine.outside_people(12345, 10)


def test_there_is_a_threshold_for_every_number_of_fingers() -> None:
    thresholds = [demo_engine.THRESHOLDS[n] for n in range(1, 11)]
    assert all(0 < a < b for a, b in zip(thresholds, thresholds[1:], strict=False))


def test_a_gallery_finds_its_mates_and_no_one_else() -> None:
    gallery = demo_engine.demo_gallery()
    people = list(demo_engine.outside_people(demo_engine.CALIBRATION_PERSON_SEED + 900_000, 6))
    for person in people:
        gallery.enrol(f"P{person}", capture(person, ENROLMENT_CAPTURE))
    for person in people[:2]:
        for fingers in (FINGER_POSITIONS, (2, 7)):
            result = gallery.search(capture(person, booking_capture(3), fingers))
            assert result.is_hit and result.best is not None
            assert result.best.identity_id == f"P{person}"
            assert result.threshold == demo_engine.THRESHOLDS[len(fingers)]
    stranger = demo_engine.CALIBRATION_PERSON_SEED + 950_000
    assert not gallery.search(capture(stranger, booking_capture(3))).is_hit
