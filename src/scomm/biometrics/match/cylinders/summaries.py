"""Template summaries: the orders and counts the comparison stages scan.

Each minutia's place in direction order (valid cylinders first, so the local similarities
visit only those) and in x order (the consolidation's strip search), each cylinder's set
bits and whether its mask is the whole disk (the local similarities' fast path).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from scomm.biometrics.match.primitives.bits import popcount64


@njit(cache=True, error_model="numpy")
def stable_argsort(a: np.ndarray, order: np.ndarray) -> None:
    """order = numpy's argsort(a, kind="stable") (insertion sort: small n, no NaN)."""
    n = a.shape[0]
    for i in range(n):
        order[i] = i
    for i in range(1, n):
        k = order[i]
        v = a[k]
        j = i - 1
        while j >= 0 and a[order[j]] > v:
            order[j + 1] = order[j]
            j -= 1
        order[j + 1] = k


@njit(cache=True, error_model="numpy")
def template_summaries(
    xs: np.ndarray,
    theta: np.ndarray,
    bits: np.ndarray,
    mask: np.ndarray,
    valid: np.ndarray,
    disk_words: np.ndarray,
    tord: np.ndarray,
    tsort: np.ndarray,
    xord: np.ndarray,
    xsort: np.ndarray,
    count: np.ndarray,
    full: np.ndarray,
) -> None:
    """The minutiae in direction order and in x order (indices, sorted values: the comparison
    kernels scan windows of both), each cylinder's set bits and whether its mask is the
    whole disk.  The direction order lists the valid cylinders first (tsort: their
    directions, ascending), then the others (tsort: +inf), so that the local similarities
    visit only the valid ones."""
    n = xs.shape[0]
    stable_argsort(theta, tord)
    stable_argsort(xs, xord)
    nv = 0
    for i in range(n):  # stable partition: valid first
        if valid[tord[i]]:
            xord[nv] = tord[i]  # xord as scratch, sorted again below
            nv += 1
    rest = nv
    for i in range(n):
        if not valid[tord[i]]:
            xord[rest] = tord[i]
            rest += 1
    for i in range(n):
        tord[i] = xord[i]
        tsort[i] = theta[tord[i]] if i < nv else math.inf
    stable_argsort(xs, xord)
    for i in range(n):
        xsort[i] = xs[xord[i]]
        c = 0
        for w in range(bits.shape[1]):
            c += popcount64(bits[i, w])
        count[i] = c
        f = True
        for w in range(mask.shape[1]):
            f &= mask[i, w] == disk_words[w]
        full[i] = f


# ---------------------------------------------------------------------------------------------
# cylinders
