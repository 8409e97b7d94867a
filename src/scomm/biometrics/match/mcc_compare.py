"""The whole MCC comparison of two templates in one numba kernel, and its batch (1:N) form.

Steps: MCC-B local similarities of the pairs whose directions are close enough (both sides'
valid cylinders are visited in direction order, so only that window is scanned; cylinders
of one 64-bit word per section take a branch-free path), greedy one-to-one selection of the
best pairs (each candidate is linked into a list of its similarity level as it is found, so
the selection reads the best levels' lists and never the other candidates), LSS-R relaxation
(Cappelli, Ferrara, Maltoni, TPAMI 2010, sec. 4.4) with the pairs' geometry computed on the
spot, LSS-R score over the n_P most efficient pairs, then consolidation: rigid transforms
hypothesised from the best pairs, the count of minutiae that agree under the best one (B's
minutiae sorted by x, so each transformed minutia only scans a strip), normalised by the
minutiae in the common area.

Every buffer lives in a workspace made once per call of `compare_batch` (or of the 1:1
path), so the per-comparison work allocates nothing.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from scomm.biometrics.match.mcc_kernels import (
    TWO_PI,
    atan2_fast,
    inside_hull,
    popcount64,
    wrap_angle1,
)

PARTS = 9  # score parts: final, lssr, consolidation, matched, overlap_a, overlap_b, rot, tx, ty
LEVELS = 256  # local similarities are ranked at this many levels (ties: row-major order)
PAIR_BITS = 16  # a candidate pair is (i << PAIR_BITS) | j: row-major order, no division
MAX_MINUTIAE = 1 << PAIR_BITS  # so a template holds fewer minutiae than this


@njit(cache=True)
def make_workspace(maxn: int, max_nr: int) -> tuple:  # type: ignore[type-arg]
    """Buffers for comparisons of templates with at most maxn minutiae."""
    maxn = max(maxn, 1)
    nr = max(min(maxn, max_nr), 1)
    return (
        np.empty(maxn * maxn, dtype=np.float64),  # 0 cand_val
        np.empty(maxn * maxn, dtype=np.int64),  # 1 cand_idx ((i << PAIR_BITS) | j)
        np.empty(maxn * maxn, dtype=np.int64),  # 2 cand_next (same level, found earlier)
        np.empty(maxn * maxn, dtype=np.int64),  # 3 order (one level's candidates)
        np.empty(LEVELS + 2, dtype=np.int64),  # 4 heads: latest candidate per level; best
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
        np.empty((6, nr), dtype=np.float64),  # 23 the selected pairs' x, y, theta (A, B)
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
def _unrolled(tsort: np.ndarray, n: int, p: int) -> float:
    """Direction p of B's n sorted directions laid out three times: -2 pi, 0, +2 pi."""
    if p < n:
        return float(tsort[p] - TWO_PI)
    if p < 2 * n:
        return float(tsort[p - n])
    return float(tsort[p - 2 * n] + TWO_PI)


@njit(cache=True, inline="always")
def _add_candidate(
    v: float,
    pair: int,
    cand_val: np.ndarray,
    cand_idx: np.ndarray,
    cand_next: np.ndarray,
    heads: np.ndarray,
    k: int,
) -> int:
    """Append candidate k (similarity v > 0, pair (i << PAIR_BITS) | j) and link it at the
    head of its level's list; returns the level (0 = best)."""
    q = LEVELS - int(v * LEVELS)
    cand_val[k] = v
    cand_idx[k] = pair
    cand_next[k] = heads[q]
    heads[q] = k
    return q


@njit(cache=True)
def _sims_one_word(
    ta: np.ndarray,
    bits_a: np.ndarray,
    mask_a: np.ndarray,
    tord_a: np.ndarray,
    tsort_a: np.ndarray,
    tb: np.ndarray,
    bits_b: np.ndarray,
    mask_b: np.ndarray,
    tord_b: np.ndarray,
    tsort_b: np.ndarray,
    max_dtheta: float,
    min_me_cells: float,
    sqrt_lut: np.ndarray,
    cand_val: np.ndarray,
    cand_idx: np.ndarray,
    cand_next: np.ndarray,
    heads: np.ndarray,
) -> int:
    """`local_similarities` for cylinders of one word per plane (ns <= 8), masked: the
    intersection of the two masks is one word, so every pair takes the same branch-free
    path (for two fully valid cylinders it is the disk, and the result is the same).

    Only valid cylinders are visited: they come first in each side's direction order (see
    `template_summaries`).  A's are visited in direction order, so the window of B's
    directions around each one only moves forward: it is kept as two pointers into B's
    sorted directions laid out three times (-2 pi, 0, +2 pi), instead of two binary searches
    per minutia.  heads[LEVELS + 1] is left at the best level found."""
    na_valid = _search(tsort_a, math.inf)
    nb_valid = _search(tsort_b, math.inf)
    nd = bits_a.shape[1]
    min_me = int(math.ceil(min_me_cells))
    eps = 1e-6
    everything = max_dtheta >= math.pi - eps
    start = 0
    end = 0
    k = 0
    best = LEVELS + 1
    for u in range(na_valid):
        i = tord_a[u]
        ti = tsort_a[u]
        if everything:
            start = nb_valid
            end = 2 * nb_valid
        else:
            lo = ti - max_dtheta - eps
            hi = ti + max_dtheta + eps
            while start < 3 * nb_valid and _unrolled(tsort_b, nb_valid, start) < lo:
                start += 1
            if end < start:
                end = start
            while end < 3 * nb_valid and _unrolled(tsort_b, nb_valid, end) < hi:
                end += 1
        ma = mask_a[i, 0]
        for copy in range(3):  # the window's runs in each copy of B's directions
            base = copy * nb_valid
            first = max(start, base)
            last = min(end, base + nb_valid)
            for r in range(first - base, last - base):
                j = tord_b[r]
                mm = ma & mask_b[j, 0]
                if popcount64(mm) < min_me:
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
                q = _add_candidate(v, (i << PAIR_BITS) | j, cand_val, cand_idx, cand_next, heads, k)
                best = min(best, q)
                k += 1
    heads[LEVELS + 1] = best
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
    cand_next: np.ndarray,
    heads: np.ndarray,
) -> int:
    """MCC-B similarities (paper eq. 17) of every matchable pair: valid cylinders, directions
    within max_dtheta, enough cells valid in both.  The non-zero ones are appended to cand_*
    and linked into the list of their level (0 = best; heads[q] is the latest candidate of
    level q, cand_next the one found before it, -1 ends a list); heads[LEVELS + 1] is the
    best level found or a level no better than it.  Returns how many.  B's valid directions
    sorted (tsort_b, indices tord_b, see `template_summaries`) bound each row's scan to the
    window(s) around A's direction.  When both cylinders have every disk cell valid their
    intersection is the whole disk, so only |a xor b| is counted."""
    na = ta.shape[0]
    wp = mask_a.shape[1]
    nd = bits_a.shape[1] // wp
    nw = bits_a.shape[1]
    for q in range(LEVELS + 1):
        heads[q] = -1
    heads[LEVELS + 1] = 0
    eps = 1e-6
    everything = max_dtheta >= math.pi - eps
    exact = masked
    k = 0
    if wp == 1 and exact:
        return _sims_one_word(
            ta, bits_a, mask_a, tord_a, tsort_a, tb, bits_b, mask_b, tord_b, tsort_b,
            max_dtheta, min_me_cells, sqrt_lut, cand_val, cand_idx, cand_next, heads,
        )  # fmt: skip
    nb = _search(tsort_b, math.inf)  # B's valid cylinders
    tsort_b = tsort_b[:nb]
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
                _add_candidate(v, (i << PAIR_BITS) | j, cand_val, cand_idx, cand_next, heads, k)
                k += 1
    return k


@njit(cache=True)
def select_pairs(
    cand_val: np.ndarray,
    cand_idx: np.ndarray,
    cand_next: np.ndarray,
    heads: np.ndarray,
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
    row-major order); returns how many, written to rows / cols / vals.  The levels are read
    best first from their lists (see `local_similarities`), each sorted into row-major
    order, until n_want pairs are chosen: the candidates of worse levels are never read."""
    for i in range(na):
        used_a[i] = False
    for j in range(nb):
        used_b[j] = False
    low = (1 << PAIR_BITS) - 1
    n = 0
    for q in range(heads[LEVELS + 1], LEVELS + 1):
        m = 0
        c = heads[q]
        while c >= 0:  # the level's candidates, the latest found first
            order[m] = c
            m += 1
            c = cand_next[c]
        for u in range(1, m):  # into row-major order (insertion sort: levels are short)
            c = order[u]
            key = cand_idx[c]
            v = u
            while v > 0 and cand_idx[order[v - 1]] > key:
                order[v] = order[v - 1]
                v -= 1
            order[v] = c
        for t in range(m):
            c = order[t]
            pair = cand_idx[c]
            i = pair >> PAIR_BITS
            j = pair & low
            if used_a[i] or used_b[j]:
                continue
            used_a[i] = True
            used_b[j] = True
            rows[n] = i
            cols[n] = j
            vals[n] = cand_val[c]
            n += 1
            if n >= n_want:
                return n
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
    geo: np.ndarray,
) -> None:
    """LSS-R relaxation (paper eq. 23-24) of the n selected pairs; lam holds their
    similarities on entry and the relaxed values on return.

    The compatibility of pairs t and k compares the segment between their minutiae in A with
    the one in B: the lengths (d1), the direction differences (d2) and the directions
    relative to the segment (d3).  The selected pairs' coordinates are first gathered into
    geo, so that the lengths, which decide whether the angles are needed at all (a
    difference of 32 px or more scores 0), are computed in a loop without branches.  d3 is
    (theta_A(t) - theta_B(t)) minus the angle that turns B's segment onto A's: one
    arctangent instead of two."""
    if n < 2:
        return
    steps = lut.shape[1] - 1
    dscale = steps / 32.0
    ascale = steps / math.pi
    pxa = geo[0]
    pya = geo[1]
    pta = geo[2]
    pxb = geo[3]
    pyb = geo[4]
    ptb = geo[5]
    for t in range(n):
        pxa[t] = xa[rows[t]]
        pya[t] = ya[rows[t]]
        pta[t] = ta[rows[t]]
        pxb[t] = xb[cols[t]]
        pyb[t] = yb[cols[t]]
        ptb[t] = tb[cols[t]]
    for t in range(n):
        rho[t, t] = 0.0
        xat = pxa[t]
        yat = pya[t]
        xbt = pxb[t]
        ybt = pyb[t]
        for k in range(t + 1, n):  # lengths first: nxt holds them for a moment
            dxa = pxa[k] - xat
            dya = pya[k] - yat
            dxb = pxb[k] - xbt
            dyb = pyb[k] - ybt
            nxt[k] = abs(math.sqrt(dxa * dxa + dya * dya) - math.sqrt(dxb * dxb + dyb * dyb))
        tat = pta[t]
        tbt = ptb[t]
        turn = wrap_angle1(tat - tbt)
        for k in range(t + 1, n):
            d1 = nxt[k] * dscale
            z = 0.0
            if d1 < steps:
                dxa = pxa[k] - xat
                dya = pya[k] - yat
                dxb = pxb[k] - xbt
                dyb = pyb[k] - ybt
                d2 = abs(wrap_angle1(wrap_angle1(tat - pta[k]) - wrap_angle1(tbt - ptb[k])))
                phi = atan2_fast(dxb * dya - dyb * dxa, dxa * dxb + dya * dyb)
                d3 = abs(wrap_angle1(turn - phi))
                z = np.float64(lut[0, int(d1)])  # float64 products of the float32 tables
                z *= lut[1, int(d2 * ascale)]
                z *= lut[2, int(d3 * ascale)]
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
    cand_val, cand_idx, cand_next, order, heads, used_a, used_b = ws[:7]
    rows, cols, vals, lam0, lam, nxt, rho = ws[7:14]
    ma, mb, ma2, mb2, pairs, pair_vals, parts, eorder, bstart, geo = ws[14:]
    for q in range(PARTS):
        parts[q] = 0.0
    na = xa.shape[0]
    nb = xb.shape[0]
    if na == 0 or nb == 0:
        return 0
    nz = local_similarities(
        ta, bits_a, mask_a, count_a, full_a, valid_a, tord_a, tsort_a,
        tb, bits_b, mask_b, count_b, full_b, valid_b, tord_b, tsort_b,
        kv[0], kv[1], kv[16] != 0.0, sqrt_lut, cand_val, cand_idx, cand_next, heads,
    )  # fmt: skip
    if nz == 0:
        return 0
    nmin = min(na, nb)
    z = 1.0 / (1.0 + math.exp(-kv[5] * (nmin - kv[4])))
    n_p = int(kv[2] + round(z * (kv[3] - kv[2])))
    n_r = min(nmin, int(kv[6]))
    n = select_pairs(
        cand_val, cand_idx, cand_next, heads, order, na, nb, n_r, used_a, used_b,
        rows, cols, vals,
    )  # fmt: skip
    for t in range(n):
        lam0[t] = vals[t]
        lam[t] = vals[t]
    relax(
        rows, cols, n, xa, ya, ta, xb, yb, tb,
        int(kv[7]), kv[8], lut, rho, lam, nxt, geo,
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
    planes_a: np.ndarray,
    tord_a: np.ndarray,
    tsort_a: np.ndarray,
    xord_a: np.ndarray,
    xsort_a: np.ndarray,
    key_a: int,
    off: np.ndarray,
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
    concatenated arrays, hull planes at pl_off) into out[k].  Each comparison runs in the
    canonical order of the two keys, as `compare` does."""
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
        pb = planes[pl_off[c] : pl_off[c + 1]]
        if key_a <= keys[c]:
            compare_core(
                xa, ya, ta, bits_a, mask_a, count_a, full_a, valid_a,
                planes_a, tord_a, tsort_a, xord_a, xsort_a,
                x[s:e], y[s:e], t[s:e], bits[s:e], mask[s:e], count[s:e], full[s:e],
                valid[s:e], pb, tord[s:e], tsort[s:e], xord[s:e], xsort[s:e],
                kv, lut, sqrt_lut, ws,
            )  # fmt: skip
        else:
            compare_core(
                x[s:e], y[s:e], t[s:e], bits[s:e], mask[s:e], count[s:e], full[s:e],
                valid[s:e], pb, tord[s:e], tsort[s:e], xord[s:e], xsort[s:e],
                xa, ya, ta, bits_a, mask_a, count_a, full_a, valid_a,
                planes_a, tord_a, tsort_a, xord_a, xsort_a,
                kv, lut, sqrt_lut, ws,
            )  # fmt: skip
        out[k] = parts[0]
