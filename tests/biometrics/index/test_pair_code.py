"""Pair codes: invariant to where the finger lies, different for different fingers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from scomm.biometrics.index.pair_code import PairCodeParams, PairCoder, pair_histograms
from scomm.biometrics.minutiae import Minutiae
from scomm.biometrics.minutiae_batch import MinutiaeBatch


def finger(seed: int, n: int = 45) -> Minutiae:
    rng = np.random.default_rng(seed)
    x = rng.uniform(60, 340, n)
    y = rng.uniform(60, 440, n)
    angle = np.mod(np.arctan2(y - 250, x - 200) + rng.normal(0, 0.3, n), 2 * math.pi)
    return Minutiae(x, y, angle, np.ones(n, np.uint8), np.full(n, 60, np.uint8), 400, 500)


def turned(m: Minutiae, rotation: float, tx: float, ty: float) -> Minutiae:
    """The same minutiae rotated counter-clockwise (as seen) about (200, 250) and shifted."""
    c, s = math.cos(rotation), math.sin(rotation)
    dx, dy = m.x - 200, -(m.y - 250)
    x = 200 + c * dx - s * dy + tx
    y = 250 - (s * dx + c * dy) + ty
    return Minutiae(x, y, m.angle + rotation, m.kind, m.quality, 600, 700)


def hamming(a: np.ndarray, b: np.ndarray) -> int:
    return int(np.unpackbits((a ^ b).view(np.uint8)).sum())


@pytest.fixture(scope="module")
def coder() -> PairCoder:
    return PairCoder.fit(MinutiaeBatch.from_minutiae([finger(s) for s in range(200)]))


def test_histogram_is_normalised_and_pose_invariant() -> None:
    params = PairCodeParams()
    m = finger(1)
    h = pair_histograms(MinutiaeBatch.from_minutiae([m, turned(m, 0.7, 30, -12)]), params)
    assert h.shape == (2, params.dims)
    assert np.linalg.norm(h[0]) == pytest.approx(1.0, abs=1e-5)
    assert np.abs(h[0] - h[1]).max() < 2e-3  # rounding of float32 coordinates only


def test_codes_same_finger_close_other_fingers_far(coder: PairCoder) -> None:
    sets = [finger(500), turned(finger(500), -0.4, 20, 15)] + [finger(600 + i) for i in range(30)]
    codes = coder.encode(MinutiaeBatch.from_minutiae(sets))
    assert codes.shape == (32, coder.params.words) and codes.dtype == np.uint64
    same = hamming(codes[0], codes[1])
    others = [hamming(codes[0], codes[k]) for k in range(2, 32)]
    assert same < 0.05 * coder.params.bits
    assert min(others) > 0.25 * coder.params.bits


def test_encode_is_deterministic_and_chunk_independent(coder: PairCoder) -> None:
    batch = MinutiaeBatch.from_minutiae([finger(s) for s in range(700, 711)])
    whole = coder.encode(batch)
    assert np.array_equal(whole, coder.encode(batch, chunk=3))
    again = PairCoder(coder.params, coder.mean.copy())
    assert np.array_equal(whole, again.encode(batch))


def test_too_few_minutiae_give_the_mean_code_and_fit_refuses_empty() -> None:
    empty = Minutiae.empty(400, 500)
    with pytest.raises(ValueError, match="no set has two minutiae"):
        PairCoder.fit(MinutiaeBatch.from_minutiae([empty]))
    with pytest.raises(ValueError, match="multiple of 64"):
        PairCodeParams(bits=100)
    with pytest.raises(ValueError, match="mean has shape"):
        PairCoder(PairCodeParams(), np.zeros(3))
