"""Resampling finger images to 500 ppi."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from scomm.biometrics.images import decode_image, load_finger_image
from scomm.biometrics.resample import MAX_OUTPUT_PIXELS, size_at_500_ppi, to_500_ppi


def _sinusoid(
    height: int, width: int, period_px: float, amplitude: float = 100.0, phase_px: float = 0.0
) -> np.ndarray:
    x = np.arange(width, dtype=np.float64) + phase_px
    row = 127.5 + amplitude * np.sin(2 * np.pi * x / period_px)
    return np.clip(np.rint(np.tile(row, (height, 1))), 0, 255).astype(np.uint8)


def test_identity_at_500(textured: Callable[..., np.ndarray]) -> None:
    image = textured(120, 90)
    out = to_500_ppi(image, 500)
    assert np.array_equal(out, image)
    assert out is not image and out.flags.c_contiguous
    out[0, 0] ^= 1
    assert out[0, 0] != image[0, 0]  # a copy, not a view


def test_sizes() -> None:
    assert size_at_500_ppi(296, 560, 569) == (260, 492)
    assert size_at_500_ppi(1090, 995, 1000) == (545, 498)
    assert size_at_500_ppi(100, 100, 250) == (200, 200)
    assert size_at_500_ppi(100, 80, 1000, 500) == (50, 80)
    assert size_at_500_ppi(1, 1, 10_000) == (1, 1)


@pytest.mark.parametrize(("method", "kept"), [("lanczos", 0.1), ("bicubic", 0.1), ("area", 0.35)])
def test_reduction_is_antialiased(method: str, kept: float) -> None:
    # A 2.5 px period at 1000 ppi is 1.25 px at 500 ppi: above the new Nyquist limit.
    # Plain decimation (every other pixel) would keep it at full strength as a 5 px alias.
    image = _sinusoid(64, 400, 2.5)
    decimated = image[:, ::2].astype(np.float64)
    assert decimated.std() > 50
    out = to_500_ppi(image, 1000, method=method).astype(np.float64)  # type: ignore[arg-type]
    assert out.shape == (32, 200)
    # Lanczos and bicubic suppress it; 2-pixel averaging ("area") only to cos(0.4 pi) = 0.31.
    assert out[:, 8:-8].std() < kept * decimated.std()


def test_ridges_survive_the_reduction() -> None:
    # 20 px period at 1000 ppi (a coarse ridge pattern) is 10 px at 500 ppi: kept.
    image = _sinusoid(64, 400, 20.0)
    out = to_500_ppi(image, 1000).astype(np.float64)
    assert abs(out.std() - image.astype(np.float64).std()) < 3
    # Output pixel j covers input pixels 2j and 2j+1: its centre is at input x = 2j + 0.5.
    expected = _sinusoid(32, 200, 10.0, phase_px=0.25).astype(np.float64)
    assert np.abs(out[:, 4:-4] - expected[:, 4:-4]).mean() < 3


def test_enlargement(textured: Callable[..., np.ndarray]) -> None:
    image = textured(100, 100)
    out = to_500_ppi(image, 250)
    assert out.shape == (200, 200) and out.dtype == np.uint8
    assert abs(float(out.mean()) - float(image.mean())) < 2


def test_bad_input_is_refused(textured: Callable[..., np.ndarray]) -> None:
    image = textured(50, 50)
    for ppi in (0, -1, 99, 10_001, float("nan"), float("inf")):
        with pytest.raises(ValueError):
            to_500_ppi(image, ppi)
    with pytest.raises(ValueError):
        to_500_ppi(image.astype(np.float32), 1000)
    with pytest.raises(ValueError):
        to_500_ppi(np.zeros((4, 4, 3), np.uint8), 1000)
    with pytest.raises(ValueError):
        to_500_ppi(np.zeros((0, 4), np.uint8), 1000)
    with pytest.raises(ValueError):
        to_500_ppi(image, 1000, method="nearest")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        to_500_ppi([[0]], 500)  # type: ignore[arg-type]
    side = int(np.sqrt(MAX_OUTPUT_PIXELS)) // 4
    with pytest.raises(ValueError, match="more than"):
        to_500_ppi(np.zeros((side, side), np.uint8), 100)  # 25x the pixels


def _fvc_manifest(data_dir: Path) -> list[dict[str, str]]:
    manifest = data_dir / "fvc2002" / "MANIFEST.csv"
    if not manifest.is_file():
        pytest.skip(f"{manifest} not found")
    with manifest.open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_fvc2002_db2_resamples_to_the_expected_size(data_dir: Path) -> None:
    rows = [row for row in _fvc_manifest(data_dir) if row["db"] == "DB2_B"]
    assert len(rows) == 80 and {row["ppi"] for row in rows} == {"569"}
    expected = (round(560 * 500 / 569), round(296 * 500 / 569))
    assert expected == (492, 260)
    for row in rows[::8]:
        data = (data_dir / "fvc2002" / row["path"]).read_bytes()
        image = decode_image(data)
        assert image.shape == (560, 296)
        assert to_500_ppi(image, 569).shape == expected
        assert load_finger_image(data, ppi=float(row["ppi"])).pixels.shape == expected


def test_other_fvc2002_databases_are_left_alone(data_dir: Path) -> None:
    for row in _fvc_manifest(data_dir)[::40]:
        if row["ppi"] != "500":
            continue
        data = (data_dir / "fvc2002" / row["path"]).read_bytes()
        assert np.array_equal(load_finger_image(data, ppi=500).pixels, decode_image(data))


def test_1000_ppi_rolled_prints_halve(data_dir: Path) -> None:
    folder = data_dir / "nist-sd-samples" / "rolled-1000ppi"
    paths = sorted(folder.glob("*.bmp"))
    if not paths:
        pytest.skip(f"no BMPs in {folder}")
    assert len(paths) == 7
    for path in paths:
        data = path.read_bytes()
        with Image.open(path) as source:
            width, height = source.size
        loaded = load_finger_image(data)  # the BMP header says 1000 ppi
        assert (loaded.ppi_origin, loaded.source_ppi) == ("metadata", 1000.0), path.name
        h, w = loaded.pixels.shape
        assert abs(w - width / 2) <= 0.5 and abs(h - height / 2) <= 0.5, path.name
        # Still a fingerprint: ridge contrast is kept (mean grey level and spread move little).
        original = decode_image(data).astype(np.float64)
        assert abs(loaded.pixels.mean() - original.mean()) < 2
        assert loaded.pixels.std() > 0.8 * original.std()
