"""The cylinder stages over every set of a batch at once, writing the packed 1:N layout.

The same kernels as `prepare` (one set), in the same order, so the two agree bit for bit.
Sets are independent and write disjoint rows, so they are spread over numba's threads (the
result does not depend on how many).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from scomm.biometrics.match.cylinders.bit_cylinders import cylinders
from scomm.biometrics.match.cylinders.pair_geometry import pair_geometry
from scomm.biometrics.match.cylinders.summaries import template_summaries
from scomm.biometrics.match.cylinders.tables import CylinderTables
from scomm.biometrics.match.primitives.hull import hull_planes


@njit(cache=True, error_model="numpy", parallel=True)
def cylinders_all(
    off: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    theta: np.ndarray,
    tables: tuple,  # type: ignore[type-arg]
    bits: np.ndarray,
    mask: np.ndarray,
    valid: np.ndarray,
    hull_rows: np.ndarray,
    hull_count: np.ndarray,
) -> None:
    """Every set's hull and cylinders (sets are rows off[i]:off[i+1]; `tables` as a plain
    tuple, see `CylinderTables`): hull half-planes into hull_rows from each set's first row
    (hull_count[i] of them), cylinders into bits, mask, valid."""
    t = CylinderTables(*tables)
    for i in prange(off.shape[0] - 1):
        s = off[i]
        e = off[i + 1]
        n = e - s
        if n == 0:
            continue
        work = np.zeros(3 * n, dtype=np.int64)
        xs = x[s:e]
        ys = y[s:e]
        ts = theta[s:e]
        d = np.zeros((n, n))
        dt = np.zeros((n, n))
        h = hull_planes(xs, ys, work, hull_rows[s:e])
        hull_count[i] = h
        pair_geometry(xs, ys, ts, d, dt, np.zeros((n, n)))
        cylinders(xs, ys, ts, hull_rows[s : s + h], d, dt, t, bits[s:e], mask[s:e], valid[s:e])


@njit(cache=True, error_model="numpy", parallel=True)
def summaries_all(
    off: np.ndarray,
    x: np.ndarray,
    theta: np.ndarray,
    disk_words: np.ndarray,
    bits: np.ndarray,
    mask: np.ndarray,
    valid: np.ndarray,
    count: np.ndarray,
    full: np.ndarray,
    tord: np.ndarray,
    tsort: np.ndarray,
    xord: np.ndarray,
    xsort: np.ndarray,
) -> None:
    """Every set's `template_summaries`, once its valid cylinders are final."""
    for i in prange(off.shape[0] - 1):
        s = off[i]
        e = off[i + 1]
        if e == s:
            continue
        template_summaries(
            x[s:e],
            theta[s:e],
            bits[s:e],
            mask[s:e],
            valid[s:e],
            disk_words,
            tord[s:e],
            tsort[s:e],
            xord[s:e],
            xsort[s:e],
            count[s:e],
            full[s:e],
        )
