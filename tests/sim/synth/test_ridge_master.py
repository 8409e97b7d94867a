"""Image masters: deterministic, ten distinct fingers, classes at their frequencies, and
impressions of one finger that match each other better than other fingers."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from scomm.sim.synth.impression_image import impression, impression_ink, master_image
from scomm.sim.synth.minutiae_params import DEFAULT_PATTERN_FREQUENCIES, PATTERN_CLASS_NAMES
from scomm.sim.synth.minutiae_sets import pattern_classes
from scomm.sim.synth.ridge_master import make_master, person_masters


def test_master_is_a_pure_function_of_seed_identity_and_finger() -> None:
    a, b = make_master(5, 3, 2), make_master(5, 3, 2)
    assert np.array_equal(a.ridges, b.ridges)
    assert not np.array_equal(a.ridges, make_master(6, 3, 2).ridges)
    assert not np.array_equal(a.ridges, make_master(5, 4, 2).ridges)
    assert not a.ridges.flags.writeable


def test_master_image_is_a_500_ppi_print_with_ridges_at_the_right_period() -> None:
    master = make_master(1, 0, 3)
    image = master_image(master)
    assert image.dtype == np.uint8 and image.shape == (560, 416)
    # the strongest frequency of the central patch is the ridge frequency (8.5-10.5 px)
    g = master.geometry
    cx, cy = int(g[0]), int(g[1])
    patch = image[cy - 64 : cy + 64, cx - 64 : cx + 64].astype(np.float64)
    power = np.abs(np.fft.fftshift(np.fft.fft2(patch - patch.mean()))) ** 2
    fy, fx = np.indices(power.shape) - 64
    radius = np.hypot(fy, fx).round().astype(int)
    by_radius = np.bincount(radius.ravel(), power.ravel())
    period = 128 / (3 + np.argmax(by_radius[3:40]))
    assert 7.5 <= period <= 12.5
    # the finger is dark-on-light inside its area and blank outside
    assert image[:4].min() > 240 and image[200:360, 150:260].mean() < 200


def test_a_person_has_ten_distinct_fingers() -> None:
    fingers = person_masters(11, 7)
    assert [m.finger for m in fingers] == list(range(1, 11))
    for a, b in itertools.combinations(fingers, 2):
        same_shape = a.ridges.shape == b.ridges.shape
        assert not (same_shape and np.allclose(a.ridges, b.ridges, atol=0.2))
    assert person_masters(11, 7)[0] is fingers[0]  # cached


def test_master_classes_are_those_of_the_template_generator() -> None:
    classes = pattern_classes(11, [7])
    for master, code in zip(person_masters(11, 7), classes, strict=True):
        assert master.pattern_class == PATTERN_CLASS_NAMES[int(code) - 1]


def test_pattern_classes_come_at_their_frequencies() -> None:
    n = 4000
    classes = pattern_classes(3, np.arange(n)).reshape(n, 10)
    expected = np.asarray(DEFAULT_PATTERN_FREQUENCIES)
    for finger in range(10):
        observed = np.bincount(classes[:, finger], minlength=6)[1:] / n
        assert np.all(np.abs(observed - expected[finger]) < 0.03), (finger, observed)
    overall = np.bincount(classes.ravel(), minlength=6)[1:] / classes.size
    # the shares reported for large ten-print files: about 4 / 3 / 32 / 32 / 29 %
    assert np.allclose(overall, expected.mean(axis=0), atol=0.01)
    assert 0.25 < overall[4] < 0.33 and overall[0] + overall[1] < 0.1


def test_impressions_are_deterministic_and_differ_from_each_other() -> None:
    master = make_master(2, 1, 7)
    first = impression(master, 0)
    assert np.array_equal(first, impression(master, 0))
    assert first.shape == (416, 320) and first.dtype == np.uint8
    assert not np.array_equal(first, impression(master, 1))
    assert impression(master, 0, "rolled").shape == (576, 448)
    with pytest.raises(ValueError, match="kind"):
        impression(master, 0, "latent")


def test_plain_contact_is_half_an_inch_wide_and_rolled_is_wider() -> None:
    master = make_master(4, 2, 3)
    for number in range(3):
        plain, _ = impression_ink(master, number, "plain")
        rolled, _ = impression_ink(master, number, "rolled")
        plain_width = np.count_nonzero((plain > 0.05).any(axis=0))
        rolled_width = np.count_nonzero((rolled > 0.05).any(axis=0))
        assert 200 <= plain_width <= 320  # 0.4-0.64 in at 500 ppi
        assert rolled_width > plain_width + 30
