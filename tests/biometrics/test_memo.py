"""Extraction memoised per process: the same image and engine extract once; anything else
that differs (engine, image, resolution, finger) extracts again; a failure is remembered."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from scomm.biometrics.memo import ExtractionMemo, MemoisedExtractor, engine_identity, extract_each
from scomm.biometrics.profiles import DEMO_ENGINE, load_profile
from scomm.biometrics.profiles.identity import extractor_digest, profile_digest
from scomm.biometrics.protocols import FailureToEnrol, Template
from scomm.config import Settings
from scomm.domain.clock import ScenarioClock
from scomm.nist.tenprint import FingerImage
from scomm.services.fingerprints import NoUsableFingers, tenprint_templates
from scomm.system import System


class Counting:
    """An extractor that says how often it ran; images whose first pixel is 0 fail."""

    def __init__(self) -> None:
        self.calls = 0

    def extract(self, image: np.ndarray, ppi: int, finger: int) -> Template:
        self.calls += 1
        if int(image.flat[0]) == 0:
            raise FailureToEnrol("blank")
        return (finger, ppi, int(image.sum()))  # type: ignore[return-value]


def image(value: int) -> np.ndarray:
    return np.full((8, 8), value, dtype=np.uint8)


def test_the_same_image_and_engine_extract_once() -> None:
    inner, memo = Counting(), ExtractionMemo()
    extractor = MemoisedExtractor(inner, "engine-a", memo)
    first = extractor.extract(image(5), 500, 2)
    assert extractor.extract(image(5).copy(), 500, 2) is first  # content, not identity
    assert inner.calls == 1
    # another image, resolution, finger or engine: extracted
    extractor.extract(image(6), 500, 2)
    extractor.extract(image(5), 1000, 2)
    extractor.extract(image(5), 500, 3)
    MemoisedExtractor(inner, "engine-b", memo).extract(image(5), 500, 2)
    assert inner.calls == 5
    assert memo.hits == 1


def test_a_failure_to_enrol_is_remembered_and_raised_again() -> None:
    inner = Counting()
    extractor = MemoisedExtractor(inner, "engine-a", ExtractionMemo())
    for _ in range(2):
        with pytest.raises(FailureToEnrol, match="blank"):
            extractor.extract(image(0), 500, 1)
    assert inner.calls == 1


def test_the_memo_is_bounded() -> None:
    inner, memo = Counting(), ExtractionMemo(capacity=2)
    extractor = MemoisedExtractor(inner, "engine-a", memo)
    for value in (1, 2, 3):
        extractor.extract(image(value), 500, 1)
    assert len(memo) == 2
    extractor.extract(image(1), 500, 1)  # the oldest was dropped: extracted again
    assert inner.calls == 4


def test_engine_identity_covers_every_value_of_the_profile() -> None:
    profile = load_profile(DEMO_ENGINE)
    again = load_profile(DEMO_ENGINE)
    assert profile_digest(profile) == profile_digest(again)
    moved = dataclasses.replace(profile, thresholds={**profile.thresholds, 10: 2.3})
    assert profile_digest(moved) != profile_digest(profile)
    fit = profile.pair_code
    assert fit is not None
    mean = fit.mean.copy()
    mean[0] += np.float32(1e-3)
    refit = dataclasses.replace(profile, pair_code=dataclasses.replace(fit, mean=mean))
    assert profile_digest(refit) != profile_digest(profile)
    settings = dict(profile.extractor.settings)
    settings["min_minutiae"] = int(settings["min_minutiae"]) + 1
    other = dataclasses.replace(profile.extractor, settings=settings)
    assert extractor_digest(other) != extractor_digest(profile.extractor)


def test_a_systems_repositories_share_one_memoised_extraction(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'scomm.db'}", engine=DEMO_ENGINE)
    system = System(settings, ScenarioClock(datetime(2012, 1, 1)))
    try:
        extractor = system.ctx.extractor
        assert engine_identity(extractor) == profile_digest(load_profile(DEMO_ENGINE))
        assert isinstance(extractor, MemoisedExtractor)
        # the actors that extract (CJIS, IDENT) read the one context's extractor
        handlers = system.dispatcher.handlers.values()
        assert {id(h.ctx.extractor) for h in handlers if hasattr(h, "ctx")} == {id(extractor)}
    finally:
        system.close()


@pytest.mark.parametrize("workers", [1, 2, 4])
def test_a_finger_set_is_extracted_in_order_on_any_number_of_threads(workers: int) -> None:
    inner = Counting()
    jobs = [(image(v), 500, finger) for finger, v in enumerate([3, 0, 7, 9, 0, 1], start=1)]
    made = extract_each(inner, jobs, workers)
    assert [m if isinstance(m, tuple) else "fail" for m in made] == [
        (1, 500, 192), "fail", (3, 500, 448), (4, 500, 576), "fail", (6, 500, 64),
    ]  # fmt: skip
    assert all(isinstance(m, FailureToEnrol) for m in (made[1], made[4]))
    assert inner.calls == 6


def test_a_booking_takes_the_first_image_of_each_finger_that_enrols() -> None:
    """A finger whose first image fails is tried with its next one, as before."""

    fingers = (
        FingerImage(2, image(0), ppi=500, impression=1),  # fails
        FingerImage(7, image(4), ppi=500, impression=1),
        FingerImage(2, image(5), ppi=500, impression=1),  # the second image of finger 2
        FingerImage(7, image(6), ppi=500, impression=1),  # finger 7 has one already
        FingerImage(11, image(6), ppi=500, impression=1),  # not a rolled finger 1-10
    )
    inner = Counting()
    ctx = SimpleNamespace(extractor=inner)  # what the function reads of its context
    made = tenprint_templates(ctx, SimpleNamespace(fingers=fingers))  # type: ignore[arg-type]
    assert made == {2: (2, 500, 320), 7: (7, 500, 256)}
    assert inner.calls == 3
    with pytest.raises(NoUsableFingers, match=r"failed: \[2\]"):
        tenprint_templates(ctx, SimpleNamespace(fingers=fingers[:1]))  # type: ignore[arg-type]
