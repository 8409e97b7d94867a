"""Numba helpers of the MCC matcher (the comparison itself is in `mcc_compare`).

Local similarity of two bit cylinders (Cappelli, Ferrara, Maltoni, TPAMI 2010, eq. 17):
1 - sqrt(|a xor b|) / (sqrt(|a|) + sqrt(|b|)), both restricted to the cells valid in both;
the global score is Local Similarity Sort with Relaxation (sec. 4.3-4.4), then one rigid
transform fitted to the relaxed pairs counts the minutiae that agree (consolidation).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import njit, types
from numba.extending import intrinsic

TWO_PI = 2.0 * math.pi
LUT_STEPS = 512  # compatibility sigmoids are tabulated at this many steps ...
LUT_DIST_MAX = 32.0  # ... over 0..32 px of distance difference
LUT_ANGLE_MAX = math.pi  # ... and over 0..pi of angle difference


def _popcount64(typingctx: Any, x: Any) -> Any:  # pragma: no cover - compiled
    """Number of set bits of a uint64 as an int64 (LLVM ctpop: one POPCNT on x86-64); int64,
    so sums stay integers (numba promotes int64 + uint64 to float64)."""
    sig = types.int64(types.uint64)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        return builder.ctpop(args[0])

    return sig, codegen


popcount64: Any = intrinsic(_popcount64)


def compatibility_luts(
    mu1: float, tau1: float, mu2: float, tau2: float, mu3: float, tau3: float
) -> np.ndarray:
    """3 x (LUT_STEPS + 1) tables of the sigmoids Z(v) = 1 / (1 + exp(-tau (v - mu)))."""
    lut = np.zeros((3, LUT_STEPS + 1), dtype=np.float32)
    for row, (mu, tau, top) in enumerate(
        ((mu1, tau1, LUT_DIST_MAX), (mu2, tau2, LUT_ANGLE_MAX), (mu3, tau3, LUT_ANGLE_MAX))
    ):
        v = np.arange(LUT_STEPS + 1) * (top / LUT_STEPS)
        lut[row] = 1.0 / (1.0 + np.exp(-tau * (v - mu)))
    return lut


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


@njit(cache=True)
def inside_hull(planes: np.ndarray, px: float, py: float, margin: float) -> bool:
    """Whether (px, py) lies within margin of the hull given by its half-planes."""
    if planes.shape[0] < 3:
        return False
    for h in range(planes.shape[0]):
        if planes[h, 0] * px + planes[h, 1] * py + planes[h, 2] < -margin:
            return False
    return True
