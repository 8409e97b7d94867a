"""Local similarities: MCC-B similarity of every matchable pair of cylinders (paper eq. 17).

1 - sqrt(|a xor b|) / (sqrt(|a|) + sqrt(|b|)), both restricted to the cells valid in both,
for pairs of valid cylinders whose directions differ by at most max_dtheta and which share
enough valid cells.  Both sides' valid cylinders are visited in direction order, so only
that window is scanned; cylinders of one 64-bit word per section take a branch-free path.
Each candidate is linked into the list of its similarity level as it is found, so that the
pair selection reads the best levels' lists and never the other candidates.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from scomm.biometrics.match.primitives.angles import TWO_PI, wrap_angle1
from scomm.biometrics.match.primitives.bits import popcount64

LEVELS = 256  # local similarities are ranked at this many levels (ties: row-major order)
PAIR_BITS = 16  # a candidate pair is (i << PAIR_BITS) | j: row-major order, no division
MAX_MINUTIAE = 1 << PAIR_BITS  # so a template holds fewer minutiae than this


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
