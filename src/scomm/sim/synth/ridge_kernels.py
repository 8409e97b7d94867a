"""Numba kernels of the fingerprint image generator: fields, Gabor growth and resampling.

Coordinates: the image frame (x right, y down, pixels at 500 ppi unless a kernel says it
works on the coarse grid); orientations are ISO/IEC 19794-2 angles (counter-clockwise from
the x axis as seen in the image, y up), defined modulo pi, as `minutiae_kernels` gives them.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from scomm.sim.synth import minutiae_kernels as mk

# -- one master's ridge-frequency map (float64 vector) ---------------------------------------
R_PERIOD = 0  # mean ridge period, px at 500 ppi
R_TIP_GAIN = 1  # relative change of the period from the core to the fingertip
R_BASE_GAIN = 2  # relative change of the period from the core to the finger's base
R_WAVE_A, R_WAVE_KX, R_WAVE_KY, R_WAVE_PH = 3, 4, 5, 6  # slow random variation
R_SIZE = 7


@njit(cache=True, nogil=True, fastmath=True)
def shape_radius(fp: np.ndarray, x: float, y: float) -> float:
    """The finger area's norm at (x, y): 1 on its outline, below 1 inside.

    The same shape as `minutiae_kernels._inside_finger` (an elliptic fingertip over a
    superelliptic base, p = 4), as a continuous value so that edges can be soft.
    """
    u = (x - fp[mk.F_CX]) / fp[mk.F_A]
    v = (fp[mk.F_CY] - y) / fp[mk.F_B]
    if v >= 0.0:
        return math.sqrt(u * u + v * v)
    u2, v2 = u * u, v * v
    return math.sqrt(math.sqrt(u2 * u2 + v2 * v2))


@njit(cache=True, nogil=True)
def ridge_period(fp: np.ndarray, rp: np.ndarray, x: float, y: float) -> float:
    """Ridge period (px at 500 ppi) at (x, y): the finger's mean, a little wider towards
    the fingertip and the base than around the core, with a slow random wave."""
    Y = fp[mk.F_CY] - y
    X = x - fp[mk.F_CX]
    b = fp[mk.F_B]
    y0 = fp[mk.F_CURV_Y0]
    if Y > y0:
        rel = rp[R_TIP_GAIN] * min(1.0, (Y - y0) / (b - y0 + 1e-9))
    else:
        rel = rp[R_BASE_GAIN] * min(1.0, (y0 - Y) / (b + y0 + 1e-9))
    rel += rp[R_WAVE_A] * math.sin(rp[R_WAVE_KX] * X + rp[R_WAVE_KY] * Y + rp[R_WAVE_PH])
    return float(rp[R_PERIOD] * (1.0 + rel))


@njit(cache=True, nogil=True)
def filter_bins(
    fp: np.ndarray,
    rp: np.ndarray,
    scale: float,
    height: int,
    width: int,
    n_orient: int,
    periods: np.ndarray,
    margin: float,
    bins: np.ndarray,
    orient: np.ndarray,
) -> None:
    """For each pixel of a grid `scale` times the 500 ppi frame: the Gabor filter bin
    (orientation bin * len(periods) + period bin), -1 outside the finger area grown by
    `margin` (fraction of its size); and the orientation itself (radians, [0, pi))."""
    n_p = periods.size
    for r in range(height):
        y = (r + 0.5) / scale - 0.5
        for c in range(width):
            x = (c + 0.5) / scale - 0.5
            theta = mk.ridge_orientation(fp, x, y) % math.pi
            orient[r, c] = theta
            if shape_radius(fp, x, y) > 1.0 + margin:
                bins[r, c] = -1
                continue
            ob = int(theta / math.pi * n_orient + 0.5) % n_orient
            t = ridge_period(fp, rp, x, y)
            pb = 0
            best = abs(periods[0] - t)
            for k in range(1, n_p):
                d = abs(periods[k] - t)
                if d < best:
                    best = d
                    pb = k
            bins[r, c] = ob * n_p + pb


@njit(cache=True, nogil=True)
def gabor_bank(
    n_orient: int, periods: np.ndarray, sigma_along: float, sigma_across: float, radius: int
) -> np.ndarray:
    """Even-symmetric Gabor filters, one per (orientation bin, period), (2R+1)^2 taps each.

    The envelope's widths are fractions of the period (along and across the ridges); each
    filter has zero mean (so flat areas give nothing) and gain 1 on its own ridge wave.
    """
    n_p = periods.size
    side = 2 * radius + 1
    bank = np.zeros((n_orient * n_p, side, side), np.float32)
    for o in range(n_orient):
        theta = math.pi * o / n_orient
        st, ct = math.sin(theta), math.cos(theta)
        for p in range(n_p):
            period = periods[p]
            sa, sb = sigma_along * period, sigma_across * period
            k = np.zeros((side, side))
            env = np.zeros((side, side))
            for i in range(side):
                dy = i - radius
                for j in range(side):
                    dx = j - radius
                    across = dx * st + dy * ct
                    along = dx * ct - dy * st
                    e = math.exp(-0.5 * (along * along / (sa * sa) + across * across / (sb * sb)))
                    env[i, j] = e
                    k[i, j] = e * math.cos(2.0 * math.pi * across / period)
            k -= env * (k.sum() / env.sum())
            gain = 0.0
            for i in range(side):
                dy = i - radius
                for j in range(side):
                    dx = j - radius
                    gain += k[i, j] * math.cos(2.0 * math.pi * (dx * st + dy * ct) / period)
            bank[o * n_p + p] = (k / gain).astype(np.float32)
    return bank


@njit(cache=True, nogil=True, fastmath=True)
def grow_ridges(
    field: np.ndarray, bins: np.ndarray, bank: np.ndarray, iterations: int, gain: float
) -> np.ndarray:
    """Iterative contextual filtering (SFinGe's ridge growth): each pass filters every pixel
    with the Gabor filter of its own bin and squashes the result with tanh(gain * r), so
    ridges spread from the seeds in `field` along the orientation field and settle to the
    local ridge period.  Returns the last pass's linear response (before tanh)."""
    h, w = bins.shape
    radius = bank.shape[1] // 2
    a = np.zeros((h + 2 * radius, w + 2 * radius), np.float32)
    a[radius : radius + h, radius : radius + w] = field
    b = np.zeros_like(a)
    response = np.zeros((h, w), np.float32)
    side = 2 * radius + 1
    for it in range(iterations):
        last = it == iterations - 1
        for r in range(h):
            for c in range(w):
                k = bins[r, c]
                if k < 0:
                    continue
                acc = np.float32(0.0)
                for i in range(side):
                    for j in range(side):
                        acc += bank[k, i, j] * a[r + i, c + j]
                if last:
                    response[r, c] = acc
                else:
                    b[r + radius, c + radius] = math.tanh(gain * acc)
        a, b = b, a
    return response


@njit(cache=True, nogil=True, fastmath=True)
def _cubic(t: float, p0: float, p1: float, p2: float, p3: float) -> float:
    """Catmull-Rom interpolation between p1 (t = 0) and p2 (t = 1)."""
    return p1 + 0.5 * t * (
        p2 - p0 + t * (2.0 * p0 - 5.0 * p1 + 4.0 * p2 - p3 + t * (3.0 * (p1 - p2) + p3 - p0))
    )


@njit(cache=True, nogil=True, fastmath=True)
def sample_cubic(grid: np.ndarray, gx: float, gy: float) -> float:
    """`grid` at the fractional point (gx, gy) (Catmull-Rom); 0 outside."""
    h, w = grid.shape
    x0 = int(math.floor(gx))
    y0 = int(math.floor(gy))
    if x0 < 1 or y0 < 1 or x0 > w - 3 or y0 > h - 3:
        return 0.0
    tx, ty = gx - x0, gy - y0
    r0 = _cubic(
        tx, grid[y0 - 1, x0 - 1], grid[y0 - 1, x0], grid[y0 - 1, x0 + 1], grid[y0 - 1, x0 + 2]
    )
    r1 = _cubic(tx, grid[y0, x0 - 1], grid[y0, x0], grid[y0, x0 + 1], grid[y0, x0 + 2])
    r2 = _cubic(
        tx, grid[y0 + 1, x0 - 1], grid[y0 + 1, x0], grid[y0 + 1, x0 + 1], grid[y0 + 1, x0 + 2]
    )
    r3 = _cubic(
        tx, grid[y0 + 2, x0 - 1], grid[y0 + 2, x0], grid[y0 + 2, x0 + 1], grid[y0 + 2, x0 + 2]
    )
    return _cubic(ty, r0, r1, r2, r3)


@njit(cache=True, nogil=True, fastmath=True)
def render_impression(
    ridges: np.ndarray,
    scale: float,
    fp: np.ndarray,
    transform: np.ndarray,
    contact: np.ndarray,
    skin: np.ndarray,
    skin_scale: float,
    out: np.ndarray,
) -> None:
    """Ink of one impression (float32 in [0, 1], 1 = ridge centre pressed on the sensor).

    For each output pixel q: the point of the master it shows, p = c_m + R(-alpha)(q - c_o - t)
    plus Cappelli's plastic distortion (the skin inside the close-contact ellipse follows the
    finger's rigid motion, outside it lags behind by a share of a second small rotation and
    shift that grows as 1 - exp(-d / k) with the distance d from that ellipse); the ridge
    field there (Catmull-Rom on the coarse grid), a ridge profile whose threshold (pressure,
    dryness) varies over the finger with `skin` (a coarse map, `skin_scale` px per cell), and
    the contact area: inside the finger, inside the contact ellipse (soft edges).

    transform: c_o (x, y), c_m (x, y), alpha, t (x, y), distortion centre (x, y), close
    contact semi-axes (a, b), k, distortion rotation, distortion shift (x, y),
    threshold, sharpness (12 + 4 + 4 values, see impression_image._transform).
    contact: contact ellipse centre (x, y) and semi-axes (a, b) in master coordinates,
    edge softness (px), lower cut (master y below which nothing touched; a large number
    for none).
    """
    h, w = out.shape
    cox, coy, cmx, cmy = transform[0], transform[1], transform[2], transform[3]
    ca, sa = math.cos(transform[4]), math.sin(transform[4])
    tx, ty = transform[5], transform[6]
    dcx, dcy, da, db, dk = transform[7], transform[8], transform[9], transform[10], transform[11]
    dca, dsa = math.cos(transform[12]), math.sin(transform[12])
    dtx, dty = transform[13], transform[14]
    threshold, sharp = transform[15], transform[16]
    ecx, ecy, ea, eb, soft, cut = (
        contact[0],
        contact[1],
        contact[2],
        contact[3],
        contact[4],
        contact[5],
    )
    sh, sw = skin.shape
    for r in range(h):
        for c in range(w):
            # rigid placement: image -> master
            qx = c - cox - tx
            qy = r - coy - ty
            px = cmx + ca * qx - sa * qy
            py = cmy + sa * qx + ca * qy
            # plastic distortion around the close-contact region
            ux = (px - dcx) / da
            uy = (py - dcy) / db
            d = math.sqrt(ux * ux + uy * uy) - 1.0
            if d > 0.0:
                brake = 1.0 - math.exp(-d * min(da, db) / dk)
                vx, vy = px - dcx, py - dcy
                rx = dca * vx - dsa * vy + dtx
                ry = dsa * vx + dca * vy + dty
                px += brake * (rx - vx)
                py += brake * (ry - vy)
            # contact: the finger's own outline and the pressed ellipse
            fr = shape_radius(fp, px, py)
            ex = (px - ecx) / ea
            ey = (py - ecy) / eb
            er = math.sqrt(ex * ex + ey * ey)
            edge = min((1.0 - fr) * fp[mk.F_A], (1.0 - er) * min(ea, eb), cut - py)
            if edge <= 0.0:
                out[r, c] = 0.0
                continue
            touch = min(1.0, edge / soft)
            v = sample_cubic(ridges, (px + 0.5) * scale - 0.5, (py + 0.5) * scale - 0.5)
            gx = min(max(px / skin_scale, 0.0), sw - 1.001)
            gy = min(max(py / skin_scale, 0.0), sh - 1.001)
            ix, iy = int(gx), int(gy)
            fx, fy = gx - ix, gy - iy
            s = (skin[iy, ix] * (1 - fx) * (1 - fy) + skin[iy, ix + 1] * fx * (1 - fy)
                 + skin[iy + 1, ix] * (1 - fx) * fy + skin[iy + 1, ix + 1] * fx * fy)  # fmt: skip
            # a soft edge is pressed less: the ridges there are thinner
            t = threshold + s + 0.6 * (1.0 - touch)
            out[r, c] = touch / (1.0 + math.exp(-sharp * (v - t)))
