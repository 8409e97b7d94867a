"""`scomm template show | convert` on records built here byte by byte to the letter of
ISO/IEC 19794-2:2005 and INCITS 378-2004, on scomm's compact template, and on damaged
records: what a file holds, the other standard's record and what did not carry over, the
field and byte offset at fault."""

from __future__ import annotations

import math
import struct
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner, Result

from scomm.biometrics import compact_minutiae
from scomm.biometrics.minutiae import Minutiae
from scomm.biometrics.minutiae_records import INCITS378_2004, ISO19794_2_2005, read_record
from scomm.cli import app

runner = CliRunner()

# (kind, x, y, angle, quality): kind 1 ridge ending, 2 bifurcation, 0 other.
Minutia = tuple[int, int, int, int, int]
# (finger position, view number, impression type, finger quality, minutiae, extended data)
View = tuple[int, int, int, int, list[Minutia], bytes]
# A core/delta area would be encoded differently by the two standards; a ridge-count area
# (type 1, length 11 with its header: method byte, two triples) is enough to be dropped.
RIDGE_COUNTS = bytes.fromhex("0001000b00000103010204")
VIEWS: list[View] = [
    (2, 0, 1, 80, [(1, 10, 20, 64, 90), (2, 300, 100, 0, 40), (0, 5, 399, 140, 0)], b""),
    (7, 1, 0, 55, [(2, 150, 150, 128, 70)], RIDGE_COUNTS),
]


def scomm(*args: str) -> Result:
    result = runner.invoke(app, list(args), env={"COLUMNS": "200"})
    assert "Traceback" not in result.output
    return result


def views_bytes(views: list[View]) -> bytes:
    """Finger views as both standards lay them out (4-byte view header, 6 bytes a minutia,
    extended data block length u16 and block)."""
    out = b""
    for position, number, impression, quality, minutiae, extended in views:
        out += struct.pack(">BBBB", position, number << 4 | impression, quality, len(minutiae))
        for kind, x, y, angle, q in minutiae:
            out += struct.pack(">HHBB", kind << 14 | x, y, angle, q)
        out += struct.pack(">H", len(extended)) + extended
    return out


def iso_record(views: list[View] = VIEWS, width: int = 320, height: int = 400) -> bytes:
    """ISO/IEC 19794-2:2005: 24-byte header, resolutions in pixels per cm (197: 500 ppi)."""
    body = views_bytes(views)
    header = struct.pack(
        ">4s4sIHHHHHBB", b"FMR\0", b" 20\0", 24 + len(body), 0x0123, width, height, 197, 197,
        len(views), 0,
    )  # fmt: skip
    return header + body


def incits_record(views: list[View] = VIEWS, cbeff: int = 0x00420011) -> bytes:
    """INCITS 378-2004: 26-byte header with a 2-byte record length and a CBEFF product id."""
    body = views_bytes(views)
    header = struct.pack(
        ">4s4sHIHHHHHBB", b"FMR\0", b" 20\0", 26 + len(body), cbeff, 0x0123, 320, 400, 197,
        197, len(views), 0,
    )  # fmt: skip
    return header + body


def test_show_names_format_geometry_views_and_minutiae(tmp_path: Path) -> None:
    file = tmp_path / "a.iso"
    file.write_bytes(iso_record() + bytes(6))  # zero padding after the declared length
    shown = scomm("template", "show", str(file), "--minutiae")
    assert shown.exit_code == 0, shown.output
    lines = shown.stdout.splitlines()
    length = len(iso_record())
    assert lines[0] == (
        f"{file}: ISO/IEC 19794-2:2005, version 20, record length {length} bytes "
        "(+ 6 bytes of zero padding in the file)"
    )
    assert lines[1] == "image 320 x 400 pixels at 500 ppi, capture equipment 0x0123"
    text = " ".join(shown.stdout.split())
    assert "│ 1 │ 2 (right index finger) │ 0 │ 1 (live-scan rolled) │ 80 │ 3 │ 0 bytes │" in text
    assert "│ 2 │ 7 (left index finger) │ 1 │ 0 (live-scan plain) │ 55 │ 1 │ 11 bytes │" in text
    # ISO angles are in units of 360/256 degrees: 64 is 90 degrees, 140 is 196.875.
    assert "│ 1 │ 10 │ 20 │ 90.00 │ ridge ending │ 90 │" in text
    assert "│ 3 │ 5 │ 399 │ 196.88 │ other │ 0 │" in text
    assert "│ 1 │ 150 │ 150 │ 180.00 │ bifurcation │ 70 │" in text
    plain = scomm("template", "show", str(file))
    assert "ridge ending" not in plain.stdout and "3 │" in plain.stdout


def test_show_reads_incits_378_with_its_product_identifier(tmp_path: Path) -> None:
    file = tmp_path / "a.ansi"
    file.write_bytes(incits_record())
    shown = scomm("template", "show", str(file), "--minutiae")
    assert shown.exit_code == 0, shown.output
    assert shown.stdout.startswith(f"{file}: ANSI INCITS 378-2004, version 20, record length")
    assert "CBEFF product 0x0042:0x0011" in shown.stdout
    # INCITS angles are in units of 2 degrees: 64 is 128 degrees.
    assert "│ 1 │ 10 │ 20 │ 128.00 │ ridge ending │ 90 │" in " ".join(shown.stdout.split())


def test_convert_iso_to_ansi_keeps_the_minutiae_and_says_what_is_lost(tmp_path: Path) -> None:
    source, out = tmp_path / "a.iso", tmp_path / "a.ansi"
    source.write_bytes(iso_record())
    converted = scomm("template", "convert", str(source), "--to", "ansi", "--out", str(out))
    assert converted.exit_code == 0, converted.output
    said = " ".join(converted.stdout.split())
    assert "ANSI INCITS 378-2004 record" in said and "2 finger view(s), 4 minutiae" in said
    assert "no CBEFF product identifier" in said
    assert "finger view 2's extended data (11 bytes: ridge counts)" in said
    assert "angles rounded to units of 2 degrees (largest change 0.88 degrees)" in said
    before, after = read_record(source.read_bytes()), read_record(out.read_bytes())
    assert after.standard == INCITS378_2004 and (after.width, after.height) == (320, 400)
    assert after.capture_equipment == 0x0123 and after.ppi == before.ppi == 500
    for old, new in zip(before.views, after.views, strict=True):
        assert (old.finger_position, old.view_number, old.impression_type, old.quality) == (
            new.finger_position, new.view_number, new.impression_type, new.quality,
        )  # fmt: skip
        assert new.extended_data == b""
        m, n = old.minutiae, new.minutiae
        for name in ("x", "y", "kind", "quality"):
            assert np.array_equal(getattr(m, name), getattr(n, name)), name
        turn = np.abs(np.angle(np.exp(1j * (n.angle.astype(float) - m.angle.astype(float)))))
        assert float(turn.max()) <= math.radians(1.0)


def test_convert_ansi_to_iso_drops_the_product_identifier(tmp_path: Path) -> None:
    source, out = tmp_path / "a.ansi", tmp_path / "a.iso"
    source.write_bytes(incits_record())
    converted = scomm("template", "convert", str(source), "--to", "iso", "--out", str(out))
    assert converted.exit_code == 0, converted.output
    said = " ".join(converted.stdout.split())
    assert "CBEFF product identifier 0x00420011 (ISO/IEC 19794-2:2005 has no such field)" in said
    after = read_record(out.read_bytes())
    assert after.standard == ISO19794_2_2005
    assert [len(v.minutiae) for v in after.views] == [3, 1]
    # 2-degree units to 360/256-degree units: 128 degrees becomes unit 91 (127.97 degrees).
    assert out.read_bytes()[24 + 4 + 4] == 91


def test_compact_template_shows_and_converts(tmp_path: Path) -> None:
    minutiae = Minutiae(
        np.array([12.25, 319.75], np.float32),
        np.array([40.5, 10.0], np.float32),
        np.array([0.5, 3.0], np.float32),
        np.array([1, 2], np.uint8),
        np.array([100, 50], np.uint8),
        320,
        400,
    )
    source, out = tmp_path / "t.scm", tmp_path / "t.iso"
    source.write_bytes(compact_minutiae.encode(minutiae))
    shown = scomm("template", "show", str(source))
    assert shown.exit_code == 0, shown.output
    assert "scomm compact template (SCM1), record length 22 bytes" in shown.stdout
    assert "0 (unknown finger)" in shown.stdout
    converted = scomm("template", "convert", str(source), "--to", "iso", "--out", str(out))
    assert converted.exit_code == 0, converted.output
    said = " ".join(converted.stdout.split())
    assert "no finger position, impression type or finger quality" in said
    assert "1 minutiae on the image's edge moved inside it" in said
    assert "positions rounded to whole pixels" in said
    (view,) = read_record(out.read_bytes()).views
    assert view.minutiae.x.tolist() == [12.0, 319.0] and view.minutiae.y.tolist() == [40.0, 10.0]


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (lambda r: r[:40], "record truncated: header declares 71 bytes, got 40 (at byte offset 8)"),
        (
            lambda r: r + b"\0\0\x07",
            "the first non-zero trailing byte is 0x07 at offset 73) (at byte offset 73)",
        ),
        (  # the second minutia's x (300) made 330, outside the 320-pixel image
            lambda r: r[:34] + struct.pack(">H", 2 << 14 | 330) + r[36:],
            "finger view 1, minutia 2 lies outside the image: x=330 >= width 320 "
            "(at byte offset 34)",
        ),
        (
            lambda r: r[:24] + b"\x0b" + r[25:],
            "finger view 1: finger position 11",
        ),
        (lambda r: b"\x89PNG" + r[4:], "not a minutiae template: it starts with b'\\x89PNG'"),
    ],
    ids=["truncated", "trailing", "minutia", "position", "not-a-record"],
)
def test_a_bad_record_is_one_line_naming_field_and_offset(
    tmp_path: Path, damage: object, expected: str
) -> None:
    record = iso_record()
    assert len(record) == 71
    file = tmp_path / "bad.iso"
    file.write_bytes(damage(record))  # type: ignore[operator]
    for args in (("show",), ("convert", "--to", "ansi", "--out", str(tmp_path / "out"))):
        result = scomm("template", args[0], str(file), *args[1:])
        assert result.exit_code == 2
        (line,) = result.stderr.strip().splitlines()
        assert line.startswith(f"error: {file}: ") and expected in line, line
    assert not (tmp_path / "out").exists()


def test_convert_refuses_to_overwrite_its_input_and_a_missing_file(tmp_path: Path) -> None:
    file = tmp_path / "a.iso"
    file.write_bytes(iso_record())
    same = scomm("template", "convert", str(file), "--to", "ansi", "--out", str(file))
    assert same.exit_code == 2 and "is the input file" in same.stderr
    assert file.read_bytes() == iso_record()
    missing = scomm("template", "show", str(tmp_path / "nope"))
    assert missing.exit_code == 2 and "no such file" in missing.stderr


def incits_2009_record(impression: int, quality: int) -> bytes:
    """INCITS 378-2009 (version "030"): 20-byte header, then per view its own geometry and
    quality algorithm; one view of one minutia here."""
    view = struct.pack(
        ">BBBBHHHHHHB", 3, 0, impression, quality, 0x0042, 0x0001, 320, 400, 197, 197, 1
    ) + struct.pack(">HHBBH", 1 << 14 | 10, 20, 45, 60, 0)  # one ridge ending, no ext. data
    header = struct.pack(">4s4sIIHBB", b"FMR\0", b"030\0", 20 + len(view), 0x00420011, 0, 1, 0)
    return header + view


def test_convert_of_an_incits_2009_record_says_what_2004_and_iso_lack(tmp_path: Path) -> None:
    source, out = tmp_path / "a.ansi", tmp_path / "a.iso"
    source.write_bytes(incits_2009_record(impression=1, quality=254))
    shown = scomm("template", "show", str(source))
    assert shown.stdout.startswith(f"{source}: ANSI INCITS 378-2009, version 030, record")
    converted = scomm("template", "convert", str(source), "--to", "iso", "--out", str(out))
    assert converted.exit_code == 0, converted.output
    said = " ".join(converted.stdout.split())
    assert "finger view 1 quality 254 (not reported) written as 0" in said
    assert "per-view quality algorithm vendor and id" in said
    (view,) = read_record(out.read_bytes()).views
    assert (view.impression_type, view.quality, len(view.minutiae)) == (1, 0, 1)
    # a contactless impression type (24) has no code in the 2004/2005 tables
    source.write_bytes(incits_2009_record(impression=24, quality=50))
    refused = scomm("template", "convert", str(source), "--to", "ansi", "--out", str(out))
    assert refused.exit_code == 2
    (line,) = refused.stderr.strip().splitlines()
    assert "cannot be written as ANSI INCITS 378-2004" in line
    assert "finger view 1: impression type 24 is not one of [0, 1, 2, 3, 8, 9]" in line


def test_libbiomeval_records_show_and_convert(data_dir: Path, tmp_path: Path) -> None:
    folder = data_dir / "iso-templates" / "libbiomeval"
    if not folder.is_dir():
        pytest.skip(f"{folder} not found")
    expected = {
        "fmr.iso2005": "ISO/IEC 19794-2:2005",
        "fmr.ansi2004": "ANSI INCITS 378-2004",
        "fmr.ansi2007": "ANSI INCITS 378-2009",
    }
    for name, label in expected.items():
        shown = scomm("template", "show", str(folder / name))
        assert shown.exit_code == 0 and f"{name}: {label}" in shown.stdout, shown.output
        for target in ("iso", "ansi"):
            out = tmp_path / f"{name}.{target}"
            converted = scomm(
                "template", "convert", str(folder / name), "--to", target, "--out", str(out)
            )
            assert converted.exit_code == 0, converted.output
            before, after = read_record((folder / name).read_bytes()), read_record(out.read_bytes())
            assert [len(v.minutiae) for v in before.views] == [len(v.minutiae) for v in after.views]
