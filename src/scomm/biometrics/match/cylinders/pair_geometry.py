"""Pair geometry: distance, direction difference and radial angle of every minutiae pair.

The cylinder stage reads the distances (which neighbours reach a cell, whether a minutia
has enough neighbours) and the direction differences (the directional contribution,
paper eq. 6).  Values are numpy's to the bit (see `primitives.numpy_exact`).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from scomm.biometrics.match.primitives.numpy_exact import (
    atan2_1,
    atan_core,
    atan_quadrant,
    hypot1,
    hypot_near,
    wrap1,
    wrap_near,
)


@njit(cache=True, error_model="numpy")
def pair_geometry(
    xs: np.ndarray,
    ys: np.ndarray,
    theta: np.ndarray,
    dist: np.ndarray,
    dtheta: np.ndarray,
    radial: np.ndarray,
) -> None:
    """For every ordered pair (i, j), i to j: distance, direction difference
    wrap(theta_i - theta_j) and radial angle wrap(theta_i - atan2(dy, dx)) (n x n each).
    Each unordered pair is computed once (hypot and the arctangent's core are symmetric)."""
    n = xs.shape[0]
    row = np.empty((5, n))
    for i in range(n):
        xi = xs[i]
        yi = ys[i]
        ti = theta[i]
        # j >= i, through 1-d slices from i: loops over those vectorise, over range(i, n) not
        qx = xs[i:]
        qy = ys[i:]
        qt = theta[i:]
        r_d = row[0][i:]
        r_tij = row[1][i:]
        r_tji = row[2][i:]
        r_rij = row[3][i:]
        r_rji = row[4][i:]
        odd = False
        for j in range(n - i):  # branch-free (selects), so that it vectorises
            tj = qt[j]
            dx = qx[j] - xi
            dy = qy[j] - yi
            bx = xi - qx[j]  # not -dx: the sign of a zero matters to atan2
            by = yi - qy[j]
            d, o1 = hypot_near(dx, dy)
            core = atan_core(abs(dx), abs(dy))
            w1, o2 = wrap_near(ti - tj)
            w2, o3 = wrap_near(tj - ti)
            r1, o4 = wrap_near(ti - atan_quadrant(core, dy, dx))
            r2, o5 = wrap_near(tj - atan_quadrant(core, by, bx))
            r_d[j] = d
            r_tij[j] = w1
            r_tji[j] = w2
            r_rij[j] = r1
            r_rji[j] = r2
            odd |= o1 | o2 | o3 | o4 | o5
        if odd:  # extreme coordinates or angles outside [0, 2 pi]: the general forms
            for j in range(n - i):
                tj = qt[j]
                dx = qx[j] - xi
                dy = qy[j] - yi
                r_d[j] = hypot1(dx, dy)
                r_tij[j] = wrap1(ti - tj)
                r_tji[j] = wrap1(tj - ti)
                r_rij[j] = wrap1(ti - atan2_1(dy, dx))
                r_rji[j] = wrap1(tj - atan2_1(yi - qy[j], xi - qx[j]))
        for j in range(i, n):
            dist[i, j] = row[0, j]
            dist[j, i] = row[0, j]
            dtheta[i, j] = row[1, j]
            dtheta[j, i] = row[2, j]
            radial[i, j] = row[3, j]
            radial[j, i] = row[4, j]
