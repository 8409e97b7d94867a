"""The comparison of two templates, stage by stage, and its 1:1 and 1:N entry points.

    local_similarities    MCC-B similarity of every matchable cylinder pair   (eq. 17)
    select_pairs          the best n_R pairs, one-to-one                      (LSS, sec. 4.3)
    relax                 their similarities, relaxed by geometric agreement  (LSS-R, eq. 23-24)
    lssr_score            the mean of the n_P most efficient relaxed values   (sec. 4.4)
    consolidate           one rigid transform, the minutiae that agree under it
    score                 LSS-R score ** (1 - weight) * consolidation score ** weight

Each stage reads a named structure (`inputs`) and the shared buffers (`workspace`).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from scomm.biometrics.match.comparison.consolidation import consolidate, consolidation_score
from scomm.biometrics.match.comparison.inputs import (
    ComparisonParams,
    ComparisonTables,
    PackedArrays,
    TemplateArrays,
    packed_template,
)
from scomm.biometrics.match.comparison.local_similarity import local_similarities
from scomm.biometrics.match.comparison.lssr_score import lssr_score, pairs_to_score
from scomm.biometrics.match.comparison.pair_selection import select_pairs
from scomm.biometrics.match.comparison.relaxation import relax
from scomm.biometrics.match.comparison.workspace import Workspace, make_workspace


class ScoreParts(NamedTuple):
    """A comparison's score and its parts; the transform maps A onto B in the y-up frame:
    p_b = R(rotation) p_a + (tx, ty).  All zero but lssr when the gate skipped the
    consolidation."""

    score: float
    lssr: float
    consolidation: float
    matched: int
    overlap_a: int
    overlap_b: int
    rotation: float
    tx: float
    ty: float


@njit(cache=True)
def compare_core(
    a: TemplateArrays,
    b: TemplateArrays,
    p: ComparisonParams,
    tables: ComparisonTables,
    ws: Workspace,
) -> tuple[int, ScoreParts]:
    """Compare A with B.  Returns n, the number of relaxed pairs, and the score's parts.
    Leaves the relaxed pairs by efficiency in ws.pairs[:n] (A index, B index) with their
    local similarity and relaxed value in ws.pair_vals[:n], and the consolidation's matched
    minutiae after them (ws.pairs[n : n + matched])."""
    na = a.x.shape[0]
    nb = b.x.shape[0]
    if na == 0 or nb == 0:
        return 0, ScoreParts(0.0, 0.0, 0.0, 0, 0, 0, 0.0, 0.0, 0.0)
    found = local_similarities(
        a.theta, a.bits, a.mask, a.bit_count, a.full, a.valid, a.tord, a.tsort,
        b.theta, b.bits, b.mask, b.bit_count, b.full, b.valid, b.tord, b.tsort,
        p.max_dtheta, p.min_me_cells, p.masked, tables.sqrt,
        ws.cand_val, ws.cand_idx, ws.cand_next, ws.heads,
    )  # fmt: skip
    if found == 0:
        return 0, ScoreParts(0.0, 0.0, 0.0, 0, 0, 0, 0.0, 0.0, 0.0)
    nmin = min(na, nb)
    n_p = pairs_to_score(nmin, p.min_np, p.max_np, p.mu_p, p.tau_p)
    n = select_pairs(
        ws.cand_val, ws.cand_idx, ws.cand_next, ws.heads, ws.order, na, nb,
        min(nmin, p.max_nr), ws.used_a, ws.used_b, ws.rows, ws.cols, ws.vals,
    )  # fmt: skip
    for t in range(n):  # the relaxation starts from the selected similarities
        ws.lam0[t] = ws.vals[t]
        ws.lam[t] = ws.vals[t]
    relax(
        ws.rows, ws.cols, n, a.x, a.y, a.theta, b.x, b.y, b.theta, p.n_rel, p.w_r,
        tables.distance, tables.direction, tables.radial, ws.rho, ws.lam, ws.nxt, ws.geo,
    )  # fmt: skip
    lssr = lssr_score(
        n, n_p, ws.rows, ws.cols, ws.lam0, ws.lam, ws.nxt, ws.eorder, ws.pairs, ws.pair_vals
    )
    if lssr < p.gate:  # cascade: too weak to be worth the consolidation (scores it 0)
        return n, ScoreParts(0.0, lssr, 0.0, 0, 0, 0, 0.0, 0.0, 0.0)
    c = consolidate(
        a.x, a.y, a.theta, a.planes, b.x, b.y, b.theta, b.xord, b.xsort, b.planes,
        ws.pairs, min(n, p.hypotheses), p.dist_tol, p.angle_tol, p.hull_margin,
        ws.used_b, ws.matched_a, ws.matched_b, ws.trial_a, ws.trial_b, ws.bstart,
    )  # fmt: skip
    for t in range(c.matched):  # the explanation's matched minutiae, after the relaxed pairs
        ws.pairs[n + t, 0] = ws.matched_a[t]
        ws.pairs[n + t, 1] = ws.matched_b[t]
    cons = consolidation_score(c, p.min_overlap)
    score = lssr ** (1.0 - p.weight) * cons**p.weight
    return n, ScoreParts(
        score, lssr, cons, c.matched, c.overlap_a, c.overlap_b, c.rotation, c.tx, c.ty
    )


@njit(cache=True)
def compare_pair(
    a: tuple,  # type: ignore[type-arg]
    b: tuple,  # type: ignore[type-arg]
    params: tuple,  # type: ignore[type-arg]
    tables: tuple,  # type: ignore[type-arg]
) -> tuple[int, np.ndarray, np.ndarray, ScoreParts]:
    """`compare_core` from Python, its inputs as plain tuples (see `inputs`): returns n, the
    pairs, their values and the score's parts."""
    ta = TemplateArrays(*a)
    tb = TemplateArrays(*b)
    p = ComparisonParams(*params)
    ws = make_workspace(max(ta.x.shape[0], tb.x.shape[0], 1), p.max_nr)
    n, parts = compare_core(ta, tb, p, ComparisonTables(*tables), ws)
    return n, ws.pairs, ws.pair_vals, parts


@njit(cache=True)
def compare_batch(
    probe: tuple,  # type: ignore[type-arg]
    probe_key: int,
    packed: tuple,  # type: ignore[type-arg]
    params: tuple,  # type: ignore[type-arg]
    tables: tuple,  # type: ignore[type-arg]
    select: np.ndarray,
    out: np.ndarray,
) -> None:
    """Score the probe against the packed templates c = select[k] into out[k] (inputs as
    plain tuples, see `inputs`).  Each comparison runs in the canonical order of the two
    keys, as `MccMatcher.compare` does."""
    a = TemplateArrays(*probe)
    g = PackedArrays(*packed)
    p = ComparisonParams(*params)
    t = ComparisonTables(*tables)
    maxn = a.x.shape[0]
    for k in range(select.shape[0]):
        c = select[k]
        maxn = max(maxn, g.off[c + 1] - g.off[c])
    ws = make_workspace(maxn, p.max_nr)
    for k in range(select.shape[0]):
        c = select[k]
        candidate = packed_template(g, c)
        if probe_key <= g.keys[c]:
            _, parts = compare_core(a, candidate, p, t, ws)
        else:
            _, parts = compare_core(candidate, a, p, t, ws)
        out[k] = parts.score
