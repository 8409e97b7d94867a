"""Real records: SecuGen ISO/IEC 19794-2:2005 templates of FVC2002, their truncated negative
cases, and NIST libbiomeval's INCITS 378-2004 / INCITS 378-2009 / ISO 19794-2:2005 fixtures."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from scomm.biometrics.minutiae_records import (
    INCITS378_2004,
    INCITS378_2009,
    ISO19794_2_2005,
    MinutiaeRecord,
    MinutiaeRecordError,
    read_record,
    write_incits378,
    write_iso19794_2,
)

SECUGEN_DBS = ("DB1_B", "DB2_B", "DB3_B", "DB4_B")


@pytest.fixture(scope="session")
def manifest(data_dir: Path) -> list[dict[str, str]]:
    path = data_dir / "fvc2002" / "MANIFEST.csv"
    if not path.is_file():
        pytest.skip(f"FVC2002 manifest {path} not found (set SCOMM_DATA_DIR)")
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="session")
def secugen(templates_dir: Path, manifest: list[dict[str, str]]) -> dict[str, bytes]:
    """Every SecuGen FVC2002 template, by its manifest path ("DB1_B/101_1.tif")."""
    folder = templates_dir / "secugen" / "fvc2002"
    if not folder.is_dir():
        pytest.skip(f"SecuGen templates {folder} not found")
    manifest_dir = templates_dir.parent / "fvc2002"
    return {row["path"]: (manifest_dir / row["iso_template"]).read_bytes() for row in manifest}


def _libbiomeval(templates_dir: Path, name: str) -> bytes:
    path = templates_dir / "libbiomeval" / name
    if not path.is_file():
        pytest.skip(f"libbiomeval record {path} not found")
    return path.read_bytes()


def test_manifest_lists_every_secugen_template(
    templates_dir: Path, manifest: list[dict[str, str]]
) -> None:
    on_disk = {
        p.relative_to(templates_dir / "secugen" / "fvc2002").as_posix()
        for p in (templates_dir / "secugen" / "fvc2002").glob("DB*_B/*.iso")
    }
    listed = {row["iso_template"].split("fvc2002/", 1)[1] for row in manifest}
    assert len(on_disk) == 320
    assert listed == on_disk


def test_every_secugen_template_reads(
    secugen: dict[str, bytes], manifest: list[dict[str, str]]
) -> None:
    counts = []
    for row in manifest:
        record = read_record(secugen[row["path"]])
        assert record.standard == ISO19794_2_2005
        # The extractor writes the same header whatever the image: 300x400 pixels at 197 px/cm
        # (500 ppi), one view, finger position 0 (unknown), quality 0, no extended data. So
        # the record's ppi is 500 even for DB2_B, whose images the manifest gives at 569 ppi,
        # and its size is not the image's (DB1_B 388x374, DB3_B 300x300, ...): the SDK works in
        # its own 300x400 frame.
        assert (record.width, record.height, record.ppi, record.ppi_y) == (300, 400, 500, None)
        assert int(row["ppi"]) == (569 if row["db"] == "DB2_B" else 500)
        assert record.capture_equipment == 0
        assert len(record.views) == 1
        view = record.views[0]
        assert (view.finger_position, view.view_number, view.impression_type) == (0, 0, 0)
        assert view.quality == 0 and view.extended_data == b""
        m = view.minutiae
        assert (m.width, m.height, m.ppi) == (300, 400, 500)
        assert 6 <= len(m) <= 100
        assert np.all((m.x >= 0) & (m.x < 300) & (m.y >= 0) & (m.y < 400))
        assert np.all(m.x == np.round(m.x)) and np.all(m.y == np.round(m.y))
        assert set(np.unique(m.kind)) <= {1, 2}  # endings and bifurcations only
        assert np.all((m.angle >= 0) & (m.angle < 2 * np.pi))
        assert np.all(m.quality == 0)  # per-minutia quality not reported
        counts.append(len(m))
    assert len(counts) == 320
    assert 20 <= float(np.median(counts)) <= 50


def test_secugen_templates_reencode_byte_identically(secugen: dict[str, bytes]) -> None:
    for path, data in secugen.items():
        assert write_iso19794_2(read_record(data)) == data, path


def test_secugen_records_convert_to_incits_and_back(secugen: dict[str, bytes]) -> None:
    data = secugen["DB1_B/101_1.tif"]
    iso = read_record(data)
    incits = read_record(write_incits378(iso))
    assert incits.standard == INCITS378_2004
    a, b = iso.views[0].minutiae, incits.views[0].minutiae
    assert np.array_equal(a.x, b.x) and np.array_equal(a.y, b.y)
    assert np.array_equal(a.kind, b.kind)
    # 2-degree units: at most 1 degree away from the 1.40625-degree ISO angle
    diff = np.angle(np.exp(1j * (a.angle.astype(np.float64) - b.angle)))
    assert np.max(np.abs(np.degrees(diff))) <= 1.0 + 1e-4


def test_invalid_files_fail_with_a_reason(templates_dir: Path) -> None:
    files = sorted((templates_dir / "secugen" / "invalid").rglob("*.iso"))
    assert len(files) == 3
    for path in files:
        data = path.read_bytes()
        with pytest.raises(MinutiaeRecordError) as caught:
            read_record(data)
        error = caught.value
        assert f"record truncated: header declares 30 bytes, got {len(data)}" in str(error)
        assert error.offset == 8 and "at byte offset 8" in str(error)


def _views(record: MinutiaeRecord) -> list[tuple[int, int, int, int, int]]:
    return [
        (v.finger_position, v.view_number, v.impression_type, v.quality, len(v.minutiae))
        for v in record.views
    ]


def test_libbiomeval_incits_2004(templates_dir: Path) -> None:
    data = _libbiomeval(templates_dir, "fmr.ansi2004")
    record = read_record(data)
    assert record.standard == INCITS378_2004
    assert (record.width, record.height, record.ppi) == (512, 512, 500)
    assert record.cbeff_product_id == 0x00420011 and record.capture_equipment == 0xB5
    assert _views(record) == [(7, 0, 0, 90, 27), (2, 0, 0, 70, 22), (3, 0, 1, 69, 28)]
    third = record.views[2].extended_data
    # a 677-byte ridge-count area, then a core/delta area whose length field says 42 but whose
    # content (2 cores and 4 deltas with angles) takes 44 bytes: read by content, field fixed
    assert third[:4] == bytes.fromhex("000102a5")
    assert third[677:681] == bytes.fromhex("0002002c") and len(third) == 677 + 44


def test_libbiomeval_iso_2005(templates_dir: Path) -> None:
    record = read_record(_libbiomeval(templates_dir, "fmr.iso2005"))
    assert record.standard == ISO19794_2_2005
    assert (record.width, record.height, record.ppi) == (512, 512, 500)
    assert _views(record) == [(7, 0, 0, 90, 27), (2, 0, 0, 70, 22)]
    # the core/delta area declares 42 bytes (and so does its block) but holds 41
    assert record.views[1].extended_data[:4] == bytes.fromhex("00020029")


def test_libbiomeval_incits_2009(templates_dir: Path) -> None:
    record = read_record(_libbiomeval(templates_dir, "fmr.ansi2007"))
    assert record.standard == INCITS378_2009
    assert (record.width, record.height, record.ppi) == (512, 512, 500)
    assert record.cbeff_product_id == 0x00420011 and record.capture_equipment == 0xB5
    assert _views(record) == [(7, 0, 0, 90, 27), (2, 0, 0, 70, 22)]
    assert record.views[1].extended_data == bytes.fromhex("0001000b01121403151301")


def test_libbiomeval_records_hold_the_same_minutiae(templates_dir: Path) -> None:
    """The three fixtures encode the same two fingers; their first two views must agree up to
    angle quantisation, which checks both angle units and the direction convention."""
    incits = read_record(_libbiomeval(templates_dir, "fmr.ansi2004"))
    iso = read_record(_libbiomeval(templates_dir, "fmr.iso2005"))
    v2009 = read_record(_libbiomeval(templates_dir, "fmr.ansi2007"))
    for k in range(2):
        a, b, c = (r.views[k].minutiae for r in (incits, iso, v2009))
        assert a == c  # same 2-degree units
        for name in ("x", "y", "kind", "quality"):
            assert np.array_equal(getattr(a, name), getattr(b, name)), name
        diff = np.angle(np.exp(1j * (a.angle.astype(np.float64) - b.angle)))
        assert np.max(np.abs(np.degrees(diff))) <= 1.0 + 360 / 512 + 1e-4


@pytest.mark.parametrize(
    ("name", "writer", "fixed_offsets"),
    [
        # view 3's extended-block length (719 -> 721) and its core/delta area length (42 -> 44)
        ("fmr.ansi2004", write_incits378, [516, 1197]),
        # view 2's extended-block length and core/delta area length (42 -> 41)
        ("fmr.iso2005", write_iso19794_2, [329, 333]),
    ],
)
def test_libbiomeval_reencoding_only_fixes_the_wrong_lengths(
    templates_dir: Path, name: str, writer: object, fixed_offsets: list[int]
) -> None:
    data = _libbiomeval(templates_dir, name)
    record = read_record(data)
    encoded = writer(record)
    assert len(encoded) == len(data)
    assert [i for i in range(len(data)) if encoded[i] != data[i]] == fixed_offsets
    assert read_record(encoded) == record
    assert writer(read_record(encoded)) == encoded


def test_libbiomeval_2009_converts_to_incits_2004(templates_dir: Path) -> None:
    record = read_record(_libbiomeval(templates_dir, "fmr.ansi2007"))
    converted = read_record(write_incits378(record))
    assert converted.standard == INCITS378_2004
    assert converted.cbeff_product_id == record.cbeff_product_id
    assert [v.minutiae for v in converted.views] == [v.minutiae for v in record.views]
    assert [v.extended_data for v in converted.views] == [v.extended_data for v in record.views]
