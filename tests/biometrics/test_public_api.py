"""The public biometrics API: the README's example runs as written, and each name does its job."""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pytest

import scomm.biometrics as biometrics
from scomm.biometrics import FailureToEnrol, FingerprintExtractor, FingerprintTemplate
from scomm.biometrics.minutiae import Minutiae
from scomm.biometrics.minutiae_records import INCITS378_2004, INCITS378_2009, ISO19794_2_2005

README = Path(__file__).resolve().parents[2] / "README.md"
HEADING = "## The biometrics API in ten lines"


def readme_example() -> str:
    text = README.read_text(encoding="utf-8")
    after = text[text.index(HEADING) :]
    found = re.search(r"```python\n(.*?)```", after, re.DOTALL)
    assert found is not None, "the README's API section has no python block"
    return found.group(1)


def test_the_readme_example_runs(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    if not (data_dir / "fvc2002" / "DB1_B" / "101_1.tif").is_file():
        pytest.skip("FVC2002 DB1_B is not in the shared data")
    monkeypatch.setitem(os.environ, "SCOMM_DATA_DIR", str(data_dir))
    code = readme_example()
    assert len([line for line in code.splitlines() if line.strip()]) <= 10
    exec(compile(code, str(README), "exec"), {"__name__": "readme_example"})
    printed = capsys.readouterr().out
    genuine, impostor = (float(v) for v in re.findall(r"(?:mate|stranger) ([0-9.]+)", printed))
    assert genuine > impostor and "minutiae agree" in printed


def test_the_public_names() -> None:
    assert set(biometrics.__all__) == {
        "FailureToEnrol",
        "FingerprintExtractor",
        "FingerprintGallery",
        "FingerprintMatcher",
        "FingerprintTemplate",
        "decode_image",
    }
    for name in biometrics.__all__:
        assert getattr(biometrics, name).__doc__
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        biometrics.nope  # noqa: B018


def test_records_and_compact_bytes_round_trip() -> None:
    rng = np.random.default_rng(4)
    n = 30
    minutiae = Minutiae(
        rng.integers(20, 300, n).astype(np.float32),
        rng.integers(20, 380, n).astype(np.float32),
        (rng.integers(0, 256, n) * (2 * np.pi / 256)).astype(np.float32),
        rng.integers(1, 3, n).astype(np.uint8),
        rng.integers(1, 101, n).astype(np.uint8),
        320,
        400,
    )
    template = FingerprintTemplate(7, minutiae)
    for standard in (ISO19794_2_2005, INCITS378_2004):
        back = FingerprintTemplate.from_record(template.to_record(standard))
        assert back.finger == 7 and len(back.minutiae) == n
        assert np.allclose(back.minutiae.x, minutiae.x) and np.allclose(back.minutiae.y, minutiae.y)
    with pytest.raises(ValueError, match="scomm writes"):
        template.to_record(INCITS378_2009)
    compact = FingerprintTemplate.from_bytes(template.to_bytes(), 7)
    assert len(compact.minutiae) == n


def test_a_blank_image_fails_to_enrol() -> None:
    with pytest.raises(FailureToEnrol):
        FingerprintExtractor().extract(np.full((300, 300), 200, np.uint8), finger=1)
