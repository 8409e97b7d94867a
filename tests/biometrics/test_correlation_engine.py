"""Correlation extractor and matcher: failures to enrol, and genuine above impostor."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from scomm.biometrics import protocols
from scomm.biometrics.baseline import CorrelationExtractor, CorrelationMatcher, FailureToEnrol
from scomm.biometrics.images import decode_image
from scomm.sim.synth.fingers import impression, master_finger

FINGERS = 30
BASELINE_SIZE = 128  # the master size the correlation engine was calibrated on


@pytest.fixture(scope="module")
def pairs() -> list[tuple]:
    """Two independent impressions (templates) of each of 30 synthetic fingers."""
    extractor = CorrelationExtractor()
    rng = np.random.default_rng(5)
    out = []
    for finger in range(FINGERS):
        master = master_finger(50_000 + finger, size=BASELINE_SIZE)
        out.append(tuple(extractor.extract(impression(master, rng), 500, 2) for _ in range(2)))
    return out


def test_blank_and_flat_images_fail_to_enrol() -> None:
    extractor = CorrelationExtractor()
    for image in (np.full((128, 128), 230, np.uint8), np.zeros((300, 300), np.uint8)):
        with pytest.raises(FailureToEnrol, match="ridge contrast"):
            extractor.extract(image, 500, 1)
    with pytest.raises(FailureToEnrol):
        extractor.extract(np.zeros((4, 4), np.uint8), 500, 1)


def test_a_sliver_of_finger_fails_to_enrol() -> None:
    image = np.full((128, 128), 232, np.uint8)
    image[:, :12] = master_finger(1, size=128)[:, 58:70]  # 12 px wide: too little foreground
    with pytest.raises(FailureToEnrol, match="foreground"):
        CorrelationExtractor().extract(image, 500, 1)


def test_failure_to_enrol_is_the_protocols_one_and_ppi_is_checked() -> None:
    assert FailureToEnrol is protocols.FailureToEnrol
    with pytest.raises(ValueError, match="ppi"):
        CorrelationExtractor().extract(master_finger(1), 50, 1)


def test_extraction_is_deterministic() -> None:
    image = impression(master_finger(8), np.random.default_rng(1))
    a = CorrelationExtractor().extract(image, 500, 1)
    b = CorrelationExtractor().extract(image.copy(), 500, 1)
    assert a.to_bytes() == b.to_bytes()


def test_genuine_pairs_score_above_impostor_pairs(pairs: list[tuple]) -> None:
    matcher = CorrelationMatcher()
    genuine = np.array([matcher.compare(a, b) for a, b in pairs])
    impostor = np.array(
        [
            matcher.compare(pairs[i][0], pairs[j][1])
            for i in range(FINGERS)
            for j in range(FINGERS)
            if i != j
        ]
    )
    # Measured (seeded, so stable): genuine min 0.548, mean 0.908; impostor mean 0.177,
    # max 0.456.  Over many more fingers single-finger scores do overlap a little (partial
    # contact against striped look-alikes); the fused ten-finger scores do not.
    assert impostor.max() < genuine.min()
    assert genuine.mean() - impostor.mean() > 0.5
    assert np.all((-1.0 <= impostor) & (impostor <= 1.0))


def test_without_partial_contact_genuine_always_wins() -> None:
    extractor, matcher = CorrelationExtractor(), CorrelationMatcher()
    rng = np.random.default_rng(9)
    templates = []
    for finger in range(FINGERS):
        master = master_finger(60_000 + finger, size=BASELINE_SIZE)
        templates.append(
            [extractor.extract(impression(master, rng, dropout=0.0), 500, 1) for _ in range(2)]
        )
    genuine = [matcher.compare(a, b) for a, b in templates]
    impostor = [
        matcher.compare(templates[i][0], templates[j][1])
        for i in range(FINGERS)
        for j in range(FINGERS)
        if i != j
    ]
    assert max(impostor) < min(genuine)


def test_scores_are_symmetric_and_self_score_is_one(pairs: list[tuple]) -> None:
    matcher = CorrelationMatcher()
    a, b = pairs[0]
    assert matcher.compare(a, a) == pytest.approx(1.0, abs=1e-5)
    assert matcher.compare(a, b) == pytest.approx(matcher.compare(b, a), abs=1e-5)


def test_matcher_rejects_foreign_templates(pairs: list[tuple]) -> None:
    class Other:
        finger = 1

        def to_bytes(self) -> bytes:
            return b""

    with pytest.raises(TypeError):
        CorrelationMatcher().compare(Other(), pairs[0][0])  # type: ignore[arg-type]


def test_ppi_is_honoured() -> None:
    """The same capture scanned at 1000 ppi (twice the pixels) matches its 500 ppi self."""
    extractor, matcher = CorrelationExtractor(), CorrelationMatcher()
    image = impression(master_finger(21, size=128), np.random.default_rng(2), dropout=0.0)
    double = np.asarray(Image.fromarray(image).resize((256, 256), Image.Resampling.BICUBIC))
    at_500 = extractor.extract(image, 500, 1)
    assert matcher.compare(at_500, extractor.extract(double, 1000, 1)) > 0.9
    assert matcher.compare(at_500, extractor.extract(double, 500, 1)) < 0.5


def test_real_prints_enrol(data_dir: Path) -> None:
    folder = data_dir / "images" / "format-variants"
    if not folder.is_dir():
        pytest.skip(f"{folder} not found")
    extractor, matcher = CorrelationExtractor(), CorrelationMatcher()
    probe = extractor.extract(decode_image((folder / "probe.png").read_bytes()), 500, 1)
    jpeg = extractor.extract(decode_image((folder / "probe.jpeg").read_bytes()), 500, 1)
    assert matcher.compare(probe, jpeg) > 0.95  # same capture, lossy re-encoding
