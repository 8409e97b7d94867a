"""Numba kernels of the MCC matcher: MCC-B local similarities, LSS-R and consolidation.

Local similarity of two bit cylinders (Cappelli, Ferrara, Maltoni, TPAMI 2010, eq. 17):
1 - sqrt(|a xor b|) / (sqrt(|a|) + sqrt(|b|)), both restricted to the cells valid in both;
the global score is Local Similarity Sort with Relaxation (sec. 4.3-4.4), then one rigid
transform fitted to the relaxed pairs counts the minutiae that agree (consolidation).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import njit, types
from numba.extending import intrinsic

TWO_PI = 2.0 * math.pi
LUT_STEPS = 512  # compatibility sigmoids are tabulated at this many steps ...
LUT_DIST_MAX = 32.0  # ... over 0..32 px of distance difference
LUT_ANGLE_MAX = math.pi  # ... and over 0..pi of angle difference


@intrinsic
def popcount64(typingctx: Any, x: Any) -> Any:  # pragma: no cover - compiled
    """Number of set bits of a uint64 (LLVM ctpop: one POPCNT instruction on x86-64)."""
    sig = types.uint64(types.uint64)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        return builder.ctpop(args[0])

    return sig, codegen


def compatibility_luts(
    mu1: float, tau1: float, mu2: float, tau2: float, mu3: float, tau3: float
) -> np.ndarray:
    """3 x (LUT_STEPS + 1) tables of the sigmoids Z(v) = 1 / (1 + exp(-tau (v - mu)))."""
    lut = np.zeros((3, LUT_STEPS + 1), dtype=np.float32)
    for row, (mu, tau, top) in enumerate(
        ((mu1, tau1, LUT_DIST_MAX), (mu2, tau2, LUT_ANGLE_MAX), (mu3, tau3, LUT_ANGLE_MAX))
    ):
        v = np.arange(LUT_STEPS + 1) * (top / LUT_STEPS)
        lut[row] = 1.0 / (1.0 + np.exp(-tau * (v - mu)))
    return lut


@njit(cache=True, inline="always")
def _wrap(a: float) -> float:
    if a >= math.pi:
        a -= TWO_PI
    elif a < -math.pi:
        a += TWO_PI
    return a


@njit(cache=True)
def local_similarities(
    ta: np.ndarray,
    bits_a: np.ndarray,
    mask_a: np.ndarray,
    valid_a: np.ndarray,
    tb: np.ndarray,
    bits_b: np.ndarray,
    mask_b: np.ndarray,
    valid_b: np.ndarray,
    max_dtheta: float,
    min_me_cells: float,
    sqrt_lut: np.ndarray,
    out: np.ndarray,
) -> int:
    """Fill out[:nA, :nB] with MCC-B similarities (0 where not matchable); returns the number
    of non-zero entries."""
    na = ta.shape[0]
    nb = tb.shape[0]
    wp = mask_a.shape[1]
    nd = bits_a.shape[1] // wp
    nonzero = 0
    for i in range(na):
        for j in range(nb):
            out[i, j] = 0.0
        if not valid_a[i]:
            continue
        for j in range(nb):
            if not valid_b[j]:
                continue
            d = _wrap(ta[i] - tb[j])
            if abs(d) > max_dtheta:
                continue
            pm = 0
            pa = 0
            pb = 0
            px = 0
            for q in range(wp):
                m = mask_a[i, q] & mask_b[j, q]
                pm += popcount64(m)
                for k in range(nd):
                    a = bits_a[i, k * wp + q] & m
                    b = bits_b[j, k * wp + q] & m
                    pa += popcount64(a)
                    pb += popcount64(b)
                    px += popcount64(a ^ b)
            if pm < min_me_cells or pa + pb == 0:
                continue
            s = 1.0 - sqrt_lut[px] / (sqrt_lut[pa] + sqrt_lut[pb])
            if s > 0.0:
                out[i, j] = s
                nonzero += 1
    return nonzero


@njit(cache=True)
def select_pairs(
    sims: np.ndarray, na: int, nb: int, n_want: int, rows: np.ndarray, cols: np.ndarray
) -> int:
    """Greedy one-to-one choice of up to n_want pairs by decreasing similarity (ties: row-major
    order); returns how many were chosen, written to rows/cols."""
    # a histogram of quantised similarities finds a threshold keeping >= 4 n_want candidates
    bins = 1024
    hist = np.zeros(bins + 1, dtype=np.int64)
    for i in range(na):
        for j in range(nb):
            s = sims[i, j]
            if s > 0.0:
                hist[int(s * bins)] += 1
    keep = 4 * n_want
    total = 0
    threshold = 0
    for q in range(bins, -1, -1):
        total += hist[q]
        threshold = q
        if total >= keep:
            break
    cand_v = np.empty(total, dtype=np.float64)
    cand_i = np.empty(total, dtype=np.int64)
    k = 0
    for i in range(na):
        for j in range(nb):
            s = sims[i, j]
            if s > 0.0 and int(s * bins) >= threshold:
                cand_v[k] = -s
                cand_i[k] = i * nb + j
                k += 1
    order = np.argsort(cand_v[:k], kind="mergesort")
    used_a = np.zeros(na, dtype=np.bool_)
    used_b = np.zeros(nb, dtype=np.bool_)
    n = 0
    for t in range(k):
        if n >= n_want:
            break
        idx = cand_i[order[t]]
        i = idx // nb
        j = idx - i * nb
        if used_a[i] or used_b[j]:
            continue
        used_a[i] = True
        used_b[j] = True
        rows[n] = i
        cols[n] = j
        n += 1
    return n


@njit(cache=True)
def relax(
    rows: np.ndarray,
    cols: np.ndarray,
    n: int,
    sims: np.ndarray,
    dist_a: np.ndarray,
    dtheta_a: np.ndarray,
    radial_a: np.ndarray,
    dist_b: np.ndarray,
    dtheta_b: np.ndarray,
    radial_b: np.ndarray,
    n_rel: int,
    w_r: float,
    lut: np.ndarray,
    lam0: np.ndarray,
    lam: np.ndarray,
) -> None:
    """LSS-R relaxation (paper eq. 23-24) of the n selected pairs, into lam0 and lam."""
    steps = lut.shape[1] - 1
    dscale = steps / 32.0
    ascale = steps / math.pi
    rho = np.zeros((n, n), dtype=np.float32)
    for t in range(n):
        lam0[t] = sims[rows[t], cols[t]]
        lam[t] = lam0[t]
    for t in range(n):
        at = rows[t]
        bt = cols[t]
        for k in range(t + 1, n):
            ak = rows[k]
            bk = cols[k]
            d1 = abs(dist_a[at, ak] - dist_b[bt, bk]) * dscale
            if d1 >= steps:
                continue
            z = lut[0, int(d1)]
            d2 = abs(_wrap(dtheta_a[at, ak] - dtheta_b[bt, bk])) * ascale
            z *= lut[1, int(d2)]
            d3 = abs(_wrap(radial_a[at, ak] - radial_b[bt, bk])) * ascale
            z *= lut[2, int(d3)]
            rho[t, k] = z
            rho[k, t] = z
    nxt = np.empty(n, dtype=np.float64)
    if n < 2:
        return
    norm = (1.0 - w_r) / (n - 1)
    for _ in range(n_rel):
        for t in range(n):
            acc = 0.0
            for k in range(n):
                acc += rho[t, k] * lam[k]
            nxt[t] = w_r * lam[t] + norm * acc
        for t in range(n):
            lam[t] = nxt[t]


@njit(cache=True)
def consolidate(
    xa: np.ndarray,
    ya: np.ndarray,
    ta: np.ndarray,
    planes_a: np.ndarray,
    xb: np.ndarray,
    yb: np.ndarray,
    tb: np.ndarray,
    planes_b: np.ndarray,
    pair_a: np.ndarray,
    pair_b: np.ndarray,
    weight: np.ndarray,
    n_pairs: int,
    dist_tol: float,
    angle_tol: float,
    margin: float,
    matched_a: np.ndarray,
    matched_b: np.ndarray,
) -> tuple[float, float, float, float, int, int, int]:
    """Weighted least-squares rigid transform A -> B from the given pairs, then the greedy
    one-to-one count of minutiae that agree under it and the counts that lie in the common
    area.  Returns (rotation, tx, ty, unused, matched, overlap_a, overlap_b); the matched
    pairs are written to matched_a/matched_b."""
    wsum = 0.0
    mxa = 0.0
    mya = 0.0
    mxb = 0.0
    myb = 0.0
    for t in range(n_pairs):
        w = weight[t]
        wsum += w
        mxa += w * xa[pair_a[t]]
        mya += w * ya[pair_a[t]]
        mxb += w * xb[pair_b[t]]
        myb += w * yb[pair_b[t]]
    if wsum <= 0.0:
        return 0.0, 0.0, 0.0, 0.0, 0, 0, 0
    mxa /= wsum
    mya /= wsum
    mxb /= wsum
    myb /= wsum
    sc = 0.0
    ss = 0.0
    for t in range(n_pairs):
        w = weight[t]
        ax = xa[pair_a[t]] - mxa
        ay = ya[pair_a[t]] - mya
        bx = xb[pair_b[t]] - mxb
        by = yb[pair_b[t]] - myb
        sc += w * (ax * bx + ay * by)
        ss += w * (ax * by - ay * bx)
    # with few or clustered pairs the point fit is unstable: use the minutiae directions too
    dc = 0.0
    ds = 0.0
    for t in range(n_pairs):
        d = tb[pair_b[t]] - ta[pair_a[t]]
        dc += weight[t] * math.cos(d)
        ds += weight[t] * math.sin(d)
    if sc * sc + ss * ss < 1e-9:
        rot = math.atan2(ds, dc)
    else:
        rot = math.atan2(ss, sc)
    cr = math.cos(rot)
    sr = math.sin(rot)
    tx = mxb - (cr * mxa - sr * mya)
    ty = myb - (sr * mxa + cr * mya)

    na = xa.shape[0]
    nb = xb.shape[0]
    ha = planes_a.shape[0]
    hb = planes_b.shape[0]
    tol2 = dist_tol * dist_tol
    used_b = np.zeros(nb, dtype=np.bool_)
    matched = 0
    overlap_a = 0
    for i in range(na):
        px = cr * xa[i] - sr * ya[i] + tx
        py = sr * xa[i] + cr * ya[i] + ty
        inside = hb >= 3
        for h in range(hb):
            if planes_b[h, 0] * px + planes_b[h, 1] * py + planes_b[h, 2] < -margin:
                inside = False
                break
        if inside:
            overlap_a += 1
        best = -1
        best_d = tol2
        for j in range(nb):
            if used_b[j]:
                continue
            dx = xb[j] - px
            dy = yb[j] - py
            d2 = dx * dx + dy * dy
            if d2 <= best_d:
                if abs(_wrap(tb[j] - ta[i] - rot)) <= angle_tol:
                    best = j
                    best_d = d2
        if best >= 0:
            used_b[best] = True
            matched_a[matched] = i
            matched_b[matched] = best
            matched += 1
    overlap_b = 0
    for j in range(nb):
        # B into A's frame: inverse transform
        qx = xb[j] - tx
        qy = yb[j] - ty
        px = cr * qx + sr * qy
        py = -sr * qx + cr * qy
        inside = ha >= 3
        for h in range(ha):
            if planes_a[h, 0] * px + planes_a[h, 1] * py + planes_a[h, 2] < -margin:
                inside = False
                break
        if inside:
            overlap_b += 1
    return rot, tx, ty, 0.0, matched, overlap_a, overlap_b
