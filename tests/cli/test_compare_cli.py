"""`scomm compare A B [--explain] [--svg OUT]` on synthetic prints (scomm.sim.synth.fingers)
and on a template written from one of them: the score, the explanation, the picture. The
MINDTCT engine ("scomm-fast") keeps these fast; `bench verify`'s default is the same code."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner, Result

from scomm.biometrics.engine import FingerTemplate
from scomm.biometrics.minutiae_records import FingerView, MinutiaeRecord, write_iso19794_2
from scomm.cli import app
from scomm.sim.bench.engines import bench_engines
from scomm.sim.synth.fingers import impression, master_finger

runner = CliRunner()
ENGINE = "scomm-fast"
SVG = "{http://www.w3.org/2000/svg}"


def scomm(*args: str) -> Result:
    result = runner.invoke(app, list(args), env={"COLUMNS": "200"})
    assert "Traceback" not in result.output
    return result


def score_of(result: Result) -> float:
    assert result.exit_code == 0, result.output
    found = re.search(r"^score (\d+\.\d+) \(engine ", result.stdout, re.M)
    assert found, result.stdout
    return float(found.group(1))


@pytest.fixture(scope="module")
def prints(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two impressions of one synthetic finger and one of another, as PNG files."""
    folder = tmp_path_factory.mktemp("prints")
    rng = np.random.default_rng(3)
    a, b = master_finger(21, 256), master_finger(22, 256)
    images = {"a1": impression(a, rng, dropout=0.0), "a2": impression(a, rng, dropout=0.0)}
    images["b"] = impression(b, rng, dropout=0.0)
    paths = {}
    for name, pixels in images.items():
        paths[name] = folder / f"{name}.png"
        Image.fromarray(pixels).save(paths[name])
    return paths


def extracted(path: Path) -> FingerTemplate:
    engine = bench_engines().create(ENGINE)
    template = engine.extract(np.asarray(Image.open(path)), 500)
    assert isinstance(template, FingerTemplate)
    return template


def test_a_print_scores_highest_against_itself_then_its_finger(prints: dict[str, Path]) -> None:
    a1, a2, b = (str(prints[k]) for k in ("a1", "a2", "b"))
    itself = score_of(scomm("compare", a1, a1, "--engine", ENGINE))
    mate = score_of(scomm("compare", a1, a2, "--engine", ENGINE))
    impostor = score_of(scomm("compare", a1, b, "--engine", ENGINE))
    assert itself > mate > impostor
    shown = scomm("compare", a1, b, "--engine", ENGINE)
    assert shown.stdout.startswith(f"A: {a1}: PNG image 256 x 256 at 500 ppi (the PNG file")


def test_explain_and_svg_show_the_pairs_the_matcher_reports(
    prints: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "pair.svg"
    a1, a2 = prints["a1"], prints["a2"]
    result = scomm("compare", str(a1), str(a2), "--engine", ENGINE, "--explain", "--svg", str(out))
    assert result.exit_code == 0, result.output
    ta, tb = extracted(a1), extracted(a2)
    expected = bench_engines().create(ENGINE).explain(ta, tb)  # type: ignore[attr-defined]
    assert len(expected.matched) >= 6
    text = " ".join(result.stdout.split())
    assert f"{expected.matched_count} minutia pairs agree under it" in text
    assert f"LSS-R score {expected.lssr_score:.4f}, consolidation score" in text
    assert text.count("minutia pairs the relaxation kept") == 1
    kept_rows = re.findall(r"│ \d+ │ #\d+ \([^)]*\) │ #\d+ \([^)]*\) │ \d\.\d{3} │", text)
    assert len(kept_rows) == len(expected.pairs)
    root = ET.parse(out).getroot()
    assert root.tag == f"{SVG}svg"
    lines = [e for e in root.iter(f"{SVG}line") if e.get("class") == "pair"]
    assert len(lines) == len(expected.matched)
    # each line joins minutia i of A to minutia j of B (B drawn to the right of A)
    i, j = (int(v) for v in expected.matched[0])
    first = lines[0]
    assert float(first.get("x1", "")) == pytest.approx(float(ta.features.x[i]), abs=0.06)
    assert float(first.get("x2", "")) == pytest.approx(float(tb.features.x[j]) + 256 + 24, abs=0.06)
    circles = list(root.iter(f"{SVG}circle"))
    assert len(circles) == ta.minutiae_count + tb.minutiae_count
    assert len(list(root.iter(f"{SVG}image"))) == 2


def test_a_template_compares_with_an_image_and_draws_on_a_blank_canvas(
    prints: dict[str, Path], tmp_path: Path
) -> None:
    template = extracted(prints["a1"])
    record = MinutiaeRecord(
        "ISO19794-2:2005", 256, 256, 500, (FingerView(3, 0, 0, 60, template.minutiae),)
    )
    iso = tmp_path / "a1.iso"
    iso.write_bytes(write_iso19794_2(record))
    out = tmp_path / "t.svg"
    a1, b = str(prints["a1"]), str(prints["b"])
    mate = scomm("compare", str(iso), a1, "--engine", ENGINE, "--svg", str(out))
    assert mate.stdout.startswith(f"A: {iso}: ISO/IEC 19794-2:2005, {template.minutiae_count}")
    impostor = scomm("compare", str(iso), b, "--engine", ENGINE)
    assert score_of(mate) > 0.8 > score_of(impostor)
    root = ET.parse(out).getroot()
    assert len(list(root.iter(f"{SVG}image"))) == 1
    (canvas,) = [e for e in root.iter(f"{SVG}rect") if e.get("class") == "canvas"]
    assert (canvas.get("width"), canvas.get("height")) == ("256", "256")


def test_what_cannot_be_compared_is_one_line_before_any_score(
    prints: dict[str, Path], tmp_path: Path
) -> None:
    a1 = str(prints["a1"])
    text = tmp_path / "notes.txt"
    text.write_text("not a print")
    blank = tmp_path / "blank.png"
    Image.fromarray(np.full((256, 256), 210, np.uint8)).save(blank)
    cases = [
        (("compare", a1, str(text)), "neither a minutiae template nor an image scomm reads"),
        (("compare", a1, a1, "--engine", "nope"), "--engine 'nope': no such engine; known: "),
        (("compare", a1, a1, "--engine", "nbis", "--explain"), "does not explain its scores"),
        (("compare", a1, str(blank), "--engine", ENGINE), f"{blank}: no template: "),
        (("compare", a1, str(tmp_path / "missing.png")), "no such file"),
        (("compare", a1, a1, "--svg", a1), "is one of the prints"),
    ]
    for args, expected in cases:
        result = scomm(*args)
        assert result.exit_code == 2, result.output
        assert result.stdout == ""
        (line,) = result.stderr.strip().splitlines()
        assert line.startswith("error: ") and expected in line, line
