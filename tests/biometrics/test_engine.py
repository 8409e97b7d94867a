"""The engine end to end on real prints: image in, template, score; failures to enrol."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from scomm.biometrics.engine import FingerprintEngine
from scomm.biometrics.protocols import FailureToEnrol


def load(data_dir: Path, db: str, name: str) -> np.ndarray:
    path = data_dir / "fvc2002" / db / f"{name}.tif"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    return np.asarray(Image.open(path).convert("L"))


def test_mates_outscore_non_mates_and_templates_round_trip(data_dir: Path) -> None:
    engine = FingerprintEngine()
    a1, a2, b1 = (
        engine.extract(load(data_dir, "DB1_B", n), 500, finger=2)
        for n in ("101_1", "101_2", "102_1")
    )
    genuine, impostor = engine.compare(a1, a2), engine.compare(a1, b1)
    assert genuine > 2 * impostor
    stored = a1.to_bytes()
    assert len(stored) < 10 + 6 * 150  # the compact form: minutiae only
    copy = engine.decode(stored, finger=2)
    assert copy.to_bytes() == stored
    # quantised to 1/4 px and 2*pi/256: the score moves a little, not the decision
    assert engine.compare(copy, a2) == pytest.approx(genuine, rel=0.05)
    explanation = engine.explain(a1, a2)
    assert len(explanation.matched) >= 6


def test_569_ppi_images_are_resampled_before_extraction(data_dir: Path) -> None:
    engine = FingerprintEngine()
    a, b = (engine.extract(load(data_dir, "DB2_B", n), 569) for n in ("101_1", "101_2"))
    assert a.features.ppi == 500 and a.features.width < 296
    assert engine.compare(a, b) > 0.1


def test_a_blank_or_tiny_print_fails_to_enrol_with_a_reason() -> None:
    engine = FingerprintEngine()
    with pytest.raises(FailureToEnrol, match="usable fingerprint area"):
        engine.extract(np.full((300, 300), 200, np.uint8), 500)


def test_the_fast_engine_uses_mindtct_and_scores_mates_higher(data_dir: Path) -> None:
    engine = FingerprintEngine("mindtct")
    assert engine.name == "scomm-mindtct-mcc-v1"
    a1, a2, b1 = (
        engine.extract(load(data_dir, "DB3_B", n), 500) for n in ("105_1", "105_3", "106_1")
    )
    assert engine.compare(a1, a2) > engine.compare(a1, b1)
