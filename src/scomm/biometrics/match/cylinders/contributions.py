"""The two Gaussian contributions of a neighbour to a cylinder cell (paper eq. 4-7).

Spatial: G_s(d^2) = exp(-d^2 / (2 sigma_s^2)) / (sigma_s sqrt(2 pi)) of the neighbour's
distance from the cell centre.  Directional: the Gaussian of the direction difference
integrated over a section, with the angle's two neighbouring periods.  The cylinder stage
reads both from lookup tables (`fill_lookup_tables`) and falls back to the exact sum
(`exact_cell_sum`) for cells too close to mu_psi to tell.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit


@njit(cache=True, inline="always", error_model="numpy")
def directional_contribution(
    dtheta: float,
    k: int,
    half_section: float,
    erf_scale: float,
    centres: np.ndarray,
    wraps: np.ndarray,
) -> float:
    """Directional contribution to section k: the Gaussian of the direction difference
    integrated over the section, with the angle's two neighbouring periods."""
    s = 0.0
    for w in range(3):
        diff = dtheta + wraps[w] - centres[k]
        hi = math.erf((diff + half_section) * erf_scale)
        lo = math.erf((diff - half_section) * erf_scale)
        s += 0.5 * (hi - lo)
    return s


@njit(cache=True, error_model="numpy")
def fill_lookup_tables(
    two_sigma2: float,
    norm: float,
    gs_inv: float,
    half_section: float,
    erf_scale: float,
    cd_inv: float,
    centres: np.ndarray,
    wraps: np.ndarray,
    gs_lut: np.ndarray,
    cd_lut: np.ndarray,
) -> None:
    """The spatial contribution at d2 = i / gs_inv, the directional one at
    dtheta = -pi + i / cd_inv for each section (one spare entry past each range's end)."""
    for i in range(gs_lut.shape[0]):
        gs_lut[i] = math.exp(-(i / gs_inv) / two_sigma2) / norm
    for i in range(cd_lut.shape[0]):
        for k in range(centres.shape[0]):
            cd_lut[i, k] = directional_contribution(
                -math.pi + i / cd_inv, k, half_section, erf_scale, centres, wraps
            )


@njit(cache=True, error_model="numpy")
def exact_cell_sum(
    x: np.ndarray,
    y: np.ndarray,
    dtheta: np.ndarray,
    m: int,
    px: float,
    py: float,
    k: int,
    cutoff: float,
    two_sigma2: float,
    norm: float,
    half_section: float,
    erf_scale: float,
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
        if d2 > cutoff:
            continue
        gs = math.exp(-d2 / two_sigma2) / norm
        total += gs * directional_contribution(
            dtheta[m, t], k, half_section, erf_scale, centres, wraps
        )
    return total
