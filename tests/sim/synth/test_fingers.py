"""Synthetic fingers: deterministic, finger-like, and captures that vary the way sensors do."""

from __future__ import annotations

import numpy as np
import pytest

from scomm.sim.synth.fingers import (
    BACKGROUND,
    MASTER_SIZE,
    RIDGE_PERIOD_PX,
    _dropout_mask,
    impression,
    master_finger,
    tenprint_seeds,
)


def test_master_is_uint8_square_and_deterministic() -> None:
    a = master_finger(42)
    assert a.dtype == np.uint8 and a.shape == (MASTER_SIZE, MASTER_SIZE) == (256, 256)
    assert a.tobytes() == master_finger(42).tobytes()
    assert master_finger(42, size=96).shape == (96, 96)


def test_impression_is_deterministic_for_a_seeded_rng() -> None:
    master = master_finger(7)
    first = impression(master, np.random.default_rng(3))
    again = impression(master, np.random.default_rng(3))
    assert first.dtype == np.uint8 and first.shape == master.shape
    assert first.tobytes() == again.tobytes()
    assert first.tobytes() != impression(master, np.random.default_rng(4)).tobytes()


def test_light_background_dark_ridges_inside_the_finger() -> None:
    image = master_finger(1).astype(float)
    corners = np.concatenate([image[:8, :8].ravel(), image[-8:, -8:].ravel()])
    assert np.all(np.abs(corners - BACKGROUND) <= 1)
    c = MASTER_SIZE // 2
    centre = image[c - 16 : c + 16, c - 16 : c + 16]
    assert centre.min() < 80 and centre.max() > 180  # both ridges and valleys present


def test_ridge_period_is_about_eight_pixels() -> None:
    c = MASTER_SIZE // 2
    centre = master_finger(5).astype(float)[c - 32 : c + 32, c - 32 : c + 32]
    power = np.abs(np.fft.rfft2(centre - centre.mean())) ** 2
    fy = np.fft.fftfreq(64)[:, None]
    fx = np.fft.rfftfreq(64)[None, :]
    radius = np.hypot(fy, fx)
    mean_frequency = float((power * radius).sum() / power.sum())
    assert 0.8 < mean_frequency * RIDGE_PERIOD_PX < 1.25


def test_distinct_seeds_give_unrelated_patterns() -> None:
    c = MASTER_SIZE // 2
    a = master_finger(100).astype(float)[c - 24 : c + 24, c - 24 : c + 24]
    b = master_finger(101).astype(float)[c - 24 : c + 24, c - 24 : c + 24]
    a, b = a - a.mean(), b - b.mean()
    assert abs(float((a * b).sum() / np.sqrt((a * a).sum() * (b * b).sum()))) < 0.3


def test_impression_shift_is_bounded_and_content_is_kept() -> None:
    master = master_finger(9)
    rng = np.random.default_rng(0)
    for _ in range(10):
        capture = impression(master, rng, max_shift=6, noise=0.0, dropout=0.0).astype(float)
        best = max(
            np.corrcoef(
                np.roll(master.astype(float), (dy, dx), axis=(0, 1))[16:-16, 16:-16].ravel(),
                capture[16:-16, 16:-16].ravel(),
            )[0, 1]
            for dy in range(-6, 7)
            for dx in range(-6, 7)
        )
        assert best > 0.99


def test_dropout_region_stays_under_a_fifth_of_the_image() -> None:
    rng = np.random.default_rng(1)
    fractions = [float((_dropout_mask((128, 128), rng) > 0).mean()) for _ in range(300)]
    assert max(fractions) < 0.2
    assert min(fractions) > 0.0


def _background_pixels(capture: np.ndarray) -> int:
    """Pixels at the capture's most common grey level: background, when noise is off."""
    return int(np.count_nonzero(capture == np.bincount(capture.ravel()).argmax()))


def test_dropout_parameter_controls_partial_contact() -> None:
    master = master_finger(3)
    extra = []
    for seed in range(8):
        lifted = impression(master, np.random.default_rng(seed), noise=0.0, dropout=1.0)
        whole = impression(master, np.random.default_rng(seed), noise=0.0, dropout=0.0)
        extra.append((_background_pixels(lifted) - _background_pixels(whole)) / master.size)
    assert min(extra) >= 0.0
    assert 0.03 < float(np.mean(extra)) < 0.2
    with pytest.raises(ValueError):
        impression(master, np.random.default_rng(0), dropout=1.5)


def test_tenprint_seeds_are_ten_distinct_and_stable() -> None:
    seeds = tenprint_seeds(123)
    assert len(seeds) == 10 and len(set(seeds)) == 10
    assert seeds == tenprint_seeds(123)
    assert set(seeds).isdisjoint(tenprint_seeds(124))
    with pytest.raises(ValueError):
        tenprint_seeds(-1)
