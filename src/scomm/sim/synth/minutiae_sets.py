"""Synthetic fingerprint galleries at the template level: minutiae sets, not images.

In the manner of SFinGe (Cappelli, Maio, Maltoni, "Synthetic fingerprint-database
generation", ICPR 2002), one level up: a *master* finger per (identity, finger position) --
a finger area, a pattern class with its cores and deltas, the Sherlock-Monro orientation
field, and Poisson-disc spaced minutiae along the ridges -- and *impressions* of it: a
contact area seen through a capture window, rotation, translation, plastic skin
distortion, and an extractor's misses, spurious minutiae and jitter.  The defaults are
calibrated so that plain impressions score, with scomm's default matcher, like LEADER
minutiae of the FVC2002 DB1-3 prints (bench/synth_minutiae_calibration.py).

Every set is a pure function of (seed, identity, finger position 1-10, impression number
and kind): ten fingers of one identity are ten distinct masters sharing the person's hand
size, and an impression is made alone, without the others of its finger.  Kernels are
numba-compiled, release the GIL, and split a batch over numba's thread count
(NUMBA_NUM_THREADS); the output does not depend on how many threads ran.

Public API:
    FINGERS: the finger positions 1-10 (ANSI/NIST-ITL: 1 right thumb ... 10 left little).
    PatternClass: the pattern class codes `pattern_classes` returns.
    MinutiaeSetParams (master: MasterParams, plain / rolled: ImpressionParams), PLAIN, ROLLED.
    generate_masters(seed, identities, fingers=FINGERS, params=DEFAULT_PARAMS) -> MinutiaeBatch
        the masters, identity-major: row i * len(fingers) + j is (identities[i], fingers[j]).
    generate_impressions(seed, identities, fingers=FINGERS, impression=1, kind="plain",
                         params=DEFAULT_PARAMS) -> MinutiaeBatch
        one impression per (identity, finger), same rows; `impression` an int or an array
        broadcastable to (len(identities), len(fingers)).
    generate_impression_list(seed, identities, fingers, impressions, kind="plain",
                             params=DEFAULT_PARAMS) -> MinutiaeBatch
        row r is impression impressions[r] of (identities[r], fingers[r]).
    pattern_classes(seed, identities, fingers=FINGERS, params=DEFAULT_PARAMS) -> np.ndarray
        uint8 PatternClass of each master, rows as in generate_masters.

Frames: masters and rolled impressions 416 x 560 px, plain impressions 320 x 420 px, all at
500 ppi (the params' frame sizes).  Sizes: a master holds about 89 minutiae, a rolled
impression 62, a plain one 37 (LEADER on FVC2002 DB1-3: 37); at 14 bytes a minutia a
million identities' ten masters take about 12.5 GB, so build such galleries in slices of
identities.  Speed: about 30,000 masters and 20,000 plain impressions per CPU-second.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from enum import IntEnum

import numba
import numpy as np

from scomm.biometrics.minutiae_batch import MinutiaeBatch
from scomm.sim.synth import minutiae_kernels as kernels
from scomm.sim.synth.minutiae_params import (
    PLAIN,
    ROLLED,
    ImpressionParams,
    MasterParams,
    MinutiaeSetParams,
)

__all__ = [
    "DEFAULT_PARAMS",
    "FINGERS",
    "PLAIN",
    "ROLLED",
    "ImpressionParams",
    "MasterParams",
    "MinutiaeSetParams",
    "PatternClass",
    "generate_impression_list",
    "generate_impressions",
    "generate_masters",
    "pattern_classes",
]

FINGERS: tuple[int, ...] = tuple(range(1, 11))
_DTYPES = (np.float32, np.float32, np.float32, np.uint8, np.uint8)
DEFAULT_PARAMS = MinutiaeSetParams()
_CHUNK = 8192  # impressions generated per buffer (rows x (max minutiae + spurious))
_MIN_ROWS_PER_THREAD = 32


class PatternClass(IntEnum):
    """Henry-style pattern classes of a master finger."""

    ARCH = kernels.ARCH
    TENTED_ARCH = kernels.TENTED_ARCH
    LEFT_LOOP = kernels.LEFT_LOOP
    RIGHT_LOOP = kernels.RIGHT_LOOP
    WHORL = kernels.WHORL


def _seed(seed: int) -> np.uint64:
    if not 0 <= seed < 2**64:
        raise ValueError(f"seed must be in [0, 2**64), got {seed}")
    return np.uint64(seed)


def _identities(identities: Sequence[int] | np.ndarray) -> np.ndarray:
    ids = np.ascontiguousarray(identities, dtype=np.int64).ravel()
    if ids.size and ids.min() < 0:
        raise ValueError("identities must be non-negative")
    return ids.view(np.uint64)


def _fingers(fingers: Sequence[int] | np.ndarray) -> np.ndarray:
    f = np.ascontiguousarray(fingers, dtype=np.int64).ravel()
    if f.size and (f.min() < 1 or f.max() > 10):
        raise ValueError("finger positions must be in 1..10")
    return f


def _threads() -> int:
    """Threads to split a batch over: numba's thread count (NUMBA_NUM_THREADS), at most the
    CPUs."""
    return max(1, min(int(numba.get_num_threads()), os.cpu_count() or 1))


def _run_rows(kernel: Callable[..., None], n: int, *args: object) -> None:
    """kernel(*args, r0, r1) over rows 0..n, split between threads (the kernels drop the GIL)."""
    threads = _threads() if n >= _MIN_ROWS_PER_THREAD * 2 else 1
    bounds = [n * t // threads for t in range(threads + 1)]
    if threads == 1:
        kernel(*args, 0, n)
        return
    with ThreadPoolExecutor(threads) as pool:
        for f in [pool.submit(kernel, *args, bounds[t], bounds[t + 1]) for t in range(threads)]:
            f.result()


def _offsets(counts: np.ndarray) -> np.ndarray:
    offsets = np.zeros(counts.size + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    return offsets


def generate_masters(
    seed: int,
    identities: Sequence[int] | np.ndarray,
    fingers: Sequence[int] | np.ndarray = FINGERS,
    params: MinutiaeSetParams = DEFAULT_PARAMS,
) -> MinutiaeBatch:
    """The master minutiae of every (identity, finger), identity-major, in the master frame."""
    ids, fs, mp = _identities(identities), _fingers(fingers), params.master.vector()
    n = ids.size * fs.size
    counts = np.zeros(n, np.int64)
    _run_rows(kernels.master_counts, n, _seed(seed), ids, fs, mp, counts, np.zeros(n, np.uint8))
    offsets = _offsets(counts)
    total = int(offsets[-1])
    x, y, angle = (np.empty(total, np.float32) for _ in range(3))
    kind, quality = np.empty(total, np.uint8), np.empty(total, np.uint8)
    _run_rows(kernels.master_fill, n, _seed(seed), ids, fs, mp, offsets, x, y, angle, kind, quality)
    m = params.master
    return MinutiaeBatch(offsets, x, y, angle, kind, quality, m.frame_width, m.frame_height, 500)


def pattern_classes(
    seed: int,
    identities: Sequence[int] | np.ndarray,
    fingers: Sequence[int] | np.ndarray = FINGERS,
    params: MinutiaeSetParams = DEFAULT_PARAMS,
) -> np.ndarray:
    """The `PatternClass` code (uint8) of every master, rows as in `generate_masters`."""
    ids, fs = _identities(identities), _fingers(fingers)
    n = ids.size * fs.size
    classes = np.zeros(n, np.uint8)
    mp = params.master.vector()
    _run_rows(kernels.master_counts, n, _seed(seed), ids, fs, mp, np.zeros(n, np.int64), classes)
    return classes


def generate_impression_list(
    seed: int,
    identities: Sequence[int] | np.ndarray,
    fingers: Sequence[int] | np.ndarray,
    impressions: Sequence[int] | np.ndarray,
    kind: str = "plain",
    params: MinutiaeSetParams = DEFAULT_PARAMS,
) -> MinutiaeBatch:
    """Row r: impression impressions[r] (>= 0) of (identities[r], fingers[r]), of `kind`
    "plain" (a flat capture, a part of the finger) or "rolled" (nail to nail)."""
    capture = params.capture(kind)
    ids, fs = _identities(identities), _fingers(fingers)
    imps = np.ascontiguousarray(impressions, dtype=np.int64).ravel()
    if not ids.size == fs.size == imps.size:
        raise ValueError(f"{ids.size} identities, {fs.size} fingers, {imps.size} impressions")
    if imps.size and imps.min() < 0:
        raise ValueError("impression numbers must be non-negative")
    seed_ = _seed(seed)
    domain = kernels.DOMAIN_PLAIN if kind == "plain" else kernels.DOMAIN_ROLLED
    mp, ip = params.master.vector(), capture.vector()
    width = int(params.master.max_minutiae * (1.0 + capture.spurious[1])) + 32
    rows = min(_CHUNK, max(ids.size, 1))
    bx, by, ba = (np.empty((rows, width), np.float32) for _ in range(3))
    bk, bq = np.empty((rows, width), np.uint8), np.empty((rows, width), np.uint8)
    counts = np.zeros(ids.size, np.int64)
    parts: list[tuple[np.ndarray, ...]] = []
    for start in range(0, ids.size, rows):
        stop = min(start + rows, ids.size)
        sl = slice(start, stop)
        c = counts[sl]
        _run_rows(
            kernels.impression_fill, stop - start, seed_, domain, ids[sl], fs[sl], imps[sl],
            mp, ip, c, bx, by, ba, bk, bq,
        )  # fmt: skip
        part = tuple(np.empty(int(c.sum()), dt) for dt in _DTYPES)
        kernels.compact(c, _offsets(c), bx, by, ba, bk, bq, *part)
        parts.append(part)
    x, y, angle, kind_, quality = (
        np.concatenate([p[i] for p in parts]) if parts else np.zeros(0, dt)
        for i, dt in enumerate(_DTYPES)
    )
    width, height = capture.frame_width, capture.frame_height
    return MinutiaeBatch(_offsets(counts), x, y, angle, kind_, quality, width, height, 500)


def generate_impressions(
    seed: int,
    identities: Sequence[int] | np.ndarray,
    fingers: Sequence[int] | np.ndarray = FINGERS,
    impression: int | Sequence[int] | np.ndarray = 1,
    kind: str = "plain",
    params: MinutiaeSetParams = DEFAULT_PARAMS,
) -> MinutiaeBatch:
    """One impression of every (identity, finger), identity-major like `generate_masters`;
    `impression` is one number or an array broadcastable to (identities, fingers)."""
    ids = np.ascontiguousarray(identities, dtype=np.int64).ravel()
    fs = np.ascontiguousarray(fingers, dtype=np.int64).ravel()
    grid = (ids.size, fs.size)
    imps = np.broadcast_to(np.asarray(impression, dtype=np.int64), grid)
    return generate_impression_list(
        seed,
        np.repeat(ids, fs.size),
        np.tile(fs, ids.size),
        imps.ravel(),
        kind,
        params,
    )
