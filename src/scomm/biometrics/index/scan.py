"""The first stage: score every enrolled identity's pair codes against the probe's.

A finger's similarity is 1 - 2 h / bits, h the Hamming distance of the two codes: about 0
for different fingers, rising towards 1 for the same finger.  An identity's fused score is
the sum over the fingers both sides have, divided by the square root of their number (the
sum of k independent unit variables scaled back to unit variance), so candidates sharing
fewer fingers are neither favoured nor buried.  Written with numba's prange: the scan is
memory-bound, one pass over the codes, both cores.
"""

from __future__ import annotations

import math
from typing import Any

import numba
import numpy as np

from scomm.biometrics.match.primitives.bits import popcount64


@numba.njit(cache=True, parallel=True)
def _fused_scan(codes: Any, present: Any, probe: Any, probe_mask: int, out: Any) -> None:
    slots, fingers, words = codes.shape
    bits = words * 64
    for n in numba.prange(slots):
        both = int(present[n]) & probe_mask
        if both == 0:
            out[n] = -np.inf
            continue
        total = 0
        k = 0
        for f in range(fingers):
            if (both >> f) & 1:
                h = 0
                for w in range(words):
                    h += popcount64(codes[n, f, w] ^ probe[f, w])
                total += bits - 2 * h
                k += 1
        out[n] = total / (bits * math.sqrt(k))


@numba.njit(cache=True, parallel=True)
def _finger_scan(codes: Any, present: Any, probe: Any, position_mask: int, out: Any) -> None:
    slots, fingers, words = codes.shape
    bits = words * 64
    for n in numba.prange(slots):
        for f in range(fingers):
            if ((int(present[n]) & position_mask) >> f) & 1:
                h = 0
                for w in range(words):
                    h += popcount64(codes[n, f, w] ^ probe[w])
                out[n, f] = (bits - 2 * h) / bits
            else:
                out[n, f] = -np.inf


@numba.njit(cache=True, parallel=True)
def _column_scan(codes: Any, present: Any, probe: Any, f: int, out: Any) -> None:
    slots, _, words = codes.shape
    bits = words * 64
    for n in numba.prange(slots):
        if (int(present[n]) >> f) & 1:
            h = 0
            for w in range(words):
                h += popcount64(codes[n, f, w] ^ probe[w])
            out[n] = (bits - 2 * h) / bits
        else:
            out[n] = -np.inf


def position_scores(
    codes: np.ndarray, present: np.ndarray, probe: np.ndarray, position: int
) -> np.ndarray:
    """float32 per slot: one probe code against finger `position` (1-10) of every slot."""
    out = np.empty(len(present), dtype=np.float32)
    if len(present):
        _column_scan(codes, present, probe, int(position) - 1, out)
    return out


def fused_scores(
    codes: np.ndarray, present: np.ndarray, probe: np.ndarray, probe_mask: int
) -> np.ndarray:
    """float32 per slot: the fused first-stage score (-inf where no finger is shared).

    codes: slots x 10 x words uint64; present: slots uint16; probe: 10 x words uint64;
    probe_mask: bit f set when the probe has finger f+1."""
    out = np.empty(len(present), dtype=np.float32)
    if len(present):
        _fused_scan(codes, present, probe, int(probe_mask), out)
    return out


def finger_scores(
    codes: np.ndarray, present: np.ndarray, probe: np.ndarray, positions_mask: int
) -> np.ndarray:
    """float32 slots x 10: one probe code against every enrolled finger whose position is
    in `positions_mask` (-inf elsewhere); for single-finger search."""
    out = np.empty((len(present), codes.shape[1]), dtype=np.float32)
    if len(present):
        _finger_scan(codes, present, probe, int(positions_mask), out)
    return out


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k highest finite scores, best first (ties: lower index first)."""
    flat = scores.reshape(-1)
    k = min(k, int(np.isfinite(flat).sum()))
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    part = np.argpartition(-flat, k - 1)[:k]
    order = np.lexsort((part, -flat[part]))
    return part[order].astype(np.int64)
