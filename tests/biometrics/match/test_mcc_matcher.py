"""MccMatcher: invariances, determinism, explanation, template codec and a real-data check."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest

from scomm.biometrics.match import MatcherTemplate, MatcherTemplateError, MccMatcher
from scomm.biometrics.minutiae import Minutiae


def random_minutiae(seed: int, n: int = 40, size: int = 320) -> Minutiae:
    """Minutiae spread like a real print's: an ellipse of points, directions following a
    smooth flow (random directions would make cylinders unrealistically dissimilar)."""
    rng = np.random.default_rng(seed)
    pts: list[tuple[float, float]] = []
    while len(pts) < n:
        x, y = rng.uniform(20, size - 20, 2)
        if ((x - size / 2) / 140) ** 2 + ((y - size / 2) / 150) ** 2 > 1:
            continue
        if all((x - px) ** 2 + (y - py) ** 2 > 15**2 for px, py in pts):
            pts.append((x, y))
    xy = np.array(pts)
    phase = rng.uniform(0, 2 * np.pi)
    flow = np.arctan2(xy[:, 1] - size / 2 + 40 * np.sin(phase), xy[:, 0] - size / 2) + np.pi / 2
    angle = np.mod(flow + np.pi * rng.integers(0, 2, n) + rng.normal(0, 0.1, n), 2 * np.pi)
    return Minutiae(
        xy[:, 0], xy[:, 1], angle, rng.integers(1, 3, n), np.full(n, 60), size, size, 500
    )


def moved(m: Minutiae, rotation: float, tx: float, ty: float, seed: int = 0) -> Minutiae:
    """Rotate counter-clockwise (as seen on screen, y down) about the centre, translate, and
    jitter a little; drop minutiae that fall off the image."""
    rng = np.random.default_rng(seed)
    cx, cy = m.width / 2, m.height / 2
    c, s = math.cos(rotation), math.sin(rotation)
    dx, dy = m.x - cx, m.y - cy
    x = cx + c * dx + s * dy + tx + rng.normal(0, 1.0, len(m))
    y = cy - s * dx + c * dy + ty + rng.normal(0, 1.0, len(m))
    angle = m.angle + rotation + rng.normal(0, 0.05, len(m))
    keep = (x >= 0) & (x < m.width) & (y >= 0) & (y < m.height)
    return Minutiae(
        x[keep], y[keep], angle[keep], m.kind[keep], m.quality[keep], m.width, m.height, m.ppi
    )


@pytest.fixture(scope="module")
def matcher() -> MccMatcher:
    return MccMatcher()


def test_identical_templates_score_about_one(matcher: MccMatcher) -> None:
    t = matcher.prepare(random_minutiae(1))
    assert matcher.compare(t, t) > 0.9


def test_rotated_translated_copy_scores_high(matcher: MccMatcher) -> None:
    m = random_minutiae(2)
    a = matcher.prepare(m)
    for rotation, tx, ty in ((0.4, 25.0, -15.0), (-0.6, -30.0, 20.0), (math.pi / 2, 0.0, 0.0)):
        b = matcher.prepare(moved(m, rotation, tx, ty, seed=3))
        score = matcher.compare(a, b)
        assert score > 0.4, (rotation, score)
        e = matcher.explain(a, b)
        assert abs((e.rotation - rotation + math.pi) % (2 * math.pi) - math.pi) < 0.1


def test_unrelated_sets_score_low(matcher: MccMatcher) -> None:
    prepared = [matcher.prepare(random_minutiae(10 + s)) for s in range(6)]
    impostor = [
        matcher.compare(prepared[i], prepared[j]) for i in range(6) for j in range(i + 1, 6)
    ]
    genuine = matcher.compare(prepared[0], matcher.prepare(moved(random_minutiae(10), 0.3, 10, 5)))
    assert max(impostor) < 0.2
    assert genuine > 2 * max(impostor)


def test_deterministic_and_symmetric(matcher: MccMatcher) -> None:
    a = matcher.prepare(random_minutiae(4))
    b = matcher.prepare(moved(random_minutiae(4), 0.2, 12, -8, seed=5))
    again = MccMatcher().prepare(random_minutiae(4))
    assert again.to_bytes() == a.to_bytes()
    s = matcher.compare(a, b)
    assert matcher.compare(a, b) == s
    assert matcher.compare(b, a) == s  # exactly: pairs are compared in a canonical order


def test_compare_many_equals_compare(matcher: MccMatcher) -> None:
    probe = matcher.prepare(random_minutiae(6))
    cands = [matcher.prepare(random_minutiae(s)) for s in (6, 7, 8)]
    cands.append(matcher.prepare(moved(random_minutiae(6), -0.3, 5, 5)))
    many = matcher.compare_many(probe, cands)
    assert many.shape == (4,)
    assert list(many) == [matcher.compare(probe, c) for c in cands]
    assert list(matcher.compare_many(probe, matcher.pack(cands))) == list(many)
    assert matcher.compare_many(probe, []).shape == (0,)


def test_compare_many_select_scores_only_the_chosen(matcher: MccMatcher) -> None:
    probe = matcher.prepare(random_minutiae(6))
    cands = [matcher.prepare(random_minutiae(s)) for s in (6, 7, 8, 9)]
    packed = matcher.pack(cands)
    full = matcher.compare_many(probe, packed)
    chosen = matcher.compare_many(probe, packed, [3, 0, 3])
    assert list(chosen) == [full[3], full[0], full[3]]
    assert matcher.compare_many(probe, packed, []).shape == (0,)
    with pytest.raises(IndexError):
        matcher.compare_many(probe, packed, [4])


def test_explain_is_consistent_with_compare(matcher: MccMatcher) -> None:
    m = random_minutiae(8)
    a = matcher.prepare(m)
    b = matcher.prepare(moved(m, 0.5, -20, 10, seed=9))
    for x, y in ((a, b), (b, a)):
        e = matcher.explain(x, y)
        assert e.score == matcher.compare(x, y)
        assert e.score == pytest.approx(
            e.lssr_score ** (1 - matcher.params.consolidation.weight)
            * e.consolidation_score**matcher.params.consolidation.weight
        )
        assert e.pairs.shape[1] == 2 and len(e.pairs) == len(e.local_similarity)
        assert np.all(e.pairs[:, 0] < len(x)) and np.all(e.pairs[:, 1] < len(y))
        assert len(set(e.pairs[:, 0].tolist())) == len(e.pairs)  # one-to-one
        assert e.matched_count == len(e.matched) > 10
        # the reported transform maps a matched minutia of x onto its partner in y
        c, s = math.cos(e.rotation), math.sin(e.rotation)
        i, j = e.matched[0]
        px = c * x.x[i] + s * x.y[i] + e.tx
        py = -s * x.x[i] + c * x.y[i] + e.ty
        assert math.hypot(px - y.x[j], py - y.y[j]) < matcher.params.consolidation.dist_tol


def test_template_bytes_round_trip(matcher: MccMatcher) -> None:
    t = matcher.prepare(random_minutiae(12))
    data = t.to_bytes()
    back = MatcherTemplate.from_bytes(data)
    assert back == t and back.to_bytes() == data and back.key == t.key
    other = matcher.prepare(random_minutiae(13))
    assert matcher.compare(back, other) == matcher.compare(t, other)
    with pytest.raises(MatcherTemplateError):
        MatcherTemplate.from_bytes(b"XXXX" + data[4:])
    with pytest.raises(MatcherTemplateError):
        MatcherTemplate.from_bytes(data[:-1])


def test_empty_and_tiny_sets(matcher: MccMatcher) -> None:
    empty = matcher.prepare(Minutiae.empty(300, 300))
    two = matcher.prepare(random_minutiae(14, n=2))
    full = matcher.prepare(random_minutiae(14))
    assert matcher.compare(empty, full) == 0.0
    assert matcher.compare(two, full) == 0.0
    assert MatcherTemplate.from_bytes(empty.to_bytes()) == empty


def test_a_template_over_65535_minutiae_is_refused_before_any_work(matcher: MccMatcher) -> None:
    n = 65_536
    m = Minutiae(
        np.zeros(n), np.zeros(n), np.zeros(n), np.ones(n, np.uint8), np.zeros(n, np.uint8),
        300, 300, 500,
    )  # fmt: skip
    with pytest.raises(ValueError, match="at most 65,535"):
        matcher.prepare(m)


def test_resolution_is_normalised(matcher: MccMatcher) -> None:
    m = random_minutiae(15)
    scale = 569 / 500
    hi = Minutiae(m.x * scale, m.y * scale, m.angle, m.kind, m.quality, 364, 364, 569)
    assert matcher.compare(matcher.prepare(m), matcher.prepare(hi)) > 0.9


def test_genuine_above_impostor_on_fvc2002_db1(data_dir: Path, matcher: MccMatcher) -> None:
    nbis = pytest.importorskip("nbis")
    root = data_dir / "fvc2002"
    if not (root / "MANIFEST.csv").is_file():
        pytest.skip(f"{root / 'MANIFEST.csv'} not found")
    rows = [
        r
        for r in csv.DictReader((root / "MANIFEST.csv").open())
        if r["db"] == "DB1_B" and r["finger"] in ("101", "102", "103") and int(r["impression"]) <= 4
    ]
    ex = nbis.new_nbis_extractor(
        nbis.NbisExtractorSettings(
            min_quality=0.0,
            get_center=False,
            check_fingerprint=False,
            compute_nfiq2=False,
            ppi=None,
        )
    )
    templates = []
    for r in rows:
        found = ex.extract_minutiae((root / r["path"]).read_bytes()).get()
        m = Minutiae(
            np.array([q.x() for q in found], np.float32),
            np.array([q.y() for q in found], np.float32),
            np.deg2rad(np.array([q.angle() for q in found], np.float32)),
            np.array([int(q.kind().value) for q in found], np.uint8),
            np.array([min(100, round(100 * q.reliability())) for q in found], np.uint8),
            int(r["width"]),
            int(r["height"]),
            int(r["ppi"]),
        )
        templates.append((r["finger"], matcher.prepare(m)))
    genuine, impostor = [], []
    for i in range(len(templates)):
        scores = matcher.compare_many(templates[i][1], [t for _, t in templates[i + 1 :]])
        for (finger, _), s in zip(templates[i + 1 :], scores, strict=True):
            (genuine if finger == templates[i][0] else impostor).append(s)
    assert len(genuine) == 18 and len(impostor) == 48
    threshold = max(impostor)
    assert sum(g > threshold for g in genuine) >= 15, (sorted(genuine), threshold)
    assert np.median(genuine) > 3 * np.median(impostor)
