"""The biometric model and the memory flow's pieces: model CARs, the model gallery's draws."""

from __future__ import annotations

import math

import pytest

from scomm.biometrics.profiles import resolve_profile
from scomm.biometrics.wsq_codec import DecodedImageCache
from scomm.config import DEFAULT_ENGINE
from scomm.nist.car import decode_tenprint, transaction_digest
from scomm.sim.biometric_model import (
    BiometricModel,
    ModelExtractor,
    ModelGallery,
    enrolment_templates,
    model_images,
)
from scomm.sim.driver_spec import AUTO_MODEL_BOOKINGS, RunRefused, RunSpec
from scomm.sim.fast_flow import model_transaction
from scomm.sim.synth.ridge_master import FINGERS
from scomm.sim.synth.world import World, build_world


@pytest.fixture(scope="module")
def world() -> World:
    return build_world(seed=5, bookings=30)


def test_a_model_car_decodes_to_the_submission_it_keeps_in_the_cache(world: World) -> None:
    cache = DecodedImageCache()
    for index, planned in enumerate(world.bookings[:10]):
        raw = model_transaction(world, index, decoded=cache)
        if planned.defect:
            assert cache.transaction(transaction_digest(raw)) is None
            continue
        kept = cache.transaction(transaction_digest(raw))
        assert kept is not None and kept == decode_tenprint(raw)  # parsed afresh: the same
        person = world.people[planned.person_id]
        found = ModelExtractor().extract(kept.fingers[0].pixels, 500, 1)  # type: ignore[attr-defined]
        assert (found.person, found.capture) == (person.finger_seed, index + 1)  # type: ignore[attr-defined]


def model(fnir: dict[int, float], fmr: float = 1e-8) -> BiometricModel:
    return BiometricModel(
        "test", dict.fromkeys(range(1, 11), 0.8), dict.fromkeys(range(1, 11), fmr), fnir
    )


def probe(person: int, capture: int, k: int = 10) -> dict[int, object]:
    return dict(enrolment_templates(person, capture, FINGERS[:k]))


def test_the_gallery_finds_the_mate_unless_the_draw_misses() -> None:
    finds = ModelGallery(model({10: 0.0}), "criminal", seed=1)
    misses = ModelGallery(model({10: 1.0}), "criminal", seed=1)
    for gallery in (finds, misses):
        gallery.enrol("FBI-1", enrolment_templates(11, 0, FINGERS))
        gallery.enrol("FBI-2", enrolment_templates(22, 0, FINGERS))
    hit = finds.search(probe(11, 5))  # type: ignore[arg-type]
    assert hit.is_hit and hit.best is not None and hit.best.identity_id == "FBI-1"
    assert not misses.search(probe(11, 5)).is_hit  # type: ignore[arg-type]
    assert not finds.search(probe(33, 5)).is_hit  # type: ignore[arg-type]  # nobody's mate
    assert len(finds) == 2 and "FBI-2" in finds
    finds.delete("FBI-1")
    assert not finds.search(probe(11, 5)).is_hit and len(finds) == 1  # type: ignore[arg-type]


def test_false_candidates_come_at_the_modelled_rate() -> None:
    gallery = ModelGallery(model({10: 0.0}, fmr=1e-4), "immigration", seed=2)
    for person in range(1000):
        gallery.enrol(f"ID-{person}", enrolment_templates(person, 0, FINGERS))
    expected = gallery.model.fpir(999, 10)
    assert expected == pytest.approx(1 - (1 - 1e-4) ** 999)
    false = 0
    for stranger in range(2000, 4000):
        result = gallery.search(probe(stranger, 1))  # type: ignore[arg-type]
        if result.is_hit:
            assert result.best is not None and result.best.identity_id.startswith("ID-")
            false += 1
    # about 190 of 2000: well inside four standard deviations
    assert abs(false - 2000 * expected) < 4 * math.sqrt(2000 * expected)
    # the same probe is decided the same way (seeded draws)
    assert gallery.search(probe(2001, 1)) == gallery.search(probe(2001, 1))  # type: ignore[arg-type]


def test_the_default_engine_model_reads_its_measured_fnir() -> None:
    made = BiometricModel.for_engine(DEFAULT_ENGINE)
    assert made.engine == DEFAULT_ENGINE
    assert set(made.fnir_measured) == {1, 2, 10}
    assert made.fnir(1) > made.fnir(2) >= made.fnir(5) >= made.fnir(10)
    assert 0 < made.fpir(100_000, 10) < 0.01  # the profile's FPIR model: 0.1% at 100,000
    described = made.describe({"criminal": 10})
    assert described["mode"] == "model" and described["fnir_source"]["commands"]


def test_an_engine_without_an_fpir_model_takes_the_default_engines_and_says_so() -> None:
    assert not resolve_profile("skeleton-mcc-v1").fpir_model
    made = BiometricModel.for_engine("skeleton-mcc-v1")
    assert made.engine == DEFAULT_ENGINE
    assert "skeleton-mcc-v1" in made.describe()["fnir_source"]["instead_of"]


def test_auto_takes_the_model_for_a_large_world(world: World) -> None:
    spec = RunSpec(world.scenario, biometrics="auto")  # type: ignore[arg-type]
    assert spec.biometrics_for(world) == "images"
    assert len(world.bookings) < AUTO_MODEL_BOOKINGS
    with pytest.raises(RunRefused, match="unknown biometrics"):
        RunSpec(world.scenario, biometrics="dreams").check()  # type: ignore[arg-type]


def test_model_images_are_tiny() -> None:
    images = model_images(7, 3, FINGERS)
    assert [i.position for i in images] == list(FINGERS)
    assert all(i.pixels.shape == (8, 8) for i in images)
