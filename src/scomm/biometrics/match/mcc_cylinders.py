"""MCC-B bit cylinders (Cappelli, Ferrara, Maltoni, TPAMI 2010, sec. 3) and the geometry of a
prepared template, as numba kernels shared by `MatcherTemplate` and `mcc_batch`.

Coordinates here are in a y-up frame (Y = -y of the image), so a minutia's direction vector
is (cos theta, sin theta) for ISO/IEC 19794-2 angles (counter-clockwise, y down).

`MccMatcher.prepare` (one template) and `prepare_packed` (a batch) run these same kernels,
so they agree bit for bit.  The kernels compute what the numpy formulation computed,
operation for operation (same operand order, no fused multiply-adds, numpy's float remainder
for wrapping angles, each cell's sum over the neighbours in index order as `np.einsum` adds
them up), except:

* a cell's bit is decided from lookup tables of the two Gaussian contributions when their
  error bound puts the sum clearly on one side of mu_psi, else from the exact sum (exp, erf),
  so the bits are those of the exact formula; the few borderline cells cost microseconds;
* distances use glibc's hypot algorithm (>= 2.35, Borges 2019, without FMA) in plain
  arithmetic: the values of np.hypot on glibc x86-64, and deterministic elsewhere;
* radial angles use `atan2_1` (Cephes' rational arctangent, plain arithmetic), within 1 ulp
  of the C library's atan2, which costs 30 ns a call: about one radial angle in twenty
  differs from np.arctan2's by 1 ulp (at most 1.8e-15 after wrapping).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from numba import njit

from scomm.biometrics.match.mcc_kernels import popcount64
from scomm.biometrics.match.mcc_params import CylinderParams

TWO_PI = 2.0 * math.pi
GS_STEPS = 2048  # spatial lookup table: intervals over 0 .. (3 sigma_s)^2
CD_STEPS = 2048  # directional lookup table: intervals over -pi .. pi (64 KiB at nd = 4)
ERF2_MAX = 4.0 / math.sqrt(math.pi) * math.sqrt(0.5) * math.exp(-0.5)  # max |erf''|
TERM_SLACK = 1e-13  # rounding of table entries, lookups and sums, far above its worst case

# indices into CylinderTables.consts
_C_TWO_SIGMA2 = 0  # 2 sigma_s^2
_C_NORM = 1  # sigma_s sqrt(2 pi)
_C_CUTOFF = 2  # (3 sigma_s)^2
_C_HALF = 3  # half a direction section
_C_SCALE = 4  # 1 / (sigma_d sqrt 2)
_C_MU = 5
_C_OMEGA = 6
_C_MIN_CELLS = 7  # min_vc * disk cells
_C_NEIGHBOUR_R = 8  # radius + 3 sigma_s
_C_MIN_M = 9
_C_STEP = 10  # cell side
_C_RMAX = 11  # largest distance of a disk cell's centre from the minutia
_C_GS_INV = 12
_C_CD_INV = 13
_C_TOL = 14  # error bound of one lookup-table term
_C_EDGE = 15  # squared distances this near (3 sigma_s)^2 are recomputed as numpy did
_N_CONSTS = 16


@dataclass(frozen=True, eq=False)
class CylinderTables:
    """What the cylinder kernel needs of `CylinderParams`: the ns x ns cell offsets (row-major,
    cell = j * ns + i), the cells of the disk and each cell's slot among them (outside the
    disk: len(disk_cells)), the disk as packed words, constants (see _C_*), the direction
    sections' centres, the wraps (-2 pi, 0, 2 pi) and the lookup tables of the two Gaussian
    contributions (`_fill_tables`)."""

    ns: int
    nd: int
    wp: int
    u: np.ndarray
    v: np.ndarray
    disk_cells: np.ndarray
    slot: np.ndarray
    disk_words: np.ndarray
    consts: np.ndarray
    centres: np.ndarray
    wraps: np.ndarray
    gs_lut: np.ndarray
    cd_lut: np.ndarray


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


@lru_cache(maxsize=16)
def disk_words(ns: int, radius: float) -> np.ndarray:
    """The cells of the disk as the words of one packed plane (a full cylinder's mask)."""
    words = _pack(
        cell_offsets(CylinderParams(radius=radius, ns=ns))[2][None, :], words_per_plane(ns)
    )
    words.flags.writeable = False
    row: np.ndarray = words[0]
    return row


@lru_cache(maxsize=16)
def cylinder_tables(p: CylinderParams) -> CylinderTables:
    """The tables for `p` (cached: parameters are frozen)."""
    wp = words_per_plane(p.ns)
    u, v, disk = cell_offsets(p)
    disk_cells = np.flatnonzero(disk).astype(np.int64)
    slot = np.full(p.ns * p.ns, len(disk_cells), dtype=np.int64)  # outside: a dummy slot
    slot[disk_cells] = np.arange(len(disk_cells))
    step = 2.0 * math.pi / p.nd
    centres = -math.pi + (np.arange(p.nd) + 0.5) * step  # as the numpy original computed them
    consts = np.zeros(_N_CONSTS, dtype=np.float64)
    consts[_C_TWO_SIGMA2] = 2.0 * p.sigma_s**2
    consts[_C_NORM] = p.sigma_s * math.sqrt(2.0 * math.pi)
    consts[_C_CUTOFF] = (3.0 * p.sigma_s) ** 2
    consts[_C_HALF] = step / 2.0
    consts[_C_SCALE] = 1.0 / (p.sigma_d * math.sqrt(2.0))
    consts[_C_MU] = p.mu_psi
    consts[_C_OMEGA] = p.omega
    consts[_C_MIN_CELLS] = p.min_vc * disk.sum()
    consts[_C_NEIGHBOUR_R] = p.radius + 3.0 * p.sigma_s
    consts[_C_MIN_M] = p.min_m
    consts[_C_STEP] = 2.0 * p.radius / p.ns
    consts[_C_RMAX] = float(np.sqrt((u[disk] ** 2 + v[disk] ** 2).max())) if disk.any() else 0.0
    consts[_C_GS_INV] = GS_STEPS / consts[_C_CUTOFF]
    consts[_C_CD_INV] = CD_STEPS / TWO_PI
    wraps = np.array([-2.0 * math.pi, 0.0, 2.0 * math.pi])
    gs_lut = np.zeros(GS_STEPS + 2)
    cd_lut = np.zeros((CD_STEPS + 2, p.nd))
    _fill_tables(consts, centres, wraps, gs_lut, cd_lut)
    # linear interpolation errs by at most h^2 / 8 max|f''|: G_s(d2) = exp(-d2 / a) / b has
    # f'' <= 1 / (b a^2); each section's G_d is half a sum over 3 periods of differences of
    # erf(s .), so |f''| <= 3 s^2 max|erf''|.  A term is G_s G_d, G_s <= 1 / b, G_d <= 1.
    a, b = consts[_C_TWO_SIGMA2], consts[_C_NORM]
    gs_err = (1.0 / consts[_C_GS_INV]) ** 2 / 8.0 / (b * a * a)
    cd_err = (1.0 / consts[_C_CD_INV]) ** 2 / 8.0 * 3.0 * consts[_C_SCALE] ** 2 * ERF2_MAX
    consts[_C_TOL] = gs_err * (1.0 + cd_err) + cd_err / b + TERM_SLACK
    consts[_C_EDGE] = 1e-6  # px^2; the two ways of computing one differ by about 1e-11
    return CylinderTables(
        p.ns,
        p.nd,
        wp,
        u,
        v,
        disk_cells,
        slot,
        disk_words(p.ns, p.radius),
        consts,
        centres,
        wraps,
        gs_lut,
        cd_lut,
    )


# ---------------------------------------------------------------------------------------------
# scalar helpers


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
def _atan_core(a: float, b: float) -> float:
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
def _atan_quadrant(core: float, y: float, x: float) -> float:
    """atan2(y, x) from `_atan_core(|x|, |y|)`; signed zeros as C's atan2 treats them."""
    r = _PI_HI - (core - _PI_LO) if math.copysign(1.0, x) < 0.0 else core
    return math.copysign(r, y)


@njit(cache=True, inline="always", error_model="numpy")
def atan2_1(y: float, x: float) -> float:
    """atan2 in plain arithmetic, within 1 ulp of the C library's (2 below 1e-3)."""
    return _atan_quadrant(_atan_core(abs(x), abs(y)), y, x)


@njit(cache=True, inline="always", error_model="numpy")
def _cd_exact(
    dtheta: float, k: int, consts: np.ndarray, centres: np.ndarray, wraps: np.ndarray
) -> float:
    """Directional contribution to section k: the Gaussian of the direction difference
    integrated over the section, with the angle's two neighbouring periods."""
    half = consts[_C_HALF]
    scale = consts[_C_SCALE]
    s = 0.0
    for w in range(3):
        diff = dtheta + wraps[w] - centres[k]
        hi = math.erf((diff + half) * scale)
        lo = math.erf((diff - half) * scale)
        s += 0.5 * (hi - lo)
    return s


@njit(cache=True, error_model="numpy")
def _fill_tables(
    consts: np.ndarray,
    centres: np.ndarray,
    wraps: np.ndarray,
    gs_lut: np.ndarray,
    cd_lut: np.ndarray,
) -> None:
    """The spatial contribution at d2 = i / gs_inv, the directional one at
    dtheta = -pi + i / cd_inv for each section (one spare entry past each range's end)."""
    for i in range(gs_lut.shape[0]):
        gs_lut[i] = math.exp(-(i / consts[_C_GS_INV]) / consts[_C_TWO_SIGMA2]) / consts[_C_NORM]
    for i in range(cd_lut.shape[0]):
        for k in range(centres.shape[0]):
            cd_lut[i, k] = _cd_exact(-math.pi + i / consts[_C_CD_INV], k, consts, centres, wraps)


# ---------------------------------------------------------------------------------------------
# template geometry


@njit(cache=True, error_model="numpy")
def stable_argsort(a: np.ndarray, order: np.ndarray) -> None:
    """order = numpy's argsort(a, kind="stable") (insertion sort: small n, no NaN)."""
    n = a.shape[0]
    for i in range(n):
        order[i] = i
    for i in range(1, n):
        k = order[i]
        v = a[k]
        j = i - 1
        while j >= 0 and a[order[j]] > v:
            order[j + 1] = order[j]
            j -= 1
        order[j + 1] = k


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


@njit(cache=True, inline="always", error_model="numpy")
def _wrap_near(a: float) -> tuple[float, bool]:
    """`wrap1` for a + pi in [-2 pi, 4 pi) (direction and radial differences of angles in
    [0, 2 pi]) without branches, and whether a was outside that range."""
    b = a + math.pi
    r = b - TWO_PI if b >= TWO_PI else b
    r = b + TWO_PI if b < 0.0 else r
    return r - math.pi, (b < -TWO_PI) | (b >= 2.0 * TWO_PI)


@njit(cache=True, inline="always", error_model="numpy")
def _hypot_near(x: float, y: float) -> tuple[float, bool]:
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
            d, o1 = _hypot_near(dx, dy)
            core = _atan_core(abs(dx), abs(dy))
            w1, o2 = _wrap_near(ti - tj)
            w2, o3 = _wrap_near(tj - ti)
            r1, o4 = _wrap_near(ti - _atan_quadrant(core, dy, dx))
            r2, o5 = _wrap_near(tj - _atan_quadrant(core, by, bx))
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


@njit(cache=True, error_model="numpy")
def template_summaries(
    xs: np.ndarray,
    theta: np.ndarray,
    bits: np.ndarray,
    mask: np.ndarray,
    valid: np.ndarray,
    disk_words: np.ndarray,
    tord: np.ndarray,
    tsort: np.ndarray,
    xord: np.ndarray,
    xsort: np.ndarray,
    count: np.ndarray,
    full: np.ndarray,
) -> None:
    """The minutiae in direction order and in x order (indices, sorted values: the comparison
    kernels scan windows of both), each cylinder's set bits and whether its mask is the
    whole disk.  The direction order lists the valid cylinders first (tsort: their
    directions, ascending), then the others (tsort: +inf), so that the local similarities
    visit only the valid ones."""
    n = xs.shape[0]
    stable_argsort(theta, tord)
    stable_argsort(xs, xord)
    nv = 0
    for i in range(n):  # stable partition: valid first
        if valid[tord[i]]:
            xord[nv] = tord[i]  # xord as scratch, sorted again below
            nv += 1
    rest = nv
    for i in range(n):
        if not valid[tord[i]]:
            xord[rest] = tord[i]
            rest += 1
    for i in range(n):
        tord[i] = xord[i]
        tsort[i] = theta[tord[i]] if i < nv else math.inf
    stable_argsort(xs, xord)
    for i in range(n):
        xsort[i] = xs[xord[i]]
        c = 0
        for w in range(bits.shape[1]):
            c += popcount64(bits[i, w])
        count[i] = c
        f = True
        for w in range(mask.shape[1]):
            f &= mask[i, w] == disk_words[w]
        full[i] = f


# ---------------------------------------------------------------------------------------------
# cylinders


@njit(cache=True, error_model="numpy")
def cylinders(
    x: np.ndarray,
    y: np.ndarray,
    theta: np.ndarray,
    planes: np.ndarray,
    dist: np.ndarray,
    dtheta: np.ndarray,
    u: np.ndarray,
    v: np.ndarray,
    disk_cells: np.ndarray,
    slot: np.ndarray,
    consts: np.ndarray,
    centres: np.ndarray,
    wraps: np.ndarray,
    gs_lut: np.ndarray,
    cd_lut: np.ndarray,
    bits: np.ndarray,
    mask: np.ndarray,
    valid: np.ndarray,
) -> None:
    """Bit cylinders of every minutia (x, y in the y-up frame; dist, dtheta from
    `pair_geometry`): bits n x (nd * wp), plane k in words k*wp .. k*wp+wp-1; mask n x wp, the
    valid cells (in the disk and within omega of the hull); valid n, the cylinder may be
    matched (enough valid cells and neighbours).  Cell c of cylinder m is set in section k when
    sum_t G_s(|centre - p_t|) G_d(dtheta_mt, k) >= mu_psi over the other minutiae t within
    3 sigma_s of the centre (TPAMI 2010 eq. 2-7, both Gaussians integrated as bits)."""
    n = x.shape[0]
    nd = centres.shape[0]
    wp = mask.shape[1]
    ns = int(math.sqrt(u.shape[0]) + 0.5)
    nc = disk_cells.shape[0]
    cutoff = consts[_C_CUTOFF]
    mu = consts[_C_MU]
    omega = consts[_C_OMEGA]
    inv_step = 1.0 / consts[_C_STEP]
    rmax = consts[_C_RMAX]
    # margins of 1e-6 px cover rounding: they only widen the approximate searches below
    r3 = math.sqrt(cutoff) + 1e-6
    reach = rmax + r3
    r3_cells = r3 * inv_step
    half_grid = (ns - 1) / 2.0
    gs_inv = consts[_C_GS_INV]
    cd_inv = consts[_C_CD_INV]
    cd_last = cd_lut.shape[0] - 2
    gs_last = float(gs_lut.shape[0] - 2)
    tol = consts[_C_TOL]
    edge_tol = consts[_C_EDGE]
    nr = consts[_C_NEIGHBOUR_R]
    nplanes = planes.shape[0]
    four = nd == 4  # the default: sections unrolled
    grid = u[:ns]  # cell-centre offsets along either axis
    span = min(ns, int(2.0 * r3_cells) + 1)  # most cells a disk of radius r3 spans in a row
    # per disk cell (its slot s; `slot` maps the cells outside the disk to nc): exact centre,
    # valid, terms summed, sums per section; then where each cell's bit goes in its word
    # and which slots each word holds
    cx = np.zeros(nc)
    cy = np.zeros(nc)
    ok = np.zeros(nc, dtype=np.bool_)
    cnt = np.zeros(nc)
    acc = np.zeros((nd, nc))
    cdv = np.zeros(nd)
    shift = np.zeros(nc, dtype=np.uint64)
    first = np.zeros(wp + 1, dtype=np.int64)  # slots first[w] .. first[w + 1] - 1: word w
    for q in range(nc):
        shift[q] = disk_cells[q] % 64
        first[disk_cells[q] // 64 + 1] = q + 1
    for w in range(wp):
        first[w + 1] = max(first[w + 1], first[w])
    active = np.zeros(max(nplanes, 1), dtype=np.int64)
    near = np.zeros(n, dtype=np.int64)  # the minutiae within reach of the cylinder
    hits = np.zeros(span * span, dtype=np.int64)  # the cells within 3 sigma_s of one
    hit_d2 = np.zeros(span * span)
    for m in range(n):
        xm = x[m]
        ym = y[m]
        cm = math.cos(theta[m])
        sm = math.sin(theta[m])
        # the hull's edges near enough to cut cells of this cylinder off (distance to an
        # edge's line is 1-Lipschitz: from further ones, every cell is within omega)
        na = 0
        for h in range(nplanes):
            if planes[h, 0] * xm + planes[h, 1] * ym + planes[h, 2] - rmax - 1e-6 < -omega:
                active[na] = h
                na += 1
        # cell centres as numpy computed them, and which cells are valid
        nvalid = 0
        for s in range(nc):
            c = disk_cells[s]
            px = xm + cm * u[c] - sm * v[c]
            py = ym + sm * u[c] + cm * v[c]
            cx[s] = px
            cy[s] = py
            good = nplanes > 0
            for a in range(na):
                h = active[a]
                if planes[h, 0] * px + planes[h, 1] * py + planes[h, 2] < -omega:
                    good = False
                    break
            ok[s] = good
            nvalid += good
        for w in range(wp):
            word = np.uint64(0)
            for s in range(first[w], first[w + 1]):
                word |= np.uint64(ok[s]) << shift[s]
            mask[m, w] = word
        for s in range(nc):
            cnt[s] = 0.0
            for k in range(nd):
                acc[k, s] = 0.0
        # neighbours, and the minutiae near enough to reach a cell (branch-free: random)
        neighbours = -1  # m itself is at distance 0
        nn = 0
        for t in range(n):
            dmt = dist[m, t]
            neighbours += dmt <= nr
            near[nn] = t
            nn += (dmt <= reach) & (t != m)
        if nvalid == 0:
            nn = 0
        # approximate sums (lookup tables) over the minutiae near each cell
        for q in range(nn):
            t = near[q]
            ex = x[t] - xm
            ey = y[t] - ym
            lu = cm * ex + sm * ey  # t in m's frame
            lv = cm * ey - sm * ex
            i0 = max(0, int(math.ceil(lu * inv_step + half_grid - r3_cells)))
            i1 = min(ns - 1, int(math.floor(lu * inv_step + half_grid + r3_cells)))
            j0 = max(0, int(math.ceil(lv * inv_step + half_grid - r3_cells)))
            j1 = min(ns - 1, int(math.floor(lv * inv_step + half_grid + r3_cells)))
            # the cells within 3 sigma_s, into a list: a fixed count per row and no branches
            # (which cells are in is random); distances from t's coordinates in m's frame,
            # except where one is too near the cut-off to tell
            nh = 0
            edge = False
            for j in range(j0, j1 + 1):
                dv = grid[j] - lv
                dv2 = dv * dv
                row = j * ns
                for a in range(span):
                    i = min(i0 + a, ns - 1)
                    du = grid[i] - lu
                    d2 = du * du + dv2
                    s = slot[row + i]
                    cell = (i0 + a <= i1) & (s < nc)
                    edge |= cell & (abs(d2 - cutoff) <= edge_tol)
                    hits[nh] = s
                    hit_d2[nh] = d2
                    nh += cell & (d2 <= cutoff)
            if edge:
                nh = 0
                for j in range(j0, j1 + 1):
                    for i in range(i0, i1 + 1):
                        s = slot[j * ns + i]
                        if s < nc:
                            dx = cx[s] - x[t]
                            dy = cy[s] - y[t]
                            d2 = dx * dx + dy * dy
                            if d2 <= cutoff:
                                hits[nh] = s
                                hit_d2[nh] = d2
                                nh += 1
            if nh == 0:
                continue
            fd = (dtheta[m, t] + math.pi) * cd_inv
            di = min(int(fd), cd_last)
            fr = fd - di
            c0 = c1 = c2 = c3 = 0.0
            if four:
                c0 = cd_lut[di, 0] + fr * (cd_lut[di + 1, 0] - cd_lut[di, 0])
                c1 = cd_lut[di, 1] + fr * (cd_lut[di + 1, 1] - cd_lut[di, 1])
                c2 = cd_lut[di, 2] + fr * (cd_lut[di + 1, 2] - cd_lut[di, 2])
                c3 = cd_lut[di, 3] + fr * (cd_lut[di + 1, 3] - cd_lut[di, 3])
            else:
                for k in range(nd):
                    cdv[k] = cd_lut[di, k] + fr * (cd_lut[di + 1, k] - cd_lut[di, k])
            for e in range(nh):
                s = hits[e]
                fg = min(hit_d2[e] * gs_inv, gs_last)
                gi = int(fg)
                g = gs_lut[gi] + (fg - gi) * (gs_lut[gi + 1] - gs_lut[gi])
                cnt[s] += 1.0
                if four:
                    acc[0, s] += g * c0
                    acc[1, s] += g * c1
                    acc[2, s] += g * c2
                    acc[3, s] += g * c3
                else:
                    for k in range(nd):
                        acc[k, s] += g * cdv[k]
        valid[m] = nvalid >= consts[_C_MIN_CELLS] and neighbours >= consts[_C_MIN_M]
        # bits from the approximation where its error bound allows, word by word without
        # branches (cells with no term sum to exactly 0; invalid cells get no bit) ...
        unsure = False
        for k in range(nd):
            for w in range(wp):
                word = np.uint64(0)
                for s in range(first[w], first[w + 1]):
                    a = acc[k, s]
                    bound = cnt[s] * tol
                    on = (a - bound >= mu) & ok[s]
                    unsure |= (a + bound >= mu) & (a - bound < mu) & ok[s]
                    word |= np.uint64(on) << shift[s]
                bits[m, k * wp + w] = word
        # ... and from the exact sum where it does not
        if unsure:
            for k in range(nd):
                for s in range(nc):
                    a = acc[k, s]
                    bound = cnt[s] * tol
                    if ok[s] and a + bound >= mu and a - bound < mu:
                        c = disk_cells[s]
                        total = _exact_contribution(
                            x, y, dtheta, m, cx[s], cy[s], k, consts, centres, wraps
                        )
                        if total >= mu:
                            bits[m, k * wp + c // 64] |= np.uint64(1) << shift[s]


@njit(cache=True, error_model="numpy")
def _exact_contribution(
    x: np.ndarray,
    y: np.ndarray,
    dtheta: np.ndarray,
    m: int,
    px: float,
    py: float,
    k: int,
    consts: np.ndarray,
    centres: np.ndarray,
    wraps: np.ndarray,
) -> float:
    """sum_t G_s * G_d for the cell at (px, py) of cylinder m, section k, in t order."""
    total = 0.0
    for t in range(x.shape[0]):
        if t == m:
            continue
        dx = px - x[t]
        dy = py - y[t]
        d2 = dx * dx + dy * dy
        if d2 > consts[_C_CUTOFF]:
            continue
        gs = math.exp(-d2 / consts[_C_TWO_SIGMA2]) / consts[_C_NORM]
        total += gs * _cd_exact(dtheta[m, t], k, consts, centres, wraps)
    return total


# ---------------------------------------------------------------------------------------------
# one template, from Python

_hull_planes: Any = hull_planes  # numba dispatchers: untyped for mypy
_pair_geometry: Any = pair_geometry
_template_summaries: Any = template_summaries
_cylinders: Any = cylinders


def _own(a: np.ndarray, dtype: type = np.float64) -> np.ndarray:
    """A writable C-contiguous copy: the kernels then see the types the batch path gives
    them (numba compiles, and caches, one machine-code version per argument types)."""
    return np.array(a, dtype=dtype, order="C")


def hull_halfplanes_of(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Half-planes (h x 3: nx, ny, c) of the convex hull of the points (x, y up), see
    `hull_planes`; 0 x 3 with fewer than 3 hull vertices."""
    planes = np.zeros((len(x), 3), dtype=np.float64)
    h = _hull_planes(_own(x), _own(y), np.zeros(3 * len(x), dtype=np.int64), planes)
    return np.ascontiguousarray(planes[:h])


def build_cylinders(
    x: np.ndarray, y: np.ndarray, theta: np.ndarray, planes: np.ndarray, p: CylinderParams
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bit cylinders of every minutia (x, y in the y-up frame), see `cylinders`.

    Returns (bits n x (nd * wp) uint64: plane k in words k*wp .. k*wp+wp-1; mask n x wp
    uint64: the valid cells; valid n bool: the cylinder may be matched at all).
    """
    t = cylinder_tables(p)
    n = len(x)
    x, y, theta = _own(x), _own(y), _own(theta)
    bits = np.zeros((n, t.nd * t.wp), np.uint64)
    mask = np.zeros((n, t.wp), np.uint64)
    valid = np.zeros(n, bool)
    if n == 0:
        return bits, mask, valid
    dist = np.empty((n, n))
    dtheta = np.empty((n, n))
    _pair_geometry(x, y, theta, dist, dtheta, np.empty((n, n)))
    _cylinders(
        x,
        y,
        theta,
        _own(planes).reshape(-1, 3),
        dist,
        dtheta,
        t.u,
        t.v,
        t.disk_cells,
        t.slot,
        t.consts,
        t.centres,
        t.wraps,
        t.gs_lut,
        t.cd_lut,
        bits,
        mask,
        valid,
    )
    return bits, mask, valid


def keep_strongest(
    valid: np.ndarray, quality: np.ndarray, offsets: np.ndarray, limit: int
) -> np.ndarray:
    """`valid` with, in each set (rows offsets[i]:offsets[i+1]), only the `limit` valid rows
    of highest quality left valid (ties: the earlier row); all of them when limit <= 0."""
    if limit <= 0 or len(valid) == 0:
        return valid
    sizes = np.diff(offsets)
    set_of = np.repeat(np.arange(len(sizes)), sizes)
    rows = np.arange(len(valid))
    # by set, valid first, quality descending, then row: the rank within a set is the index
    order = np.lexsort((rows, -quality.astype(np.int64), ~valid, set_of))
    rank = np.empty(len(valid), dtype=np.int64)
    rank[order] = rows - np.repeat(offsets[:-1], sizes)
    return valid & (rank < limit)


def template_derived(
    xs: np.ndarray,
    ys: np.ndarray,
    theta: np.ndarray,
    bits: np.ndarray,
    mask: np.ndarray,
    valid: np.ndarray,
    disk: np.ndarray,
) -> dict[str, np.ndarray]:
    """What `MatcherTemplate` derives from its minutiae (x, y up, theta) and cylinders:
    hull half-planes, orders, set bits, full masks."""
    n = len(xs)
    xs, ys, theta = _own(xs), _own(ys), _own(theta)
    out = {
        "planes": hull_halfplanes_of(xs, ys),
        "tord": np.zeros(n, np.int64),
        "tsort": np.zeros(n),
        "xord": np.zeros(n, np.int64),
        "xsort": np.zeros(n),
        "count": np.zeros(n, np.int64),
        "full": np.zeros(n, np.bool_),
    }
    _template_summaries(
        xs,
        theta,
        _own(bits, np.uint64),
        _own(mask, np.uint64),
        _own(valid, np.bool_),
        disk,
        out["tord"],
        out["tsort"],
        out["xord"],
        out["xsort"],
        out["count"],
        out["full"],
    )
    return out
