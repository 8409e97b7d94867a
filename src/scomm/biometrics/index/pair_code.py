"""First-stage codes: a fixed-length binary code per finger from its minutiae.

Method: every ordered pair of minutiae (i, j) closer than `max_distance` is described by
three quantities that neither rotation nor translation change: their distance, and the
direction of each minutia measured from the line i -> j.  A soft (trilinear) histogram of
those triples, square-rooted and normalised, is centred on the population mean (without
centring all prints look alike: the mean histogram dominates) and hashed to `bits` signs of
fixed Gaussian projections (Charikar's SimHash), so that the fraction of equal bits between
two codes estimates the angle between their centred histograms.

Why it is ours: the search needs a code cheap enough to scan ten million of in a tenth of a
second and built only from the minutiae the gallery already keeps; published fixed-length
representations (MCC-based hashes, spectral minutiae, DeepPrint) need either the image, a
trained network or a much larger index.  On the FVC2002 LEADER minutiae this code alone
separates mates from non-mates with d' about 2.8 (EER about 13%, one finger); across ten
fingers the fused d' is about three times that, enough to shortlist.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numba
import numpy as np

from scomm.biometrics.minutiae_batch import MinutiaeBatch


@dataclass(frozen=True)
class PairCodeParams:
    """distance_bins x angle_bins x angle_bins histogram; `bits` code length (multiple of 64)."""

    distance_bins: int = 6
    angle_bins: int = 16
    min_distance: float = 10.0  # pixels at 500 ppi
    max_distance: float = 80.0
    bits: int = 512
    projection_seed: int = 20091027  # the Secure Communities start date, nothing more

    @property
    def dims(self) -> int:
        return self.distance_bins * self.angle_bins * self.angle_bins

    @property
    def words(self) -> int:
        return self.bits // 64

    def __post_init__(self) -> None:
        if self.angle_bins % 2:
            raise ValueError(f"angle_bins must be even, got {self.angle_bins}")
        if self.bits % 64 or self.bits <= 0:
            raise ValueError(f"bits must be a positive multiple of 64, got {self.bits}")
        if not 0 <= self.min_distance < self.max_distance:
            raise ValueError("need 0 <= min_distance < max_distance")


@numba.njit(cache=True)
def _histogram_one(  # pragma: no cover - compiled
    s: int,
    offsets: Any,
    x: Any,
    y: Any,
    angle: Any,
    nd: int,
    na: int,
    dmin: float,
    dmax: float,
    h: Any,
) -> None:
    """h = sqrt-normalised soft pair histogram of set s (rows offsets[s]:offsets[s+1]); each
    unordered pair is measured once and counted in both orders."""
    two_pi = 2.0 * math.pi
    dscale = nd / (dmax - dmin)
    ascale = na / two_pi
    dmin2 = dmin * dmin
    dmax2 = dmax * dmax
    half = na // 2  # the reverse pair (j, i): both angles shift by pi, and swap
    h[:] = 0.0
    b = offsets[s]
    e = offsets[s + 1]
    for i in range(b, e):
        xi = x[i]
        yi = -y[i]  # y up, so that angles are counter-clockwise as ISO's are
        ti = angle[i]
        for j in range(i + 1, e):
            dx = x[j] - xi
            dy = -y[j] - yi
            d2 = dx * dx + dy * dy
            if d2 <= dmin2 or d2 >= dmax2:
                continue
            phi = math.atan2(dy, dx)
            fd = (math.sqrt(d2) - dmin) * dscale + 0.5  # one more than the bin coordinate
            fa = (ti - phi) * ascale  # in (-na/2, 3na/2): at most one wrap
            if fa < 0.0:
                fa += na
            elif fa >= na:
                fa -= na
            fb = (angle[j] - phi) * ascale
            if fb < 0.0:
                fb += na
            elif fb >= na:
                fb -= na
            d1 = int(fd)  # fd > 0, so this is floor(fd), the upper distance bin
            wd1 = fd - d1
            a0 = min(int(fa), na - 1)
            b0 = min(int(fb), na - 1)
            wa1 = fa - a0
            wb1 = fb - b0
            a1 = a0 + 1 if a0 + 1 < na else 0
            b1 = b0 + 1 if b0 + 1 < na else 0
            ar0 = a0 + half if a0 < half else a0 - half
            ar1 = a1 + half if a1 < half else a1 - half
            br0 = b0 + half if b0 < half else b0 - half
            br1 = b1 + half if b1 < half else b1 - half
            for sd in range(2):
                di = d1 - 1 + sd
                if di < 0 or di >= nd:
                    continue
                wd = wd1 if sd else 1.0 - wd1
                row = di * na
                w00 = wd * (1.0 - wa1) * (1.0 - wb1)
                w01 = wd * (1.0 - wa1) * wb1
                w10 = wd * wa1 * (1.0 - wb1)
                w11 = wd * wa1 * wb1
                h[(row + a0) * na + b0] += w00
                h[(row + a0) * na + b1] += w01
                h[(row + a1) * na + b0] += w10
                h[(row + a1) * na + b1] += w11
                h[(row + br0) * na + ar0] += w00
                h[(row + br1) * na + ar0] += w01
                h[(row + br0) * na + ar1] += w10
                h[(row + br1) * na + ar1] += w11
    norm = 0.0
    for k in range(h.shape[0]):
        v = math.sqrt(h[k])
        h[k] = v
        norm += v * v
    if norm > 0.0:
        inv = 1.0 / math.sqrt(norm)
        for k in range(h.shape[0]):
            h[k] *= inv


@numba.njit(cache=True, parallel=True)
def _histograms_parallel(offsets: Any, x: Any, y: Any, angle: Any, nd: int, na: int,
                         dmin: float, dmax: float, out: Any) -> None:  # fmt: skip
    for s in numba.prange(out.shape[0]):
        _histogram_one(s, offsets, x, y, angle, nd, na, dmin, dmax, out[s])


@numba.njit(cache=True)
def _histograms_serial(offsets: Any, x: Any, y: Any, angle: Any, nd: int, na: int,
                       dmin: float, dmax: float, out: Any) -> None:  # fmt: skip
    for s in range(out.shape[0]):
        _histogram_one(s, offsets, x, y, angle, nd, na, dmin, dmax, out[s])


_PARALLEL_FROM = 256  # sets; below this, starting threads costs more than it saves


@numba.njit(cache=True)
def _project_small(hist: Any, projection: Any, out: Any) -> None:  # pragma: no cover - compiled
    """out = hist @ projection for a few rows, without BLAS (whose thread start-up costs
    milliseconds on small products); zero histogram bins are skipped."""
    out[:] = 0.0
    for r in range(hist.shape[0]):
        row = out[r]
        for d in range(hist.shape[1]):
            v = hist[r, d]
            if v != 0.0:
                p = projection[d]
                for b in range(row.shape[0]):
                    row[b] += v * p[b]


def pair_histograms(batch: MinutiaeBatch, params: PairCodeParams) -> np.ndarray:
    """float32 len(batch) x params.dims: the normalised histogram of each set (zeros if it
    has fewer than two minutiae).  Coordinates are taken as 500 ppi pixels."""
    out = np.zeros((len(batch), params.dims), dtype=np.float32)
    _fill_histograms(batch, params, out)
    return out


def _fill_histograms(batch: MinutiaeBatch, params: PairCodeParams, out: np.ndarray) -> None:
    if batch.ppi != 500:
        raise ValueError(f"pair codes are defined on 500 ppi minutiae, batch is {batch.ppi} ppi")
    if len(batch):
        kernel = _histograms_parallel if len(batch) >= _PARALLEL_FROM else _histograms_serial
        kernel(
            batch.offsets,
            batch.x,
            batch.y,
            batch.angle,
            params.distance_bins,
            params.angle_bins,
            params.min_distance,
            params.max_distance,
            out,
        )


class PairCoder:
    """Turns minutiae sets into `params.bits`-bit codes (uint64 words, len x words).

    `mean` is the population's mean histogram (`fit` estimates it); it is part of the
    coder, stored with every gallery, because codes made with different means do not
    compare.
    """

    def __init__(self, params: PairCodeParams, mean: np.ndarray) -> None:
        mean = np.ascontiguousarray(mean, dtype=np.float32)
        if mean.shape != (params.dims,):
            raise ValueError(f"mean has shape {mean.shape}, expected ({params.dims},)")
        self.params = params
        self.mean = mean
        rng = np.random.default_rng(params.projection_seed)
        self._projection = rng.standard_normal((params.dims, params.bits)).astype(np.float32)
        # (h - mean) @ P > 0  <=>  h @ P > mean @ P: centring costs nothing per code
        self._bias = (self.mean @ self._projection).astype(np.float32)

    @classmethod
    def fit(cls, batch: MinutiaeBatch, params: PairCodeParams | None = None) -> PairCoder:
        """A coder centred on the mean histogram of `batch` (a sample of the population)."""
        params = params or PairCodeParams()
        hist = pair_histograms(batch, params)
        usable = hist.any(axis=1)
        if not usable.any():
            raise ValueError("cannot fit a pair coder: no set has two minutiae")
        return cls(params, hist[usable].mean(axis=0))

    def histograms_to_codes(self, hist: np.ndarray) -> np.ndarray:
        if len(hist) < _PARALLEL_FROM:
            projected = np.empty((len(hist), self.params.bits), dtype=np.float32)
            _project_small(np.ascontiguousarray(hist, dtype=np.float32), self._projection,
                           projected)  # fmt: skip
        else:
            projected = hist @ self._projection
        signs = projected > self._bias  # n x bits: signs of the centred projection
        packed = np.packbits(signs, axis=1, bitorder="little")  # bit k of word w: sign w*64+k
        return np.ascontiguousarray(packed).view("<u8").astype(np.uint64, copy=False)

    def encode(self, batch: MinutiaeBatch, chunk: int = 4096) -> np.ndarray:
        """uint64 len(batch) x words; a set with fewer than two minutiae codes as the mean."""
        out = np.zeros((len(batch), self.params.words), dtype=np.uint64)
        buffer = np.zeros((min(chunk, len(batch)), self.params.dims), dtype=np.float32)
        for begin in range(0, len(batch), chunk):
            part = batch.slice(begin, begin + chunk)
            hist = buffer[: len(part)]
            _fill_histograms(part, self.params, hist)
            out[begin : begin + len(part)] = self.histograms_to_codes(hist)
        return out
