"""Consolidation: one rigid transform from the relaxed pairs, and the minutiae that agree.

Hypothesise and verify: each of the most efficient relaxed pairs gives a transform A -> B;
the one under which most minutiae agree is refined by least squares and counted again.  The
count is normalised by the minutiae of each side inside the other's hull (the common area).
B's minutiae sorted by x, so each transformed minutia of A scans only a strip.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit

from scomm.biometrics.match.primitives.angles import wrap_angle1
from scomm.biometrics.match.primitives.hull import inside_hull


class Consolidation(NamedTuple):
    """The transform p_b = R(rotation) p_a + (tx, ty) (y-up frame), the minutiae agreeing
    under it, and A's minutiae inside B's hull and B's inside A's under it."""

    rotation: float
    tx: float
    ty: float
    matched: int
    overlap_a: int
    overlap_b: int


@njit(cache=True)
def _agreeing(
    xa: np.ndarray,
    ya: np.ndarray,
    ta: np.ndarray,
    xb: np.ndarray,
    yb: np.ndarray,
    tb: np.ndarray,
    xord_b: np.ndarray,
    xsort_b: np.ndarray,
    bstart: np.ndarray,
    bw: float,
    rot: float,
    tx: float,
    ty: float,
    dist_tol: float,
    angle_tol: float,
    used_b: np.ndarray,
    matched_a: np.ndarray,
    matched_b: np.ndarray,
) -> int:
    """Greedy one-to-one count (A in index order; the nearest free B, ties to the higher
    index) of minutiae that agree under p_b = R(rot) p_a + t within the tolerances; pairs
    written to matched_a/_b.  B sorted by x (xsort_b, indices xord_b): only the strip
    |x_b - x| <= dist_tol is scanned, found through bstart (`_x_buckets`, width bw)."""
    cr = math.cos(rot)
    sr = math.sin(rot)
    tol2 = dist_tol * dist_tol
    nb = xb.shape[0]
    for j in range(nb):
        used_b[j] = False
    matched = 0
    for i in range(xa.shape[0]):
        px = cr * xa[i] - sr * ya[i] + tx
        py = sr * xa[i] + cr * ya[i] + ty
        best = -1
        best_d = tol2
        lo = px - dist_tol - 1e-9
        hi = px + dist_tol + 1e-9
        b = (lo - xsort_b[0]) / bw
        if b < 0.0:
            r0 = 0
        elif b >= nb + 1:
            r0 = nb
        else:
            r0 = bstart[int(b)]
        while r0 < nb and xsort_b[r0] < lo:
            r0 += 1
        for r in range(r0, nb):
            xr = xsort_b[r]
            if xr > hi:
                break
            j = xord_b[r]
            dy = yb[j] - py
            dx = xr - px  # xsort_b[r] is xb[j]
            d2 = dx * dx + dy * dy
            if d2 < best_d or (d2 == best_d and j > best):
                if not used_b[j] and abs(wrap_angle1(tb[j] - ta[i] - rot)) <= angle_tol:
                    best = j
                    best_d = d2
        if best >= 0:
            used_b[best] = True
            matched_a[matched] = i
            matched_b[matched] = best
            matched += 1
    return matched


@njit(cache=True)
def _x_buckets(xsort_b: np.ndarray, width: float, bstart: np.ndarray) -> float:
    """bstart[k]: the first index of xsort_b at or beyond xsort_b[0] + k * bw, for k up to
    len + 1, with bw >= width chosen so that many buckets span all; returns bw."""
    nb = xsort_b.shape[0]
    span = xsort_b[nb - 1] - xsort_b[0]
    bw: float = max(width, span / nb, 1e-9)
    r = 0
    for k in range(nb + 2):
        edge = xsort_b[0] + k * bw
        while r < nb and xsort_b[r] < edge:
            r += 1
        bstart[k] = r
    return bw


@njit(cache=True)
def consolidate(
    xa: np.ndarray,
    ya: np.ndarray,
    ta: np.ndarray,
    planes_a: np.ndarray,
    xb: np.ndarray,
    yb: np.ndarray,
    tb: np.ndarray,
    xord_b: np.ndarray,
    xsort_b: np.ndarray,
    planes_b: np.ndarray,
    pairs: np.ndarray,
    n_hyp: int,
    dist_tol: float,
    angle_tol: float,
    margin: float,
    used_b: np.ndarray,
    matched_a: np.ndarray,
    matched_b: np.ndarray,
    ma2: np.ndarray,
    mb2: np.ndarray,
    bstart: np.ndarray,
) -> Consolidation:
    """Hypothesise and verify: each of the first n_hyp pairs (A index, B index) gives a rigid
    transform A -> B (its direction difference and positions); the one under which most
    minutiae agree is refined by least squares on its agreeing pairs and counted again.
    The overlaps count A's minutiae inside B's hull and B's inside A's, under the transform;
    the matched pairs are left in matched_a/_b."""
    nb = xb.shape[0]
    bw = _x_buckets(xsort_b, dist_tol, bstart)
    best = -1
    best_n = 0
    best_rot = 0.0
    best_tx = 0.0
    best_ty = 0.0
    n = 0
    for h in range(n_hyp):
        i = pairs[h, 0]
        j = pairs[h, 1]
        rot = wrap_angle1(tb[j] - ta[i])
        cr = math.cos(rot)
        sr = math.sin(rot)
        tx = xb[j] - (cr * xa[i] - sr * ya[i])
        ty = yb[j] - (sr * xa[i] + cr * ya[i])
        nh = _agreeing(
            xa, ya, ta, xb, yb, tb, xord_b, xsort_b, bstart, bw, rot, tx, ty,
            dist_tol, angle_tol, used_b, ma2, mb2,
        )  # fmt: skip
        if nh > best_n:
            best = h
            best_n = nh
            best_rot = rot
            best_tx = tx
            best_ty = ty
            for t in range(nh):  # keep the best hypothesis' pairs (no recount)
                matched_a[t] = ma2[t]
                matched_b[t] = mb2[t]
    if best < 0:
        return Consolidation(0.0, 0.0, 0.0, 0, 0, 0)
    rot, tx, ty = best_rot, best_tx, best_ty
    n = best_n
    if n >= 2:
        # least-squares rigid fit (2-D Procrustes) on the agreeing pairs
        mxa = 0.0
        mya = 0.0
        mxb = 0.0
        myb = 0.0
        for t in range(n):
            mxa += xa[matched_a[t]]
            mya += ya[matched_a[t]]
            mxb += xb[matched_b[t]]
            myb += yb[matched_b[t]]
        mxa /= n
        mya /= n
        mxb /= n
        myb /= n
        sc = 0.0
        ss = 0.0
        for t in range(n):
            ax = xa[matched_a[t]] - mxa
            ay = ya[matched_a[t]] - mya
            bx = xb[matched_b[t]] - mxb
            by = yb[matched_b[t]] - myb
            sc += ax * bx + ay * by
            ss += ax * by - ay * bx
        r2 = math.atan2(ss, sc)
        c2 = math.cos(r2)
        s2 = math.sin(r2)
        tx2 = mxb - (c2 * mxa - s2 * mya)
        ty2 = myb - (s2 * mxa + c2 * mya)
        n2 = _agreeing(
            xa,
            ya,
            ta,
            xb,
            yb,
            tb,
            xord_b,
            xsort_b,
            bstart,
            bw,
            r2,
            tx2,
            ty2,
            dist_tol,
            angle_tol,
            used_b,
            ma2,
            mb2,
        )
        if n2 > n:
            n = n2
            rot, tx, ty = r2, tx2, ty2
            for t in range(n):
                matched_a[t] = ma2[t]
                matched_b[t] = mb2[t]
    cr = math.cos(rot)
    sr = math.sin(rot)
    overlap_a = 0
    for i in range(xa.shape[0]):
        px = cr * xa[i] - sr * ya[i] + tx
        py = sr * xa[i] + cr * ya[i] + ty
        if inside_hull(planes_b, px, py, margin):
            overlap_a += 1
    overlap_b = 0
    for j in range(nb):
        qx = xb[j] - tx
        qy = yb[j] - ty
        if inside_hull(planes_a, cr * qx + sr * qy, -sr * qx + cr * qy, margin):
            overlap_b += 1
    return Consolidation(rot, tx, ty, n, overlap_a, overlap_b)


@njit(cache=True, inline="always")
def consolidation_score(c: Consolidation, min_overlap: int) -> float:
    """matched^2 / (overlap_a overlap_b), each overlap at least min_overlap, at most 1."""
    cons: float = (
        c.matched * c.matched / (max(c.overlap_a, min_overlap) * max(c.overlap_b, min_overlap))
    )
    if cons > 1.0:
        cons = 1.0
    return cons
