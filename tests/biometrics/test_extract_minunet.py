"""minunet, scomm's own minutiae network: conventions, geometry and agreement with LEADER."""

from __future__ import annotations

import hashlib
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from scomm.biometrics.extract_leader import LeaderExtractor
from scomm.biometrics.extract_minunet import MODEL, MinunetExtractor, network_input
from scomm.biometrics.minutiae import Minutiae
from scomm.sim.synth.impression_image import impression
from scomm.sim.synth.ridge_master import make_master


@cache
def _print() -> np.ndarray:
    # a synthetic plain impression of a generator seed the model never saw (it trains on 14014)
    return impression(make_master(7, 3, 2), 0, "plain")


def _nearest(a: Minutiae, x: float, y: float) -> tuple[float, int]:
    d = np.hypot(a.x - x, a.y - y)
    j = int(np.argmin(d))
    return float(d[j]), j


def test_the_shipped_model_is_the_one_the_readme_names() -> None:
    data = resources.files("scomm.biometrics.models").joinpath(MODEL).read_bytes()
    assert len(data) < 1_000_000  # small enough to commit
    readme = (Path(__file__).parents[2] / "tools" / "minunet" / "README.md").read_text()
    assert hashlib.sha256(data).hexdigest() in readme


def test_minutiae_follow_the_iso_conventions() -> None:
    image = _print()
    found = MinunetExtractor().minutiae(image)
    assert 12 <= len(found) <= 150
    assert set(np.unique(found.kind)) <= {1, 2}
    assert 1 <= found.quality.min() and found.quality.max() <= 100
    assert (found.width, found.height, found.ppi) == (image.shape[1], image.shape[0], 500)
    assert found.x.min() >= 0 and found.x.max() <= image.shape[1] - 1
    assert found.angle.min() >= 0 and found.angle.max() < 2 * np.pi


def test_a_print_turned_a_right_angle_turns_its_minutiae() -> None:
    image = _print()
    before = MinunetExtractor().minutiae(image)
    turned = np.ascontiguousarray(np.rot90(image))  # counter-clockwise as seen
    after = MinunetExtractor().minutiae(turned)
    width = image.shape[1]
    agree = total = 0
    for x, y, a in zip(before.x, before.y, before.angle, strict=True):
        # (x, y) -> (y, width - 1 - x); the direction turns by +90 degrees
        d, j = _nearest(after, y, width - 1 - x)
        if d < 6:
            total += 1
            diff = abs((after.angle[j] - a - np.pi / 2 + np.pi) % (2 * np.pi) - np.pi)
            agree += diff < 0.4
    assert total >= 0.6 * len(before) and agree >= 0.8 * total


def test_minunet_finds_most_of_leaders_minutiae_on_a_print_it_never_saw() -> None:
    image = _print()
    leader = LeaderExtractor().minutiae(image)
    ours = MinunetExtractor().minutiae(image)
    found = sum(_nearest(ours, x, y)[0] < 8 for x, y in zip(leader.x, leader.y, strict=True))
    assert found >= 0.6 * len(leader)


def test_the_network_input_is_standardised_and_padded_to_a_multiple_of_8() -> None:
    image = np.full((45, 61), 200, np.uint8)
    image[::3] = 40
    x = network_input(image)
    assert x.shape == (1, 1, 48, 64) and x.dtype == np.float32
    inner = x[0, 0, :45, :61]
    assert abs(float(inner.mean())) < 1e-4 and 0.9 < float(inner.std()) < 1.0


def test_minunet_refuses_a_tiny_image() -> None:
    with pytest.raises(ValueError, match="32 px"):
        MinunetExtractor().minutiae(np.zeros((10, 10), np.uint8))


def test_minunet_on_a_real_print_agrees_with_leader(data_dir: Path) -> None:
    # FVC2002 is never in minunet's training data: this is a print it never saw
    path = data_dir / "fvc2002" / "DB1_B" / "103_2.tif"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    image = np.asarray(Image.open(path).convert("L"))
    leader = LeaderExtractor().minutiae(image)
    ours = MinunetExtractor().minutiae(image)
    near = [_nearest(ours, x, y) for x, y in zip(leader.x, leader.y, strict=True)]
    hits = [(d, j, i) for i, (d, j) in enumerate(near) if d < 8]
    assert len(hits) >= 0.5 * len(leader)
    same_way = sum(
        abs((ours.angle[j] - leader.angle[i] + np.pi) % (2 * np.pi) - np.pi) < 0.5
        for _, j, i in hits
    )
    assert same_way >= 0.8 * len(hits)
