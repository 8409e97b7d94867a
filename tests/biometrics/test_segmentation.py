"""Foreground segmentation and usable area."""

from __future__ import annotations

import csv
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from scomm.biometrics.images import decode_image
from scomm.biometrics.resample import to_500_ppi
from scomm.biometrics.segmentation import block_contrast, foreground_mask, usable_area_mm2

PIXEL_MM2 = (25.4 / 500) ** 2


def _synthetic_print(
    height: int = 500,
    width: int = 400,
    semi_axes: tuple[float, float] = (180.0, 130.0),
    background: float = 215.0,
    ridge_amplitude: float = 70.0,
    noise: float = 3.0,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """A whorl-like ridge pattern (period ~9 px) inside an upright ellipse on a noisy, evenly
    lit background; and the ellipse as a boolean mask."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    cy, cx = height / 2, width / 2
    inside = ((y - cy) / semi_axes[0]) ** 2 + ((x - cx) / semi_axes[1]) ** 2 <= 1.0
    ridges = np.sin(2 * np.pi * np.hypot(y - cy * 0.8, x - cx) / 9.0)
    grey = np.full((height, width), background) - inside * (ridge_amplitude * (1 + ridges))
    grey += rng.normal(0.0, noise, grey.shape)
    return np.clip(np.rint(grey), 0, 255).astype(np.uint8), inside


def test_synthetic_print_is_found() -> None:
    image, truth = _synthetic_print()
    mask = foreground_mask(image)
    assert mask.shape == image.shape and mask.dtype == np.bool_
    iou = (mask & truth).sum() / (mask | truth).sum()
    assert iou > 0.9
    assert abs(usable_area_mm2(mask) / usable_area_mm2(truth) - 1) < 0.1
    assert not mask[:20].any() and not mask[:, :20].any()  # background well away is background


def test_faint_print_on_a_quiet_sensor_is_found() -> None:
    image, truth = _synthetic_print(background=120, ridge_amplitude=12, noise=3, seed=1)
    mask = foreground_mask(image)
    assert (mask & truth).sum() / (mask | truth).sum() > 0.85


@pytest.mark.parametrize("kind", ["blank", "black", "shading", "noise"])
def test_no_fingerprint_no_foreground(kind: str) -> None:
    rng = np.random.default_rng(3)
    y, x = np.mgrid[0:400, 0:300].astype(np.float64)
    image = {
        "blank": np.full((400, 300), 255.0),
        "black": np.zeros((400, 300)),
        "shading": 60 + 0.4 * x + 0.2 * y,  # vignetting / uneven illumination: 60..240
        "noise": 128 + rng.normal(0, 4, (400, 300)),  # sensor noise
    }[kind]
    mask = foreground_mask(np.clip(np.rint(image), 0, 255).astype(np.uint8))
    assert not mask.any()
    assert usable_area_mm2(mask) == 0.0


def test_specks_and_scanner_lines_are_not_foreground() -> None:
    image, truth = _synthetic_print()
    image[5:9, :] = 0  # a scanner line along the top edge
    image[450:460, 10:20] = 0  # a speck of dust
    mask = foreground_mask(image)
    assert not mask[:30].any() and not mask[440:470, :40].any()
    assert (mask & truth).sum() / (mask | truth).sum() > 0.9


def test_block_contrast_ignores_smooth_shading() -> None:
    y, x = np.mgrid[0:96, 0:96].astype(np.float64)
    ramp = (40 + 1.5 * x).astype(np.uint8)  # 1.5 grey levels per pixel
    ridges = (128 + 40 * np.sin(2 * np.pi * x / 9)).astype(np.uint8)
    assert block_contrast(ramp).max() < 3
    assert block_contrast(ridges)[1:-1, 1:-1].min() > 20
    assert block_contrast(ridges).shape == (12, 12)
    assert block_contrast(ridges[:90, :91]).shape == (12, 12)


def test_odd_sizes_and_inputs() -> None:
    image, _ = _synthetic_print(height=203, width=157, semi_axes=(80, 60))
    assert foreground_mask(image).shape == (203, 157)
    assert foreground_mask(image.astype(np.float32)).shape == (203, 157)
    assert foreground_mask(np.full((5, 3), 9, np.uint8)).shape == (5, 3)
    with pytest.raises(ValueError):
        foreground_mask(np.zeros((4, 4, 3), np.uint8))
    with pytest.raises(ValueError):
        foreground_mask(np.zeros((0, 4), np.uint8))
    with pytest.raises(TypeError):
        foreground_mask([[1, 2]])  # type: ignore[arg-type]


def test_usable_area_units() -> None:
    full = np.ones((500, 500), dtype=bool)
    assert usable_area_mm2(full) == pytest.approx(25.4**2)  # one square inch
    assert usable_area_mm2(full, ppi=1000) == pytest.approx(25.4**2 / 4)
    assert usable_area_mm2(np.zeros((10, 10), bool)) == 0.0
    with pytest.raises(ValueError):
        usable_area_mm2(full, ppi=0)


def test_fast_enough() -> None:
    image, _ = _synthetic_print(height=500, width=500, semi_axes=(200, 160))
    foreground_mask(image)
    best = min(_timed(foreground_mask, image) for _ in range(7))
    assert best < 0.010, f"{best * 1000:.1f} ms for 500x500"


def _timed(function: Callable[[np.ndarray], object], image: np.ndarray) -> float:
    start = time.perf_counter()
    function(image)
    return time.perf_counter() - start


def test_fvc2002_prints_have_plausible_areas(data_dir: Path) -> None:
    """One impression in 8 of every database: the print found, the background not."""
    manifest = data_dir / "fvc2002" / "MANIFEST.csv"
    if not manifest.is_file():
        pytest.skip(f"{manifest} not found")
    with manifest.open(newline="") as handle:
        rows = list(csv.DictReader(handle))[::8]
    for row in rows:
        image = to_500_ppi(
            decode_image((data_dir / "fvc2002" / row["path"]).read_bytes()), float(row["ppi"])
        )
        area = usable_area_mm2(foreground_mask(image))
        frame = image.size * PIXEL_MM2
        assert 50 < area < 0.9 * frame, (row["path"], area, frame)
