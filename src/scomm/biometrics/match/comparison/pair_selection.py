"""Pair selection (LSS, paper sec. 4.3): the best local similarities, one-to-one.

Greedy by decreasing similarity level (ties: row-major order), each minutia of either
template used once, until n_R pairs are chosen; they enter the relaxation.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from scomm.biometrics.match.comparison.local_similarity import LEVELS, PAIR_BITS


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
