"""Building MCC-B bit cylinders (Cappelli, Ferrara, Maltoni, TPAMI 2010, sec. 3) with numpy.

Coordinates here are in a y-up frame (Y = -y of the image), so a minutia's direction vector
is (cos theta, sin theta) for ISO/IEC 19794-2 angles (counter-clockwise, y down).
"""

from __future__ import annotations

import math

import numpy as np

from scomm.biometrics.match.mcc_params import CylinderParams


def convex_hull(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Counter-clockwise convex hull vertices (h x 2, float64) by Andrew's monotone chain."""
    pts = sorted(set(zip(x.tolist(), y.tolist(), strict=True)))
    if len(pts) <= 2:
        return np.array(pts, dtype=np.float64).reshape(-1, 2)

    def cross(o: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower: list[tuple[float, float]] = []
    for p in pts:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    upper: list[tuple[float, float]] = []
    for p in reversed(pts):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    return np.array(lower[:-1] + upper[:-1], dtype=np.float64)


def hull_halfplanes(hull: np.ndarray) -> np.ndarray:
    """Each edge of a counter-clockwise hull as (nx, ny, c): nx*x + ny*y + c is the signed
    distance of (x, y) from the edge's line, >= 0 on the inside.  Fewer than 3 vertices give
    the circles-free degenerate case: one "half-plane" per vertex is not possible, so an empty
    array is returned and callers treat every point as outside."""
    if len(hull) < 3:
        return np.zeros((0, 3), dtype=np.float64)
    a = hull
    b = np.roll(hull, -1, axis=0)
    d = b - a
    length = np.hypot(d[:, 0], d[:, 1])
    nx = -d[:, 1] / length
    ny = d[:, 0] / length
    c = -(nx * a[:, 0] + ny * a[:, 1])
    return np.stack([nx, ny, c], axis=1)


def hull_distance(planes: np.ndarray, px: np.ndarray, py: np.ndarray) -> np.ndarray:
    """Smallest signed distance to the hull's edge lines (>= 0 inside); -inf without a hull."""
    if len(planes) == 0:
        return np.full(np.shape(px), -np.inf)
    d = planes[:, 0] * px[..., None] + planes[:, 1] * py[..., None] + planes[:, 2]
    result: np.ndarray = np.asarray(d.min(axis=-1))
    return result


def cell_offsets(p: CylinderParams) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cell-centre offsets (u, v) of the ns x ns base, in pixels, and whether each centre lies
    within the radius (the disk), all flattened row-major (cell index = i * ns + j)."""
    step = 2.0 * p.radius / p.ns
    k = (np.arange(p.ns) - (p.ns - 1) / 2.0) * step
    u = np.tile(k, p.ns)
    v = np.repeat(k, p.ns)
    disk = (u * u + v * v) <= p.radius * p.radius
    return u, v, disk


def words_per_plane(ns: int) -> int:
    return (ns * ns + 63) // 64


def _pack(bits: np.ndarray, wp: int) -> np.ndarray:
    """(..., cells) bool -> (..., wp) uint64, cell c in word c // 64, bit c % 64."""
    cells = bits.shape[-1]
    padded = np.zeros(bits.shape[:-1] + (wp * 64,), dtype=np.uint64)
    padded[..., :cells] = bits
    shifts = np.arange(64, dtype=np.uint64)
    words = padded.reshape(bits.shape[:-1] + (wp, 64)) << shifts
    result: np.ndarray = np.bitwise_or.reduce(words, axis=-1).astype(np.uint64)
    return result


def wrap_angle(a: np.ndarray) -> np.ndarray:
    """Angles (or differences) wrapped to [-pi, pi)."""
    result: np.ndarray = (a + np.pi) % (2.0 * np.pi) - np.pi
    return result


def _erf(x: np.ndarray) -> np.ndarray:
    result: np.ndarray = np.vectorize(math.erf, otypes=[np.float64])(x)
    return result


def build_cylinders(
    x: np.ndarray, y: np.ndarray, theta: np.ndarray, planes: np.ndarray, p: CylinderParams
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bit cylinders of every minutia (x, y in the y-up frame).

    Returns (bits n x (nd * wp) uint64: plane k in words k*wp .. k*wp+wp-1; mask n x wp
    uint64: the valid cells; valid n bool: the cylinder may be matched at all).
    """
    n = len(x)
    wp = words_per_plane(p.ns)
    if n == 0:
        return (
            np.zeros((0, p.nd * wp), np.uint64),
            np.zeros((0, wp), np.uint64),
            np.zeros(0, bool),
        )
    x = x.astype(np.float64)
    y = y.astype(np.float64)
    theta = theta.astype(np.float64)
    u, v, disk = cell_offsets(p)
    c, s = np.cos(theta)[:, None], np.sin(theta)[:, None]
    cx = x[:, None] + c * u[None, :] - s * v[None, :]  # n x cells
    cy = y[:, None] + s * u[None, :] + c * v[None, :]
    valid_cell = disk[None, :] & (hull_distance(planes, cx, cy) >= -p.omega)

    # spatial contribution of every minutia t to every cell of cylinder m
    dx = cx[:, :, None] - x[None, None, :]
    dy = cy[:, :, None] - y[None, None, :]
    d2 = dx * dx + dy * dy  # n x cells x n
    gs = np.exp(-d2 / (2.0 * p.sigma_s**2)) / (p.sigma_s * math.sqrt(2.0 * math.pi))
    gs[d2 > (3.0 * p.sigma_s) ** 2] = 0.0
    gs[np.arange(n), :, np.arange(n)] = 0.0
    # directional contribution: Gaussian of the angle difference integrated over each section
    dtheta = wrap_angle(theta[:, None] - theta[None, :])  # n x n, d_phi(theta_m, theta_t)
    step = 2.0 * math.pi / p.nd
    centres = -math.pi + (np.arange(p.nd) + 0.5) * step
    scale = 1.0 / (p.sigma_d * math.sqrt(2.0))
    cd = np.zeros((n, n, p.nd))
    for k in range(p.nd):
        for wrap in (-2.0 * math.pi, 0.0, 2.0 * math.pi):
            diff = dtheta + wrap - centres[k]
            hi = _erf((diff + step / 2.0) * scale)
            lo = _erf((diff - step / 2.0) * scale)
            cd[:, :, k] += 0.5 * (hi - lo)
    contrib = np.einsum("mct,mtk->mkc", gs, cd)  # n x nd x cells
    bits = (contrib >= p.mu_psi) & valid_cell[:, None, :]
    packed = _pack(bits, wp).reshape(n, p.nd * wp)
    mask = _pack(valid_cell, wp)

    d_mm = np.hypot(x[:, None] - x[None, :], y[:, None] - y[None, :])
    neighbours = (d_mm <= p.radius + 3.0 * p.sigma_s).sum(axis=1) - 1
    valid = (valid_cell.sum(axis=1) >= p.min_vc * disk.sum()) & (neighbours >= p.min_m)
    return packed, mask, valid
