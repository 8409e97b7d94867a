"""Angle arithmetic of the comparison: wrapping a difference, a fast arctangent."""

from __future__ import annotations

import math

from numba import njit

TWO_PI = 2.0 * math.pi


@njit(cache=True, inline="always")
def wrap_angle1(a: float) -> float:
    """One angle difference (within (-3 pi, 3 pi)) wrapped to [-pi, pi)."""
    if a >= math.pi:
        a -= TWO_PI
    elif a < -math.pi:
        a += TWO_PI
    return a


# atan(t) ~ t * P(t^2) on [0, 1], P of degree 6: least squares on 8,001 Chebyshev points of
# [0, 1] (numpy.linalg.lstsq of the odd powers t .. t^13 against numpy.arctan); the largest
# error on [0, 1] is 2.7e-7 rad, 1/22,000 of a step of the relaxation's angle tables.
_ATAN_P = (
    0.9999966344971789,
    -0.3331830216555833,
    0.19813206503583214,
    -0.13247495100626427,
    0.07981068489957324,
    -0.033725475890919565,
    0.006842468655245709,
)


@njit(cache=True, inline="always")
def atan2_fast(y: float, x: float) -> float:
    """atan2(y, x) within 2.7e-7 rad, one division and no library call: the relaxation
    quantises angles to pi / 512 before its tables, so this is all the precision it can use
    (atan2(0, 0) is 0, as C's)."""
    ax = abs(x)
    ay = abs(y)
    mx = max(ax, ay)
    mn = min(ax, ay)
    t = mn / mx if mx > 0.0 else 0.0
    z = t * t
    c = _ATAN_P
    p = c[6]
    p = p * z + c[5]
    p = p * z + c[4]
    p = p * z + c[3]
    p = p * z + c[2]
    p = p * z + c[1]
    p = (p * z + c[0]) * t
    r = 0.5 * math.pi - p if ay > ax else p
    r = math.pi - r if x < 0.0 else r
    return -r if y < 0.0 else r
