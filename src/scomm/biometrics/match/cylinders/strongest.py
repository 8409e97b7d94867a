"""Strongest cylinders: a template's cylinders limited to those of its best minutiae.

`CylinderParams.max_cylinders` bounds the local similarities' cost (it grows with the
product of the two templates' valid cylinders); the consolidation still uses every minutia.
"""

from __future__ import annotations

import numpy as np


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
