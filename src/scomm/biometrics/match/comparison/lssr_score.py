"""LSS-R score (paper sec. 4.3-4.4): the mean relaxed similarity of the n_P most efficient
pairs, efficiency being how much of its similarity a pair kept through the relaxation."""

from __future__ import annotations

import math

import numpy as np
from numba import njit


@njit(cache=True, inline="always")
def pairs_to_score(nmin: int, min_np: int, max_np: int, mu_p: float, tau_p: float) -> int:
    """n_P = min_np + round(Z(nmin) (max_np - min_np)), Z the sigmoid with mid-point mu_p and
    slope tau_p, nmin the smaller template's minutiae count."""
    z = 1.0 / (1.0 + math.exp(-tau_p * (nmin - mu_p)))
    return int(min_np + round(z * (max_np - min_np)))


@njit(cache=True, inline="always")
def lssr_score(
    n: int,
    n_p: int,
    rows: np.ndarray,
    cols: np.ndarray,
    lam0: np.ndarray,
    lam: np.ndarray,
    efficiency: np.ndarray,
    eorder: np.ndarray,
    pairs: np.ndarray,
    pair_vals: np.ndarray,
) -> float:
    """Sum of the relaxed values of the n_P most efficient of the n pairs, over n_P.  The
    pairs are written to pairs (A, B index) and pair_vals (similarity, relaxed value) by
    decreasing efficiency lam / lam0 (ties: selection order)."""
    for t in range(n):  # stable insertion sort: n <= max_nr
        e = lam[t] / lam0[t]
        efficiency[t] = e
        u = t
        while u > 0 and efficiency[eorder[u - 1]] < e:
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
    return lssr
