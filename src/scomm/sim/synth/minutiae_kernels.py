"""Numba kernels of the minutiae-set generator: master fingers and their captures.

Every set is drawn from its own counter-based random stream (splitmix64 over a key hashed
from seed, identity, finger and impression), so any set can be made alone, in any order, on
any number of threads, and come out the same.

Coordinates inside: the image frame (x right, y down, pixels); the orientation field works
in finger coordinates X = x - cx, Y = cy - y (y up), where an angle measured
counter-clockwise from the X axis is the ISO/IEC 19794-2 angle as seen in the image.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from scomm.sim.synth.minutiae_params import (
    IMPRESSION_SLOTS,
    MASTER_CLASSES_AT,
    MASTER_SIZES_AT,
    MASTER_SLOTS,
    slot,
)

# -- stream domains: one per kind of draw, so streams never overlap -------------------------
DOMAIN_HAND = 1
DOMAIN_MASTER = 2
DOMAIN_PLAIN = 3
DOMAIN_ROLLED = 4

# -- pattern classes (codes of `PatternClass`) ----------------------------------------------
ARCH, TENTED_ARCH, LEFT_LOOP, RIGHT_LOOP, WHORL = 1, 2, 3, 4, 5

# -- the master vector (MasterParams.vector) --------------------------------------------------
M_FRAME_W = slot(MASTER_SLOTS, "frame_width")
M_FRAME_H = slot(MASTER_SLOTS, "frame_height")
M_EDGE = slot(MASTER_SLOTS, "edge_margin")
M_W_MEAN = slot(MASTER_SLOTS, "width_mean")
M_W_MIN = slot(MASTER_SLOTS, "width_min")
M_W_MAX = slot(MASTER_SLOTS, "width_max")
M_ASPECT_MIN = slot(MASTER_SLOTS, "aspect_min")
M_ASPECT_MAX = slot(MASTER_SLOTS, "aspect_max")
M_HAND_SD = slot(MASTER_SLOTS, "hand_size_sd")
M_FINGER_SD = slot(MASTER_SLOTS, "finger_size_sd")
M_DENSITY = slot(MASTER_SLOTS, "density_px")
M_DENSITY_SD = slot(MASTER_SLOTS, "density_sd")
M_CORE_GAIN = slot(MASTER_SLOTS, "core_gain")
M_CORE_RADIUS = slot(MASTER_SLOTS, "core_radius")
M_MIN_DIST = slot(MASTER_SLOTS, "min_distance")
M_ENDING = slot(MASTER_SLOTS, "ending_fraction")
M_DIRECTION_SD = slot(MASTER_SLOTS, "direction_sd")
M_COHERENCE = slot(MASTER_SLOTS, "direction_coherence")
M_PAIRED = slot(MASTER_SLOTS, "paired_share")
M_PAIRED_MIN = slot(MASTER_SLOTS, "paired_min")
M_PAIRED_MAX = slot(MASTER_SLOTS, "paired_max")
M_PERTURBATION = slot(MASTER_SLOTS, "perturbation")
M_CURV_MIN = slot(MASTER_SLOTS, "curvature_min")
M_CURV_MAX = slot(MASTER_SLOTS, "curvature_max")
M_Q_MAX = slot(MASTER_SLOTS, "quality_max")
M_Q_SPAN = slot(MASTER_SLOTS, "quality_span")
M_CAP = slot(MASTER_SLOTS, "max_minutiae")

# -- the impression vector (ImpressionParams.vector) -----------------------------------------
I_FRAME_W = slot(IMPRESSION_SLOTS, "frame_width")
I_FRAME_H = slot(IMPRESSION_SLOTS, "frame_height")
I_CW_MIN = slot(IMPRESSION_SLOTS, "contact_w_min")
I_CW_MAX = slot(IMPRESSION_SLOTS, "contact_w_max")
I_CH_MIN = slot(IMPRESSION_SLOTS, "contact_h_min")
I_CH_MAX = slot(IMPRESSION_SLOTS, "contact_h_max")
I_SHIFT_X_SD = slot(IMPRESSION_SLOTS, "shift_x_sd")
I_SHIFT_Y_MEAN = slot(IMPRESSION_SLOTS, "shift_y_mean")
I_SHIFT_Y_SD = slot(IMPRESSION_SLOTS, "shift_y_sd")
I_BORDER = slot(IMPRESSION_SLOTS, "border_margin")
I_ROT_SD = slot(IMPRESSION_SLOTS, "rotation_sd")
I_ROT_TAIL = slot(IMPRESSION_SLOTS, "rotation_tail")
I_ROT_TAIL_SD = slot(IMPRESSION_SLOTS, "rotation_tail_sd")
I_ROT_MAX = slot(IMPRESSION_SLOTS, "rotation_max")
I_TRANS_SD = slot(IMPRESSION_SLOTS, "translation_sd")
I_TWIST_SD = slot(IMPRESSION_SLOTS, "twist_sd")
I_SHIFT_SD = slot(IMPRESSION_SLOTS, "shift_sd")
I_CLOSE = slot(IMPRESSION_SLOTS, "close_contact")
I_MISS_MIN = slot(IMPRESSION_SLOTS, "missing_min")
I_MISS_MAX = slot(IMPRESSION_SLOTS, "missing_max")
I_SPUR_MIN = slot(IMPRESSION_SLOTS, "spurious_min")
I_SPUR_MAX = slot(IMPRESSION_SLOTS, "spurious_max")
I_POS_SD = slot(IMPRESSION_SLOTS, "position_sd")
I_ANGLE_SD = slot(IMPRESSION_SLOTS, "angle_sd")
I_MIN_DIST = slot(IMPRESSION_SLOTS, "min_distance")
I_CONDITION = slot(IMPRESSION_SLOTS, "condition_power")
I_POOR_JITTER = slot(IMPRESSION_SLOTS, "poor_jitter")
I_KIND_FLIP = slot(IMPRESSION_SLOTS, "kind_flip")
I_Q_SD = slot(IMPRESSION_SLOTS, "quality_sd")

# -- one finger's geometry, as the kernels keep it (float64 vector) ---------------------------
F_CX, F_CY, F_A, F_B = 0, 1, 2, 3  # centre (image px) and semi-axes of the finger area
F_CLASS = 4
F_NCORE, F_CORES = 5, 6  # count, then (X, Y) of up to 2 cores in finger coordinates
F_NDELTA, F_DELTAS = 10, 11  # count, then (X, Y) of up to 2 deltas
F_THETA0 = 15  # orientation far from the singular points
F_ARCH_H, F_ARCH_S = 16, 17  # plain arch: height and half-width of the ridges' bump
F_CURV, F_CURV_Y0 = 18, 19  # fingertip bend above Y0
F_WAVE_A, F_WAVE_KX, F_WAVE_KY, F_WAVE_PH = 20, 21, 22, 23  # smooth random perturbation
F_COUNT = 24  # minutiae to place
F_SIGN_KX, F_SIGN_KY, F_SIGN_PH = 25, 26, 27  # the wave that sets which way minutiae point
F_SIZE = 28

TWO_PI = 2.0 * math.pi
_TWO_PI_F32 = np.float32(TWO_PI)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_GRID_SLOTS = 4  # a square cell of side min_distance holds at most 4 spaced points
_SHAPE_AREA = 0.5 * math.pi + 1.8541  # area / (a b): elliptic top, superelliptic (p=4) base


# ---------------------------------------------------------------------------------------------
# Random numbers


@njit(cache=True)
def _mix(z: np.uint64) -> np.uint64:
    """splitmix64's finaliser (Steele, Lea, Flood, OOPSLA 2014): a bijective 64-bit hash."""
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    return z ^ (z >> np.uint64(31))


@njit(cache=True)
def stream_key(
    seed: np.uint64, domain: int, identity: np.uint64, finger: int, impression: int
) -> np.uint64:
    """The starting state of the stream of one (seed, domain, identity, finger, impression)."""
    h = _mix(seed ^ _GOLDEN)
    h = _mix(h + np.uint64(domain))
    h = _mix(h ^ identity)
    h = _mix(h + np.uint64(finger))
    return _mix(h ^ np.uint64(impression))


@njit(cache=True)
def _uniform(st: np.ndarray) -> float:
    """Uniform in [0, 1) from the stream held in st[0] (splitmix64)."""
    s = st[0] + _GOLDEN
    st[0] = s
    return float(_mix(s) >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@njit(cache=True)
def _normal(st: np.ndarray) -> float:
    """Standard normal (Box-Muller, one of the pair)."""
    u1 = _uniform(st)
    u2 = _uniform(st)
    return math.sqrt(-2.0 * math.log(1.0 - u1)) * math.cos(TWO_PI * u2)


@njit(cache=True)
def _normal_pair(st: np.ndarray) -> tuple[float, float]:
    """Two independent standard normals (both of Box-Muller's pair)."""
    r = math.sqrt(-2.0 * math.log(1.0 - _uniform(st)))
    phi = TWO_PI * _uniform(st)
    return r * math.cos(phi), r * math.sin(phi)


@njit(cache=True)
def _poisson(st: np.ndarray, lam: float) -> int:
    """Poisson variate: Knuth's product of uniforms, a rounded normal above a mean of 30."""
    if lam <= 0.0:
        return 0
    if lam > 30.0:
        return max(0, int(lam + math.sqrt(lam) * _normal(st) + 0.5))
    limit = math.exp(-lam)
    k = 0
    p = _uniform(st)
    while p > limit:
        k += 1
        p *= _uniform(st)
    return k


@njit(cache=True)
def _atan2(y: float, x: float) -> float:
    """atan2 within 0.0015 rad, several times faster than math.atan2: on the octant's ratio
    z in [0, 1], atan z ~ z pi/4 + z (1 - z) (0.2447 + 0.0663 z) (Rajan, Wang, Inkol,
    Joyal, "Efficient approximations for the arctangent function", IEEE SPM 23(3), 2006)."""
    ax, ay = abs(x), abs(y)
    big = max(ax, ay)
    if big == 0.0:
        return 0.0
    z = min(ax, ay) / big
    t = z * (0.25 * math.pi + (1.0 - z) * (0.2447 + 0.0663 * z))
    if ay > ax:
        t = 0.5 * math.pi - t
    if x < 0.0:
        t = math.pi - t
    return -t if y < 0.0 else t


@njit(cache=True)
def _clip(v: float, lo: float, hi: float) -> float:
    return lo if v < lo else (hi if v > hi else v)


# ---------------------------------------------------------------------------------------------
# The master finger: area, pattern class, singular points, orientation field


@njit(cache=True)
def _draw_class(mp: np.ndarray, finger: int, u: float) -> int:
    row = MASTER_CLASSES_AT + 5 * (finger - 1)
    for k in range(5):
        if u < mp[row + k]:
            return k + 1
    return WHORL


@njit(cache=True)
def _set_singularities(fp: np.ndarray, cls: int, st: np.ndarray) -> None:
    """Cores and deltas of the pattern class, in finger coordinates (Y up)."""
    a, b = fp[F_A], fp[F_B]
    fp[F_NCORE] = 0.0
    fp[F_NDELTA] = 0.0
    cx = 0.06 * a * _normal(st)
    cy = 0.05 * b + 0.07 * b * _normal(st)
    if cls == LEFT_LOOP or cls == RIGHT_LOOP:
        # a left loop opens to the left, so its delta lies to the right, below the core
        side = 1.0 if cls == LEFT_LOOP else -1.0
        fp[F_NCORE] = 1.0
        fp[F_CORES] = cx
        fp[F_CORES + 1] = cy
        fp[F_NDELTA] = 1.0
        fp[F_DELTAS] = cx + side * a * (0.35 + 0.40 * _uniform(st))
        fp[F_DELTAS + 1] = cy - b * (0.35 + 0.30 * _uniform(st))
        fp[F_CURV_Y0] = cy
    elif cls == TENTED_ARCH:
        fp[F_NCORE] = 1.0
        fp[F_CORES] = cx
        fp[F_CORES + 1] = cy
        fp[F_NDELTA] = 1.0
        fp[F_DELTAS] = cx + 0.05 * a * _normal(st)
        fp[F_DELTAS + 1] = cy - b * (0.15 + 0.20 * _uniform(st))
        fp[F_CURV_Y0] = cy
    elif cls == WHORL:
        gap = 10.0 + 35.0 * _uniform(st)
        tilt = 0.5 * math.pi + 0.6 * _normal(st)
        dx, dy = 0.5 * gap * math.cos(tilt), 0.5 * gap * math.sin(tilt)
        fp[F_NCORE] = 2.0
        fp[F_CORES] = cx + dx
        fp[F_CORES + 1] = cy + dy
        fp[F_CORES + 2] = cx - dx
        fp[F_CORES + 3] = cy - dy
        fp[F_NDELTA] = 2.0
        low = cy - b * (0.35 + 0.25 * _uniform(st))
        fp[F_DELTAS] = cx - a * (0.45 + 0.35 * _uniform(st))
        fp[F_DELTAS + 1] = low + 0.08 * b * _normal(st)
        fp[F_DELTAS + 2] = cx + a * (0.45 + 0.35 * _uniform(st))
        fp[F_DELTAS + 3] = low + 0.08 * b * _normal(st)
        fp[F_CURV_Y0] = cy + abs(dy)
    else:  # plain arch: no singular point, ridges bent over a bump
        s = a * (0.45 + 0.35 * _uniform(st))
        fp[F_ARCH_S] = s
        fp[F_ARCH_H] = s * (0.25 + 0.45 * _uniform(st))
        fp[F_CORES] = cx  # kept for the density weighting only
        fp[F_CORES + 1] = cy
        fp[F_CURV_Y0] = cy


@njit(cache=True)
def _setup_master(
    mp: np.ndarray,
    seed: np.uint64,
    identity: np.uint64,
    finger: int,
    fp: np.ndarray,
    st: np.ndarray,
) -> int:
    """Draw the finger's area, class, field and minutiae count into fp; return the count.

    Leaves st at the point where the minutiae's own draws start."""
    st[0] = stream_key(seed, DOMAIN_HAND, identity, 0, 0)
    hand = math.exp(mp[M_HAND_SD] * _normal(st))
    st[0] = stream_key(seed, DOMAIN_MASTER, identity, finger, 0)
    size = hand * mp[MASTER_SIZES_AT + finger - 1] * math.exp(mp[M_FINGER_SD] * _normal(st))
    fw, fh, edge = mp[M_FRAME_W], mp[M_FRAME_H], mp[M_EDGE]
    width = _clip(mp[M_W_MEAN] * size, mp[M_W_MIN], mp[M_W_MAX])
    aspect = mp[M_ASPECT_MIN] + (mp[M_ASPECT_MAX] - mp[M_ASPECT_MIN]) * _uniform(st)
    width = min(width, fw - 2.0 * edge - 2.0)
    height = min(width * aspect, fh - 2.0 * edge - 2.0)
    a, b = 0.5 * width, 0.5 * height
    slack_x, slack_y = 0.5 * fw - edge - a, 0.5 * fh - edge - b
    fp[F_CX] = 0.5 * fw + _clip(0.3 * slack_x * _normal(st), -slack_x, slack_x)
    fp[F_CY] = 0.5 * fh + _clip(0.3 * slack_y * _normal(st), -slack_y, slack_y)
    fp[F_A] = a
    fp[F_B] = b
    cls = _draw_class(mp, finger, _uniform(st))
    fp[F_CLASS] = float(cls)
    _set_singularities(fp, cls, st)
    fp[F_THETA0] = 0.04 * _normal(st)
    fp[F_CURV] = mp[M_CURV_MIN] + (mp[M_CURV_MAX] - mp[M_CURV_MIN]) * _uniform(st)
    fp[F_WAVE_A] = mp[M_PERTURBATION] * (0.5 + 0.5 * _uniform(st))
    wavelength = 150.0 + 200.0 * _uniform(st)
    heading = math.pi * _uniform(st)
    fp[F_WAVE_KX] = TWO_PI / wavelength * math.cos(heading)
    fp[F_WAVE_KY] = TWO_PI / wavelength * math.sin(heading)
    fp[F_WAVE_PH] = TWO_PI * _uniform(st)
    wavelength = 300.0 + 300.0 * _uniform(st)
    heading = math.pi * _uniform(st)
    fp[F_SIGN_KX] = TWO_PI / wavelength * math.cos(heading)
    fp[F_SIGN_KY] = TWO_PI / wavelength * math.sin(heading)
    fp[F_SIGN_PH] = TWO_PI * _uniform(st)
    sd = mp[M_DENSITY_SD]
    density = mp[M_DENSITY] * math.exp(sd * _normal(st) - 0.5 * sd * sd)
    count = int(density * _SHAPE_AREA * a * b + 0.5)
    count = max(1, min(count, int(mp[M_CAP])))
    fp[F_COUNT] = float(count)
    return count


@njit(cache=True)
def ridge_orientation(fp: np.ndarray, x: float, y: float) -> float:
    """Ridge orientation (ISO angle, radians, defined modulo pi) at image point (x, y).

    Zero-pole model (Sherlock and Monro, "A model for interpreting fingerprint topology",
    Pattern Recognition 26(7), 1993): theta = theta0 + (sum of arg(z - core) - sum of
    arg(z - delta)) / 2 with z = X + iY (Y up: a core turns the orientation by +pi on a
    counter-clockwise loop around it, a delta by -pi); a plain arch has no singular point
    and bends over a Gaussian bump.
    Above the cores ridges bend further to follow the fingertip, and a slow wave of a few
    degrees keeps fingers of one class from sharing one field.
    """
    X = x - fp[F_CX]
    Y = fp[F_CY] - y
    a, b = fp[F_A], fp[F_B]
    theta = fp[F_THETA0]
    if int(fp[F_CLASS]) == ARCH:
        s = fp[F_ARCH_S]
        h = fp[F_ARCH_H] * _clip(0.5 + Y / (1.2 * b), 0.0, 1.0)
        g = X / s
        theta += math.atan(-2.0 * h * g / s * math.exp(-g * g))
    else:
        acc = 0.0
        for k in range(int(fp[F_NCORE])):
            acc += _atan2(Y - fp[F_CORES + 2 * k + 1], X - fp[F_CORES + 2 * k])
        for k in range(int(fp[F_NDELTA])):
            acc -= _atan2(Y - fp[F_DELTAS + 2 * k + 1], X - fp[F_DELTAS + 2 * k])
        theta += 0.5 * acc
    y0 = fp[F_CURV_Y0]
    if Y > y0:
        theta -= fp[F_CURV] * (X / a) * min(1.0, (Y - y0) / (b - y0 + 1e-9))
    theta += fp[F_WAVE_A] * math.sin(fp[F_WAVE_KX] * X + fp[F_WAVE_KY] * Y + fp[F_WAVE_PH])
    return float(theta)


@njit(cache=True)
def _inside_finger(fp: np.ndarray, x: float, y: float) -> bool:
    """Finger area: an elliptic fingertip over a squarer (superelliptic) base."""
    u = (x - fp[F_CX]) / fp[F_A]
    v = (fp[F_CY] - y) / fp[F_B]
    u2, v2 = u * u, v * v
    if v >= 0.0:
        return bool(u2 + v2 <= 1.0)
    return bool(u2 * u2 + v2 * v2 <= 1.0)


@njit(cache=True)
def _singular_point(fp: np.ndarray, k: int) -> tuple[float, float]:
    """Image position of singular point k: the cores, then the deltas (an arch: its centre)."""
    n_core = int(fp[F_NCORE])
    if k < max(1, n_core):
        X, Y = fp[F_CORES + 2 * k], fp[F_CORES + 2 * k + 1]
    else:
        X, Y = fp[F_DELTAS + 2 * (k - n_core)], fp[F_DELTAS + 2 * (k - n_core) + 1]
    return fp[F_CX] + X, fp[F_CY] - Y


@njit(cache=True)
def _quality(mp: np.ndarray, u: float) -> float:
    """Extractor-like quality: most minutiae near the top, a tail down to max - span."""
    return float(mp[M_Q_MAX] - mp[M_Q_SPAN] * u * u * u)


@njit(cache=True)
def _spaced(
    grid: np.ndarray, gw: int, gh: int, d: float, xs: np.ndarray, ys: np.ndarray, x: float, y: float
) -> bool:
    """No minutia already on the grid lies closer than d to (x, y)."""
    gx, gy = int(x / d), int(y / d)
    d2 = d * d
    for j in range(max(0, gy - 1), min(gh, gy + 2)):
        for i in range(max(0, gx - 1), min(gw, gx + 2)):
            cell = j * gw + i
            for s in range(grid[cell, 0]):
                k = grid[cell, 1 + s]
                ex, ey = xs[k] - x, ys[k] - y
                if ex * ex + ey * ey < d2:
                    return False
    return True


@njit(cache=True)
def _put(
    mp: np.ndarray,
    st: np.ndarray,
    grid: np.ndarray,
    gw: int,
    d: float,
    k: int,
    x: float,
    y: float,
    theta: float,
    xs: np.ndarray,
    ys: np.ndarray,
    angles: np.ndarray,
    kinds: np.ndarray,
    qualities: np.ndarray,
) -> None:
    """Store minutia k and enter it on the spacing grid."""
    cell = int(y / d) * gw + int(x / d)
    if grid[cell, 0] < _GRID_SLOTS:
        grid[cell, 1 + grid[cell, 0]] = k
        grid[cell, 0] += 1
    xs[k] = x
    ys[k] = y
    angles[k] = theta
    kinds[k] = 1 if _uniform(st) < mp[M_ENDING] else 2
    qualities[k] = _quality(mp, _uniform(st))


@njit(cache=True)
def _place_master(
    mp: np.ndarray,
    fp: np.ndarray,
    st: np.ndarray,
    count: int,
    grid: np.ndarray,
    xs: np.ndarray,
    ys: np.ndarray,
    angles: np.ndarray,
    kinds: np.ndarray,
    qualities: np.ndarray,
) -> None:
    """Place `count` minutiae in the finger area, Poisson-disc spaced (dart throwing on a grid
    of cells of side min_distance), each along the local ridge orientation, some with a
    partner facing them along the ridge."""
    d = mp[M_MIN_DIST]
    gw = int(mp[M_FRAME_W] / d) + 1
    gh = int(mp[M_FRAME_H] / d) + 1
    cx, cy, a, b = fp[F_CX], fp[F_CY], fp[F_A], fp[F_B]
    dir_sd, coherence, paired = mp[M_DIRECTION_SD], mp[M_COHERENCE], mp[M_PAIRED]
    pair_min, pair_span = mp[M_PAIRED_MIN], mp[M_PAIRED_MAX] - mp[M_PAIRED_MIN]
    # density 1 + gain * (a Gaussian bump at each singular point), drawn as a mixture
    radius = mp[M_CORE_RADIUS]
    n_sing = max(1, int(fp[F_NCORE])) + int(fp[F_NDELTA])
    bumps = n_sing * mp[M_CORE_GAIN] * TWO_PI * radius * radius
    p_bump = bumps / (bumps + _SHAPE_AREA * a * b)
    spaced_attempts = 60 * count + 200  # then spacing gives way, so the count is always met
    placed = 0
    attempts = 0
    while placed < count:
        attempts += 1
        if _uniform(st) < p_bump:
            sx, sy = _singular_point(fp, min(n_sing - 1, int(_uniform(st) * n_sing)))
            x = sx + radius * _normal(st)
            y = sy + radius * _normal(st)
        else:
            x = cx + a * (2.0 * _uniform(st) - 1.0)
            y = cy + b * (2.0 * _uniform(st) - 1.0)
        if not _inside_finger(fp, x, y):
            continue
        if attempts <= spaced_attempts and not _spaced(grid, gw, gh, d, xs, ys, x, y):
            continue
        theta = ridge_orientation(fp, x, y) + dir_sd * _normal(st)
        wave = math.sin(fp[F_SIGN_KX] * (x - cx) + fp[F_SIGN_KY] * (cy - y) + fp[F_SIGN_PH])
        wave = _clip(2.0 * wave, -1.0, 1.0)  # broad regions that agree, narrow seams
        if _uniform(st) * 2.0 > 1.0 + coherence * wave:
            theta += math.pi
        _put(mp, st, grid, gw, d, placed, x, y, theta, xs, ys, angles, kinds, qualities)
        placed += 1
        if placed < count and _uniform(st) < paired:
            # the partner sits behind it along the ridge and faces the other way
            length = pair_min + pair_span * _uniform(st)
            px = x - length * math.cos(theta)
            py = y + length * math.sin(theta)
            if _inside_finger(fp, px, py) and _spaced(grid, gw, gh, d, xs, ys, px, py):
                back = theta + math.pi + dir_sd * _normal(st)
                _put(mp, st, grid, gw, d, placed, px, py, back, xs, ys, angles, kinds, qualities)
                placed += 1
    for k in range(placed):  # leave the grid empty for the next finger (cheaper than a reset)
        grid[int(ys[k] / d) * gw + int(xs[k] / d), 0] = 0


@njit(cache=True)
def _angle32(theta: float) -> np.float32:
    """theta reduced to [0, 2 pi) as float32 (rounding must not reach 2 pi)."""
    t = np.float32(theta % TWO_PI)
    if t >= _TWO_PI_F32 or t < 0:
        t = np.float32(0.0)
    return t


@njit(cache=True)
def _quality8(q: float) -> np.uint8:
    return np.uint8(int(_clip(q + 0.5, 1.0, 100.0)))


# the capture of one impression, as the kernels keep it (float64 vector)
T_CCX, T_CCY, T_AC, T_BC, T_AI, T_BI = 0, 1, 2, 3, 4, 5  # contact centre, semi-axes, inner
T_COS, T_SIN, T_TX, T_TY = 6, 7, 8, 9  # rigid placement
T_TWIST, T_TCOS, T_TSIN, T_SX, T_SY = 10, 11, 12, 13, 14  # skin distortion
T_PHI = 15
T_JITTER = 16  # jitter factor of this capture's condition
T_SIZE = 17


@njit(cache=True)
def _draw_capture(ip: np.ndarray, fp: np.ndarray, st: np.ndarray, tf: np.ndarray) -> None:
    """Contact area, placement and distortion of one impression into tf."""
    a, b = fp[F_A], fp[F_B]
    ac = a * (ip[I_CW_MIN] + (ip[I_CW_MAX] - ip[I_CW_MIN]) * _uniform(st))
    bc = b * (ip[I_CH_MIN] + (ip[I_CH_MAX] - ip[I_CH_MIN]) * _uniform(st))
    tf[T_CCX] = fp[F_CX] + a * ip[I_SHIFT_X_SD] * _normal(st)
    tf[T_CCY] = fp[F_CY] - b * (ip[I_SHIFT_Y_MEAN] + ip[I_SHIFT_Y_SD] * _normal(st))
    tf[T_AC], tf[T_BC] = ac, bc
    tf[T_AI] = max(ac - ip[I_BORDER], 10.0)
    tf[T_BI] = max(bc - ip[I_BORDER], 10.0)
    rot_sd = ip[I_ROT_TAIL_SD] if _uniform(st) < ip[I_ROT_TAIL] else ip[I_ROT_SD]
    phi = _clip(rot_sd * _normal(st), -ip[I_ROT_MAX], ip[I_ROT_MAX])
    tf[T_PHI], tf[T_COS], tf[T_SIN] = phi, math.cos(phi), math.sin(phi)
    tf[T_TX] = 0.5 * ip[I_FRAME_W] + ip[I_TRANS_SD] * _normal(st)
    tf[T_TY] = 0.5 * ip[I_FRAME_H] + ip[I_TRANS_SD] * _normal(st)
    twist = ip[I_TWIST_SD] * _normal(st)
    tf[T_TWIST], tf[T_TCOS], tf[T_TSIN] = twist, math.cos(twist), math.sin(twist)
    tf[T_SX] = ip[I_SHIFT_SD] * _normal(st)
    tf[T_SY] = ip[I_SHIFT_SD] * _normal(st)


@njit(cache=True)
def _emit(
    ip: np.ndarray,
    tf: np.ndarray,
    st: np.ndarray,
    x: float,
    y: float,
    theta: float,
    kind: np.uint8,
    q: float,
    row: int,
    out: int,
    bx: np.ndarray,
    by: np.ndarray,
    ba: np.ndarray,
    bk: np.ndarray,
    bq: np.ndarray,
) -> int:
    """Carry one minutia from the master into the impression's frame (with the extractor's
    jitter and quality noise); return the row's new count."""
    # distortion (Cappelli-Maio-Maltoni): the displacement grows from nothing in the
    # close-contact core to its full size at the contact border (a smoothstep brake)
    dx, dy = x - tf[T_CCX], y - tf[T_CCY]
    r = math.sqrt((dx / tf[T_AC]) ** 2 + (dy / tf[T_BC]) ** 2)
    r0 = ip[I_CLOSE]
    t = _clip((r - r0) / (1.0 - r0), 0.0, 1.0)
    brake = t * t * (3.0 - 2.0 * t)
    ct, stw = tf[T_TCOS], tf[T_TSIN]
    ex = (ct * dx + stw * dy - dx + tf[T_SX]) * brake
    ey = (-stw * dx + ct * dy - dy + tf[T_SY]) * brake
    dx += ex
    dy += ey
    theta += tf[T_TWIST] * brake
    # rigid placement, then the extractor's jitter
    cp, sp = tf[T_COS], tf[T_SIN]
    pos_sd = ip[I_POS_SD] * tf[T_JITTER]
    nx, ny = _normal_pair(st)
    px = tf[T_TX] + cp * dx + sp * dy + pos_sd * nx
    py = tf[T_TY] - sp * dx + cp * dy + pos_sd * ny
    na, nq = _normal_pair(st)
    theta += tf[T_PHI] + ip[I_ANGLE_SD] * tf[T_JITTER] * na
    q += ip[I_Q_SD] * nq
    if _uniform(st) < ip[I_KIND_FLIP]:
        kind = np.uint8(3) - kind
    border = ip[I_BORDER]
    if px < border or py < border:
        return out
    if px > ip[I_FRAME_W] - 1.0 - border or py > ip[I_FRAME_H] - 1.0 - border:
        return out
    if out >= bx.shape[1]:
        return out
    d2 = ip[I_MIN_DIST] * ip[I_MIN_DIST]
    for j in range(out):  # the extractor's own spacing: a later close one is dropped
        ex, ey = bx[row, j] - px, by[row, j] - py
        if ex * ex + ey * ey < d2:
            return out
    bx[row, out] = np.float32(px)
    by[row, out] = np.float32(py)
    ba[row, out] = _angle32(theta)
    bk[row, out] = kind
    bq[row, out] = _quality8(q)
    return out + 1


@njit(cache=True)
def _capture(
    mp: np.ndarray,
    ip: np.ndarray,
    fp: np.ndarray,
    st: np.ndarray,
    tf: np.ndarray,
    count: int,
    xs: np.ndarray,
    ys: np.ndarray,
    th: np.ndarray,
    kd: np.ndarray,
    qs: np.ndarray,
    row: int,
    bx: np.ndarray,
    by: np.ndarray,
    ba: np.ndarray,
    bk: np.ndarray,
    bq: np.ndarray,
) -> int:
    """One impression of the master held in xs..qs, written to row `row` of the buffers."""
    _draw_capture(ip, fp, st, tf)
    condition = _uniform(st) ** ip[I_CONDITION]  # 0 clean ... 1 a dry or wet finger
    p_miss = ip[I_MISS_MIN] + (ip[I_MISS_MAX] - ip[I_MISS_MIN]) * condition
    p_spur = ip[I_SPUR_MIN] + (ip[I_SPUR_MAX] - ip[I_SPUR_MIN]) * condition
    tf[T_JITTER] = 1.0 + condition * (ip[I_POOR_JITTER] - 1.0)
    ccx, ccy, ai, bi = tf[T_CCX], tf[T_CCY], tf[T_AI], tf[T_BI]
    out = 0
    kept = 0
    for k in range(count):  # master minutiae in contact, less those the extractor misses
        u, v = (xs[k] - ccx) / ai, (ys[k] - ccy) / bi
        if u * u + v * v > 1.0 or _uniform(st) < p_miss:
            continue
        kept += 1
        out = _emit(ip, tf, st, xs[k], ys[k], th[k], kd[k], qs[k], row, out, bx, by, ba, bk, bq)
    ending = mp[M_ENDING]
    for _ in range(_poisson(st, p_spur * kept)):  # spurious ones, along the ridges too
        found = False
        x, y = ccx, ccy
        for _ in range(30):
            u, v = 2.0 * _uniform(st) - 1.0, 2.0 * _uniform(st) - 1.0
            x, y = ccx + ai * u, ccy + bi * v
            if u * u + v * v <= 1.0 and _inside_finger(fp, x, y):
                found = True
                break
        if not found:
            continue
        theta = ridge_orientation(fp, x, y)
        if _uniform(st) < 0.5:
            theta += math.pi
        kind = np.uint8(1) if _uniform(st) < ending else np.uint8(2)
        q = 0.5 * (_quality(mp, _uniform(st)) + _quality(mp, 1.0))  # spurious: lower
        out = _emit(ip, tf, st, x, y, theta, kind, q, row, out, bx, by, ba, bk, bq)
    return out


# ---------------------------------------------------------------------------------------------
# Batch kernels: each fills rows [r0, r1) and releases the GIL, so threads can share a batch


@njit(cache=True, nogil=True)
def master_counts(
    seed: np.uint64,
    identities: np.ndarray,
    fingers: np.ndarray,
    mp: np.ndarray,
    counts: np.ndarray,
    classes: np.ndarray,
    r0: int,
    r1: int,
) -> None:
    """Minutiae count and pattern class of (identity, finger) rows r0..r1, identity-major."""
    nf = fingers.size
    fp = np.zeros(F_SIZE)
    st = np.zeros(1, np.uint64)
    for r in range(r0, r1):
        counts[r] = _setup_master(mp, seed, identities[r // nf], fingers[r % nf], fp, st)
        classes[r] = np.uint8(int(fp[F_CLASS]))


@njit(cache=True, nogil=True)
def master_fill(
    seed: np.uint64,
    identities: np.ndarray,
    fingers: np.ndarray,
    mp: np.ndarray,
    offsets: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    angle: np.ndarray,
    kind: np.ndarray,
    quality: np.ndarray,
    r0: int,
    r1: int,
) -> None:
    """Write the minutiae of master rows r0..r1 at their offsets (from `master_counts`)."""
    nf = fingers.size
    cap = int(mp[M_CAP])
    cells = (int(mp[M_FRAME_W] / mp[M_MIN_DIST]) + 1) * (int(mp[M_FRAME_H] / mp[M_MIN_DIST]) + 1)
    fp = np.zeros(F_SIZE)
    st = np.zeros(1, np.uint64)
    grid = np.zeros((cells, 1 + _GRID_SLOTS), np.int32)
    xs, ys, th, qs = np.zeros(cap), np.zeros(cap), np.zeros(cap), np.zeros(cap)
    kd = np.zeros(cap, np.uint8)
    for r in range(r0, r1):
        count = _setup_master(mp, seed, identities[r // nf], fingers[r % nf], fp, st)
        _place_master(mp, fp, st, count, grid, xs, ys, th, kd, qs)
        o = offsets[r]
        for k in range(count):
            x[o + k] = np.float32(xs[k])
            y[o + k] = np.float32(ys[k])
            angle[o + k] = _angle32(th[k])
            kind[o + k] = kd[k]
            quality[o + k] = _quality8(qs[k])


@njit(cache=True, nogil=True)
def impression_fill(
    seed: np.uint64,
    domain: int,
    identities: np.ndarray,
    fingers: np.ndarray,
    impressions: np.ndarray,
    mp: np.ndarray,
    ip: np.ndarray,
    counts: np.ndarray,
    bx: np.ndarray,
    by: np.ndarray,
    ba: np.ndarray,
    bk: np.ndarray,
    bq: np.ndarray,
    r0: int,
    r1: int,
) -> None:
    """Impression impressions[r] of (identities[r], fingers[r]) into buffer row r, for r in
    r0..r1; counts[r] is its number of minutiae."""
    cap = int(mp[M_CAP])
    cells = (int(mp[M_FRAME_W] / mp[M_MIN_DIST]) + 1) * (int(mp[M_FRAME_H] / mp[M_MIN_DIST]) + 1)
    fp = np.zeros(F_SIZE)
    st = np.zeros(1, np.uint64)
    grid = np.zeros((cells, 1 + _GRID_SLOTS), np.int32)
    xs, ys, th, qs = np.zeros(cap), np.zeros(cap), np.zeros(cap), np.zeros(cap)
    kd = np.zeros(cap, np.uint8)
    tf = np.zeros(T_SIZE)
    for r in range(r0, r1):
        identity, finger = identities[r], fingers[r]
        count = _setup_master(mp, seed, identity, finger, fp, st)
        _place_master(mp, fp, st, count, grid, xs, ys, th, kd, qs)
        st[0] = stream_key(seed, domain, identity, finger, impressions[r])
        counts[r] = _capture(mp, ip, fp, st, tf, count, xs, ys, th, kd, qs, r, bx, by, ba, bk, bq)


@njit(cache=True, nogil=True)
def compact(
    counts: np.ndarray,
    offsets: np.ndarray,
    bx: np.ndarray,
    by: np.ndarray,
    ba: np.ndarray,
    bk: np.ndarray,
    bq: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    angle: np.ndarray,
    kind: np.ndarray,
    quality: np.ndarray,
) -> None:
    """Copy the first counts[r] entries of buffer row r to offsets[r] of the flat arrays."""
    for r in range(counts.size):
        o = offsets[r]
        for k in range(counts[r]):
            x[o + k] = bx[r, k]
            y[o + k] = by[r, k]
            angle[o + k] = ba[r, k]
            kind[o + k] = bk[r, k]
            quality[o + k] = bq[r, k]


@njit(cache=True)
def finger_geometry(
    seed: np.uint64, identity: np.uint64, finger: int, mp: np.ndarray
) -> np.ndarray:
    """The geometry vector of one master (for plots and tests)."""
    fp = np.zeros(F_SIZE)
    st = np.zeros(1, np.uint64)
    _setup_master(mp, seed, identity, finger, fp, st)
    return fp
