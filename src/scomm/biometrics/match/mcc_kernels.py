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


@njit(cache=True)
def inside_hull(planes: np.ndarray, px: float, py: float, margin: float) -> bool:
    """Whether (px, py) lies within margin of the hull given by its half-planes."""
    if planes.shape[0] < 3:
        return False
    for h in range(planes.shape[0]):
        if planes[h, 0] * px + planes[h, 1] * py + planes[h, 2] < -margin:
            return False
    return True
