"""Two-stage search on a small synthetic gallery: mates found, strangers not, exhaustive agrees."""

from __future__ import annotations

import numpy as np
import pytest

from scomm.biometrics.index.calibration import calibrate
from scomm.biometrics.index.gallery import IndexedGallery, MinutiaeCodec, MinutiaeTemplate
from scomm.biometrics.match import MccMatcher
from scomm.biometrics.match.mcc_params import GALLERY_MATCHER_PARAMS
from scomm.biometrics.protocols import CandidateList
from scomm.sim.synth import minutiae_sets
from scomm.sim.synth.pair_coder import synthetic_pair_coder

PEOPLE = 60
SEED = 3


@pytest.fixture(scope="module")
def gallery() -> IndexedGallery:
    g = IndexedGallery(synthetic_pair_coder(0, 1_000), MccMatcher(GALLERY_MATCHER_PARAMS),
                       thresholds={10: 2.0, 2: 0.6, 1: 0.4}, shortlist=8)  # fmt: skip
    batch = minutiae_sets.generate_impressions(SEED, np.arange(PEOPLE), kind="rolled")
    for person in range(PEOPLE):
        g.enrol(f"P{person}", {f: MinutiaeTemplate(f, batch[person * 10 + f - 1])
                               for f in range(1, 11)})  # fmt: skip
    return g


def probe(people: np.ndarray, impression: int, fingers: tuple[int, ...]) -> list[dict]:
    batch = minutiae_sets.generate_impressions(SEED, people, fingers, impression, kind="rolled")
    n = len(fingers)
    return [
        {f: MinutiaeTemplate(f, batch[i * n + k]) for k, f in enumerate(fingers)}
        for i in range(len(people))
    ]


def test_tenprint_mates_rank_first_and_strangers_miss(gallery: IndexedGallery) -> None:
    assert len(gallery) == PEOPLE and "P3" in gallery
    for person, fingers in zip([4, 17, 59], probe(np.array([4, 17, 59]), 2, tuple(range(1, 11))),
                               strict=True):  # fmt: skip
        result = gallery.search(fingers, max_candidates=3)
        assert result.best is not None and result.best.identity_id == f"P{person}"
        assert result.is_hit and len(result.candidates) == 3
        assert set(result.best.finger_scores) == set(range(1, 11))
        assert result.candidates[1].fused_score < result.threshold
    for fingers in probe(np.arange(1000, 1003), 2, tuple(range(1, 11))):
        assert not gallery.search(fingers).is_hit


def test_two_fingers_and_exhaustive_agree(gallery: IndexedGallery) -> None:
    engine = gallery.search_engine
    for person, fingers in zip([8, 33], probe(np.array([8, 33]), 5, (2, 7)), strict=True):
        minutiae = {f: t.minutiae for f, t in fingers.items()}
        quick = engine.search(minutiae, 5)
        full = engine.search(minutiae, 5, exhaustive=True)
        assert full.shortlisted == PEOPLE and quick.shortlisted == 8
        assert quick.best is not None and full.best is not None
        assert quick.best.identity_id == full.best.identity_id == f"P{person}"
        assert quick.best.score == full.best.score  # the same matcher decides


def test_single_finger_search_and_update_delete(gallery: IndexedGallery) -> None:
    (fingers,) = probe(np.array([21]), 4, (2,))
    result = gallery.search_engine.search_finger(fingers[2].minutiae, position=2)
    assert result.best is not None and result.best.identity_id == "P21"
    anywhere = gallery.search_engine.search_finger(fingers[2].minutiae, position=None)
    assert anywhere.best is not None and anywhere.best.identity_id == "P21"
    gallery.delete("P21")
    try:
        after = gallery.search_engine.search_finger(fingers[2].minutiae, position=2)
        assert after.best is None or after.best.identity_id != "P21"
    finally:
        batch = minutiae_sets.generate_impressions(SEED, np.array([21]), kind="rolled")
        gallery.enrol("P21", {f: MinutiaeTemplate(f, batch[f - 1]) for f in range(1, 11)})


def test_snapshot_round_trip_and_codec(gallery: IndexedGallery, tmp_path) -> None:
    gallery.save(tmp_path / "g")
    loaded = IndexedGallery.load(tmp_path / "g", MccMatcher(GALLERY_MATCHER_PARAMS),
                                 thresholds={10: 2.0}, shortlist=8)  # fmt: skip
    (fingers,) = probe(np.array([40]), 3, tuple(range(1, 11)))
    a, b = gallery.search(fingers), loaded.search(fingers)
    assert [c.identity_id for c in a.candidates] == [c.identity_id for c in b.candidates]
    assert [c.fused_score for c in a.candidates] == [c.fused_score for c in b.candidates]
    template = fingers[3]
    back = MinutiaeCodec().decode(template.to_bytes(), 3)
    assert back.finger == 3 and len(back.minutiae) == len(template.minutiae)


def test_bad_probes_are_refused(gallery: IndexedGallery) -> None:
    (fingers,) = probe(np.array([1]), 2, (1, 2))
    with pytest.raises(ValueError, match="filed under"):
        gallery.search({1: fingers[2]})
    with pytest.raises(ValueError, match="no finger templates"):
        gallery.enrol("X", {})
    assert calibrate(np.linspace(0, 1, 5000), 100).threshold > 0


def test_warming_leaves_the_gallery_as_it_was(
    gallery: IndexedGallery, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`warm` runs a whole search on a throwaway gallery (`scomm serve` does it before its
    first search, to load the kernels): this one keeps its identities and answers as before."""
    fingers = probe(np.array([4]), 2, tuple(range(1, 11)))[0]
    before = gallery.search(fingers, max_candidates=3)
    searched: list[tuple[bool, int, str | None]] = []
    real = IndexedGallery.search

    def noted(self: IndexedGallery, probe: dict, max_candidates: int = 10) -> CandidateList:
        found = real(self, probe, max_candidates)
        best = found.best.identity_id if found.best is not None else None
        searched.append((self is gallery, len(self), best))
        return found

    monkeypatch.setattr(IndexedGallery, "search", noted)
    gallery.warm()
    monkeypatch.undo()
    assert searched == [(False, 1, "warm-up")]  # ten fingers searched to the end
    assert len(gallery) == PEOPLE and "warm-up" not in gallery
    fresh = probe(np.array([4]), 2, tuple(range(1, 11)))[0]  # other objects: searched again
    after = gallery.search(fresh, max_candidates=3)
    assert after is not before
    assert [(c.identity_id, c.fused_score) for c in after.candidates] == [
        (c.identity_id, c.fused_score) for c in before.candidates
    ]


def test_the_same_probe_again_gets_the_last_answer_until_the_gallery_changes(
    gallery: IndexedGallery,
) -> None:
    """A service searches a probe before its write lock and its handler again under it:
    the second search of the same template objects is the first's answer, and any
    enrolment or deletion in between makes it search again."""
    fingers = probe(np.array([9]), 2, tuple(range(1, 11)))[0]
    first = gallery.search(fingers, max_candidates=3)
    assert gallery.search(fingers, max_candidates=3) is first
    assert gallery.search(fingers, max_candidates=4) is not first  # another question
    equal = {f: MinutiaeTemplate(f, t.minutiae) for f, t in fingers.items()}
    again = gallery.search(equal, max_candidates=3)  # other objects: searched, same answer
    assert again is not first and again == first
    assert gallery.search(fingers, max_candidates=3) is not first  # `equal` was the last
    last = gallery.search(fingers, max_candidates=3)
    assert gallery.search(fingers, max_candidates=3) is last
    gallery.delete("P9")
    try:
        without = gallery.search(fingers, max_candidates=3)
        assert without is not last
        assert without.best is not None and without.best.identity_id != "P9"
    finally:
        batch = minutiae_sets.generate_impressions(SEED, np.array([9]), kind="rolled")
        gallery.enrol("P9", {f: MinutiaeTemplate(f, batch[f - 1]) for f in range(1, 11)})
    back = gallery.search(fingers, max_candidates=3)
    assert back is not first and back.best is not None and back.best.identity_id == "P9"
