"""Parameters of the MCC matcher: cylinders, LSS-R global score and geometric consolidation.

Defaults follow Cappelli, Ferrara, Maltoni, "Minutia Cylinder-Code: a new representation and
matching technique for fingerprint recognition", IEEE TPAMI 32(12), 2010 (MCC-B, LSS-R), at
500 ppi, except where a comment says they were tuned on FVC2002 DB1-4_B (NBIS mindtct
minutiae); lengths are pixels at `MccParams.ppi`, angles radians.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class CylinderParams:
    """How each minutia's neighbourhood is encoded as a bit cylinder (MCC-B, paper sec. 3).

    radius: R, cylinder radius (70).  ns: N_S, cells along each side of the base (8; the
    paper's 16 with 6 sections is no more accurate on FVC2002 with LEADER minutiae, and
    8 x 8 cells make one 64-bit word per section, which the kernels have a fast path for).
    nd: N_D, angular sections (4).  sigma_s: spatial Gaussian sigma (28/3).
    sigma_d: directional Gaussian sigma (2*pi/9).  mu_psi: a cell's bit is 1 when the summed
    contribution reaches this (0.01, the sigmoid's mid-point).  omega: cells further than
    this outside the convex hull of the minutiae are invalid (50).  min_vc: a cylinder needs
    this fraction of its disk's cells valid (0.75).  min_m: and this many other minutiae
    within radius + 3 sigma_s (2).  max_cylinders: only this many valid cylinders of a
    template, those of its best-quality minutiae (ties: the earlier minutia), take part in
    the local similarities; 0 keeps them all.  A comparison's cost grows with the product of
    the two counts; the consolidation still uses every minutia.
    """

    radius: float = 70.0
    ns: int = 8
    nd: int = 4
    sigma_s: float = 28.0 / 3.0
    sigma_d: float = 2.0 * math.pi / 9.0
    mu_psi: float = 0.01
    omega: float = 50.0
    min_vc: float = 0.75
    min_m: int = 2
    max_cylinders: int = 0


@dataclass(frozen=True)
class LssrParams:
    """Local similarities and Local Similarity Sort with Relaxation (paper sec. 4).

    max_dtheta: cylinders of minutiae whose directions differ more are not compared (pi/2;
    it also bounds the rotation between two prints that can match: pi/4 scans half the
    pairs, about 15% faster overall, but fails prints rotated by more than 45 degrees).
    min_me: two cylinders need this fraction of their disk's cells valid in both (0.6).
    min_np, max_np, mu_p, tau_p: n_P = min_np + round(Z(min(nA, nB)) (max_np - min_np)),
    Z the sigmoid with mid-point mu_p and slope tau_p (4, 12, 20, 0.4).
    max_nr: at most this many pairs enter the relaxation (the paper takes min(nA, nB); a cap
    bounds the cost: 10; on FVC2002 with LEADER minutiae 10 is as accurate as 16 and about
    15% faster).  n_rel, w_r: relaxation iterations and weight (3, 0.5; the
    paper's 5).
    mu1/tau1, mu2/tau2, mu3/tau3: compatibility sigmoids on the distance difference and the
    two angle differences (5, -8/5; pi/12, -30; pi/12, -30).
    """

    max_dtheta: float = math.pi / 2.0
    masked: bool = True
    min_me: float = 0.60
    min_np: int = 4
    max_np: int = 12
    mu_p: float = 20.0
    tau_p: float = 0.4
    max_nr: int = 10
    n_rel: int = 3
    w_r: float = 0.5
    mu1: float = 5.0
    tau1: float = -8.0 / 5.0
    mu2: float = math.pi / 12.0
    tau2: float = -30.0
    mu3: float = math.pi / 12.0
    tau3: float = -30.0


@dataclass(frozen=True)
class ConsolidationParams:
    """Geometric consolidation: one rigid transform from the best LSS-R pairs, then the count
    of minutiae that agree under it, normalised by how many lie in the common area.

    dist_tol, angle_tol: a transformed minutia matches one within these (15 px, pi/6).
    hull_margin: a minutia counts as in the common area within this of the other hull (15).
    min_overlap: normalisation counts are at least this, so tiny overlaps cannot score 1 (12).
    weight: final = LSS-R score ** (1 - weight) * consolidation score ** weight (0.5; a
    geometric mean beat weighted sums on FVC2002: 2.3% against 2.4-5% mean EER).
    hypotheses: transforms tried, one per relaxed pair in order of efficiency (3).
    gate: pairs whose LSS-R score is below this skip the consolidation, which then counts 0
    (a cascade for speed: impostors rarely pass it, genuine pairs almost always do) (0.0).
    """

    dist_tol: float = 15.0
    angle_tol: float = math.pi / 6.0
    hull_margin: float = 15.0
    min_overlap: int = 12
    weight: float = 0.5
    gate: float = 0.0
    hypotheses: int = 3


@dataclass(frozen=True)
class MccParams:
    """All of the matcher's parameters; `ppi` is the resolution templates are prepared at."""

    cylinder: CylinderParams = CylinderParams()
    lssr: LssrParams = LssrParams()
    consolidation: ConsolidationParams = ConsolidationParams()
    ppi: int = 500


def disk_cell_count(ns: int) -> int:
    """Cells of an ns x ns grid whose centres lie within the inscribed circle."""
    u = np.arange(ns) - (ns - 1) / 2.0
    return int(((u[:, None] ** 2 + u[None, :] ** 2) <= (ns / 2.0) ** 2).sum())


# The default engine's settings, for LEADER minutiae (measured with
# `bench/fvc_minutiae_eval.py` on the minutiae scomm's LEADER extractor finds in FVC2002
# DB1-4_B, `bench/cache_fvc_minutiae.py`):
# - the gate scores 0, skipping consolidation, when the LSS-R score is under 0.08 (it lowered
#   the mean EER and lifted throughput about 1.5x; MINDTCT's minutiae cannot take it: EER
#   over 14%);
# - a direction window of +-60 degrees instead of +-90: a third fewer pairs, and more
#   accurate (mean EER 0.60% against 0.80%), since pairs turned further apart are mostly
#   chance; booking prints are taken upright, FVC2002's turn by far less than 60 degrees;
# - the 24 best-quality cylinders of each template: the local similarities cost about
#   (24/40)^2 of all of them on DB1-2 for a mean EER of 0.86% (28: 0.71%, 20: 1.10%).
# Here rather than in `engine` so that galleries can use it without importing the extractors.
LEADER_MATCHER_PARAMS = MccParams(
    cylinder=CylinderParams(max_cylinders=24),
    lssr=LssrParams(max_dtheta=math.pi / 3.0),
    consolidation=ConsolidationParams(gate=0.08),
)

# The repositories' galleries (`index.gallery`, the demo's engine, `scomm bench search`) keep
# the gate alone: their thresholds and search figures were calibrated with it on synthetic
# templates, and moving them to the settings above means calibrating those again.
GALLERY_MATCHER_PARAMS = MccParams(consolidation=ConsolidationParams(gate=0.08))
