"""The whole MCC comparison of two templates in one numba kernel, and its batch (1:N) form.

Steps: MCC-B local similarity matrix, greedy one-to-one selection of the best pairs, LSS-R
relaxation (Cappelli, Ferrara, Maltoni, TPAMI 2010, sec. 4.4), LSS-R score over the n_P most
efficient pairs, then consolidation: a rigid transform fitted to those pairs and the count of
minutiae that agree under it, normalised by the minutiae in the common area.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from scomm.biometrics.match.mcc_kernels import (
    consolidate,
    local_similarities,
    relax,
    select_pairs,
)

PARTS = 9  # score parts: final, lssr, consolidation, matched, overlap_a, overlap_b, rot, tx, ty


@njit(cache=True)
def compare_core(
    xa: np.ndarray,
    ya: np.ndarray,
    ta: np.ndarray,
    bits_a: np.ndarray,
    mask_a: np.ndarray,
    valid_a: np.ndarray,
    dist_a: np.ndarray,
    dth_a: np.ndarray,
    rad_a: np.ndarray,
    planes_a: np.ndarray,
    xb: np.ndarray,
    yb: np.ndarray,
    tb: np.ndarray,
    bits_b: np.ndarray,
    mask_b: np.ndarray,
    valid_b: np.ndarray,
    dist_b: np.ndarray,
    dth_b: np.ndarray,
    rad_b: np.ndarray,
    planes_b: np.ndarray,
    kv: np.ndarray,
    lut: np.ndarray,
    sqrt_lut: np.ndarray,
    sims: np.ndarray,
    pairs: np.ndarray,
    pair_vals: np.ndarray,
    parts: np.ndarray,
) -> int:
    """Compare A with B.  Writes the score parts (see PARTS) to parts, the relaxation's pairs
    ordered by efficiency to pairs (n x 2: A index, B index) with their local similarity and
    relaxed value in pair_vals (n x 2), and the consolidation's matched minutiae after them
    (pairs[n : n + matched]).  Returns n, the number of relaxed pairs."""
    for q in range(PARTS):
        parts[q] = 0.0
    na = xa.shape[0]
    nb = xb.shape[0]
    if na == 0 or nb == 0:
        return 0
    nz = local_similarities(
        ta, bits_a, mask_a, valid_a, tb, bits_b, mask_b, valid_b, kv[0], kv[1], sqrt_lut, sims
    )
    if nz == 0:
        return 0
    nmin = min(na, nb)
    z = 1.0 / (1.0 + math.exp(-kv[5] * (nmin - kv[4])))
    n_p = int(kv[2] + round(z * (kv[3] - kv[2])))
    n_r = min(nmin, int(kv[6]))
    rows = np.empty(n_r, dtype=np.int64)
    cols = np.empty(n_r, dtype=np.int64)
    n = select_pairs(sims, na, nb, n_r, rows, cols)
    lam0 = np.empty(n, dtype=np.float64)
    lam = np.empty(n, dtype=np.float64)
    relax(
        rows, cols, n, sims, dist_a, dth_a, rad_a, dist_b, dth_b, rad_b, int(kv[7]), kv[8], lut,
        lam0, lam,
    )
    eff = np.empty(n, dtype=np.float64)
    for t in range(n):
        eff[t] = -lam[t] / lam0[t]
    order = np.argsort(eff, kind="mergesort")
    top = min(n_p, n)
    lssr = 0.0
    pa = np.empty(n, dtype=np.int64)
    pb = np.empty(n, dtype=np.int64)
    w = np.empty(n, dtype=np.float64)
    for t in range(n):
        o = order[t]
        pa[t] = rows[o]
        pb[t] = cols[o]
        w[t] = lam[o]
        pairs[t, 0] = rows[o]
        pairs[t, 1] = cols[o]
        pair_vals[t, 0] = lam0[o]
        pair_vals[t, 1] = lam[o]
        if t < top:
            lssr += lam[o]
    lssr /= n_p
    ma = np.empty(na, dtype=np.int64)
    mb = np.empty(na, dtype=np.int64)
    rot, tx, ty, _, matched, ova, ovb = consolidate(
        xa, ya, ta, planes_a, xb, yb, tb, planes_b, pa, pb, w, top, kv[9], kv[10], kv[11],
        ma, mb,
    )
    for t in range(matched):
        pairs[n + t, 0] = ma[t]
        pairs[n + t, 1] = mb[t]
    m0 = kv[12]
    cons = matched * matched / (max(ova, m0) * max(ovb, m0))
    if cons > 1.0:
        cons = 1.0
    parts[0] = (1.0 - kv[13]) * lssr + kv[13] * cons
    parts[1] = lssr
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
    valid_a: np.ndarray,
    dist_a: np.ndarray,
    dth_a: np.ndarray,
    rad_a: np.ndarray,
    planes_a: np.ndarray,
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
    valid: np.ndarray,
    dist: np.ndarray,
    dth: np.ndarray,
    rad: np.ndarray,
    planes: np.ndarray,
    kv: np.ndarray,
    lut: np.ndarray,
    sqrt_lut: np.ndarray,
    out: np.ndarray,
) -> None:
    """Score A against every packed candidate c (rows off[c]:off[c+1] of the concatenated
    arrays; pairwise matrices flattened at sq_off, hull planes at pl_off) into out[c].  Each
    comparison runs in the canonical order of the two keys, as `compare` does."""
    na = xa.shape[0]
    maxn = na
    for c in range(keys.shape[0]):
        maxn = max(maxn, off[c + 1] - off[c])
    sims = np.empty((maxn, maxn), dtype=np.float32)
    pairs = np.empty((2 * maxn + 1, 2), dtype=np.int64)
    pair_vals = np.empty((maxn + 1, 2), dtype=np.float64)
    parts = np.empty(PARTS, dtype=np.float64)
    for c in range(keys.shape[0]):
        s = off[c]
        e = off[c + 1]
        n = e - s
        db = dist[sq_off[c] : sq_off[c + 1]].reshape(n, n)
        tb_ = dth[sq_off[c] : sq_off[c + 1]].reshape(n, n)
        rb = rad[sq_off[c] : sq_off[c + 1]].reshape(n, n)
        pb = planes[pl_off[c] : pl_off[c + 1]]
        if key_a <= keys[c]:
            compare_core(
                xa, ya, ta, bits_a, mask_a, valid_a, dist_a, dth_a, rad_a, planes_a,
                x[s:e], y[s:e], t[s:e], bits[s:e], mask[s:e], valid[s:e], db, tb_, rb, pb,
                kv, lut, sqrt_lut, sims, pairs, pair_vals, parts,
            )
        else:
            compare_core(
                x[s:e], y[s:e], t[s:e], bits[s:e], mask[s:e], valid[s:e], db, tb_, rb, pb,
                xa, ya, ta, bits_a, mask_a, valid_a, dist_a, dth_a, rad_a, planes_a,
                kv, lut, sqrt_lut, sims, pairs, pair_vals, parts,
            )
        out[c] = parts[0]
