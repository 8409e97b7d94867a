"""`scomm nist show | validate | images` on a CAR that `scomm synth tenprint` wrote, and on
damaged copies of it: what a file holds, the field at fault, the images as PNG."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner, Result

from scomm.cli import app
from scomm.nist import read_finger_images

runner = CliRunner()


def scomm(*args: str) -> Result:
    result = runner.invoke(app, list(args), env={"COLUMNS": "200"})
    assert "Traceback" not in result.output
    return result


@pytest.fixture(scope="module")
def car(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cars")
    written = scomm("synth", "tenprint", "--count", "1", "--seed", "3", "--out", str(out))
    assert written.exit_code == 0, written.output
    (path,) = sorted(out.glob("*.an2"))
    return path


def test_show_lists_the_records_and_the_finger_images(car: Path) -> None:
    shown = scomm("nist", "show", str(car))
    assert shown.exit_code == 0, shown.output
    assert shown.stdout.startswith("TOT CAR")
    assert shown.stdout.count("Type-14") == 2 * 14  # once per record, once per image
    assert "WSQ20" in shown.stdout and "448 x 576" in shown.stdout


def test_validate_passes_a_good_car_and_names_the_field_of_a_bad_one(
    car: Path, tmp_path: Path
) -> None:
    good = scomm("nist", "validate", str(car))
    assert good.exit_code == 0 and good.stdout.startswith("valid CAR: TCN ")
    cut = tmp_path / "cut.an2"
    cut.write_bytes(car.read_bytes()[:300])
    bad = scomm("nist", "validate", str(cut))
    assert bad.exit_code == 1
    (line,) = bad.stderr.strip().splitlines()
    assert line.startswith("error: invalid: Type-2: transaction truncated: record 2 declares")
    missing = scomm("nist", "validate", str(tmp_path / "nope.an2"))
    assert missing.exit_code == 2 and "no such file" in missing.stderr


def test_images_writes_each_finger_as_png_in_record_order(car: Path, tmp_path: Path) -> None:
    out = tmp_path / "images"
    written = scomm("nist", "images", str(car), "--out", str(out))
    assert written.exit_code == 0, written.output
    files = sorted(out.glob("*.png"))
    fingers = read_finger_images(car.read_bytes())
    assert len(files) == len(fingers) == 14
    assert files[0].name == "01-type14-idc1-fgp1.png"
    for file, finger in zip(files, fingers, strict=True):
        assert np.array_equal(np.asarray(Image.open(file)), finger.pixels)
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    refused = scomm("nist", "images", str(car), "--out", str(a_file))
    assert refused.exit_code == 2
