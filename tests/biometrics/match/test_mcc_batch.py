"""prepare_packed: the batch path equals prepare + pack; the kernels equal the numpy maths."""

from __future__ import annotations

import math
from dataclasses import fields

import numpy as np
import pytest
from test_mcc_matcher import moved, random_minutiae

from scomm.biometrics.match import MccMatcher, MccParams, PackedTemplates, prepare_packed
from scomm.biometrics.match.cylinders.pair_geometry import pair_geometry
from scomm.biometrics.match.cylinders.strongest import keep_strongest
from scomm.biometrics.match.mcc_params import CylinderParams
from scomm.biometrics.minutiae import Minutiae
from scomm.biometrics.minutiae_batch import MinutiaeBatch


@pytest.fixture(scope="module")
def matcher() -> MccMatcher:
    return MccMatcher()


def _minutiae(x, y, angle, size: int = 320, ppi: int = 500) -> Minutiae:  # type: ignore[no-untyped-def]
    n = len(x)
    return Minutiae(
        np.asarray(x, dtype=np.float64),
        np.asarray(y, dtype=np.float64),
        np.asarray(angle, dtype=np.float64),
        np.arange(n) % 3,
        np.full(n, 50),
        size,
        size,
        ppi,
    )


def _awkward_sets() -> list[Minutiae]:
    """Sets that stress the hull, the sorts and the wrapping: repeated points, collinear
    points, points on hull edges, equal x and equal angles, angles at 0 and 2 pi."""
    rng = np.random.default_rng(11)
    line = np.arange(12, dtype=np.float64)
    grid = np.array([(x, y) for x in range(100, 260, 40) for y in range(90, 250, 40)], float)
    base = random_minutiae(40, n=20)
    return [
        Minutiae.empty(320, 320),
        _minutiae([150.0], [160.0], [1.0]),
        _minutiae([150.0, 190.0], [160.0, 170.0], [1.0, 4.0]),
        _minutiae([150.0, 190.0, 170.0], [160.0, 170.0, 120.0], [0.0, 6.2831, 3.0]),
        _minutiae([150.0] * 5, [160.0] * 5, [0.5, 0.5, 2.0, 6.0, 0.5]),  # one point, 5 times
        _minutiae(100 + 15 * line, 80 + 10 * line, rng.uniform(0, 7, 12)),  # collinear
        _minutiae(grid[:, 0], grid[:, 1], np.full(len(grid), 1.25)),  # edges through points
        _minutiae(  # duplicates mixed into a real-looking set
            np.concatenate([base.x, base.x[:5]]),
            np.concatenate([base.y, base.y[:5]]),
            np.concatenate([base.angle, base.angle[:5][::-1]]),
        ),
        _minutiae(  # integer pixels, many equal x, negative and > 2 pi angles
            rng.integers(60, 70, 30), rng.integers(40, 280, 30), rng.uniform(-7, 13, 30)
        ),
        random_minutiae(41, n=3),
        random_minutiae(42, n=10),
        random_minutiae(43, n=60),
        moved(random_minutiae(44, n=45), 0.4, 12.0, -7.0, seed=3),
    ]


def _assert_packed_equal(a: PackedTemplates, b: PackedTemplates) -> None:
    for f in fields(PackedTemplates):
        va, vb = getattr(a, f.name), getattr(b, f.name)
        if f.name == "size":
            assert va == vb
            continue
        assert va.dtype == vb.dtype, f.name
        assert va.shape == vb.shape, f.name
        assert np.array_equal(va, vb), f.name


def _slow_path(matcher: MccMatcher, batch: MinutiaeBatch) -> PackedTemplates:
    return matcher.pack([matcher.prepare(batch[i]) for i in range(len(batch))])


@pytest.mark.parametrize("ppi", [500, 569, 1000])
def test_batch_equals_prepare_then_pack(matcher: MccMatcher, ppi: int) -> None:
    rng = np.random.default_rng(ppi)
    sets = _awkward_sets() + [
        random_minutiae(int(s), n=int(n))
        for s, n in zip(range(100, 112), rng.integers(1, 70, 12), strict=True)
    ]
    batch = MinutiaeBatch.from_minutiae(sets, ppi=ppi)
    _assert_packed_equal(prepare_packed(matcher, batch), _slow_path(matcher, batch))


def test_batch_rescales_as_minutiae_do(matcher: MccMatcher) -> None:
    """A batch at another resolution, with angles outside [0, 2 pi) as given."""
    rng = np.random.default_rng(3)
    counts = np.array([0, 7, 1, 33, 2, 0, 58])
    offsets = np.concatenate([[0], np.cumsum(counts)])
    total = int(offsets[-1])
    batch = MinutiaeBatch(
        offsets,
        rng.uniform(0, 700, total),
        rng.uniform(0, 700, total),
        np.concatenate([rng.uniform(-7, 14, total - 3), [-1e-9, 2 * np.pi, -2 * np.pi]]),
        rng.integers(0, 3, total),
        rng.integers(0, 101, total),
        width=700,
        height=650,
        ppi=1000,
    )
    _assert_packed_equal(prepare_packed(matcher, batch), _slow_path(matcher, batch))


def test_batch_limits_cylinders_as_prepare_does() -> None:
    """With max_cylinders, both paths keep the same strongest cylinders valid."""
    matcher = MccMatcher(MccParams(cylinder=CylinderParams(max_cylinders=12)))
    sets = _awkward_sets() + [random_minutiae(s, n=20 + 5 * (s % 6)) for s in range(200, 206)]
    batch = MinutiaeBatch.from_minutiae(sets)
    packed = prepare_packed(matcher, batch)
    _assert_packed_equal(packed, _slow_path(matcher, batch))
    per_set = np.add.reduceat(packed.valid, packed.off[:-1]) * (np.diff(packed.off) > 0)
    assert per_set.max() == 12
    unlimited = prepare_packed(MccMatcher(), batch)
    assert unlimited.valid.sum() > packed.valid.sum()
    assert not (packed.valid & ~unlimited.valid).any()  # only ever switches cylinders off


def test_keep_strongest_ranks_valid_rows_by_quality_within_each_set() -> None:
    valid = np.array([True, True, False, True, True, True, True, False])
    quality = np.array([10, 90, 99, 50, 50, 70, 20, 100])
    offsets = np.array([0, 5, 8])
    kept = keep_strongest(valid, quality, offsets, 2)
    # set 0: rows 1 (90), then 3 and 4 tie at 50: the earlier row wins; row 2 was invalid
    # set 1: rows 5 (70) and 6 (20); row 7 was invalid however good
    assert kept.tolist() == [False, True, False, True, False, True, True, False]
    assert keep_strongest(valid, quality, offsets, 0) is valid


def test_empty_batch(matcher: MccMatcher) -> None:
    batch = MinutiaeBatch.from_minutiae([])
    _assert_packed_equal(prepare_packed(matcher, batch), matcher.pack([]))


def test_other_cylinder_parameters() -> None:
    """ns = 16 (four words per plane), nd = 6: the kernels' general paths."""
    matcher = MccMatcher(MccParams(cylinder=CylinderParams(ns=16, nd=6, sigma_s=7.0)))
    batch = MinutiaeBatch.from_minutiae([random_minutiae(s, n=30 + s) for s in range(5)])
    _assert_packed_equal(prepare_packed(matcher, batch), _slow_path(matcher, batch))


def test_compare_many_scores_the_batch_packed_gallery_alike(matcher: MccMatcher) -> None:
    gallery = [random_minutiae(s, n=35 + s % 20) for s in range(20, 44)]
    gallery[5] = moved(random_minutiae(7), 0.2, 8.0, -5.0, seed=2)
    batch = MinutiaeBatch.from_minutiae(gallery)
    fast = prepare_packed(matcher, batch)
    slow = _slow_path(matcher, batch)
    probe = matcher.prepare(random_minutiae(7))
    select = np.array([5, 0, 23, 5, 11])
    assert np.array_equal(
        matcher.compare_many(probe, fast, select), matcher.compare_many(probe, slow, select)
    )
    scores = matcher.compare_many(probe, fast)
    assert np.array_equal(scores, matcher.compare_many(probe, slow))
    assert int(np.argmax(scores)) == 5


# --- the kernels against the numpy formulation they replaced (Cappelli et al. 2010) ----------


def _reference(m: Minutiae, p: CylinderParams) -> dict[str, np.ndarray]:
    """The original numpy preparation: hull, cylinders, pairwise geometry, orders."""
    x = m.x.astype(np.float64)
    ys = -m.y.astype(np.float64)
    theta = m.angle.astype(np.float64)
    n = len(x)

    def wrap(a: np.ndarray) -> np.ndarray:
        return np.asarray((a + np.pi) % (2.0 * np.pi) - np.pi)

    pts = sorted(set(zip(x.tolist(), ys.tolist(), strict=True)))
    hull: list[tuple[float, float]] = []
    if len(pts) > 2:

        def cross(o, a, b):  # type: ignore[no-untyped-def]
            return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

        lower: list[tuple[float, float]] = []
        for q in pts:
            while len(lower) >= 2 and cross(lower[-2], lower[-1], q) <= 0:
                lower.pop()
            lower.append(q)
        upper: list[tuple[float, float]] = []
        for q in reversed(pts):
            while len(upper) >= 2 and cross(upper[-2], upper[-1], q) <= 0:
                upper.pop()
            upper.append(q)
        hull = lower[:-1] + upper[:-1]
    planes = np.zeros((0, 3))
    if len(hull) >= 3:
        a = np.array(hull)
        d = np.roll(a, -1, axis=0) - a
        length = np.hypot(d[:, 0], d[:, 1])
        nx, ny = -d[:, 1] / length, d[:, 0] / length
        planes = np.stack([nx, ny, -(nx * a[:, 0] + ny * a[:, 1])], axis=1)

    step = 2.0 * p.radius / p.ns
    k = (np.arange(p.ns) - (p.ns - 1) / 2.0) * step
    u, v = np.tile(k, p.ns), np.repeat(k, p.ns)
    disk = (u * u + v * v) <= p.radius * p.radius
    c, s = np.cos(theta)[:, None], np.sin(theta)[:, None]
    cx = x[:, None] + c * u[None, :] - s * v[None, :]
    cy = ys[:, None] + s * u[None, :] + c * v[None, :]
    if len(planes):
        dist_hull = (
            planes[:, 0] * cx[..., None] + planes[:, 1] * cy[..., None] + planes[:, 2]
        ).min(axis=-1)
    else:
        dist_hull = np.full(cx.shape, -np.inf)
    valid_cell = disk[None, :] & (dist_hull >= -p.omega)
    dx = cx[:, :, None] - x[None, None, :]
    dy = cy[:, :, None] - ys[None, None, :]
    d2 = dx * dx + dy * dy
    gs = np.exp(-d2 / (2.0 * p.sigma_s**2)) / (p.sigma_s * math.sqrt(2.0 * math.pi))
    gs[d2 > (3.0 * p.sigma_s) ** 2] = 0.0
    gs[np.arange(n), :, np.arange(n)] = 0.0
    dtheta = wrap(theta[:, None] - theta[None, :])
    sec = 2.0 * math.pi / p.nd
    centres = -math.pi + (np.arange(p.nd) + 0.5) * sec
    scale = 1.0 / (p.sigma_d * math.sqrt(2.0))
    erf = np.vectorize(math.erf, otypes=[np.float64])
    cd = np.zeros((n, n, p.nd))
    for kk in range(p.nd):
        for w in (-2.0 * math.pi, 0.0, 2.0 * math.pi):
            diff = dtheta + w - centres[kk]
            cd[:, :, kk] += 0.5 * (
                erf((diff + sec / 2.0) * scale) - erf((diff - sec / 2.0) * scale)
            )
    contrib = np.einsum("mct,mtk->mkc", gs, cd)
    on = (contrib >= p.mu_psi) & valid_cell[:, None, :]
    d_mm = np.hypot(x[:, None] - x[None, :], ys[:, None] - ys[None, :])
    neighbours = (d_mm <= p.radius + 3.0 * p.sigma_s).sum(axis=1) - 1
    ddx, ddy = x[None, :] - x[:, None], ys[None, :] - ys[:, None]
    return {
        "cells": on.reshape(n, -1),
        "mask_cells": valid_cell,
        "valid": (valid_cell.sum(axis=1) >= p.min_vc * disk.sum()) & (neighbours >= p.min_m),
        "planes": planes,
        "dist": np.hypot(ddx, ddy),
        "dtheta": dtheta,
        "radial": wrap(theta[:, None] - np.arctan2(ddy, ddx)),
        "theta_order": np.argsort(theta, kind="stable"),
        "xord": np.argsort(x, kind="stable"),
    }


def _unpack(words: np.ndarray, cells: int) -> np.ndarray:
    """n x (planes * wp) uint64 -> n x (planes * cells) bool, cell c of a plane at bit c."""
    n = len(words)
    bits = np.unpackbits(words.astype("<u8").view(np.uint8), bitorder="little").reshape(n, -1, 64)
    wp = (cells + 63) // 64
    return bits.reshape(n, -1, wp * 64)[:, :, :cells].reshape(n, -1).astype(bool)


@pytest.mark.parametrize("params", [CylinderParams(), CylinderParams(ns=16, nd=6)])
def test_kernels_compute_the_numpy_formulation(params: CylinderParams) -> None:
    """Bits, masks, validity, hull, the cylinders' pairwise geometry (distances, direction
    differences) and orders equal the numpy original exactly; radial angles (own
    arctangent) within a few 1e-16.  The direction order lists the valid cylinders first."""
    matcher = MccMatcher(MccParams(cylinder=params))
    cells = params.ns * params.ns
    for m in _awkward_sets()[1:] + [random_minutiae(s, n=50) for s in range(60, 66)]:
        t = matcher.prepare(m)
        ref = _reference(m, params)
        assert np.array_equal(_unpack(t.bits, cells), ref["cells"])
        assert np.array_equal(_unpack(t.mask, cells), ref["mask_cells"])
        assert np.array_equal(t.valid, ref["valid"])
        assert np.array_equal(t.planes, ref["planes"])
        n = len(t)
        dist, dtheta, radial = np.zeros((n, n)), np.zeros((n, n)), np.zeros((n, n))
        pair_geometry(t.x, t.yup, t.theta, dist, dtheta, radial)
        np.testing.assert_array_max_ulp(dist, ref["dist"], maxulp=1)
        assert np.array_equal(dtheta, ref["dtheta"])
        np.testing.assert_allclose(radial, ref["radial"], rtol=0, atol=4e-15)
        by_theta = ref["theta_order"]
        tord = np.concatenate([by_theta[t.valid[by_theta]], by_theta[~t.valid[by_theta]]])
        assert np.array_equal(t.tord, tord)
        nv = int(t.valid.sum())
        assert np.array_equal(t.tsort[:nv], t.theta[tord[:nv]])
        assert np.all(np.isinf(t.tsort[nv:]))
        assert np.array_equal(t.xord, ref["xord"])


def test_exact_fallbacks_agree_with_the_lookup_tables() -> None:
    """Every cell through the exact sums and every neighbour through numpy's distances (the
    paths borderline cells take) gives the bits the lookup tables give."""
    matcher = MccMatcher()
    sets = [random_minutiae(s, n=n) for s, n in ((70, 12), (71, 25))] + _awkward_sets()[4:7]
    usual = [matcher.prepare(m) for m in sets]
    # every lookup-table term as uncertain, every neighbour near the cut-off
    fallback = MccMatcher()
    fallback.cylinder_tables = fallback.cylinder_tables._replace(term_tol=1.0, edge_tol=1e9)
    exact = [fallback.prepare(m) for m in sets]
    for a, b in zip(usual, exact, strict=True):
        assert np.array_equal(a.bits, b.bits)
        assert a.key == b.key
