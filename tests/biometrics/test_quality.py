"""NFIQ 2 and the failure-to-enrol rule."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFilter

from scomm.biometrics.images import decode_image
from scomm.biometrics.protocols import FailureToEnrol
from scomm.biometrics.quality import (
    MIN_USABLE_AREA_MM2,
    Nfiq2Scorer,
    QualityError,
    QualityReport,
    assess,
    check_enrolable,
    nfiq2,
)
from scomm.biometrics.resample import to_500_ppi


def _fvc(data_dir: Path, path: str, ppi: float = 500) -> np.ndarray:
    file = data_dir / "fvc2002" / path
    if not file.is_file():
        pytest.skip(f"{file} not found")
    return to_500_ppi(decode_image(file.read_bytes()), ppi)


@pytest.fixture(scope="module")
def good_print(data_dir: Path) -> np.ndarray:
    return _fvc(data_dir, "DB1_B/101_1.tif")


@pytest.fixture(scope="module")
def scorer() -> Nfiq2Scorer:
    return Nfiq2Scorer()  # its native extractor is made on the first score, then reused


def test_nfiq2_scores_a_real_print(good_print: np.ndarray, scorer: Nfiq2Scorer) -> None:
    score = scorer.score(good_print)
    assert isinstance(score, int) and 40 <= score <= 100
    assert scorer.score(good_print) == score  # deterministic
    assert nfiq2(good_print) == score  # a scorer made for one image scores the same


def test_nfiq2_drops_when_the_print_degrades(good_print: np.ndarray, scorer: Nfiq2Scorer) -> None:
    score = scorer.score(good_print)
    blurred = np.asarray(Image.fromarray(good_print).filter(ImageFilter.GaussianBlur(3)))
    noise = np.random.default_rng(0).normal(0, 60, good_print.shape)
    washed_out = np.clip(np.rint(128 + (good_print + noise - 128) * 0.3), 0, 255)
    for degraded in (blurred, washed_out.astype(np.uint8)):
        try:
            assert scorer.score(degraded) < score - 15  # 65 -> about 40 for both
        except QualityError:
            pass  # NFIQ 2 giving up on it is also a drop


def test_nfiq2_fails_cleanly_on_non_prints(scorer: Nfiq2Scorer) -> None:
    with pytest.raises(QualityError):
        scorer.score(np.full((300, 300), 255, np.uint8))
    with pytest.raises(ValueError):
        scorer.score(np.zeros((10, 10), np.uint8))  # the native code would crash on this
    assert issubclass(QualityError, ValueError)


def test_assess_a_real_print(good_print: np.ndarray, scorer: Nfiq2Scorer) -> None:
    report = assess(good_print, scorer=scorer)
    assert isinstance(report, QualityReport)
    assert report.enrolable and report.nfiq2 is not None and 0 <= report.nfiq2 <= 100
    assert 100 < report.usable_area_mm2 < good_print.size * (25.4 / 500) ** 2
    assert "usable area" in report.reason
    assert report.require_enrolable() is report
    without = assess(good_print, compute_nfiq2=False)
    assert without.nfiq2 is None and without.usable_area_mm2 == report.usable_area_mm2


def test_blank_image_fails_to_enrol(scorer: Nfiq2Scorer) -> None:
    report = assess(np.full((400, 400), 250, np.uint8), scorer=scorer)
    assert not report.enrolable and report.usable_area_mm2 == 0.0 and report.nfiq2 is None
    assert "failure to enrol" in report.reason and "NFIQ 2 not available" in report.reason
    with pytest.raises(FailureToEnrol, match="usable fingerprint area 0.0 mm"):
        report.require_enrolable()
    with pytest.raises(FailureToEnrol):
        check_enrolable(np.full((400, 400), 250, np.uint8), compute_nfiq2=False)


def test_a_small_piece_of_print_fails_to_enrol(good_print: np.ndarray) -> None:
    # A 96x96 pixel window of ridges (4.9 x 4.9 mm = 23.8 mm^2) on a blank platen.
    patch = np.full((400, 400), 255, np.uint8)
    patch[150:246, 150:246] = good_print[140:236, 150:246]
    report = assess(patch, compute_nfiq2=False)
    assert 0 < report.usable_area_mm2 < MIN_USABLE_AREA_MM2
    assert not report.enrolable
    with pytest.raises(FailureToEnrol, match="under the 40 mm"):
        check_enrolable(patch, compute_nfiq2=False)
    # ... and passes a caller's lower threshold.
    assert assess(patch, compute_nfiq2=False, min_usable_area_mm2=10).enrolable


def test_assess_refuses_bad_arguments(good_print: np.ndarray) -> None:
    with pytest.raises(ValueError):
        assess(good_print, min_usable_area_mm2=-1)
    with pytest.raises(ValueError):
        assess(np.zeros((0, 5), np.uint8))
    with pytest.raises(TypeError):
        assess([[1]])  # type: ignore[arg-type]


def test_every_fvc2002_db3_print_is_enrolable(data_dir: Path) -> None:
    """The smallest sensor of FVC2002 (capacitive, 300x300 = 232 mm^2): real prints pass."""
    manifest = data_dir / "fvc2002" / "MANIFEST.csv"
    if not manifest.is_file():
        pytest.skip(f"{manifest} not found")
    with manifest.open(newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if row["db"] == "DB3_B"]
    assert len(rows) == 80
    areas = [
        assess(_fvc(data_dir, row["path"]), compute_nfiq2=False).usable_area_mm2 for row in rows
    ]
    assert min(areas) >= MIN_USABLE_AREA_MM2 + 5  # the smallest (108_1) is about 51 mm^2
    assert 110 < float(np.median(areas)) < 160
