"""Arithmetic that gives numpy's and glibc's values bit for bit, for the cylinders.

The cylinders were first written with numpy; these keep their bits without library calls
in the kernels' inner loops: numpy's float remainder for wrapping angles, glibc's hypot
(>= 2.35, Borges 2019, without FMA), and Cephes' rational arctangent (within 1 ulp of the
C library's atan2).  The `_near` forms are branch-free for the usual arguments and say
when an argument was not usual (the caller then takes the general form).
"""

from __future__ import annotations

import math

from numba import njit

TWO_PI = 2.0 * math.pi


@njit(cache=True, inline="always", error_model="numpy")
def wrap1(a: float) -> float:
    """`(a + pi) % (2 pi) - pi` exactly as numpy's float64 remainder computes it."""
    b = a + math.pi
    if -TWO_PI <= b < 2.0 * TWO_PI:
        # b - 2 pi is exact (Sterbenz) as fmod is; for b < 0, fmod(b) == b and numpy then
        # adds the divisor.  Selects, not branches: the cases come in random order.
        r = b - TWO_PI if b >= TWO_PI else b
        r = b + TWO_PI if b < 0.0 else r
    else:
        r = b % TWO_PI  # numba's float remainder: fmod, then numpy's (Python's) sign rule
    return r - math.pi


_HYPOT_EPS = 2.0**-54
_HYPOT_TINY = 2.0**-459
_HYPOT_LARGE = 2.0**511


@njit(cache=True, inline="always", error_model="numpy")
def hypot1(x: float, y: float) -> float:
    """glibc's hypot (>= 2.35, without FMA: Borges, 'An improved algorithm for hypot(a, b)',
    2019) for finite arguments of moderate size, in plain arithmetic."""
    x = abs(x)
    y = abs(y)
    ax = max(x, y)
    ay = min(x, y)
    if ay <= ax * _HYPOT_EPS:
        return ax + ay
    if ay < _HYPOT_TINY or ax > _HYPOT_LARGE:
        return math.hypot(ax, ay)
    h = math.sqrt(ax * ax + ay * ay)
    # both of glibc's branches, then a select
    d1 = h - ay
    t1a = ax * (2.0 * d1 - ax)
    t2a = (d1 - 2.0 * (ax - ay)) * d1
    d2 = h - ax
    t1b = 2.0 * d2 * (ax - 2.0 * ay)
    t2b = (4.0 * d2 - ay) * ay + d2 * d2
    e = t1a + t2a if h <= 2.0 * ay else t1b + t2b
    return h - e / (2.0 * h)


_PIO4_HI = 7.85398163397448278999e-01
_PIO2_HI = 1.57079632679489655800e00
_PI_HI = 3.14159265358979311600e00
_PI_LO = 1.22464679914735317723e-16
_PIO2_LO = 6.12323399573676588613e-17
_PIO4_LO = 3.06161699786838294307e-17
_TAN_PIO8 = 0.41421356237309504880


@njit(cache=True, inline="always", error_model="numpy")
def atan_core(a: float, b: float) -> float:
    """atan(min(a, b) / max(a, b)), then pi/2 minus it when b > a: atan2(b, a) for a, b >= 0
    (Cephes' rational arctangent on |t| <= tan(pi/8); selects, not branches)."""
    mx = max(a, b)
    mn = min(a, b)
    big = mn > _TAN_PIO8 * mx
    num = mn - mx if big else mn
    den = mn + mx if big else mx
    den = 1.0 if mx == 0.0 else den
    base_hi = _PIO4_HI if big else 0.0
    base_lo = _PIO4_LO if big else 0.0
    t = num / den
    z = t * t
    p = (
        (((-8.750608600031904122785e-01 * z - 1.615753718733365076637e01) * z
          - 7.500855792314704667340e01) * z - 1.228866684490136173410e02) * z
        - 6.485021904942025371773e01
    )  # fmt: skip
    q = (
        ((((z + 2.485846490142306297962e01) * z + 1.650270098316988542046e02) * z
          + 4.328810604912902668951e02) * z + 4.853903996359136964868e02) * z
        + 1.945506571482613964425e02
    )  # fmt: skip
    r = base_hi + (t + (t * (z * p / q) + base_lo))
    return _PIO2_HI - (r - _PIO2_LO) if b > a else r


@njit(cache=True, inline="always", error_model="numpy")
def atan_quadrant(core: float, y: float, x: float) -> float:
    """atan2(y, x) from `atan_core(|x|, |y|)`; signed zeros as C's atan2 treats them."""
    r = _PI_HI - (core - _PI_LO) if math.copysign(1.0, x) < 0.0 else core
    return math.copysign(r, y)


@njit(cache=True, inline="always", error_model="numpy")
def atan2_1(y: float, x: float) -> float:
    """atan2 in plain arithmetic, within 1 ulp of the C library's (2 below 1e-3)."""
    return atan_quadrant(atan_core(abs(x), abs(y)), y, x)


@njit(cache=True, inline="always", error_model="numpy")
def wrap_near(a: float) -> tuple[float, bool]:
    """`wrap1` for a + pi in [-2 pi, 4 pi) (direction and radial differences of angles in
    [0, 2 pi]) without branches, and whether a was outside that range."""
    b = a + math.pi
    r = b - TWO_PI if b >= TWO_PI else b
    r = b + TWO_PI if b < 0.0 else r
    return r - math.pi, (b < -TWO_PI) | (b >= 2.0 * TWO_PI)


@njit(cache=True, inline="always", error_model="numpy")
def hypot_near(x: float, y: float) -> tuple[float, bool]:
    """`hypot1` without branches for moderate arguments, and whether they were not."""
    x = abs(x)
    y = abs(y)
    ax = max(x, y)
    ay = min(x, y)
    h = math.sqrt(ax * ax + ay * ay)
    d1 = h - ay
    t1a = ax * (2.0 * d1 - ax)
    t2a = (d1 - 2.0 * (ax - ay)) * d1
    d2 = h - ax
    t1b = 2.0 * d2 * (ax - 2.0 * ay)
    t2b = (4.0 * d2 - ay) * ay + d2 * d2
    e = t1a + t2a if h <= 2.0 * ay else t1b + t2b
    tiny = ay <= ax * _HYPOT_EPS
    r = ax + ay if tiny else h - e / (2.0 * h)
    return r, (not tiny) & ((ay < _HYPOT_TINY) | (ax > _HYPOT_LARGE))
