"""Preparing one minutiae set: the cylinder stages in the paper's order, from Python.

    planes = hull_halfplanes_of(x, y)                  # convex hull (omega, common area)
    bits, mask, valid = bit_cylinders_of(...)          # pair geometry, then MCC-B cylinders
    valid = keep_strongest(valid, quality, ...)        # max_cylinders of the best minutiae
    summaries_of(...)                                  # orders and counts for the comparison

`MatcherTemplate.build` runs them; `batch` runs the same kernels over many sets at once.
Coordinates in the kernels' y-up frame.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

from scomm.biometrics.match.cylinders.bit_cylinders import cylinders
from scomm.biometrics.match.cylinders.pair_geometry import pair_geometry
from scomm.biometrics.match.cylinders.summaries import template_summaries
from scomm.biometrics.match.cylinders.tables import CylinderTables


@njit(cache=True, error_model="numpy")
def _cylinders_entry(
    x: np.ndarray,
    y: np.ndarray,
    theta: np.ndarray,
    planes: np.ndarray,
    dist: np.ndarray,
    dtheta: np.ndarray,
    tables: tuple,  # type: ignore[type-arg]
    bits: np.ndarray,
    mask: np.ndarray,
    valid: np.ndarray,
) -> None:
    """`cylinders` with the tables as a plain tuple (see `CylinderTables`)."""
    cylinders(x, y, theta, planes, dist, dtheta, CylinderTables(*tables), bits, mask, valid)


_pair_geometry: Any = pair_geometry  # numba dispatchers: untyped for mypy
_cylinders: Any = _cylinders_entry
_template_summaries: Any = template_summaries


def _own(a: np.ndarray, dtype: type = np.float64) -> np.ndarray:
    """A writable C-contiguous copy: the kernels then see the types the batch path gives
    them (numba compiles, and caches, one machine-code version per argument types)."""
    return np.array(a, dtype=dtype, order="C")


def bit_cylinders_of(
    x: np.ndarray, y: np.ndarray, theta: np.ndarray, planes: np.ndarray, tables: CylinderTables
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bit cylinders of every minutia (x, y in the y-up frame), see `bit_cylinders`.

    Returns (bits n x (nd * wp) uint64: plane k in words k*wp .. k*wp+wp-1; mask n x wp
    uint64: the valid cells; valid n bool: the cylinder may be matched at all).
    """
    n = len(x)
    x, y, theta = _own(x), _own(y), _own(theta)
    bits = np.zeros((n, tables.nd * tables.wp), np.uint64)
    mask = np.zeros((n, tables.wp), np.uint64)
    valid = np.zeros(n, bool)
    if n == 0:
        return bits, mask, valid
    dist = np.empty((n, n))
    dtheta = np.empty((n, n))
    _pair_geometry(x, y, theta, dist, dtheta, np.empty((n, n)))
    planes = _own(planes).reshape(-1, 3)
    _cylinders(x, y, theta, planes, dist, dtheta, tuple(tables), bits, mask, valid)
    return bits, mask, valid


def summaries_of(
    xs: np.ndarray,
    theta: np.ndarray,
    bits: np.ndarray,
    mask: np.ndarray,
    valid: np.ndarray,
    disk: np.ndarray,
) -> dict[str, np.ndarray]:
    """`template_summaries` of a prepared set: orders by direction and x, set bits, full
    masks (x in any frame: only its order is used)."""
    n = len(xs)
    out = {
        "tord": np.zeros(n, np.int64),
        "tsort": np.zeros(n),
        "xord": np.zeros(n, np.int64),
        "xsort": np.zeros(n),
        "count": np.zeros(n, np.int64),
        "full": np.zeros(n, np.bool_),
    }
    _template_summaries(
        _own(xs),
        _own(theta),
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
