"""Relaxation (LSS-R, paper sec. 4.4, eq. 23-24): the selected pairs' similarities
reinforced by the pairs geometrically compatible with them, weakened by the others."""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from scomm.biometrics.match.primitives.angles import atan2_fast, wrap_angle1

LUT_STEPS = 512  # compatibility sigmoids are tabulated at this many steps ...
LUT_DIST_MAX = 32.0  # ... over 0..32 px of distance difference
LUT_ANGLE_MAX = math.pi  # ... and over 0..pi of angle difference


def compatibility_tables(
    mu1: float, tau1: float, mu2: float, tau2: float, mu3: float, tau3: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Tables (float32, LUT_STEPS + 1 steps) of the sigmoids Z(v) = 1 / (1 + exp(-tau (v - mu)))
    of the distance difference, the direction difference and the radial angle difference."""
    lut = np.zeros((3, LUT_STEPS + 1), dtype=np.float32)
    for row, (mu, tau, top) in enumerate(
        ((mu1, tau1, LUT_DIST_MAX), (mu2, tau2, LUT_ANGLE_MAX), (mu3, tau3, LUT_ANGLE_MAX))
    ):
        v = np.arange(LUT_STEPS + 1) * (top / LUT_STEPS)
        lut[row] = 1.0 / (1.0 + np.exp(-tau * (v - mu)))
    return lut[0].copy(), lut[1].copy(), lut[2].copy()


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
    distance: np.ndarray,
    direction: np.ndarray,
    radial: np.ndarray,
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
    steps = distance.shape[0] - 1
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
                z = np.float64(distance[int(d1)])  # float64 products of the float32 tables
                z *= direction[int(d2 * ascale)]
                z *= radial[int(d3 * ascale)]
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
