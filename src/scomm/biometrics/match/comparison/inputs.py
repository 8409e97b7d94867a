"""What the comparison stages read, named: a template's arrays, the parameters, the tables.

These are NamedTuples, which numba compiles to plain structures (a field read costs what a
local variable does).  The entry points called from Python (`pipeline.compare_pair`,
`pipeline.compare_batch`) take them as plain tuples, `tuple(named)`, and name them again
on entry: numba's dispatcher types a plain tuple in C but a NamedTuple in Python, about
2 us a call, a tenth of a 1:1 comparison.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from scomm.biometrics.match.comparison.relaxation import compatibility_tables
from scomm.biometrics.match.mcc_params import MccParams, disk_cell_count


class TemplateArrays(NamedTuple):
    """A prepared template as the stages read it (see `MatcherTemplate`); y is y-up."""

    x: np.ndarray
    y: np.ndarray
    theta: np.ndarray
    bits: np.ndarray  # n x (nd * wp) cylinder bits, section k in words k*wp .. k*wp+wp-1
    mask: np.ndarray  # n x wp valid cells
    bit_count: np.ndarray  # set bits of each cylinder
    full: np.ndarray  # whether the mask is the whole disk
    valid: np.ndarray  # whether the cylinder may be matched
    planes: np.ndarray  # h x 3 hull half-planes
    tord: np.ndarray  # minutiae by direction, valid cylinders first
    tsort: np.ndarray  # their directions (+inf after the valid ones)
    xord: np.ndarray  # minutiae by x
    xsort: np.ndarray  # their x


class PackedArrays(NamedTuple):
    """Many templates end to end (`PackedTemplates`): template c is rows off[c]:off[c+1]
    of the per-minutia arrays and rows pl_off[c]:pl_off[c+1] of planes."""

    off: np.ndarray
    pl_off: np.ndarray
    keys: np.ndarray
    x: np.ndarray
    y: np.ndarray
    theta: np.ndarray
    bits: np.ndarray
    mask: np.ndarray
    bit_count: np.ndarray
    full: np.ndarray
    valid: np.ndarray
    planes: np.ndarray
    tord: np.ndarray
    tsort: np.ndarray
    xord: np.ndarray
    xsort: np.ndarray


@njit(cache=True)
def packed_template(g: PackedArrays, c: int) -> TemplateArrays:
    """Template c of a packed set, as views of its rows."""
    s = g.off[c]
    e = g.off[c + 1]
    return TemplateArrays(
        x=g.x[s:e],
        y=g.y[s:e],
        theta=g.theta[s:e],
        bits=g.bits[s:e],
        mask=g.mask[s:e],
        bit_count=g.bit_count[s:e],
        full=g.full[s:e],
        valid=g.valid[s:e],
        planes=g.planes[g.pl_off[c] : g.pl_off[c + 1]],
        tord=g.tord[s:e],
        tsort=g.tsort[s:e],
        xord=g.xord[s:e],
        xsort=g.xsort[s:e],
    )


class ComparisonParams(NamedTuple):
    """`LssrParams` and `ConsolidationParams` as the stages read them (see those for each
    parameter's meaning); min_me_cells is min_me times the disk's cells."""

    max_dtheta: float
    min_me_cells: float
    masked: bool
    min_np: int
    max_np: int
    mu_p: float
    tau_p: float
    max_nr: int
    n_rel: int
    w_r: float
    dist_tol: float
    angle_tol: float
    hull_margin: float
    min_overlap: int
    weight: float
    gate: float
    hypotheses: int


def comparison_params(params: MccParams) -> ComparisonParams:
    """The comparison's parameters, typed as the kernels compile them."""
    s, g = params.lssr, params.consolidation
    return ComparisonParams(
        max_dtheta=float(s.max_dtheta),
        min_me_cells=float(s.min_me * float(disk_cell_count(params.cylinder.ns))),
        masked=bool(s.masked),
        min_np=int(s.min_np),
        max_np=int(s.max_np),
        mu_p=float(s.mu_p),
        tau_p=float(s.tau_p),
        max_nr=int(s.max_nr),
        n_rel=int(s.n_rel),
        w_r=float(s.w_r),
        dist_tol=float(g.dist_tol),
        angle_tol=float(g.angle_tol),
        hull_margin=float(g.hull_margin),
        min_overlap=int(g.min_overlap),
        weight=float(g.weight),
        gate=float(g.gate),
        hypotheses=int(g.hypotheses),
    )


class ComparisonTables(NamedTuple):
    """Lookup tables of the comparison: square roots of the cell counts (eq. 17) and the
    relaxation's three compatibility sigmoids (float32, `relaxation.LUT_STEPS` + 1 steps)."""

    sqrt: np.ndarray
    distance: np.ndarray  # Z(d1; mu1, tau1) over 0 .. 32 px
    direction: np.ndarray  # Z(d2; mu2, tau2) over 0 .. pi
    radial: np.ndarray  # Z(d3; mu3, tau3) over 0 .. pi


def comparison_tables(params: MccParams) -> ComparisonTables:
    """The tables for `params` (build them once per matcher)."""
    c, s = params.cylinder, params.lssr
    distance, direction, radial = compatibility_tables(s.mu1, s.tau1, s.mu2, s.tau2, s.mu3, s.tau3)
    return ComparisonTables(
        sqrt=np.sqrt(np.arange(c.nd * c.ns * c.ns + 1, dtype=np.float64)),
        distance=distance,
        direction=direction,
        radial=radial,
    )
