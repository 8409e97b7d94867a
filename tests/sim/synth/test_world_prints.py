"""A world's prints: rolled captures of the SFinGe-style masters, enrolment templates made
once by their owner, and the same results on one thread or several."""

from __future__ import annotations

import time

import numpy as np
import pytest

from scomm.biometrics.protocols import FailureToEnrol
from scomm.sim.synth import world_prints
from scomm.sim.synth.demo_engine import OUTSIDE_PERSON_SEED, demo_extractor
from scomm.sim.synth.world_prints import (
    ENROLMENT_CAPTURE,
    EnrolmentTemplates,
    booking_capture,
    capture_images,
    parallel_map,
)

PERSON = OUTSIDE_PERSON_SEED + 777_000  # nobody of any world


def test_a_capture_is_ten_live_scan_rolled_impressions() -> None:
    images = capture_images(PERSON, ENROLMENT_CAPTURE)
    assert [i.position for i in images] == list(range(1, 11))
    for image in images:
        assert image.pixels.dtype == np.uint8 and image.pixels.shape == (576, 448)
        assert (image.ppi, image.impression) == (500, 1)
    again = capture_images(PERSON, ENROLMENT_CAPTURE)
    assert all(np.array_equal(a.pixels, b.pixels) for a, b in zip(images, again, strict=True))
    later = capture_images(PERSON, booking_capture(0))
    assert not any(np.array_equal(a.pixels, b.pixels) for a, b in zip(images, later, strict=True))


def test_some_fingers_of_a_capture_are_those_of_the_whole_capture() -> None:
    whole = capture_images(PERSON, booking_capture(4))
    some = capture_images(PERSON, booking_capture(4), positions=(2, 7))
    assert [i.position for i in some] == [2, 7]
    assert np.array_equal(some[0].pixels, whole[1].pixels)
    assert np.array_equal(some[1].pixels, whole[6].pixels)


def test_every_booking_is_its_own_capture_after_the_enrolment_one() -> None:
    assert [booking_capture(i) for i in range(3)] == [1, 2, 3]
    assert ENROLMENT_CAPTURE not in {booking_capture(i) for i in range(100)}
    with pytest.raises(ValueError):
        booking_capture(-1)


class CountingExtractor:
    """The demo's extractor, counting its calls; finger 3 never enrols."""

    def __init__(self) -> None:
        self.inner = demo_extractor()
        self.calls = 0

    def extract(self, image: np.ndarray, ppi: int, finger: int = 0):  # type: ignore[no-untyped-def]
        self.calls += 1
        if finger == 3:
            raise FailureToEnrol("test: finger 3 fails")
        return self.inner.extract(image, ppi, finger)


def test_enrolment_templates_are_extracted_once_per_person_by_their_owner() -> None:
    extractor = CountingExtractor()
    source = EnrolmentTemplates(extractor)
    first = source.templates(PERSON)
    assert extractor.calls == 10 and sorted(first) == [1, 2, 4, 5, 6, 7, 8, 9, 10]
    again = source.templates(PERSON)
    assert extractor.calls == 10  # from this object's cache
    assert {f: t.to_bytes() for f, t in again.items()} == {
        f: t.to_bytes() for f, t in first.items()
    }
    again.pop(1)  # a caller's copy: the cache keeps all nine
    assert len(source.templates(PERSON)) == 9
    # Another owner (another run) shares nothing with it: no process-wide cache.
    other = EnrolmentTemplates(extractor)
    assert {f: t.to_bytes() for f, t in other.templates(PERSON).items()} == {
        f: t.to_bytes() for f, t in first.items()
    }
    assert extractor.calls == 20


def test_an_owner_keeps_at_most_its_people() -> None:
    extractor = CountingExtractor()
    source = EnrolmentTemplates(extractor, people=1)
    source.templates(PERSON)
    source.templates(PERSON + 3)
    assert list(source.cache) == [PERSON + 3]
    source.templates(PERSON)
    assert extractor.calls == 30


def test_several_threads_make_the_same_templates_as_one(monkeypatch: pytest.MonkeyPatch) -> None:
    people = [PERSON + 1, PERSON + 2]
    monkeypatch.setenv("SCOMM_SYNTH_THREADS", "1")
    one = EnrolmentTemplates(demo_extractor()).many(people)
    monkeypatch.setenv("SCOMM_SYNTH_THREADS", "2")
    two = EnrolmentTemplates(demo_extractor()).many(people)
    for a, b in zip(one, two, strict=True):
        assert {f: t.to_bytes() for f, t in a.items()} == {f: t.to_bytes() for f, t in b.items()}


@pytest.mark.parametrize("threads", ["1", "3"])
def test_parallel_map_keeps_the_order(threads: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCOMM_SYNTH_THREADS", threads)
    assert world_prints.workers() == int(threads)

    def slow_square(x: int) -> int:
        time.sleep(0.002 * (x % 3))
        return x * x

    assert parallel_map(slow_square, list(range(20))) == [x * x for x in range(20)]
