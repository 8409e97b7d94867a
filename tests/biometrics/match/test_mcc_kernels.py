"""The fast paths of the MCC kernels agree with plain reference computations."""

from __future__ import annotations

import math

import numpy as np
import pytest
from test_mcc_matcher import moved, random_minutiae

from scomm.biometrics.match import CylinderParams, LssrParams, MccMatcher, MccParams
from scomm.biometrics.match.comparison.consolidation import _agreeing, _x_buckets
from scomm.biometrics.match.comparison.local_similarity import (
    LEVELS,
    PAIR_BITS,
    local_similarities,
)
from scomm.biometrics.match.comparison.pair_selection import select_pairs
from scomm.biometrics.match.comparison.relaxation import relax
from scomm.biometrics.match.comparison.workspace import make_workspace
from scomm.biometrics.match.primitives.angles import atan2_fast
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
    ws = make_workspace(max(len(a), len(b)), 30)
    min_me = matcher.comparison_params.min_me_cells
    k = local_similarities(
        a.theta, a.bits, a.mask, a.count, a.full, a.valid, a.tord, a.tsort,
        b.theta, b.bits, b.mask, b.count, b.full, b.valid, b.tord, b.tsort,
        max_dtheta, min_me, masked, matcher.comparison_tables.sqrt,
        ws.cand_val, ws.cand_idx, ws.cand_next, ws.heads,
    )  # fmt: skip
    idx, val = ws.cand_idx[:k], ws.cand_val[:k]
    low = (1 << PAIR_BITS) - 1
    got = {(int(c) >> PAIR_BITS, int(c) & low): v for c, v in zip(idx, val, strict=True)}
    want = _reference_similarities(a, b, max_dtheta, min_me, masked)
    assert got.keys() == want.keys()
    assert all(got[p] == pytest.approx(want[p], abs=1e-12) for p in want)
    # every candidate is on the list of its level, once; no level better than heads[LEVELS + 1]
    heads, nxt = ws.heads, ws.cand_next
    seen = []
    for q in range(LEVELS + 1):
        c = heads[q]
        while c >= 0:
            assert LEVELS - int(val[c] * LEVELS) == q
            seen.append(c)
            c = nxt[c]
    assert sorted(seen) == list(range(k))
    if k:
        assert min(LEVELS - int(v * LEVELS) for v in val) >= heads[LEVELS + 1]


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
        bw = _x_buckets(xsort, width, bstart)
        for rot, tx, ty in ((0.0, 0.0, 0.0), (0.1, 5.0, -3.0), (-0.2, 30.0, 10.0)):
            m = _agreeing(
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


def test_level_list_selection_equals_plain_greedy() -> None:
    """select_pairs reads the level lists best first; the pairs must be those of a plain
    greedy pass over all candidates by (level, row-major index), whatever order the
    candidates were found in."""
    rng = np.random.default_rng(7)
    na, nb = 25, 30
    for trial in range(20):
        k = int(rng.integers(1, na * nb))
        flat = rng.choice(na * nb, size=k, replace=False)  # found in random order
        idx = ((flat // nb) << PAIR_BITS) | (flat % nb)
        val = rng.uniform(0.01, 1.0, k)
        if trial % 2:
            val = np.round(val * 8) / 8 + 1e-3  # many ties
        q = (LEVELS - (val * LEVELS).astype(np.int64)).astype(np.int64)
        ws = make_workspace(max(na, nb), 30)
        heads, nxt = ws.heads, ws.cand_next
        heads[:] = -1
        for c in range(k):
            nxt[c] = heads[q[c]]
            heads[q[c]] = c
        heads[LEVELS + 1] = q.min() if trial % 3 else 0  # the best level, or no hint
        for n_want in (1, 4, 16, 30):
            n = select_pairs(
                val, idx, nxt, heads, ws.order, na, nb, n_want,
                ws.used_a, ws.used_b, ws.rows, ws.cols, ws.vals,
            )  # fmt: skip
            want: list[tuple[int, int]] = []
            ua, ub = set(), set()
            for c in sorted(range(k), key=lambda c: (q[c], idx[c])):
                i, j = divmod(int(flat[c]), nb)
                if len(want) < n_want and i not in ua and j not in ub:
                    ua.add(i)
                    ub.add(j)
                    want.append((i, j))
            assert list(zip(ws.rows[:n].tolist(), ws.cols[:n].tolist(), strict=True)) == want


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


def test_fast_arctangent_is_within_its_bound() -> None:
    rng = np.random.default_rng(11)
    y = np.concatenate([rng.normal(0, 100, 20000), [0.0, 0.0, 1.0, -1.0, 0.0, 5.0, -5.0]])
    x = np.concatenate([rng.normal(0, 100, 20000), [0.0, 1.0, 0.0, 0.0, -1.0, 5.0, -5.0]])
    got = np.array([atan2_fast(a, b) for a, b in zip(y, x, strict=True)])
    assert np.abs(got - np.arctan2(y, x)).max() <= 3e-7


def _reference_relaxation(xa, ya, ta, xb, yb, tb, lam, lut, n_rel, w_r):  # type: ignore[no-untyped-def]
    """Paper eq. 23-24 by numpy: each side's segment lengths, direction differences and
    radial angles (np.hypot, np.arctan2), their differences quantised onto the tables.  The
    radial term is not symmetric: the matcher takes each pair of pairs once, t < k, and uses
    that compatibility both ways.
    Also returns, per pair of pairs, whether an index sits within 1e-5 above or below a
    step other than 0 (where an arctangent within 3e-7 may land on the neighbouring step)."""
    wrap = lambda a: (a + np.pi) % (2 * np.pi) - np.pi  # noqa: E731
    steps = lut.shape[1] - 1
    lut = lut.astype(np.float64)

    def side(x, y, t):  # type: ignore[no-untyped-def]
        dx, dy = x[None, :] - x[:, None], y[None, :] - y[:, None]
        radial = wrap(t[:, None] - np.arctan2(dy, dx))
        return np.hypot(dx, dy), wrap(t[:, None] - t[None, :]), radial

    da, dta, ra = side(xa, ya, ta)
    db, dtb, rb = side(xb, yb, tb)
    f1 = np.abs(da - db) * steps / 32.0
    f2 = np.abs(wrap(dta - dtb)) * steps / np.pi
    f3 = np.abs(wrap(ra - rb)) * steps / np.pi
    rho = np.where(
        f1 < steps,
        lut[0, np.minimum(f1, steps).astype(int)] * lut[1, f2.astype(int)] * lut[2, f3.astype(int)],
        0.0,
    )
    rho = np.triu(rho, 1)  # each pair of pairs once, t < k, used both ways
    rho = rho + rho.T
    edge = lambda f: (np.abs(f - np.round(f)) < 1e-5) & (np.round(f) >= 1)  # noqa: E731
    fragile = np.triu((f1 < steps) & (edge(f2) | edge(f3)), 1)
    n = len(lam)
    for _ in range(n_rel):
        lam = w_r * lam + (1 - w_r) / (n - 1) * rho @ lam
    return lam, fragile


def test_relaxation_equals_the_paper_formulas() -> None:
    matcher = MccMatcher()
    rng = np.random.default_rng(3)
    s = matcher.params.lssr
    t = matcher.comparison_tables
    lut = np.stack([t.distance, t.direction, t.radial])
    compared = 0
    for trial in range(30):
        n = int(rng.integers(2, 11))
        xa, ya = rng.uniform(0, 300, n), rng.uniform(-400, 0, n)
        ta = rng.uniform(0, 2 * np.pi, n)
        rot = rng.normal(0, 0.3)
        noise = 0.0 if trial % 3 == 0 else 4.0  # exact copies give compatibilities near 1
        xb = np.cos(rot) * xa - np.sin(rot) * ya + 20 + rng.normal(0, noise, n)
        yb = np.sin(rot) * xa + np.cos(rot) * ya - 10 + rng.normal(0, noise, n)
        tb = (ta + rot + rng.normal(0, noise / 40, n)) % (2 * np.pi)
        if trial % 2:  # half of B's minutiae elsewhere
            xb[::2] = rng.uniform(0, 300, len(xb[::2]))
        lam0 = rng.uniform(0.2, 0.9, n)
        ws = make_workspace(n, 10)
        lam = lam0.copy()
        rows = np.arange(n, dtype=np.int64)
        relax(
            rows, rows, n, xa, ya, ta, xb, yb, tb, s.n_rel, s.w_r,
            t.distance, t.direction, t.radial, ws.rho, lam, ws.nxt, ws.geo,
        )  # fmt: skip
        want, fragile = _reference_relaxation(xa, ya, ta, xb, yb, tb, lam0, lut, s.n_rel, s.w_r)
        if not fragile.any():
            compared += 1
            np.testing.assert_allclose(lam, want, rtol=1e-12, atol=1e-15)
        assert lam.sum() <= lam0.sum() + 1e-12  # compatibilities <= 1: relaxing never adds
    assert compared >= 25
