"""Convex hull of a minutiae set as half-planes, and the test of a point against it.

The hull bounds the cylinders' valid cells (omega, paper sec. 3) and the common area of the
consolidation.  Coordinates in the kernels' y-up frame.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import njit


@njit(cache=True, error_model="numpy")
def hull_planes(xs: np.ndarray, ys: np.ndarray, work: np.ndarray, planes: np.ndarray) -> int:
    """Half-planes of the counter-clockwise convex hull of the points (Andrew's monotone
    chain over the distinct points in (x, y) order), written to planes[:h] as (nx, ny, c):
    nx*x + ny*y + c is the signed distance from the edge's line, >= 0 inside.  Returns h;
    0 when the hull has fewer than 3 vertices (every point then counts as outside).
    work: int64 scratch of at least 3 n."""
    n = xs.shape[0]
    order = work[:n]
    for i in range(n):
        order[i] = i
    for i in range(1, n):  # insertion sort by (x, y)
        k = order[i]
        kx = xs[k]
        ky = ys[k]
        j = i - 1
        while j >= 0 and (xs[order[j]] > kx or (xs[order[j]] == kx and ys[order[j]] > ky)):
            order[j + 1] = order[j]
            j -= 1
        order[j + 1] = k
    m = 0
    for i in range(n):  # drop repeated points
        k = order[i]
        if m > 0 and xs[order[m - 1]] == xs[k] and ys[order[m - 1]] == ys[k]:
            continue
        order[m] = k
        m += 1
    if m <= 2:
        return 0
    chain = work[n : 3 * n]
    h = 0
    for i in range(m):  # lower hull
        p = order[i]
        while h >= 2 and _cross(xs, ys, chain[h - 2], chain[h - 1], p) <= 0.0:
            h -= 1
        chain[h] = p
        h += 1
    lower = h
    for i in range(m - 1, -1, -1):  # upper hull
        p = order[i]
        while h - lower >= 2 and _cross(xs, ys, chain[h - 2], chain[h - 1], p) <= 0.0:
            h -= 1
        chain[h] = p
        h += 1
    # lower[:-1] + upper[:-1]: chain[0 .. lower-1) then chain[lower .. h-1)
    hc = 0
    for i in range(lower - 1):
        chain[hc] = chain[i]
        hc += 1
    for i in range(lower, h - 1):
        chain[hc] = chain[i]
        hc += 1
    if hc < 3:
        return 0
    for e in range(hc):
        a = chain[e]
        b = chain[(e + 1) % hc]
        d0 = xs[b] - xs[a]
        d1 = ys[b] - ys[a]
        length = math.hypot(d0, d1)
        nx = -d1 / length
        ny = d0 / length
        planes[e, 0] = nx
        planes[e, 1] = ny
        planes[e, 2] = -(nx * xs[a] + ny * ys[a])
    return hc


@njit(cache=True, inline="always", error_model="numpy")
def _cross(xs: np.ndarray, ys: np.ndarray, o: int, a: int, b: int) -> float:
    c: float = (xs[a] - xs[o]) * (ys[b] - ys[o]) - (ys[a] - ys[o]) * (xs[b] - xs[o])
    return c


@njit(cache=True)
def inside_hull(planes: np.ndarray, px: float, py: float, margin: float) -> bool:
    """Whether (px, py) lies within margin of the hull given by its half-planes."""
    if planes.shape[0] < 3:
        return False
    for h in range(planes.shape[0]):
        if planes[h, 0] * px + planes[h, 1] * py + planes[h, 2] < -margin:
            return False
    return True


_hull_planes: Any = hull_planes  # numba dispatcher: untyped for mypy


def hull_halfplanes_of(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Half-planes (h x 3: nx, ny, c) of the convex hull of the points (x, y up), see
    `hull_planes`; 0 x 3 with fewer than 3 hull vertices."""
    planes = np.zeros((len(x), 3), dtype=np.float64)
    own = np.array(x, dtype=np.float64, order="C"), np.array(y, dtype=np.float64, order="C")
    h = _hull_planes(*own, np.zeros(3 * len(x), dtype=np.int64), planes)
    return np.ascontiguousarray(planes[:h])
