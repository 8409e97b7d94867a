"""The skeleton extractor: stable minutiae across captures, ISO directions, nothing from blanks."""

from __future__ import annotations

import numpy as np
import pytest

from scomm.biometrics.extract_skeleton import (
    SkeletonExtractor,
    SkeletonTemplateExtractor,
    thin,
)
from scomm.biometrics.index.gallery import MinutiaeCodec, MinutiaeTemplate
from scomm.biometrics.minutiae import MIN_COMPARABLE_MINUTIAE, Minutiae, MinutiaKind
from scomm.biometrics.protocols import FailureToEnrol
from scomm.sim.synth.fingers import BACKGROUND, impression, master_finger

EXTRACTOR = SkeletonExtractor()


def shifted(image: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """`image` moved by (dy, dx) pixels, background where nothing moved in."""
    h, w = image.shape
    out = np.full_like(image, int(BACKGROUND))
    out[max(0, dy) : h + min(0, dy), max(0, dx) : w + min(0, dx)] = image[
        max(0, -dy) : h + min(0, -dy), max(0, -dx) : w + min(0, -dx)
    ]
    return out


def paired_fraction(
    a: Minutiae, b: Minutiae, dx: float, dy: float, px: float = 4.0, degrees: float = 20.0
) -> float:
    """Share of `a`'s minutiae with one of `b`'s within `px` pixels and `degrees`, once `a`
    is moved by (dx, dy)."""
    d = np.hypot((a.x + dx)[:, None] - b.x[None, :], (a.y + dy)[:, None] - b.y[None, :])
    nearest = d.argmin(axis=1)
    turn = np.abs((a.angle - b.angle[nearest] + np.pi) % (2 * np.pi) - np.pi)
    close = d[np.arange(len(a)), nearest] <= px
    return float(np.mean(close & (turn <= np.deg2rad(degrees))))


def test_minutiae_come_back_in_another_capture_after_the_known_shift() -> None:
    fractions = []
    for finger in range(6):
        master = master_finger(4000 + finger)
        dy, dx = 5, -4
        first = impression(master, np.random.default_rng(finger), max_shift=0, dropout=0.0)
        moved = shifted(master, dy, dx)
        second = impression(moved, np.random.default_rng(100 + finger), max_shift=0, dropout=0.0)
        a, b = EXTRACTOR.minutiae(first), EXTRACTOR.minutiae(second)
        assert len(a) >= 20 and len(b) >= 20
        fractions.append(paired_fraction(a, b, dx, dy))
    assert min(fractions) > 0.55
    assert float(np.mean(fractions)) > 0.75


def test_rotating_the_image_a_quarter_turn_adds_a_quarter_turn_to_the_angles() -> None:
    image = master_finger(4100)
    a = EXTRACTOR.minutiae(image)
    b = EXTRACTOR.minutiae(np.ascontiguousarray(np.rot90(image)))  # counter-clockwise
    w = image.shape[1]
    # (x, y) lands on (y, w - 1 - x); as ISO angles are counter-clockwise, add pi/2
    turned = Minutiae(a.y, w - 1 - a.x, a.angle + np.pi / 2, a.kind, a.quality, w, w)
    assert paired_fraction(turned, b, 0.0, 0.0, px=2.0, degrees=15.0) > 0.8


def stripes(period: int = 8, size: int = 128) -> np.ndarray:
    """Horizontal dark ridges (1) on light valleys (0), `period` pixels apart."""
    rows = (np.arange(size) % period) < period // 2
    return np.repeat(rows[:, None], size, axis=1)


def grey(ridges: np.ndarray) -> np.ndarray:
    return np.where(ridges, 40, 220).astype(np.uint8)


def test_a_ridge_ending_points_along_its_ridge() -> None:
    ridges = stripes()
    ridges[64:68, :64] = False  # the ridge at rows 64-67 starts at x = 64 and runs right
    found = EXTRACTOR.minutiae(grey(ridges))
    near = np.hypot(found.x - 64, found.y - 65.5) < 4
    assert near.sum() == 1
    assert found.kind[near][0] == MinutiaKind.RIDGE_ENDING
    angle = float(found.angle[near][0])
    assert min(angle, 2 * np.pi - angle) < np.deg2rad(10)  # towards +x, into the ridge
    mirrored = EXTRACTOR.minutiae(grey(ridges[:, ::-1]))
    near = np.hypot(mirrored.x - 63, mirrored.y - 65.5) < 4
    assert abs(float(mirrored.angle[near][0]) - np.pi) < np.deg2rad(10)


def test_a_bifurcation_points_between_its_branches() -> None:
    ridges = stripes()
    ridges[68:72, :64] = True  # the valley below the ridge at rows 64-67 starts at x = 64
    found = EXTRACTOR.minutiae(grey(ridges))
    near = np.hypot(found.x - 64, found.y - 68) < 6
    assert near.sum() == 1
    assert found.kind[near][0] == MinutiaKind.BIFURCATION
    angle = float(found.angle[near][0])
    assert min(angle, 2 * np.pi - angle) < np.deg2rad(10)  # towards +x, into the valley


def test_no_minutiae_on_straight_ridges_or_at_the_image_edge() -> None:
    assert len(EXTRACTOR.minutiae(grey(stripes()))) == 0


@pytest.mark.parametrize("noise", [0.0, 10.0])
def test_blank_images_give_no_minutiae(noise: float) -> None:
    rng = np.random.default_rng(0)
    for level in (0, 128, int(BACKGROUND), 255):
        blank = np.clip(np.rint(level + rng.normal(0.0, noise, (256, 256))), 0, 255)
        found = EXTRACTOR.minutiae(blank.astype(np.uint8))
        assert len(found) == 0 and (found.width, found.height) == (256, 256)


def test_a_blank_finger_fails_to_enrol() -> None:
    with pytest.raises(FailureToEnrol, match="minutiae"):
        SkeletonTemplateExtractor().extract(np.full((256, 256), 232, np.uint8), 500, 3)
    with pytest.raises(FailureToEnrol, match="too small"):
        SkeletonTemplateExtractor().extract(np.zeros((8, 8), np.uint8), 500, 3)


def test_the_same_image_gives_the_same_minutiae() -> None:
    image = impression(master_finger(4200), np.random.default_rng(1))
    first = EXTRACTOR.minutiae(image)
    assert first == EXTRACTOR.minutiae(image.copy())
    assert first == SkeletonExtractor().minutiae(np.asfortranarray(image))
    assert np.all((first.angle >= 0) & (first.angle < 2 * np.pi))
    assert set(first.kind.tolist()) <= {MinutiaKind.RIDGE_ENDING, MinutiaKind.BIFURCATION}


def test_template_extractor_keeps_the_finger_and_the_codec_reads_it_back() -> None:
    image = impression(master_finger(4300), np.random.default_rng(2))
    template = SkeletonTemplateExtractor().extract(image, 500, 7)
    assert isinstance(template, MinutiaeTemplate) and template.finger == 7
    assert len(template.minutiae) >= MIN_COMPARABLE_MINUTIAE
    back = MinutiaeCodec().decode(template.to_bytes(), 7)
    assert back.finger == 7 and len(back.minutiae) == len(template.minutiae)
    assert np.allclose(back.minutiae.x, template.minutiae.x, atol=0.25)


def test_a_higher_resolution_image_is_resampled_to_500_ppi() -> None:
    image = impression(master_finger(4400), np.random.default_rng(3))
    big = np.kron(image, np.ones((2, 2), np.uint8))  # the same print at 1000 ppi
    template = SkeletonTemplateExtractor().extract(big, 1000, 1)
    assert template.minutiae.ppi == 500 and template.minutiae.width == image.shape[1]


def test_thinning_leaves_one_pixel_wide_lines() -> None:
    skeleton = thin(stripes().astype(np.uint8))
    inner = skeleton[:, 8:-8]
    assert set(np.unique(inner.sum(axis=0)).tolist()) <= {16}  # one pixel per ridge, 16 ridges
