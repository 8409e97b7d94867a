"""`scomm synth fingers | tenprint | realism` through the real command line app."""

from __future__ import annotations

import json
from pathlib import Path

import nistitl
from PIL import Image
from typer.testing import CliRunner

from scomm.cli import app
from scomm.nist import decode_tenprint

runner = CliRunner()


def test_fingers_writes_masters_and_impressions(tmp_path: Path) -> None:
    out = tmp_path / "fingers"
    result = runner.invoke(
        app, ["synth", "fingers", "--count", "2", "--impressions", "1", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "person00000_fgp01_master.png",
        "person00000_fgp01_plain0.png",
        "person00000_fgp01_rolled0.png",
        "person00000_fgp02_master.png",
        "person00000_fgp02_plain0.png",
        "person00000_fgp02_rolled0.png",
    ]
    with Image.open(out / "person00000_fgp01_rolled0.png") as image:
        assert image.mode == "L" and image.size == (448, 576)


def test_fingers_rejects_an_unknown_kind(tmp_path: Path) -> None:
    result = runner.invoke(app, ["synth", "fingers", "--kind", "latent", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "'latent' is not one of 'plain', 'rolled', 'both'" in result.stderr


def test_tenprint_writes_transactions_that_read_back(tmp_path: Path) -> None:
    out = tmp_path / "cars"
    args = ["synth", "tenprint", "--count", "1", "--first", "4", "--out", str(out)]
    result = runner.invoke(app, [*args, "--record-type", "4", "--compression", "NONE", "--check"])
    assert result.exit_code == 0, result.output
    raw = (out / "car-000004.an2").read_bytes()
    message = nistitl.Message()
    message.parse(raw)
    assert [r.type for r in message].count(4) == 14
    assert decode_tenprint(raw).fingers[0].pixels.shape == (576, 448)


def test_tenprint_rejects_png_in_type4(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        ["synth", "tenprint", "--record-type", "4", "--compression", "PNG", "--out", str(tmp_path)],
    )
    assert result.exit_code == 2 and "not available for Type-4" in result.output


def test_realism_needs_the_real_data(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    result = runner.invoke(
        app, ["synth", "realism", "--real", str(missing), "--out", str(tmp_path)]
    )
    assert result.exit_code == 2 and "not found" in result.output


def test_realism_report_on_a_small_sample(tmp_path: Path, data_dir: Path) -> None:
    fvc = data_dir / "fvc2002"
    if not fvc.is_dir():
        import pytest

        pytest.skip(f"{fvc} not found")
    out = tmp_path / "report"
    result = runner.invoke(
        app,
        [
            "synth", "realism", "--real", str(fvc), "--out", str(out), "--extractor", "mindtct",
            "--synthetic-fingers", "2", "--impressions", "2", "--real-fingers", "2", "--no-nfiq2",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    report = (out / "report.md").read_text()
    assert "| real | 12 | 0 |" in report  # DB1-3, 2 fingers x 2 impressions
    assert "| synthetic | 4 |" in report and "KS against real" in report
    sets = json.loads((out / "report.json").read_text())["sets"]
    for name in ("real", "synthetic"):  # every impostor pair has its LSS-R score too
        assert sets[name]["impostor_lssr"]["n"] == sets[name]["impostor"]["n"] > 0
        assert 0 < sets[name]["impostor_lssr"]["mean"] < 1
    assert "Impostor LSS-R scores" in report
