"""The whole MCC comparison of two templates in one numba kernel, and its batch (1:N) form.

Steps: MCC-B local similarities of the pairs whose directions are close enough (B's
minutiae are visited in direction order, so only that window is scanned; cylinders of one
64-bit word per section take a branch-free path), greedy one-to-one
selection of the best pairs (a counting sort that only scatters the top similarity levels),
LSS-R relaxation (Cappelli, Ferrara, Maltoni, TPAMI 2010, sec. 4.4), LSS-R score over the
n_P most efficient pairs, then consolidation: rigid transforms hypothesised from the best
pairs, the count of minutiae that agree under the best one (B's minutiae sorted by x, so
each transformed minutia only scans a strip), normalised by the minutiae in the common area.

Every buffer lives in a workspace made once per call of `compare_batch` (or of the 1:1
path), so the per-comparison work allocates nothing.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from scomm.biometrics.match.mcc_cylinders import pair_angles, pair_distance
from scomm.biometrics.match.mcc_kernels import (
    TWO_PI,
    inside_hull,
    popcount64,
    wrap_angle1,
)

PARTS = 9  # score parts: final, lssr, consolidation, matched, overlap_a, overlap_b, rot, tx, ty
LEVELS = 256  # local similarities are ranked at this many levels (ties: scan order)


@njit(cache=True)
def make_workspace(maxn: int, max_nr: int) -> tuple:  # type: ignore[type-arg]
    """Buffers for comparisons of templates with at most maxn minutiae."""
    maxn = max(maxn, 1)
    nr = max(min(maxn, max_nr), 1)
    return (
        np.empty(maxn * maxn, dtype=np.float64),  # 0 cand_val
        np.empty(maxn * maxn, dtype=np.int64),  # 1 cand_idx (i * nb + j)
        np.empty(maxn * maxn, dtype=np.int64),  # 2 cand_q (level, 0 = best)
        np.empty(maxn * maxn, dtype=np.int64),  # 3 order (counting sort output)
        np.empty(2 * (LEVELS + 2), dtype=np.int64),  # 4 level histogram, then starts
        np.empty(maxn, dtype=np.bool_),  # 5 used_a
        np.empty(maxn, dtype=np.bool_),  # 6 used_b
        np.empty(nr, dtype=np.int64),  # 7 rows
        np.empty(nr, dtype=np.int64),  # 8 cols
        np.empty(nr, dtype=np.float64),  # 9 vals
        np.empty(nr, dtype=np.float64),  # 10 lam0
        np.empty(nr, dtype=np.float64),  # 11 lam
        np.empty(nr, dtype=np.float64),  # 12 nxt / eff
        np.empty((nr, nr), dtype=np.float64),  # 13 rho
        np.empty(maxn, dtype=np.int64),  # 14 ma
        np.empty(maxn, dtype=np.int64),  # 15 mb
        np.empty(maxn, dtype=np.int64),  # 16 ma2
        np.empty(maxn, dtype=np.int64),  # 17 mb2
        np.empty((2 * maxn + 1, 2), dtype=np.int64),  # 18 pairs
        np.empty((maxn + 1, 2), dtype=np.float64),  # 19 pair_vals
        np.empty(PARTS, dtype=np.float64),  # 20 parts
        np.empty(nr, dtype=np.int64),  # 21 efficiency order
        np.empty(maxn + 3, dtype=np.int64),  # 22 x-bucket starts of B
    )


@njit(cache=True)
def _search(v: np.ndarray, x: float) -> int:
    """First index of the sorted v whose value is >= x."""
    lo = 0
    hi = v.shape[0]
    while lo < hi:
        mid = (lo + hi) >> 1
        if v[mid] < x:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True)
def _window(ti: float, max_dtheta: float, tsort_b: np.ndarray) -> tuple[int, int, int]:
    """The runs [s1, e1) and [0, e2) of tsort_b (directions in [0, 2 pi), sorted) within
    max_dtheta (plus a little) of ti."""
    eps = 1e-6
    nb = tsort_b.shape[0]
    if max_dtheta >= math.pi - eps:
        return 0, nb, 0
    lo = ti - max_dtheta
    hi = ti + max_dtheta
    if lo < eps:
        return _search(tsort_b, lo + TWO_PI - eps), nb, _search(tsort_b, hi + eps)
    if hi >= TWO_PI - eps:
        return _search(tsort_b, lo - eps), nb, _search(tsort_b, hi - TWO_PI + eps)
    return _search(tsort_b, lo - eps), _search(tsort_b, hi + eps), 0


@njit(cache=True, inline="always")
def _unrolled(tsort: np.ndarray, p: int) -> float:
    """Direction p of B's sorted directions laid out three times: -2 pi, 0, +2 pi."""
    n = tsort.shape[0]
    if p < n:
        return float(tsort[p] - TWO_PI)
    if p < 2 * n:
        return float(tsort[p - n])
    return float(tsort[p - 2 * n] + TWO_PI)


@njit(cache=True)
def _sims_one_word(
    ta: np.ndarray,
    bits_a: np.ndarray,
    mask_a: np.ndarray,
    valid_a: np.ndarray,
    tord_a: np.ndarray,
    tsort_a: np.ndarray,
    tb: np.ndarray,
    bits_b: np.ndarray,
    mask_b: np.ndarray,
    valid_b: np.ndarray,
    tord_b: np.ndarray,
    tsort_b: np.ndarray,
    max_dtheta: float,
    min_me_cells: float,
    sqrt_lut: np.ndarray,
    cand_val: np.ndarray,
    cand_idx: np.ndarray,
    cand_q: np.ndarray,
    hist: np.ndarray,
) -> int:
    """`local_similarities` for cylinders of one word per plane (ns <= 8), masked: the
    intersection of the two masks is one word, so every pair takes the same branch-free
    path (for two fully valid cylinders it is the disk, and the result is the same).

    A's minutiae are visited in direction order, so the window of B's directions around
    each one only moves forward: it is kept as two pointers into B's sorted directions laid
    out three times (-2 pi, 0, +2 pi), instead of two binary searches per minutia.  The
    candidates come out in another order than row-major, which `_scatter` sorts away."""
    na = ta.shape[0]
    nb = tb.shape[0]
    nd = bits_a.shape[1]
    min_me = int(math.ceil(min_me_cells))
    eps = 1e-6
    everything = max_dtheta >= math.pi - eps
    start = 0
    end = 0
    k = 0
    for u in range(na):
        i = tord_a[u]
        ti = tsort_a[u]
        if everything:
            start = nb
            end = 2 * nb
        else:
            lo = ti - max_dtheta - eps
            hi = ti + max_dtheta + eps
            while start < 3 * nb and _unrolled(tsort_b, start) < lo:
                start += 1
            if end < start:
                end = start
            while end < 3 * nb and _unrolled(tsort_b, end) < hi:
                end += 1
        if not valid_a[i]:
            continue
        ma = mask_a[i, 0]
        for copy in range(3):  # the window's runs in each copy of B's directions
            base = copy * nb
            first = max(start, base)
            last = min(end, base + nb)
            for r in range(first - base, last - base):
                j = tord_b[r]
                mm = ma & mask_b[j, 0]
                if popcount64(mm) < min_me or not valid_b[j]:
                    continue
                if abs(wrap_angle1(ti - tsort_b[r])) > max_dtheta:  # tsort_b[r] is tb[j]
                    continue
                pa = 0
                pb = 0
                px = 0
                for h in range(nd):
                    a = bits_a[i, h] & mm
                    b = bits_b[j, h] & mm
                    pa += popcount64(a)
                    pb += popcount64(b)
                    px += popcount64(a ^ b)
                # |a xor b| <= |a| + |b|, so v >= 0, and v == 0 exactly when one side is
                # empty (then |a xor b| is the other's count): an integer test decides
                # which pairs are kept, off the division's latency
                if pa == 0 or pb == 0:
                    continue
                v = 1.0 - sqrt_lut[px] / (sqrt_lut[pa] + sqrt_lut[pb])
                q = LEVELS - int(v * LEVELS)
                cand_val[k] = v
                cand_idx[k] = i * nb + j
                cand_q[k] = q
                hist[q] += 1
                k += 1
    return k


@njit(cache=True)
def local_similarities(
    ta: np.ndarray,
    bits_a: np.ndarray,
    mask_a: np.ndarray,
    count_a: np.ndarray,
    full_a: np.ndarray,
    valid_a: np.ndarray,
    tord_a: np.ndarray,
    tsort_a: np.ndarray,
    tb: np.ndarray,
    bits_b: np.ndarray,
    mask_b: np.ndarray,
    count_b: np.ndarray,
    full_b: np.ndarray,
    valid_b: np.ndarray,
    tord_b: np.ndarray,
    tsort_b: np.ndarray,
    max_dtheta: float,
    min_me_cells: float,
    masked: bool,
    sqrt_lut: np.ndarray,
    cand_val: np.ndarray,
    cand_idx: np.ndarray,
    cand_q: np.ndarray,
    hist: np.ndarray,
) -> int:
    """MCC-B similarities (paper eq. 17) of every matchable pair: valid cylinders, directions
    within max_dtheta, enough cells valid in both.  The non-zero ones are appended to cand_*
    (A's rows in order, B's minutiae in direction order within a row) with their level
    (0 = best) counted in hist; returns how many.  B's directions sorted (tsort_b, indices
    tord_b) bound each row's scan to the window(s) around A's direction.  When both
    cylinders have every disk cell valid their intersection is the whole disk, so only
    |a xor b| is counted."""
    na = ta.shape[0]
    nb = tb.shape[0]
    wp = mask_a.shape[1]
    nd = bits_a.shape[1] // wp
    nw = bits_a.shape[1]
    for q in range(LEVELS + 2):
        hist[q] = 0
    eps = 1e-6
    everything = max_dtheta >= math.pi - eps
    exact = masked
    k = 0
    if wp == 1 and exact:
        return _sims_one_word(
            ta, bits_a, mask_a, valid_a, tord_a, tsort_a,
            tb, bits_b, mask_b, valid_b, tord_b, tsort_b,
            max_dtheta, min_me_cells, sqrt_lut, cand_val, cand_idx, cand_q, hist,
        )  # fmt: skip
    for i in range(na):
        if not valid_a[i]:
            continue
        ti = ta[i]
        s2 = 0
        e2 = 0
        if everything:
            s1 = 0
            e1 = nb
        else:
            lo = ti - max_dtheta
            hi = ti + max_dtheta
            if lo < eps:
                s1 = _search(tsort_b, lo + TWO_PI - eps)
                e1 = nb
                e2 = _search(tsort_b, hi + eps)
            elif hi >= TWO_PI - eps:
                s1 = _search(tsort_b, lo - eps)
                e1 = nb
                e2 = _search(tsort_b, hi - TWO_PI + eps)
            else:
                s1 = _search(tsort_b, lo - eps)
                e1 = _search(tsort_b, hi + eps)
        fa = full_a[i]
        for seg in range(2):
            s = s1 if seg == 0 else s2
            e = e1 if seg == 0 else e2
            for r in range(s, e):
                j = tord_b[r]
                if not valid_b[j]:
                    continue
                if abs(wrap_angle1(ti - tb[j])) > max_dtheta:
                    continue
                if (fa and full_b[j]) or not exact:
                    if not (fa and full_b[j]):
                        pm = 0
                        for q in range(wp):
                            pm += popcount64(mask_a[i, q] & mask_b[j, q])
                        if pm < min_me_cells:
                            continue
                    pa = count_a[i]
                    pb = count_b[j]
                    px = 0
                    for w in range(nw):
                        px += popcount64(bits_a[i, w] ^ bits_b[j, w])
                else:
                    # bits are already zero outside their own cylinder's valid cells
                    pm = 0
                    pa = 0
                    pb = 0
                    px = 0
                    for q in range(wp):
                        ma = mask_a[i, q]
                        mb = mask_b[j, q]
                        pm += popcount64(ma & mb)
                        for h in range(nd):
                            a = bits_a[i, h * wp + q] & mb
                            b = bits_b[j, h * wp + q] & ma
                            pa += popcount64(a)
                            pb += popcount64(b)
                            px += popcount64(a ^ b)
                    if pm < min_me_cells:
                        continue
                if pa == 0 or pb == 0:  # v = 0 exactly (see `_sims_one_word`)
                    continue
                v = 1.0 - sqrt_lut[px] / (sqrt_lut[pa] + sqrt_lut[pb])
                q = LEVELS - int(v * LEVELS)
                cand_val[k] = v
                cand_idx[k] = i * nb + j
                cand_q[k] = q
                hist[q] += 1
                k += 1
    return k


@njit(cache=True)
def _scatter(
    cand_q: np.ndarray,
    cand_idx: np.ndarray,
    k: int,
    hist: np.ndarray,
    lo_level: int,
    hi_level: int,
    order: np.ndarray,
    base: int,
) -> int:
    """Counting sort of the candidates whose level is in [lo_level, hi_level) into
    order[base:], each level in row-major pair order (cand_idx; the scan visits B in
    direction order, so each level's run is insertion-sorted); returns how many."""
    start = hist[LEVELS + 2 :]
    acc = base
    for q in range(lo_level, hi_level):
        start[q] = acc
        acc += hist[q]
    for t in range(k):
        q = cand_q[t]
        if lo_level <= q < hi_level:
            order[start[q]] = t
            start[q] += 1
    lo = base
    for q in range(lo_level, hi_level):
        hi = start[q]
        for u in range(lo + 1, hi):
            c = order[u]
            key = cand_idx[c]
            v = u
            while v > lo and cand_idx[order[v - 1]] > key:
                order[v] = order[v - 1]
                v -= 1
            order[v] = c
        lo = hi
    return acc - base


@njit(cache=True)
def select_pairs(
    cand_val: np.ndarray,
    cand_idx: np.ndarray,
    cand_q: np.ndarray,
    k: int,
    hist: np.ndarray,
    order: np.ndarray,
    na: int,
    nb: int,
    n_want: int,
    used_a: np.ndarray,
    used_b: np.ndarray,
    rows: np.ndarray,
    cols: np.ndarray,
    vals: np.ndarray,
) -> int:
    """Greedy one-to-one choice of up to n_want pairs by decreasing similarity level (ties:
    row-major order); returns how many, written to rows / cols / vals.  Levels are sorted
    in batches: first the best ones holding 4 n_want candidates, then, only while pairs are
    still wanted, batches of twice as many, so the greedy pass never sorts much more than
    it reads."""
    for i in range(na):
        used_a[i] = False
    for j in range(nb):
        used_b[j] = False
    need = 4 * n_want
    top = 0
    acc = 0
    done = 0
    n = 0
    while n < n_want and top <= LEVELS:
        hi = top
        while hi <= LEVELS and acc < need:
            acc += hist[hi]
            hi += 1
        m = _scatter(cand_q, cand_idx, k, hist, top, hi, order, done)
        for t in range(done, done + m):
            c = order[t]
            idx = cand_idx[c]
            i = idx // nb
            j = idx - i * nb
            if used_a[i] or used_b[j]:
                continue
            used_a[i] = True
            used_b[j] = True
            rows[n] = i
            cols[n] = j
            vals[n] = cand_val[c]
            n += 1
            if n >= n_want:
                break
        done += m
        top = hi
        need *= 2
    return n


@njit(cache=True)
def relax(
    rows: np.ndarray,
    cols: np.ndarray,
    n: int,
    xa: np.ndarray,
    ya: np.ndarray,
    ta: np.ndarray,
    xb: np.ndarray,
    yb: np.ndarray,
    tb: np.ndarray,
    n_rel: int,
    w_r: float,
    lut: np.ndarray,
    rho: np.ndarray,
    lam: np.ndarray,
    nxt: np.ndarray,
) -> None:
    """LSS-R relaxation (paper eq. 23-24) of the n selected pairs; lam holds their
    similarities on entry and the relaxed values on return.  The pairs' geometry (x, y up,
    theta of each side) is computed here, as `pair_geometry` would have it."""
    if n < 2:
        return
    steps = lut.shape[1] - 1
    dscale = steps / 32.0
    ascale = steps / math.pi
    for t in range(n):
        rho[t, t] = 0.0
        at = rows[t]
        bt = cols[t]
        for k in range(t + 1, n):
            ak = rows[k]
            bk = cols[k]
            z = 0.0
            d1 = abs(pair_distance(xa, ya, at, ak) - pair_distance(xb, yb, bt, bk)) * dscale
            if d1 < steps:
                dth_a, rad_a = pair_angles(xa, ya, ta, at, ak)
                dth_b, rad_b = pair_angles(xb, yb, tb, bt, bk)
                z = lut[0, int(d1)]
                d2 = abs(wrap_angle1(dth_a - dth_b)) * ascale
                z *= lut[1, int(d2)]
                d3 = abs(wrap_angle1(rad_a - rad_b)) * ascale
                z *= lut[2, int(d3)]
            rho[t, k] = z
            rho[k, t] = z
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
) -> tuple[float, float, float, int, int, int]:
    """Hypothesise and verify: each of the first n_hyp pairs (A index, B index) gives a rigid
    transform A -> B (its direction difference and positions); the one under which most
    minutiae agree is refined by least squares on its agreeing pairs and counted again.
    Returns (rotation, tx, ty, matched, overlap_a, overlap_b): the overlaps count A's
    minutiae inside B's hull and B's inside A's, under the transform; the matched pairs are
    left in matched_a/_b."""
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
        return 0.0, 0.0, 0.0, 0, 0, 0
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
    return rot, tx, ty, n, overlap_a, overlap_b


@njit(cache=True)
def compare_core(
    xa: np.ndarray,
    ya: np.ndarray,
    ta: np.ndarray,
    bits_a: np.ndarray,
    mask_a: np.ndarray,
    count_a: np.ndarray,
    full_a: np.ndarray,
    valid_a: np.ndarray,
    dist_a: np.ndarray,
    dth_a: np.ndarray,
    rad_a: np.ndarray,
    planes_a: np.ndarray,
    tord_a: np.ndarray,
    tsort_a: np.ndarray,
    xord_a: np.ndarray,
    xsort_a: np.ndarray,
    xb: np.ndarray,
    yb: np.ndarray,
    tb: np.ndarray,
    bits_b: np.ndarray,
    mask_b: np.ndarray,
    count_b: np.ndarray,
    full_b: np.ndarray,
    valid_b: np.ndarray,
    dist_b: np.ndarray,
    dth_b: np.ndarray,
    rad_b: np.ndarray,
    planes_b: np.ndarray,
    tord_b: np.ndarray,
    tsort_b: np.ndarray,
    xord_b: np.ndarray,
    xsort_b: np.ndarray,
    kv: np.ndarray,
    lut: np.ndarray,
    sqrt_lut: np.ndarray,
    ws: tuple,  # type: ignore[type-arg]
) -> int:
    """Compare A with B.  Writes the score parts (see PARTS) to ws[20], the relaxation's
    pairs ordered by efficiency to ws[18] (n x 2: A index, B index) with their local
    similarity and relaxed value in ws[19] (n x 2), and the consolidation's matched minutiae
    after them (ws[18][n : n + matched]).  Returns n, the number of relaxed pairs."""
    cand_val, cand_idx, cand_q, order, hist, used_a, used_b = ws[:7]
    rows, cols, vals, lam0, lam, nxt, rho = ws[7:14]
    ma, mb, ma2, mb2, pairs, pair_vals, parts, eorder, bstart = ws[14:]
    for q in range(PARTS):
        parts[q] = 0.0
    na = xa.shape[0]
    nb = xb.shape[0]
    if na == 0 or nb == 0:
        return 0
    nz = local_similarities(
        ta, bits_a, mask_a, count_a, full_a, valid_a, tord_a, tsort_a,
        tb, bits_b, mask_b, count_b, full_b, valid_b, tord_b, tsort_b,
        kv[0], kv[1], kv[16] != 0.0, sqrt_lut, cand_val, cand_idx, cand_q, hist,
    )  # fmt: skip
    if nz == 0:
        return 0
    nmin = min(na, nb)
    z = 1.0 / (1.0 + math.exp(-kv[5] * (nmin - kv[4])))
    n_p = int(kv[2] + round(z * (kv[3] - kv[2])))
    n_r = min(nmin, int(kv[6]))
    n = select_pairs(
        cand_val, cand_idx, cand_q, nz, hist, order, na, nb, n_r, used_a, used_b,
        rows, cols, vals,
    )  # fmt: skip
    for t in range(n):
        lam0[t] = vals[t]
        lam[t] = vals[t]
    relax(
        rows, cols, n, xa, ya, ta, xb, yb, tb,
        int(kv[7]), kv[8], lut, rho, lam, nxt,
    )  # fmt: skip
    # pairs by efficiency lam / lam0, decreasing (stable insertion sort: n <= max_nr)
    for t in range(n):
        e = lam[t] / lam0[t]
        nxt[t] = e
        u = t
        while u > 0 and nxt[eorder[u - 1]] < e:
            eorder[u] = eorder[u - 1]
            u -= 1
        eorder[u] = t
    top = min(n_p, n)
    lssr = 0.0
    for t in range(n):
        o = eorder[t]
        pairs[t, 0] = rows[o]
        pairs[t, 1] = cols[o]
        pair_vals[t, 0] = lam0[o]
        pair_vals[t, 1] = lam[o]
        if t < top:
            lssr += lam[o]
    lssr /= n_p
    parts[1] = lssr
    if lssr < kv[14]:
        return n  # cascade: too weak to be worth the consolidation (scores it 0)
    rot, tx, ty, matched, ova, ovb = consolidate(
        xa, ya, ta, planes_a, xb, yb, tb, xord_b, xsort_b, planes_b, pairs,
        min(n, int(kv[15])), kv[9], kv[10], kv[11], used_b, ma, mb, ma2, mb2, bstart,
    )  # fmt: skip
    for t in range(matched):
        pairs[n + t, 0] = ma[t]
        pairs[n + t, 1] = mb[t]
    m0 = kv[12]
    cons = matched * matched / (max(ova, m0) * max(ovb, m0))
    if cons > 1.0:
        cons = 1.0
    parts[0] = lssr ** (1.0 - kv[13]) * cons ** kv[13]
    parts[2] = cons
    parts[3] = matched
    parts[4] = ova
    parts[5] = ovb
    parts[6] = rot
    parts[7] = tx
    parts[8] = ty
    return n


@njit(cache=True)
def compare_batch(
    xa: np.ndarray,
    ya: np.ndarray,
    ta: np.ndarray,
    bits_a: np.ndarray,
    mask_a: np.ndarray,
    count_a: np.ndarray,
    full_a: np.ndarray,
    valid_a: np.ndarray,
    dist_a: np.ndarray,
    dth_a: np.ndarray,
    rad_a: np.ndarray,
    planes_a: np.ndarray,
    tord_a: np.ndarray,
    tsort_a: np.ndarray,
    xord_a: np.ndarray,
    xsort_a: np.ndarray,
    key_a: int,
    off: np.ndarray,
    sq_off: np.ndarray,
    pl_off: np.ndarray,
    keys: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    t: np.ndarray,
    bits: np.ndarray,
    mask: np.ndarray,
    count: np.ndarray,
    full: np.ndarray,
    valid: np.ndarray,
    dist: np.ndarray,
    dth: np.ndarray,
    rad: np.ndarray,
    planes: np.ndarray,
    tord: np.ndarray,
    tsort: np.ndarray,
    xord: np.ndarray,
    xsort: np.ndarray,
    kv: np.ndarray,
    lut: np.ndarray,
    sqrt_lut: np.ndarray,
    select: np.ndarray,
    out: np.ndarray,
) -> None:
    """Score A against the packed candidates c = select[k] (rows off[c]:off[c+1] of the
    concatenated arrays; pairwise matrices flattened at sq_off, hull planes at pl_off) into
    out[k].  Each comparison runs in the canonical order of the two keys, as `compare` does."""
    na = xa.shape[0]
    maxn = na
    for k in range(select.shape[0]):
        c = select[k]
        maxn = max(maxn, off[c + 1] - off[c])
    ws = make_workspace(maxn, int(kv[6]))
    parts = ws[20]
    for k in range(select.shape[0]):
        c = select[k]
        s = off[c]
        e = off[c + 1]
        n = e - s
        db = dist[sq_off[c] : sq_off[c + 1]].reshape(n, n)
        tb_ = dth[sq_off[c] : sq_off[c + 1]].reshape(n, n)
        rb = rad[sq_off[c] : sq_off[c + 1]].reshape(n, n)
        pb = planes[pl_off[c] : pl_off[c + 1]]
        if key_a <= keys[c]:
            compare_core(
                xa, ya, ta, bits_a, mask_a, count_a, full_a, valid_a, dist_a, dth_a, rad_a,
                planes_a, tord_a, tsort_a, xord_a, xsort_a,
                x[s:e], y[s:e], t[s:e], bits[s:e], mask[s:e], count[s:e], full[s:e],
                valid[s:e], db, tb_, rb, pb, tord[s:e], tsort[s:e], xord[s:e], xsort[s:e],
                kv, lut, sqrt_lut, ws,
            )  # fmt: skip
        else:
            compare_core(
                x[s:e], y[s:e], t[s:e], bits[s:e], mask[s:e], count[s:e], full[s:e],
                valid[s:e], db, tb_, rb, pb, tord[s:e], tsort[s:e], xord[s:e], xsort[s:e],
                xa, ya, ta, bits_a, mask_a, count_a, full_a, valid_a, dist_a, dth_a, rad_a,
                planes_a, tord_a, tsort_a, xord_a, xsort_a,
                kv, lut, sqrt_lut, ws,
            )  # fmt: skip
        out[k] = parts[0]
