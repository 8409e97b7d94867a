"""`scomm bench verify`: the FVC protocol on synthetic folders, failures to enrol, real FVC2002."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from scomm.biometrics.protocols import FailureToEnrol
from scomm.cli.bench import bench_app
from scomm.sim.bench.verify import (
    BenchError,
    Sample,
    evaluate_database,
    find_databases,
    protocol_pairs,
    read_manifest_ppi,
)
from scomm.sim.synth.fingers import impression, master_finger

FIELDS = {
    "eer",
    "fnmr_at_fmr_1e-2",
    "fnmr_at_fmr_1e-3",
    "fte",
    "genuine",
    "impostor",
    "extract_ms",
    "quality_ms",
    "compare_us",
}
TOP = {"databases", "mean_eer", "impostor_compares_per_s_per_core", "peers"}
runner = CliRunner()


def make_database(folder: Path, fingers: int = 3, impressions: int = 3, seed: int = 7) -> None:
    """FINGER_IMPRESSION.png captures of synthetic fingers 101.. (192 px, 500 ppi)."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for f in range(fingers):
        master = master_finger(1000 * seed + f, size=192)
        for k in range(1, impressions + 1):
            Image.fromarray(impression(master, rng)).save(folder / f"{101 + f}_{k}.png")


def run_verify(*args: str) -> tuple[int, str]:
    result = runner.invoke(bench_app, ["verify", "--no-progress", *args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def check_shape(doc: dict, databases: set[str]) -> None:
    assert set(doc) == TOP
    assert set(doc["databases"]) == databases
    for figures in doc["databases"].values():
        assert set(figures) == FIELDS
        for key in ("eer", "fnmr_at_fmr_1e-2", "fnmr_at_fmr_1e-3", "fte"):
            assert 0.0 <= figures[key] <= 1.0
    for peer in doc["peers"].values():
        assert set(peer) == TOP - {"peers"}
        assert set(peer["databases"]) == databases
        assert all(set(figures) == FIELDS for figures in peer["databases"].values())


def test_cli_on_a_synthetic_folder_writes_the_json(tmp_path: Path) -> None:
    make_database(tmp_path / "data" / "DB1_S", seed=7)
    make_database(tmp_path / "data" / "DB2_S", seed=8)
    out = tmp_path / "out" / "bench.json"
    code, output = run_verify(
        "--data", str(tmp_path / "data"), "--engine", "baseline", "--json", str(out)
    )
    assert code == 0, output
    assert "baseline" in output and "DB1_S" in output
    doc = json.loads(out.read_text())
    check_shape(doc, {"DB1_S", "DB2_S"})
    assert doc["peers"] == {}
    for figures in doc["databases"].values():
        assert figures["genuine"] == 3 * 3 and figures["impostor"] == 3 * 3 * 3
        assert figures["fte"] == 0.0
        assert figures["eer"] <= 0.2  # the same synthetic finger correlates strongly
        assert figures["extract_ms"] > 0 and figures["compare_us"] > 0
    eers = [f["eer"] for f in doc["databases"].values()]
    assert doc["mean_eer"] == pytest.approx(np.mean(eers))
    assert doc["impostor_compares_per_s_per_core"] > 0


def test_cli_counts_a_blank_image_as_errors(tmp_path: Path) -> None:
    make_database(tmp_path / "DB1_S")
    Image.fromarray(np.full((192, 192), 220, np.uint8)).save(tmp_path / "DB1_S" / "102_2.png")
    out = tmp_path / "bench.json"
    code, output = run_verify("--data", str(tmp_path), "--engine", "baseline", "--json", str(out))
    assert code == 0, output
    figures = json.loads(out.read_text())["databases"]["DB1_S"]
    assert figures["fte"] == pytest.approx(1 / 9)
    assert figures["genuine"] == 9 and figures["impostor"] == 27  # nothing dropped
    # the blank impression is in 2 of the 9 genuine pairs: false non-matches at any FMR
    assert figures["fnmr_at_fmr_1e-3"] >= 2 / 9 - 1e-12
    assert figures["fnmr_at_fmr_1e-2"] >= 2 / 9 - 1e-12
    assert figures["eer"] > 0.0


class FingerEngine:
    """Template = the finger id painted into the image; genuine 1.0, impostor 0.0."""

    name = "fake"

    def extract(self, image: np.ndarray, ppi: int) -> object:
        if image.max() == 0:
            raise FailureToEnrol("blank")
        return int(image[0, 0])

    def compare(self, a: object, b: object) -> float:
        return 1.0 if a == b else 0.0


def test_failure_to_enrol_scoring_exactly() -> None:
    samples = [Sample("DB", f, k, Path(f"{f}_{k}.png")) for f in (1, 2, 3) for k in (1, 2, 3)]
    prepared = {s.key: np.full((4, 4), s.finger, np.uint8) for s in samples}
    prepared[(2, 2)] = np.zeros((4, 4), np.uint8)
    r = evaluate_database(FingerEngine(), samples, prepared)
    # genuine: 7 scores 1.0 and 2 at -inf; impostor: 27 scores 0.0 (6 of them at -inf).
    # FNMR is 2/9 at every threshold above -inf; FVC EER: interval [0, 2/9] -> 1/9.
    assert (r.genuine, r.impostor, r.failures) == (9, 27, 1)
    assert r.fte == pytest.approx(1 / 9)
    assert r.fnmr_at_fmr_1e_2 == pytest.approx(2 / 9)
    assert r.fnmr_at_fmr_1e_3 == pytest.approx(2 / 9)
    assert r.eer == pytest.approx(1 / 9)
    assert r.impostor_run == 27 - 6
    assert r.compare_us is not None and r.extract_ms is not None


class TimedFingerEngine(FingerEngine):
    """FingerEngine that says its quality check took 2 ms of CPU per image, and burns 5."""

    def extract_timed(self, image: np.ndarray, ppi: int) -> tuple[object, float]:
        start = time.process_time()
        while time.process_time() - start < 0.005:
            pass
        return self.extract(image, ppi), 0.002


def test_the_quality_check_is_reported_apart_from_the_extraction() -> None:
    samples = [Sample("DB", f, k, Path(f"{f}_{k}.png")) for f in (1, 2) for k in (1, 2)]
    prepared = {s.key: np.full((4, 4), s.finger, np.uint8) for s in samples}
    timed = evaluate_database(TimedFingerEngine(), samples, prepared)
    assert timed.quality_ms == pytest.approx(2.0)
    assert timed.extract_ms is not None and 2.5 <= timed.extract_ms  # 5 burnt, 2 taken out
    assert timed.to_json()["quality_ms"] == pytest.approx(2.0)
    plain = evaluate_database(FingerEngine(), samples, prepared)
    assert plain.quality_ms is None and plain.to_json()["quality_ms"] is None


def test_unreadable_file_is_a_failure_to_enrol(tmp_path: Path) -> None:
    make_database(tmp_path / "DB1_S", fingers=2, impressions=2)
    (tmp_path / "DB1_S" / "101_2.png").write_bytes(b"not an image")
    out = tmp_path / "bench.json"
    code, output = run_verify("--data", str(tmp_path), "--engine", "baseline", "--json", str(out))
    assert code == 0, output
    figures = json.loads(out.read_text())["databases"]["DB1_S"]
    assert figures["fte"] == pytest.approx(1 / 4)
    assert figures["fnmr_at_fmr_1e-2"] == pytest.approx(0.5)  # 1 of the 2 genuine pairs


def test_find_databases_layout_manifest_and_limits(tmp_path: Path) -> None:
    for name in ("DB1_X", "DB2_X"):
        folder = tmp_path / name
        folder.mkdir()
        for f in (103, 101, 102):
            for k in (1, 2):
                (folder / f"{f}_{k}.tif").write_bytes(b"")
        (folder / "notes.txt").write_text("ignored")
        (folder / "101_x.tif").write_bytes(b"")  # not FINGER_IMPRESSION: ignored
    (tmp_path / "MANIFEST.csv").write_text(
        "path,db,ppi\nDB2_X/101_1.tif,DB2_X,569\nDB2_X/102_2.tif,DB2_X,1000\n"
    )
    assert read_manifest_ppi(tmp_path)[(tmp_path / "DB2_X/101_1.tif").resolve()] == 569
    found = find_databases(tmp_path, limit_fingers=2)
    assert list(found) == ["DB1_X", "DB2_X"]
    assert [s.key for s in found["DB1_X"]] == [(101, 1), (101, 2), (102, 1), (102, 2)]
    assert {s.key: s.ppi for s in found["DB2_X"]} == {
        (101, 1): 569,
        (101, 2): 500,
        (102, 1): 500,
        (102, 2): 1000,
    }
    assert list(find_databases(tmp_path, only=["DB2_X"])) == ["DB2_X"]
    with pytest.raises(BenchError):
        find_databases(tmp_path, only=["DB9"])
    # a folder holding images directly is one database
    assert list(find_databases(tmp_path / "DB1_X")) == ["DB1_X"]
    with pytest.raises(BenchError):
        find_databases(tmp_path / "DB1_X" / "nowhere")
    with pytest.raises(BenchError):
        protocol_pairs([Sample("D", 1, 1, Path("a")), Sample("D", 1, 2, Path("b"))])


def test_cli_rejects_unknown_engine_and_missing_input(tmp_path: Path) -> None:
    code, output = run_verify("--data", str(tmp_path), "--engine", "no-such-engine")
    assert code == 2 and "no-such-engine" in output
    code, output = run_verify()
    assert code == 2
    code, output = run_verify("--data", str(tmp_path / "empty"))
    assert code == 2 and "not a folder" in output


def test_templates_track_needs_a_minutiae_engine(tmp_path: Path) -> None:
    (tmp_path / "DB1_T").mkdir()
    for f in (101, 102):
        for k in (1, 2):
            (tmp_path / "DB1_T" / f"{f}_{k}.iso").write_bytes(b"FMR\x00")
    code, output = run_verify("--templates", str(tmp_path), "--engine", "baseline")
    assert code == 2 and "minutiae" in output


# --- real data ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fvc2002(data_dir: Path) -> Path:
    folder = data_dir / "fvc2002"
    if not (folder / "DB1_B").is_dir():
        pytest.skip(f"FVC2002 images not found in {folder}")
    return folder


def test_real_fvc2002_subset_with_the_nbis_peer(fvc2002: Path, tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    code, output = run_verify(
        "--data", str(fvc2002), "--db", "DB1_B", "--limit-fingers", "3", "--peers",
        "--engine", "baseline", "--json", str(out),
    )  # fmt: skip
    assert code == 0, output
    doc = json.loads(out.read_text())
    check_shape(doc, {"DB1_B"})
    assert set(doc["peers"]) == {"nbis"}
    for figures in (doc["databases"]["DB1_B"], doc["peers"]["nbis"]["databases"]["DB1_B"]):
        assert figures["genuine"] == 3 * 28 and figures["impostor"] == 3 * 64
    nbis = doc["peers"]["nbis"]["databases"]["DB1_B"]
    assert nbis["fte"] == 0.0
    assert nbis["eer"] < 0.15  # bozorth3 separates these fingers well (measured 3.7%)
    assert nbis["compare_us"] > 0 and doc["peers"]["nbis"]["impostor_compares_per_s_per_core"] > 0


def test_real_manifest_gives_db2_its_569_ppi(fvc2002: Path) -> None:
    found = find_databases(fvc2002, only=["DB2_B"], limit_fingers=2)
    assert {s.ppi for s in found["DB2_B"]} == {569}
    assert len(found["DB2_B"]) == 16


def test_real_templates_track_with_nbis(data_dir: Path, tmp_path: Path) -> None:
    folder = data_dir / "iso-templates" / "secugen" / "fvc2002"
    if not (folder / "DB1_B").is_dir():
        pytest.skip(f"ISO templates not found in {folder}")
    out = tmp_path / "bench.json"
    code, output = run_verify(
        "--templates", str(folder), "--db", "DB1_B", "--limit-fingers", "3",
        "--engine", "nbis", "--json", str(out),
    )  # fmt: skip
    assert code == 0, output
    doc = json.loads(out.read_text())
    check_shape(doc, {"DB1_B"})
    figures = doc["databases"]["DB1_B"]
    assert figures["fte"] == 0.0 and figures["genuine"] == 84 and figures["impostor"] == 192
    assert figures["eer"] < 0.2
