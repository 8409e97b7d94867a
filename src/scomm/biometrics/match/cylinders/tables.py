"""CylinderTables: what the cylinder stage needs of `CylinderParams`, computed once.

The matcher (or whoever prepares templates) builds them with `cylinder_tables` and passes
them on; nothing is cached per process.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from scomm.biometrics.match.cylinders.contributions import fill_lookup_tables
from scomm.biometrics.match.mcc_params import CylinderParams

TWO_PI = 2.0 * math.pi
GS_STEPS = 2048  # spatial lookup table: intervals over 0 .. (3 sigma_s)^2
CD_STEPS = 2048  # directional lookup table: intervals over -pi .. pi (64 KiB at nd = 4)
ERF2_MAX = 4.0 / math.sqrt(math.pi) * math.sqrt(0.5) * math.exp(-0.5)  # max |erf''|
TERM_SLACK = 1e-13  # rounding of table entries, lookups and sums, far above its worst case


class CylinderTables(NamedTuple):
    """The cylinder stage's constants and tables (a NamedTuple: numba compiles its fields as
    plain values; kernels called from Python take `tuple(tables)` and name it again, since
    numba's dispatcher types a plain tuple in C and a NamedTuple in Python, 2 us a call)."""

    ns: int  # cells along each side of the base
    nd: int  # direction sections
    wp: int  # 64-bit words per section (plane)
    u: np.ndarray  # ns x ns cell-centre offsets, row-major (cell = j * ns + i)
    v: np.ndarray
    disk_cells: np.ndarray  # the cells whose centre lies within the radius
    slot: np.ndarray  # each cell's index among disk_cells (outside the disk: len(disk_cells))
    disk_words: np.ndarray  # the disk as the words of one packed plane (a full mask)
    centres: np.ndarray  # the direction sections' centres
    wraps: np.ndarray  # -2 pi, 0, 2 pi
    gs_lut: np.ndarray  # spatial contribution at d2 = i / gs_inv
    cd_lut: np.ndarray  # directional contribution of each section at -pi + i / cd_inv
    two_sigma2: float  # 2 sigma_s^2
    norm: float  # sigma_s sqrt(2 pi)
    cutoff: float  # (3 sigma_s)^2: neighbours further from a cell's centre add nothing
    half_section: float  # half a direction section
    erf_scale: float  # 1 / (sigma_d sqrt 2)
    mu_psi: float
    omega: float
    min_cells: float  # min_vc * disk cells
    neighbour_radius: float  # radius + 3 sigma_s
    min_m: float
    cell_side: float
    rmax: float  # largest distance of a disk cell's centre from the minutia
    gs_inv: float
    cd_inv: float
    term_tol: float  # error bound of one lookup-table term
    edge_tol: float  # squared distances this near the cutoff are recomputed as numpy did


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


def disk_words(ns: int, radius: float) -> np.ndarray:
    """The cells of the disk as the words of one packed plane (a full cylinder's mask)."""
    words = _pack(
        cell_offsets(CylinderParams(radius=radius, ns=ns))[2][None, :], words_per_plane(ns)
    )
    words.flags.writeable = False
    row: np.ndarray = words[0]
    return row


def cylinder_tables(p: CylinderParams) -> CylinderTables:
    """The tables for `p` (about 20 ms: build them once per parameter set)."""
    u, v, disk = cell_offsets(p)
    disk_cells = np.flatnonzero(disk).astype(np.int64)
    slot = np.full(p.ns * p.ns, len(disk_cells), dtype=np.int64)  # outside: a dummy slot
    slot[disk_cells] = np.arange(len(disk_cells))
    step = 2.0 * math.pi / p.nd
    centres = -math.pi + (np.arange(p.nd) + 0.5) * step  # as the numpy original computed them
    two_sigma2 = float(2.0 * p.sigma_s**2)
    norm = float(p.sigma_s * math.sqrt(2.0 * math.pi))
    cutoff = float((3.0 * p.sigma_s) ** 2)
    half_section = float(step / 2.0)
    erf_scale = float(1.0 / (p.sigma_d * math.sqrt(2.0)))
    gs_inv = float(GS_STEPS / cutoff)
    cd_inv = float(CD_STEPS / TWO_PI)
    wraps = np.array([-2.0 * math.pi, 0.0, 2.0 * math.pi])
    gs_lut = np.zeros(GS_STEPS + 2)
    cd_lut = np.zeros((CD_STEPS + 2, p.nd))
    fill: Any = fill_lookup_tables  # numba dispatcher: untyped for mypy
    fill(two_sigma2, norm, gs_inv, half_section, erf_scale, cd_inv, centres, wraps, gs_lut, cd_lut)
    # linear interpolation errs by at most h^2 / 8 max|f''|: G_s(d2) = exp(-d2 / a) / b has
    # f'' <= 1 / (b a^2); each section's G_d is half a sum over 3 periods of differences of
    # erf(s .), so |f''| <= 3 s^2 max|erf''|.  A term is G_s G_d, G_s <= 1 / b, G_d <= 1.
    a, b = two_sigma2, norm
    gs_err = (1.0 / gs_inv) ** 2 / 8.0 / (b * a * a)
    cd_err = (1.0 / cd_inv) ** 2 / 8.0 * 3.0 * erf_scale**2 * ERF2_MAX
    return CylinderTables(
        ns=p.ns,
        nd=p.nd,
        wp=words_per_plane(p.ns),
        u=u,
        v=v,
        disk_cells=disk_cells,
        slot=slot,
        disk_words=disk_words(p.ns, p.radius),
        centres=centres,
        wraps=wraps,
        gs_lut=gs_lut,
        cd_lut=cd_lut,
        two_sigma2=two_sigma2,
        norm=norm,
        cutoff=cutoff,
        half_section=half_section,
        erf_scale=erf_scale,
        mu_psi=float(p.mu_psi),
        omega=float(p.omega),
        min_cells=float(p.min_vc * disk.sum()),
        neighbour_radius=float(p.radius + 3.0 * p.sigma_s),
        min_m=float(p.min_m),
        cell_side=float(2.0 * p.radius / p.ns),
        rmax=float(np.sqrt((u[disk] ** 2 + v[disk] ** 2).max())) if disk.any() else 0.0,
        gs_inv=gs_inv,
        cd_inv=cd_inv,
        term_tol=float(gs_err * (1.0 + cd_err) + cd_err / b + TERM_SLACK),
        edge_tol=1e-6,  # px^2; the two ways of computing one differ by about 1e-11
    )
