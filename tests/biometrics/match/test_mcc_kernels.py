"""The fast paths of the MCC kernels agree with plain reference computations."""

from __future__ import annotations

import math

import numpy as np
import pytest
from test_mcc_matcher import moved, random_minutiae

from scomm.biometrics.match import CylinderParams, LssrParams, MccMatcher, MccParams
from scomm.biometrics.match import mcc_compare as mc
from scomm.biometrics.minutiae import Minutiae


def _popcount(v: int) -> int:
    return bin(v).count("1")


def _reference_similarities(a, b, max_dtheta: float, min_me: float, masked: bool) -> dict:  # type: ignore[no-untyped-def]
    """Every matchable pair's MCC-B similarity by a plain double loop."""
    wp = a.mask.shape[1]
    nd = a.bits.shape[1] // wp
    out = {}
    for i in range(len(a)):
        for j in range(len(b)):
            if not (a.valid[i] and b.valid[j]):
                continue
            d = (a.theta[i] - b.theta[j] + math.pi) % (2 * math.pi) - math.pi
            if abs(d) > max_dtheta:
                continue
            m = [int(a.mask[i, q]) & int(b.mask[j, q]) for q in range(wp)]
            if not (a.full[i] and b.full[j]) and sum(map(_popcount, m)) < min_me:
                continue
            pa = pb = px = 0
            for h in range(nd):
                for q in range(wp):
                    x = int(a.bits[i, h * wp + q])
                    y = int(b.bits[j, h * wp + q])
                    if masked and not (a.full[i] and b.full[j]):
                        x &= m[q]
                        y &= m[q]
                    pa += _popcount(x)
                    pb += _popcount(y)
                    px += _popcount(x ^ y)
            if pa + pb == 0:
                continue
            s = 1 - math.sqrt(px) / (math.sqrt(pa) + math.sqrt(pb))
            if s > 0:
                out[(i, j)] = s
    return out


@pytest.mark.parametrize("max_dtheta", [math.pi / 4, math.pi / 2, math.pi])
@pytest.mark.parametrize("masked", [True, False])
@pytest.mark.parametrize("ns, nd", [(8, 4), (16, 6)])  # one word per plane (fast path), four
def test_direction_window_scan_equals_full_scan(
    max_dtheta: float, masked: bool, ns: int, nd: int
) -> None:
    matcher = MccMatcher(MccParams(cylinder=CylinderParams(ns=ns, nd=nd)))
    a = matcher.prepare(random_minutiae(21, n=30))
    b = matcher.prepare(moved(random_minutiae(21, n=30), 0.3, 10, 5, seed=2))
    ws = mc.make_workspace(max(len(a), len(b)), 30)
    min_me = matcher._kv[1]
    k = mc.local_similarities(
        a.theta, a.bits, a.mask, a.count, a.full, a.valid, a.tord, a.tsort,
        b.theta, b.bits, b.mask, b.count, b.full, b.valid, b.tord, b.tsort,
        max_dtheta, min_me, masked, matcher._sqrt, ws[0], ws[1], ws[2], ws[4],
    )  # fmt: skip
    idx, val = ws[1][:k], ws[0][:k]
    got = {(int(c) // len(b), int(c) % len(b)): v for c, v in zip(idx, val, strict=True)}
    want = _reference_similarities(a, b, max_dtheta, min_me, masked)
    assert got.keys() == want.keys()
    assert all(got[p] == pytest.approx(want[p], abs=1e-12) for p in want)
    assert ws[4][: mc.LEVELS + 1].sum() == k


def test_strip_search_counts_like_brute_force() -> None:
    rng = np.random.default_rng(5)
    n = 40
    xa, ya = rng.uniform(0, 300, n), rng.uniform(-300, 0, n)
    xb, yb = xa + rng.normal(0, 6, n), ya + rng.normal(0, 6, n)
    xb[::3] = rng.uniform(0, 300, len(xb[::3]))
    xb[5] = xb[6]  # equal x
    ta, tb = rng.uniform(0, 2 * np.pi, n), rng.uniform(0, 2 * np.pi, n)
    tb[::2] = ta[::2]
    xord = np.argsort(xb, kind="stable")
    xsort = xb[xord].copy()
    bstart = np.empty(n + 3, dtype=np.int64)
    used = np.zeros(n, dtype=np.bool_)
    ma, mb = np.empty(n, np.int64), np.empty(n, np.int64)
    for width in (15.0, 2.0, 400.0):
        bw = mc._x_buckets(xsort, width, bstart)
        for rot, tx, ty in ((0.0, 0.0, 0.0), (0.1, 5.0, -3.0), (-0.2, 30.0, 10.0)):
            m = mc._agreeing(
                xa, ya, ta, xb, yb, tb, xord, xsort, bstart, bw, rot, tx, ty, 15.0,
                math.pi / 6, used, ma, mb,
            )  # fmt: skip
            # brute force, same greedy rule: A in order, nearest free B, ties to higher index
            free = np.ones(n, bool)
            want = []
            c, s = math.cos(rot), math.sin(rot)
            for i in range(n):
                px, py = c * xa[i] - s * ya[i] + tx, s * xa[i] + c * ya[i] + ty
                d2 = (xb - px) ** 2 + (yb - py) ** 2
                da = np.abs((tb - ta[i] - rot + np.pi) % (2 * np.pi) - np.pi)
                ok = np.flatnonzero(free & (d2 <= 225.0) & (da <= math.pi / 6))
                if len(ok):
                    best = ok[d2[ok] == d2[ok].min()].max()
                    free[best] = False
                    want.append((i, best))
            assert list(zip(ma[:m].tolist(), mb[:m].tolist(), strict=True)) == want


def test_batched_selection_equals_plain_greedy() -> None:
    """select_pairs sorts similarity levels in growing batches; the pairs must be those of a
    plain greedy pass over all candidates by (level, row-major index)."""
    rng = np.random.default_rng(7)
    na, nb = 25, 30
    for trial in range(20):
        k = int(rng.integers(1, na * nb))
        idx = rng.choice(na * nb, size=k, replace=False)
        idx.sort()
        val = rng.uniform(0.01, 1.0, k)
        if trial % 2:
            val = np.round(val * 8) / 8 + 1e-3  # many ties
        q = (mc.LEVELS - (val * mc.LEVELS).astype(np.int64)).astype(np.int64)
        ws = mc.make_workspace(max(na, nb), 30)
        hist = ws[4]
        hist[:] = 0
        np.add.at(hist, q, 1)
        for n_want in (1, 4, 16, 30):
            n = mc.select_pairs(
                val, idx, q, k, hist, ws[3], na, nb, n_want, ws[5], ws[6], ws[7], ws[8], ws[9]
            )
            want: list[tuple[int, int]] = []
            ua, ub = set(), set()
            for c in sorted(range(k), key=lambda c: (q[c], idx[c])):
                i, j = divmod(int(idx[c]), nb)
                if len(want) < n_want and i not in ua and j not in ub:
                    ua.add(i)
                    ub.add(j)
                    want.append((i, j))
            assert list(zip(ws[7][:n].tolist(), ws[8][:n].tolist(), strict=True)) == want


def test_compare_many_mixed_sizes_and_unmasked() -> None:
    wide = MccParams(cylinder=CylinderParams(ns=16, nd=6))
    for params in (MccParams(), MccParams(lssr=LssrParams(masked=False)), wide):
        matcher = MccMatcher(params)
        probe = matcher.prepare(random_minutiae(30, n=35))
        cands = [
            matcher.prepare(random_minutiae(31, n=60)),
            matcher.prepare(Minutiae.empty(300, 300)),
            matcher.prepare(random_minutiae(32, n=3)),
            matcher.prepare(moved(random_minutiae(30, n=35), 0.2, 8, -4, seed=1)),
            matcher.prepare(random_minutiae(33, n=20)),
        ]
        many = matcher.compare_many(probe, cands)
        assert list(many) == [matcher.compare(probe, c) for c in cands]
        assert many[3] > 2 * max(many[0], many[2], many[4])


def test_kept_pairs_integer_rule_matches_float_similarity() -> None:
    """The similarity loops keep a pair when both masked counts are non-zero instead of
    testing the float v > 0: over every reachable (|a|, |b|, |a xor b|) of up to 6 x 64
    cells the two rules agree."""
    cells = 6 * 64
    s = np.sqrt(np.arange(cells + 1, dtype=np.float64))
    pa, pb = np.meshgrid(np.arange(cells + 1), np.arange(cells + 1), indexing="ij")
    pa = pa.ravel()
    pb = pb.ravel()
    for extra in range(0, cells + 1, 1):
        # |a xor b| = |a| + |b| - 2 |a and b|, and |a and b| <= min(|a|, |b|)
        both = np.minimum(pa, pb)
        common = np.minimum(both, extra)
        px = pa + pb - 2 * common
        ok = px <= cells
        den = s[pa[ok]] + s[pb[ok]]
        with np.errstate(invalid="ignore", divide="ignore"):
            v = 1.0 - s[px[ok]] / den
        float_rule = (den > 0.0) & (v > 0.0)
        int_rule = (pa[ok] > 0) & (pb[ok] > 0)
        assert np.array_equal(float_rule, int_rule)


def test_kept_pairs_integer_rule_tightest_case_large_cylinders() -> None:
    """v is smallest when a and b share no set cell (|a xor b| = |a| + |b|); up to 16 x 16 x 6
    cells a pair with both counts non-zero still has v > 0 in floats."""
    cells = 16 * 16 * 6
    s = np.sqrt(np.arange(2 * cells + 1, dtype=np.float64))
    pa, pb = np.meshgrid(np.arange(1, cells + 1), np.arange(1, cells + 1), indexing="ij")
    v = 1.0 - s[pa + pb] / (s[pa] + s[pb])
    assert (v > 0.0).all()
    one = np.arange(1, cells + 1)
    assert (1.0 - s[one] / (s[0] + s[one]) == 0.0).all()  # one side empty: exactly 0
