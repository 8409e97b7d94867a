"""Synthetic minutiae sets: deterministic, well-formed, finger-like, and matchable."""

from __future__ import annotations

import math

import numpy as np
import pytest

from scomm.biometrics.engine import MATCHER_PARAMS
from scomm.biometrics.match import MccMatcher
from scomm.biometrics.minutiae_batch import MinutiaeBatch
from scomm.sim.synth import minutiae_sets
from scomm.sim.synth.minutiae_sets import (
    FINGERS,
    PatternClass,
    generate_impression_list,
    generate_impressions,
    generate_masters,
    pattern_classes,
)

SEED = 20240601


def _same(a: MinutiaeBatch, b: MinutiaeBatch) -> bool:
    return (a.width, a.height, a.ppi) == (b.width, b.height, b.ppi) and all(
        np.array_equal(getattr(a, f), getattr(b, f))
        for f in ("offsets", "x", "y", "angle", "kind", "quality")
    )


@pytest.fixture(scope="module")
def masters() -> MinutiaeBatch:
    return generate_masters(SEED, np.arange(40))


def test_masters_are_deterministic_and_identity_major(masters: MinutiaeBatch) -> None:
    assert len(masters) == 400
    assert _same(masters, generate_masters(SEED, np.arange(40)))
    assert not np.array_equal(generate_masters(SEED + 1, [0]).x, masters[0].x)
    # row i * 10 + (finger - 1) is (identity i, finger), whatever else is in the batch
    alone = generate_masters(SEED, [7], fingers=[3])
    assert alone[0] == masters[7 * 10 + 2]
    picked = generate_masters(SEED, [12, 7], fingers=[9, 3])
    assert picked[3] == masters[7 * 10 + 2] and picked[0] == masters[12 * 10 + 8]


def test_each_finger_is_its_own_master(masters: MinutiaeBatch) -> None:
    firsts = {(float(m.x[0]), float(m.y[0])) for m in (masters[i] for i in range(len(masters)))}
    assert len(firsts) == len(masters)
    counts = masters.counts()
    assert len(set(counts[:10].tolist())) > 3  # ten fingers of one person differ


def _check_well_formed(batch: MinutiaeBatch) -> None:
    assert batch.x.min() >= 0 and batch.x.max() <= batch.width - 1
    assert batch.y.min() >= 0 and batch.y.max() <= batch.height - 1
    assert batch.angle.min() >= 0 and batch.angle.max() < np.float32(2 * math.pi)
    assert set(np.unique(batch.kind).tolist()) <= {1, 2}
    assert batch.quality.min() >= 1 and batch.quality.max() <= 100
    assert batch.ppi == 500


def test_sets_are_well_formed_and_realistically_sized(masters: MinutiaeBatch) -> None:
    plain = generate_impressions(SEED, np.arange(40), impression=1)
    rolled = generate_impressions(SEED, np.arange(40), impression=1, kind="rolled")
    for batch in (masters, plain, rolled):
        _check_well_formed(batch)
    assert (masters.width, masters.height) == (416, 560)
    assert (plain.width, plain.height) == (320, 420)
    assert 60 <= masters.counts().mean() <= 130 and masters.counts().min() >= 10
    assert 25 <= plain.counts().mean() <= 50  # LEADER on FVC2002 DB1-3: 37
    assert plain.counts().mean() < rolled.counts().mean() < masters.counts().mean()
    assert 0.6 <= np.mean(masters.kind == 1) <= 0.8
    # no two minutiae of a master closer than the Poisson-disc spacing (10 px), bar rare
    # fallbacks; an extractor's own spacing (9 px) in the impressions
    m = masters[5]
    d = np.hypot(m.x[:, None] - m.x[None, :], m.y[:, None] - m.y[None, :])
    np.fill_diagonal(d, np.inf)
    assert d.min() >= 9.99
    p = plain[5]
    d = np.hypot(p.x[:, None] - p.x[None, :], p.y[:, None] - p.y[None, :])
    np.fill_diagonal(d, np.inf)
    assert d.min() >= 8.99


def test_an_impression_made_alone_equals_it_in_a_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    ids = np.arange(30)
    batch = generate_impressions(SEED, ids, impression=4)  # 300 rows: split across threads
    alone = generate_impression_list(SEED, [17], [6], [4])
    assert alone[0] == batch[17 * 10 + 5]
    listed = generate_impression_list(SEED, [17, 2], [6, 1], [4, 4])
    assert listed[0] == alone[0] and listed[1] == batch[20]
    monkeypatch.setattr(minutiae_sets, "_threads", lambda: 1)
    assert _same(generate_impressions(SEED, ids, impression=4), batch)


def test_impressions_differ_by_number_and_kind_and_accept_arrays() -> None:
    one = generate_impressions(SEED, [3], impression=1)
    two = generate_impressions(SEED, [3], impression=2)
    assert not any(one[i] == two[i] for i in range(10))
    rolled = generate_impressions(SEED, [3], impression=1, kind="rolled")
    assert rolled.width == 416 and not rolled[0] == one[0]
    mixed = generate_impressions(SEED, [3, 4], fingers=[1, 2], impression=[[1, 2], [2, 1]])
    assert mixed[0] == one[0] and mixed[1] == two[1]


def test_impressions_match_their_master_and_not_others(masters: MinutiaeBatch) -> None:
    matcher = MccMatcher(MATCHER_PARAMS["leader"])
    rows = np.arange(0, 400, 37)[:8]
    probes = generate_impression_list(SEED, rows // 10, rows % 10 + 1, np.full(rows.size, 2))
    gallery = matcher.pack([matcher.prepare(masters[int(r)]) for r in rows])
    genuine, impostor = [], []
    for j in range(len(rows)):
        scores = matcher.compare_many(matcher.prepare(probes[j]), gallery)
        genuine.append(scores[j])
        impostor.extend(np.delete(scores, j))
    assert np.mean(genuine) > 0.4
    assert np.mean(genuine) > 2 * max(impostor)
    assert min(genuine) > np.mean(impostor)


def test_pattern_classes_follow_ten_print_shares() -> None:
    classes = pattern_classes(SEED, np.arange(3000))
    shares = np.bincount(classes, minlength=6)[1:] / classes.size
    expected = np.array([0.04, 0.03, 0.32, 0.32, 0.29])  # A, T, L, R, W
    assert np.all(np.abs(shares - expected) < 0.02)
    by_finger = classes.reshape(-1, 10)
    right_hand, left_hand = by_finger[:, :5], by_finger[:, 5:]
    assert np.mean(right_hand == PatternClass.RIGHT_LOOP) > np.mean(
        left_hand == PatternClass.RIGHT_LOOP
    )
    assert np.mean(left_hand == PatternClass.LEFT_LOOP) > np.mean(
        right_hand == PatternClass.LEFT_LOOP
    )
    assert FINGERS == tuple(range(1, 11))


@pytest.mark.parametrize(
    "call",
    [
        lambda: generate_masters(SEED, [1], fingers=[11]),
        lambda: generate_masters(SEED, [-1]),
        lambda: generate_masters(-5, [1]),
        lambda: generate_impressions(SEED, [1], kind="latent"),
        lambda: generate_impression_list(SEED, [1, 2], [1], [1]),
        lambda: generate_impression_list(SEED, [1], [1], [-1]),
    ],
)
def test_bad_arguments_are_refused(call: object) -> None:
    with pytest.raises(ValueError):
        call()  # type: ignore[operator]
