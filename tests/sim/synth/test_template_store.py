"""Enrolment templates kept on disk between runs: read back identical, never from another
engine version, rebuilt when damaged; a run gives the same results with and without them."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from scomm.biometrics.memo import ExtractionMemo, MemoisedExtractor
from scomm.biometrics.profiles import DEMO_ENGINE, load_profile
from scomm.biometrics.profiles.identity import profile_digest
from scomm.biometrics.protocols import FailureToEnrol, Template
from scomm.config import Settings
from scomm.reports.summary import summarise
from scomm.sim.driver import RunSpec, run
from scomm.sim.synth import world_prints
from scomm.sim.synth.demo_engine import OUTSIDE_PERSON_SEED, demo_extractor
from scomm.sim.synth.world_prints import (
    ENROLMENT_CAPTURE,
    EnrolmentTemplates,
    TemplateStore,
    template_store,
)
from scomm.store.db import Database
from scomm.store.models import FingerTemplateRow

PERSON = OUTSIDE_PERSON_SEED + 778_000  # nobody of any world
IDENTITY = profile_digest(load_profile(DEMO_ENGINE))


class CountingExtractor:
    """The demo's extractor, counting its calls; finger 3 never enrols."""

    def __init__(self) -> None:
        self.inner = demo_extractor()
        self.calls = 0

    def extract(self, image: np.ndarray, ppi: int, finger: int) -> Template:
        self.calls += 1
        if finger == 3:
            raise FailureToEnrol("test: finger 3 fails")
        return self.inner.extract(image, ppi, finger)


def stored_form(templates: dict[int, Template]) -> dict[int, tuple[bytes, object]]:
    """What enrolment uses of templates: their bytes and their minutiae."""
    return {f: (t.to_bytes(), t.minutiae) for f, t in templates.items()}  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[int, Template]]:
    """One person's enrolment templates, made with a store (which then holds them)."""
    folder = tmp_path_factory.mktemp("cache")
    extractor = CountingExtractor()
    templates = EnrolmentTemplates(extractor, store=TemplateStore(folder, IDENTITY))
    first = templates.templates(PERSON)
    assert extractor.calls == 10 and sorted(first) == [1, 2, 4, 5, 6, 7, 8, 9, 10]
    return folder, first


def test_a_stored_person_is_read_back_identical_without_extracting(
    made: tuple[Path, dict[int, Template]],
) -> None:
    folder, first = made
    extractor = CountingExtractor()
    again = EnrolmentTemplates(extractor, store=TemplateStore(folder, IDENTITY))
    assert stored_form(again.templates(PERSON)) == stored_form(first)
    assert extractor.calls == 0


def test_another_engine_or_generator_version_never_reads_the_entry(
    made: tuple[Path, dict[int, Template]], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, _ = made
    store = TemplateStore(folder, IDENTITY)
    other_engine = TemplateStore(folder, "another engine")
    assert other_engine.version != store.version
    assert other_engine.load(PERSON, ENROLMENT_CAPTURE) is None
    # an entry put where another version looks is refused by the key it carries
    other_engine.path(PERSON, ENROLMENT_CAPTURE).parent.mkdir(parents=True, exist_ok=True)
    other_engine.path(PERSON, ENROLMENT_CAPTURE).write_bytes(
        store.path(PERSON, ENROLMENT_CAPTURE).read_bytes()
    )
    assert other_engine.load(PERSON, ENROLMENT_CAPTURE) is None
    # ... and by the person and capture it carries
    store.path(PERSON + 1, ENROLMENT_CAPTURE).write_bytes(
        store.path(PERSON, ENROLMENT_CAPTURE).read_bytes()
    )
    assert store.load(PERSON + 1, ENROLMENT_CAPTURE) is None
    store.path(PERSON + 1, ENROLMENT_CAPTURE).unlink()
    # a changed print generator is another version too
    monkeypatch.setattr(world_prints, "generator_digest", lambda: "another generator")
    assert TemplateStore(folder, IDENTITY).version != store.version
    monkeypatch.undo()
    # ... and so is changed extraction code or an upgraded library (same profile)
    monkeypatch.setattr(world_prints, "extraction_code_digest", lambda: "upgraded onnxruntime")
    upgraded = TemplateStore(folder, IDENTITY)
    assert upgraded.version != store.version
    assert upgraded.load(PERSON, ENROLMENT_CAPTURE) is None


def test_a_folder_that_cannot_be_written_keeps_nothing_and_the_run_goes_on(
    made: tuple[Path, dict[int, Template]], tmp_path: Path
) -> None:
    _, first = made
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    extractor = CountingExtractor()
    store = TemplateStore(blocker / "cache", IDENTITY)
    templates = EnrolmentTemplates(extractor, store=store)
    assert stored_form(templates.templates(PERSON)) == stored_form(first)
    assert extractor.calls == 10
    assert store.save(PERSON, ENROLMENT_CAPTURE, first) is False


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty"])
def test_a_damaged_entry_is_made_again_and_rewritten(
    made: tuple[Path, dict[int, Template]], tmp_path: Path, damage: str
) -> None:
    _, first = made
    store = TemplateStore(tmp_path, IDENTITY)
    store.save(PERSON, ENROLMENT_CAPTURE, first)
    path = store.path(PERSON, ENROLMENT_CAPTURE)
    whole = path.read_bytes()
    path.write_bytes(
        {"garbage": b"PK\x03\x04 not a zip", "truncated": whole[: len(whole) // 2], "empty": b""}[
            damage
        ]
    )
    assert store.load(PERSON, ENROLMENT_CAPTURE) is None
    extractor = CountingExtractor()
    rebuilt = EnrolmentTemplates(extractor, store=store).templates(PERSON)
    assert extractor.calls == 10
    assert stored_form(rebuilt) == stored_form(first)
    assert stored_form(store.load(PERSON, ENROLMENT_CAPTURE) or {}) == stored_form(first)


def test_only_a_system_extractor_with_an_identity_and_a_folder_gets_a_store(
    tmp_path: Path,
) -> None:
    memoised = MemoisedExtractor(demo_extractor(), IDENTITY, ExtractionMemo())
    assert template_store(None, memoised) is None
    assert template_store(tmp_path, demo_extractor()) is None
    store = template_store(tmp_path, memoised)
    assert store is not None and store.version == TemplateStore(tmp_path, IDENTITY).version


def _run(tmp_path: Path, name: str, cache: Path | None) -> tuple[dict, dict]:
    url = f"sqlite:///{tmp_path / name}.db"
    spec = RunSpec.demo(seed=6, bookings=2, population=5, compression="NONE")
    spec = dataclasses.replace(spec, fingers=2)
    run(spec, Settings(database_url=url, engine=DEMO_ENGINE, cache_dir=cache))
    db = Database(url)
    try:
        with db.sessions() as session:
            summary = summarise(session).as_dict()
            rows = session.scalars(select(FingerTemplateRow)).all()
            stored = {(r.repository, r.identity_id, r.finger, r.engine): r.data for r in rows}
    finally:
        db.dispose()
    return summary, stored


def test_a_run_gives_the_same_results_with_and_without_the_cache(tmp_path: Path) -> None:
    """Without a cache, filling it, then reading it: the same summary, the same templates."""
    cache = tmp_path / "cache"
    plain = _run(tmp_path, "plain", None)
    assert not cache.exists()
    filled = _run(tmp_path, "filled", cache)
    entries = list(cache.glob("enrolment-templates/*/*.npz"))
    assert entries  # the enrolled people's templates
    read = _run(tmp_path, "read", cache)
    assert plain == filled == read
    assert plain[1]  # templates were enrolled
