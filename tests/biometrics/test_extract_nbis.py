"""MINDTCT through nbis-py: conventions checked empirically, and BOZORTH3."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from scomm.biometrics.extract_nbis import (
    MIN_SIDE,
    MindtctExtractor,
    NbisFeatures,
    NbisNative,
    compare_bozorth3,
)
from scomm.biometrics.images import decode_image
from scomm.biometrics.minutiae import Minutiae


@pytest.fixture(scope="module")
def extractor() -> MindtctExtractor:
    return MindtctExtractor()


def _fvc(data_dir: Path, path: str) -> np.ndarray:
    file = data_dir / "fvc2002" / path
    if not file.is_file():
        pytest.skip(f"{file} not found")
    return decode_image(file.read_bytes())


@pytest.fixture(scope="module")
def db1_101_1(data_dir: Path, extractor: MindtctExtractor) -> tuple[np.ndarray, NbisFeatures]:
    image = _fvc(data_dir, "DB1_B/101_1.tif")
    return image, extractor.extract(image)


def _angle_difference_deg(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a - b in degrees, wrapped to [-180, 180)."""
    return (np.asarray(a, np.float64) - np.asarray(b, np.float64) + 180.0) % 360.0 - 180.0


def _pair_up(
    ax: np.ndarray, ay: np.ndarray, bx: np.ndarray, by: np.ndarray, tolerance: float
) -> tuple[np.ndarray, np.ndarray]:
    """Indices (i, j) of a's minutiae and their nearest b minutia, where within tolerance."""
    distance = np.hypot(ax[:, None] - bx[None, :], ay[:, None] - by[None, :])
    nearest = distance.argmin(axis=1)
    close = distance[np.arange(len(ax)), nearest] <= tolerance
    return np.flatnonzero(close), nearest[close]


def test_minutiae_fields(db1_101_1: tuple[np.ndarray, NbisFeatures]) -> None:
    image, features = db1_101_1
    minutiae = features.minutiae
    assert isinstance(minutiae, Minutiae) and len(minutiae) > 20
    assert (minutiae.width, minutiae.height, minutiae.ppi) == (388, 374, 500)
    assert set(np.unique(minutiae.kind)) <= {1, 2}
    assert minutiae.quality.min() >= 1 and minutiae.quality.max() <= 100
    assert np.all((minutiae.angle >= 0) & (minutiae.angle < 2 * np.pi))
    assert np.all((minutiae.x >= 0) & (minutiae.x < 388) & (minutiae.y >= 0) & (minutiae.y < 374))
    # MINDTCT quantises directions to 32 steps of 11.25 degrees.
    steps = np.rad2deg(minutiae.angle.astype(np.float64)) / 11.25
    assert np.allclose(steps, np.round(steps), atol=1e-3)
    # Minutiae lie on the print, which is dark ridges on a white platen in DB1.
    assert image[minutiae.y.astype(int), minutiae.x.astype(int)].mean() < image.mean()


def _parse_nbis_iso_minutiae(record: bytes, count: int) -> np.ndarray:
    """(type, x, y, angle byte, quality) rows of nbis-py's to_iso_19794_2_2005() record.

    Each minutia is ISO/IEC 19794-2:2005's 6 bytes: type (2 bits) and x (14 bits), 2 reserved
    bits and y (14 bits), angle in units of 360/256 degrees counter-clockwise, quality. The
    headers nbis-py writes before them are 26 bytes, with the count at offset 25, and no
    extended-data block follows: 2 bytes short of the standard's 28 (+2) bytes, and both
    resolution fields are 0, so the record is not standard-conformant; only its minutiae
    are used here.
    """
    assert record[:8] == b"FMR\x00 20\x00"
    assert int.from_bytes(record[8:12], "big") == len(record) == 26 + 6 * count
    assert record[25] == count
    rows = []
    for i in range(count):
        m = record[26 + 6 * i : 32 + 6 * i]
        rows.append(
            (
                m[0] >> 6,
                ((m[0] & 0x3F) << 8) | m[1],
                ((m[2] & 0x3F) << 8) | m[3],
                m[4],
                m[5],
            )
        )
    return np.array(rows, dtype=np.int64)


def test_conversion_matches_the_libraries_iso_export(
    db1_101_1: tuple[np.ndarray, NbisFeatures],
) -> None:
    image, features = db1_101_1
    minutiae = features.minutiae
    record = features.native.to_iso_19794_2_2005()  # type: ignore[attr-defined]
    assert int.from_bytes(record[14:16], "big") == image.shape[1]
    assert int.from_bytes(record[16:18], "big") == image.shape[0]
    iso = _parse_nbis_iso_minutiae(record, len(minutiae))
    assert np.array_equal(iso[:, 0], minutiae.kind)
    assert np.array_equal(iso[:, 1], minutiae.x) and np.array_equal(iso[:, 2], minutiae.y)
    iso_degrees = iso[:, 3] * 360.0 / 256.0
    difference = _angle_difference_deg(np.rad2deg(minutiae.angle.astype(np.float64)), iso_degrees)
    assert np.abs(difference).max() < 1e-3  # float32 radians


def test_angles_turn_counter_clockwise_with_the_image(
    data_dir: Path, extractor: MindtctExtractor
) -> None:
    """Rotate the image 90 degrees counter-clockwise (as seen): every direction must gain
    +90 degrees in the ISO convention (counter-clockwise, y down), -90 in a clockwise one."""
    for path in ("DB1_B/103_2.tif", "DB2_B/101_1.tif"):
        image = _fvc(data_dir, path)
        width = image.shape[1]
        upright = extractor.minutiae(image)
        turned = extractor.minutiae(np.ascontiguousarray(np.rot90(image)))
        # np.rot90: pixel (x, y) moves to (y, width - 1 - x).
        i, j = _pair_up(upright.y, width - 1 - upright.x, turned.x, turned.y, tolerance=3)
        assert len(i) >= 0.6 * len(upright), path
        gained = _angle_difference_deg(np.rad2deg(turned.angle[j]), np.rad2deg(upright.angle[i]))
        assert np.mean(np.abs(gained - 90) <= 12) > 0.9, (path, gained)
        assert np.all(turned.kind[j][np.abs(gained - 90) <= 12] > 0)


def _read_iso_2005(record: bytes) -> tuple[int, int, np.ndarray]:
    """Width, height and (x, y, degrees) rows of a standard ISO/IEC 19794-2:2005 record."""
    assert record[:8] == b"FMR\x00 20\x00"
    width = int.from_bytes(record[14:16], "big")
    height = int.from_bytes(record[16:18], "big")
    count = record[27]
    rows = []
    for i in range(count):
        m = record[28 + 6 * i : 34 + 6 * i]
        rows.append(
            (((m[0] & 0x3F) << 8) | m[1], ((m[2] & 0x3F) << 8) | m[3], m[4] * 360.0 / 256.0)
        )
    return width, height, np.array(rows, dtype=np.float64)


def test_angles_agree_with_an_independent_iso_extractor(
    data_dir: Path, extractor: MindtctExtractor
) -> None:
    """The SecuGen ISO templates of FVC2002 DB4 sit on a 300x400 canvas a few pixels off the
    288x384 images: find that shift, pair minutiae up, and compare directions."""
    folder = data_dir / "iso-templates" / "secugen" / "fvc2002" / "DB4_B"
    differences = []
    for name in ("101_1", "102_1", "103_1"):
        template = folder / f"{name}.iso"
        if not template.is_file():
            pytest.skip(f"{template} not found")
        _, _, theirs = _read_iso_2005(template.read_bytes())
        ours = extractor.minutiae(_fvc(data_dir, f"DB4_B/{name}.tif"))
        x, y = ours.x.astype(np.float64), ours.y.astype(np.float64)
        shifts = {
            (int(dx), int(dy)) for dx, dy in zip(*_all_differences(theirs, x, y), strict=True)
        }
        best = max(
            (s for s in shifts if abs(s[0]) <= 30 and abs(s[1]) <= 30),
            key=lambda s: len(_pair_up(x + s[0], y + s[1], theirs[:, 0], theirs[:, 1], 4)[0]),
        )
        i, j = _pair_up(x + best[0], y + best[1], theirs[:, 0], theirs[:, 1], 4)
        assert len(i) >= 8, name
        differences.extend(_angle_difference_deg(np.rad2deg(ours.angle[i]), theirs[j, 2]))
    differences_arr = np.abs(np.array(differences))
    assert np.median(differences_arr) < 12  # same convention; 180 or mirrored would be ~90+
    assert np.mean(differences_arr < 30) > 0.8


def _all_differences(theirs: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, ...]:
    dx = np.rint(theirs[None, :, 0] - x[:, None]).ravel()
    dy = np.rint(theirs[None, :, 1] - y[:, None]).ravel()
    return dx, dy


def test_bozorth3_separates_mates(data_dir: Path, extractor: MindtctExtractor) -> None:
    first = extractor.extract(_fvc(data_dir, "DB1_B/101_1.tif"))
    mate = extractor.extract(_fvc(data_dir, "DB1_B/101_2.tif"))
    others = [extractor.extract(_fvc(data_dir, f"DB1_B/{f}_1.tif")) for f in (102, 103)]
    self_score = compare_bozorth3(first, first)
    mated = compare_bozorth3(first, mate)
    non_mated = [compare_bozorth3(first, other) for other in others]
    assert isinstance(self_score, int) and self_score > 100
    assert mated > 40 > 20 > max(non_mated)  # 61 vs 10 and 8 on this pair
    assert compare_bozorth3(mate, first) == mated


def test_blank_and_tiny_images(extractor: MindtctExtractor) -> None:
    blank = extractor.extract(np.full((200, 200), 255, np.uint8))
    assert len(blank.minutiae) == 0 and blank.minutiae.width == 200
    assert compare_bozorth3(blank, blank) == 0
    for shape in ((MIN_SIDE - 1, 200), (200, 10), (0, 0)):
        with pytest.raises(ValueError):
            extractor.extract(np.zeros(shape, np.uint8))  # the native code segfaults below 12
    with pytest.raises(TypeError):
        compare_bozorth3(blank, blank.minutiae)  # type: ignore[arg-type]


def test_minutiae_is_extract_minutiae(
    db1_101_1: tuple[np.ndarray, NbisFeatures], extractor: MindtctExtractor
) -> None:
    image, features = db1_101_1
    assert extractor.minutiae(image) == features.minutiae
    rgb = np.dstack([image] * 3)  # colour input is made grey first
    assert extractor.minutiae(rgb) == features.minutiae


def test_each_owner_keeps_its_own_native_extractor() -> None:
    """No process-wide extractor: an NbisNative makes its nbis-py object on first use and
    keeps it for the next extractions; another owner has its own."""
    blank = np.full((64, 64), 255, np.uint8)
    one, two = NbisNative(compute_nfiq2=False), NbisNative(compute_nfiq2=False)
    assert one._extractor is None
    one.run(blank)
    made = one._extractor
    one.run(blank)
    assert made is not None and one._extractor is made
    assert two._extractor is None
