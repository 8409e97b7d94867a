"""The demo's engine: the shipped profile is what the job fits, and its searches find mates."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from scomm.biometrics.profiles import load_profile
from scomm.biometrics.protocols import FINGER_POSITIONS
from scomm.sim.bench.engine_profiles import shipped_folder, write_shipped
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


def test_the_shipped_profile_is_what_the_job_writes(tmp_path: Path) -> None:
    """The full fit (8 people, about 6 s of one core): the same bytes as the shipped files,
    so the loaded pair coder is bit for bit the one the demo was calibrated with."""
    written = write_shipped(tmp_path, (demo_engine.ENGINE_NAME,))[demo_engine.ENGINE_NAME]
    assert len(written) == 2
    for path in written:
        assert path.read_bytes() == (shipped_folder() / path.name).read_bytes(), path.name
    shipped = load_profile(demo_engine.ENGINE_NAME)
    assert shipped.thresholds == demo_engine.THRESHOLDS
    assert shipped.shortlist == demo_engine.SHORTLIST
    assert shipped.matcher_params == demo_engine.MATCHER_PARAMS


def test_the_pair_coder_fit_is_deterministic() -> None:
    first, again = demo_engine.fit_pair_coder(people=2), demo_engine.fit_pair_coder(people=2)
    assert first.mean.tobytes() == again.mean.tobytes()
    assert not np.array_equal(first.mean, load_profile(demo_engine.ENGINE_NAME).pair_code.mean)  # type: ignore[union-attr]


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
