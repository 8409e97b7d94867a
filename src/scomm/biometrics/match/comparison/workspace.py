"""The buffers the comparison stages share, made once per 1:1 call or per 1:N batch, so that
a comparison allocates nothing."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from scomm.biometrics.match.comparison.local_similarity import LEVELS


class Workspace(NamedTuple):
    """Buffers for templates of at most maxn minutiae and at most nr relaxed pairs."""

    # local similarities: candidates found, linked into a list per similarity level
    cand_val: np.ndarray  # maxn^2: similarity
    cand_idx: np.ndarray  # maxn^2: the pair, (i << PAIR_BITS) | j
    cand_next: np.ndarray  # maxn^2: the candidate of the same level found before it
    heads: np.ndarray  # LEVELS + 2: each level's latest candidate; the best level
    # pair selection
    order: np.ndarray  # maxn^2: one level's candidates in row-major order
    used_a: np.ndarray  # maxn
    used_b: np.ndarray  # maxn
    rows: np.ndarray  # nr: the selected pairs' A index ...
    cols: np.ndarray  # nr: ... B index
    vals: np.ndarray  # nr: ... and similarity
    # relaxation and LSS-R score
    lam0: np.ndarray  # nr: similarities before relaxation
    lam: np.ndarray  # nr: relaxed
    nxt: np.ndarray  # nr: next iteration; then the efficiencies
    rho: np.ndarray  # nr x nr: compatibilities
    geo: np.ndarray  # 6 x nr: the selected pairs' x, y, theta in A and B
    eorder: np.ndarray  # nr: the pairs by efficiency
    # consolidation
    matched_a: np.ndarray  # maxn: the best transform's agreeing pairs
    matched_b: np.ndarray  # maxn
    trial_a: np.ndarray  # maxn: a hypothesis' agreeing pairs
    trial_b: np.ndarray  # maxn
    bstart: np.ndarray  # maxn + 3: x-bucket starts of B
    # results: the relaxed pairs by efficiency then the matched ones (A, B indices), and
    # the relaxed pairs' similarity and relaxed value
    pairs: np.ndarray  # (2 maxn + 1) x 2
    pair_vals: np.ndarray  # (maxn + 1) x 2


@njit(cache=True)
def make_workspace(maxn: int, max_nr: int) -> Workspace:
    """Buffers for comparisons of templates with at most maxn minutiae."""
    maxn = max(maxn, 1)
    nr = max(min(maxn, max_nr), 1)
    return Workspace(
        cand_val=np.empty(maxn * maxn, dtype=np.float64),
        cand_idx=np.empty(maxn * maxn, dtype=np.int64),
        cand_next=np.empty(maxn * maxn, dtype=np.int64),
        heads=np.empty(LEVELS + 2, dtype=np.int64),
        order=np.empty(maxn * maxn, dtype=np.int64),
        used_a=np.empty(maxn, dtype=np.bool_),
        used_b=np.empty(maxn, dtype=np.bool_),
        rows=np.empty(nr, dtype=np.int64),
        cols=np.empty(nr, dtype=np.int64),
        vals=np.empty(nr, dtype=np.float64),
        lam0=np.empty(nr, dtype=np.float64),
        lam=np.empty(nr, dtype=np.float64),
        nxt=np.empty(nr, dtype=np.float64),
        rho=np.empty((nr, nr), dtype=np.float64),
        geo=np.empty((6, nr), dtype=np.float64),
        eorder=np.empty(nr, dtype=np.int64),
        matched_a=np.empty(maxn, dtype=np.int64),
        matched_b=np.empty(maxn, dtype=np.int64),
        trial_a=np.empty(maxn, dtype=np.int64),
        trial_b=np.empty(maxn, dtype=np.int64),
        bstart=np.empty(maxn + 3, dtype=np.int64),
        pairs=np.empty((2 * maxn + 1, 2), dtype=np.int64),
        pair_vals=np.empty((maxn + 1, 2), dtype=np.float64),
    )
