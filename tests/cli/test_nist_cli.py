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


def _with_type1(raw: bytes, changes: dict[int, bytes]) -> bytes:
    """`raw` with Type-1 fields replaced, its 1.001 LEN recomputed (LEN counts its digits)."""
    end = raw.index(b"\x1c") + 1
    fields = raw[: end - 1].split(b"\x1d")[1:]  # after 1.001
    body = (
        b"".join(
            b"\x1d" + (f"1.{number:03d}:".encode() + changes[number] if number in changes else f)
            for f in fields
            for number in [int(f[2:5])]
        )
        + b"\x1c"
    )
    length = 0
    while len(head := f"1.001:{length}".encode()) + len(body) != length:
        length = len(head) + len(body)
    return head + body + raw[end:]


def test_show_takes_a_header_of_any_edition_and_says_what_ebts_would_refuse(
    car: Path, tmp_path: Path
) -> None:
    """NIST's reference rec01_rec02_rec16.nst.an2 has 1.002 VER "0", libbiomeval's DAI
    "ANSI/NIST": `nist show` shows them as written (the images reader never read the
    header; show used to refuse it with the CJIS rules), `nist validate` still refuses."""
    old = tmp_path / "old.an2"
    old.write_bytes(_with_type1(car.read_bytes(), {2: b"0", 7: b"ANSI/NIST"}))
    shown = scomm("nist", "show", str(old))
    assert shown.exit_code == 0, shown.output
    first, second = shown.stdout.splitlines()[:2]
    assert first.startswith("TOT CAR  VER 0  TCN ") and "DAI ANSI/NIST  DAT " in first
    assert second == (
        "note: not an EBTS header: 1.002 VER: expected a 4-digit version such as 0400, got '0'"
    )
    assert shown.stdout.count("WSQ20") == 14
    assert len(read_finger_images(old.read_bytes())) == 14
    refused = scomm("nist", "validate", str(old))
    assert refused.exit_code == 1 and "1.002 VER" in refused.stderr
    good = scomm("nist", "show", str(car))
    assert "note:" not in good.stdout and " VER 0400 " in good.stdout
