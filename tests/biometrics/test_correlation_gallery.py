"""1:N search in the correlation gallery: mates at rank 1, strangers below the threshold."""

from __future__ import annotations

import numpy as np
import pytest

from scomm.biometrics.baseline import (
    DEFAULT_THRESHOLD,
    CorrelationExtractor,
    CorrelationGallery,
    CorrelationMatcher,
)
from scomm.biometrics.protocols import FINGER_POSITIONS, Gallery

ENROLLED = 200  # the session gallery of conftest.py: persons 0..199 as "P0".."P199"
STRANGERS_FIRST = 10_000  # person seeds never enrolled
EVERY = ENROLLED // 20  # search for every tenth enrolled person


@pytest.fixture(scope="module")
def probes(capture_person) -> dict[str, list[dict]]:
    """Fresh captures of 20 enrolled persons (0, 10, .., 190) and of 20 strangers."""
    extractor = CorrelationExtractor()
    rng = np.random.default_rng(777)
    mated = [capture_person(p, rng, extractor) for p in range(0, ENROLLED, EVERY)]
    strangers = [capture_person(STRANGERS_FIRST + p, rng, extractor) for p in range(20)]
    return {"mated": mated, "strangers": strangers}


def test_gallery_satisfies_the_protocol(enrolled_gallery: CorrelationGallery) -> None:
    gallery: Gallery = enrolled_gallery
    assert len(gallery) == ENROLLED
    assert "P0" in gallery and "P199" in gallery and "P200" not in gallery


def test_enrolled_people_are_found_at_rank_one(
    enrolled_gallery: CorrelationGallery, probes: dict[str, list[dict]]
) -> None:
    for index, probe in enumerate(probes["mated"]):
        result = enrolled_gallery.search(probe)
        assert result.best is not None
        assert result.best.identity_id == f"P{index * EVERY}"
        assert result.best.rank == 1
        assert result.is_hit
        assert result.threshold == DEFAULT_THRESHOLD
        assert result.fingers_searched == FINGER_POSITIONS
        assert set(result.best.finger_scores) == set(FINGER_POSITIONS)


def test_strangers_are_not_hits(
    enrolled_gallery: CorrelationGallery, probes: dict[str, list[dict]]
) -> None:
    for probe in probes["strangers"]:
        result = enrolled_gallery.search(probe)
        assert len(result.candidates) == 10
        assert not result.is_hit


def test_candidates_are_ranked_and_fused_by_mean(
    enrolled_gallery: CorrelationGallery, probes: dict[str, list[dict]]
) -> None:
    probe = probes["strangers"][0]
    result = enrolled_gallery.search(probe, max_candidates=25)
    scores = [c.fused_score for c in result.candidates]
    assert scores == sorted(scores, reverse=True)
    assert [c.rank for c in result.candidates] == list(range(1, 26))
    for candidate in result.candidates:
        mean = float(np.mean(list(candidate.finger_scores.values())))
        assert candidate.fused_score == pytest.approx(mean, abs=1e-6)


def test_gallery_scores_equal_matcher_scores(probes: dict[str, list[dict]]) -> None:
    reference, probe = probes["mated"][0], probes["mated"][1]
    gallery = CorrelationGallery()
    gallery.enrol("X", reference)
    result = gallery.search(probe)
    matcher = CorrelationMatcher()
    for finger, score in result.candidates[0].finger_scores.items():
        assert score == pytest.approx(matcher.compare(probe[finger], reference[finger]), abs=1e-5)


def test_fused_score_uses_only_shared_fingers(probes: dict[str, list[dict]]) -> None:
    person = probes["mated"][0]
    gallery = CorrelationGallery()
    gallery.enrol("thumbs", {1: person[1], 6: person[6]})
    gallery.enrol("all", person)
    result = gallery.search({1: person[1], 2: person[2]})
    assert result.fingers_searched == (1, 2)
    by_id = {c.identity_id: c for c in result.candidates}
    assert set(by_id["thumbs"].finger_scores) == {1}
    assert set(by_id["all"].finger_scores) == {1, 2}
    assert by_id["thumbs"].fused_score == pytest.approx(1.0, abs=1e-5)
    # No shared finger position: not a candidate at all.
    assert [c.identity_id for c in gallery.search({3: person[3]}).candidates] == ["all"]
    elsewhere = gallery.search({11: person[1].__class__(11, person[1].features)})
    assert elsewhere.candidates == () and elsewhere.fingers_searched == ()


def test_delete_and_re_enrol(probes: dict[str, list[dict]]) -> None:
    gallery = CorrelationGallery()
    people = probes["mated"][:5]
    for index, templates in enumerate(people):
        gallery.enrol(f"M{index}", templates)
    assert gallery.search(people[2]).best.identity_id == "M2"
    gallery.delete("M2")
    assert "M2" not in gallery and len(gallery) == 4
    result = gallery.search(people[2], max_candidates=10)
    assert "M2" not in {c.identity_id for c in result.candidates}
    assert len(result.candidates) == 4 and not result.is_hit
    with pytest.raises(KeyError):
        gallery.delete("M2")
    gallery.enrol("M9", people[2])  # reuses the freed slot
    gallery.enrol("M0", people[3])  # re-enrolling replaces
    assert len(gallery) == 5
    assert gallery.search(people[2]).best.identity_id == "M9"
    assert {c.identity_id for c in gallery.search(people[3], 2).candidates} == {"M0", "M3"}


def test_empty_gallery_and_bad_input(probes: dict[str, list[dict]]) -> None:
    gallery = CorrelationGallery(threshold=0.9)
    result = gallery.search(probes["mated"][0])
    assert result.candidates == () and result.threshold == 0.9 and not result.is_hit
    assert result.fingers_searched == ()
    with pytest.raises(ValueError):
        gallery.enrol("nobody", {})
    with pytest.raises(ValueError):
        gallery.enrol("wrong", {2: probes["mated"][0][1]})
    with pytest.raises(ValueError):
        gallery.search(probes["mated"][0], max_candidates=-1)
