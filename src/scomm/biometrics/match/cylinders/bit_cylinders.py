"""MCC-B bit cylinders (paper sec. 3, eq. 2-7; bits as in sec. 3.3): each minutia's
neighbourhood as nd sections of ns x ns cells, one bit a cell.

Coordinates in a y-up frame (Y = -y of the image), so a minutia's direction vector is
(cos theta, sin theta) for ISO/IEC 19794-2 angles (counter-clockwise, y down).  The bits are
those of the exact formula: a cell's bit is decided from lookup tables of the two Gaussian
contributions when their error bound puts the sum clearly on one side of mu_psi, else from
the exact sum (exp, erf); the few borderline cells cost microseconds.  The numpy formulation
this replaced is matched operation for operation (same operand order, no fused
multiply-adds, each cell's sum over the neighbours in index order).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from scomm.biometrics.match.cylinders.contributions import exact_cell_sum
from scomm.biometrics.match.cylinders.tables import CylinderTables


@njit(cache=True, error_model="numpy")
def cylinders(
    x: np.ndarray,
    y: np.ndarray,
    theta: np.ndarray,
    planes: np.ndarray,
    dist: np.ndarray,
    dtheta: np.ndarray,
    tables: CylinderTables,
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
    u = tables.u
    v = tables.v
    disk_cells = tables.disk_cells
    slot = tables.slot
    gs_lut = tables.gs_lut
    cd_lut = tables.cd_lut
    n = x.shape[0]
    nd = tables.centres.shape[0]
    wp = mask.shape[1]
    ns = tables.ns
    nc = disk_cells.shape[0]
    cutoff = tables.cutoff
    mu = tables.mu_psi
    omega = tables.omega
    inv_step = 1.0 / tables.cell_side
    rmax = tables.rmax
    # margins of 1e-6 px cover rounding: they only widen the approximate searches below
    r3 = math.sqrt(cutoff) + 1e-6
    reach = rmax + r3
    r3_cells = r3 * inv_step
    half_grid = (ns - 1) / 2.0
    gs_inv = tables.gs_inv
    cd_inv = tables.cd_inv
    cd_last = cd_lut.shape[0] - 2
    gs_last = float(gs_lut.shape[0] - 2)
    tol = tables.term_tol
    edge_tol = tables.edge_tol
    nr = tables.neighbour_radius
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
        valid[m] = nvalid >= tables.min_cells and neighbours >= tables.min_m
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
                        total = exact_cell_sum(
                            x, y, dtheta, m, cx[s], cy[s], k, tables.cutoff,
                            tables.two_sigma2, tables.norm, tables.half_section,
                            tables.erf_scale, tables.centres, tables.wraps,
                        )  # fmt: skip
                        if total >= mu:
                            bits[m, k * wp + c // 64] |= np.uint64(1) << shift[s]
