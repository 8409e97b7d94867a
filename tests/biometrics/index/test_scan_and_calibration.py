"""First-stage scan kernels and the FPIR calibration."""

from __future__ import annotations

import math

import numpy as np
import pytest

from scomm.biometrics.index import scan
from scomm.biometrics.index.calibration import calibrate, sample_fmr_at


def random_codes(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.integers(0, 2**63, size=shape, dtype=np.int64).view(np.uint64)


def reference_fused(codes: np.ndarray, present: np.ndarray, probe: np.ndarray, mask: int) -> list:
    out = []
    bits = codes.shape[2] * 64
    for n in range(len(present)):
        shared = [f for f in range(10) if (int(present[n]) & mask) >> f & 1]
        if not shared:
            out.append(-np.inf)
            continue
        total = sum(
            bits - 2 * int(np.unpackbits((codes[n, f] ^ probe[f]).view(np.uint8)).sum())
            for f in shared
        )
        out.append(total / (bits * math.sqrt(len(shared))))
    return out


def test_fused_scan_equals_the_definition() -> None:
    rng = np.random.default_rng(0)
    codes = random_codes(rng, (50, 10, 2))
    present = rng.integers(0, 1024, 50).astype(np.uint16)
    present[3] = 0
    probe = random_codes(rng, (10, 2))
    probe[:] = codes[7]
    mask = 0b1010110111
    got = scan.fused_scores(codes, present, probe, mask)
    assert got.dtype == np.float32
    want = reference_fused(codes, present, probe, mask)
    assert np.allclose(got, np.array(want, dtype=np.float32), equal_nan=False)
    assert got[3] == -np.inf
    shared = bin(int(present[7]) & mask).count("1")
    if shared:
        assert got[7] == pytest.approx(math.sqrt(shared))  # identical codes: every bit agrees


def test_finger_scan_and_top_k() -> None:
    rng = np.random.default_rng(1)
    codes = random_codes(rng, (20, 10, 2))
    present = np.full(20, 1023, np.uint16)
    present[5] = 0b10
    probe = codes[5, 1].copy()
    got = scan.finger_scores(codes, present, probe, 0b10)  # position 2 only
    assert got.shape == (20, 10)
    assert np.isinf(got[:, [0, 2, 3, 4, 5, 6, 7, 8, 9]]).all()
    best = scan.top_k(got, 3)
    assert best[0] == 5 * 10 + 1 and got.reshape(-1)[best[0]] == 1.0
    assert list(scan.top_k(np.array([0.5, -np.inf, 0.5, 0.9]), 10)) == [3, 0, 2]
    assert len(scan.top_k(np.array([-np.inf]), 5)) == 0


def test_calibration_recovers_an_exponential_tail() -> None:
    rng = np.random.default_rng(2)
    scores = rng.exponential(0.5, 200_000)
    cal = calibrate(scores, gallery_size=1000, fpir=1e-2)
    # P(S >= t) = exp(-t / 0.5) must equal 1 - (1 - 0.01) ** (1 / 1000)
    fmr = -math.expm1(math.log1p(-1e-2) / 1000)
    assert cal.threshold == pytest.approx(-0.5 * math.log(fmr), rel=0.03)
    assert cal.modelled_fmr(cal.threshold) == pytest.approx(fmr, rel=1e-6)
    assert sample_fmr_at(scores, cal.tail_start) == pytest.approx(0.01, rel=0.01)
    stricter = calibrate(scores, gallery_size=1000, fpir=1e-3)
    assert stricter.threshold > cal.threshold


def test_calibration_refuses_too_few_scores() -> None:
    with pytest.raises(ValueError, match="tail fit needs at least 20"):
        calibrate(np.arange(100.0), gallery_size=10)
    with pytest.raises(ValueError, match="fpir"):
        calibrate(np.arange(10_000.0), gallery_size=10, fpir=0)
