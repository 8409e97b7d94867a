"""The public pages' files (scomm.reports.site) without a browser: the data the pages read
holds no suppressed value, downloads carry their hashes, keys are never copied."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from public_release import MEASURES, write_release

from scomm.errors import ScommError
from scomm.reports.cells import CellKey, Layout, Measure, published_cells
from scomm.reports.disclosure import Rule, protect
from scomm.reports.manifest import write_manifest
from scomm.reports.site import SUPPRESSED, site_data, write_site


def _data(site: Path) -> dict:  # type: ignore[type-arg]
    text = (site / "data" / "release.js").read_text()
    assert text.startswith("window.SCOMM = ") and text.endswith(";\n")
    return json.loads(text[len("window.SCOMM = ") : -2])  # type: ignore[no-any-return]


def test_the_data_holds_every_shown_cell_and_null_for_every_suppressed_one(tmp_path: Path) -> None:
    cells = write_release(tmp_path / "release")
    site = write_site(tmp_path / "release", tmp_path / "site")
    assert site.pages == ("index.html", "drilldown.html", "whatif.html", "downloads.html")
    data = _data(tmp_path / "site")
    assert data["marker"] == SUPPRESSED
    assert [m["name"] for m in data["measures"]] == [m.name for m in MEASURES]
    assert {m["group"] for m in data["measures"]} == {"ice_monthly", "never_published"}
    suppressed = 0
    for key, value in cells.items():
        at = data["periods"].index(key.period)
        assert data["values"][key.measure][key.geo][at] == value
        assert data["status"][key.measure][key.geo][at] == ("x" if value is None else "s")
        suppressed += value is None
    assert suppressed > 20  # the release has many suppressed cells to hide
    alameda = next(j for j in data["jurisdictions"] if j["ori"] == "CA0010000")
    assert alameda == {"ori": "CA0010000", "name": "Alameda County <Sheriff>", "state": "CA",
                       "activation": "2009-10-27"}  # fmt: skip
    assert data["whatif"]["policies"] == ["safeguards-on", "safeguards-off"]
    assert data["whatif"]["rows"][1]["difference"] == {"mean": 2.0, "low": None, "high": None}
    assert data["release"]["chain_head"] == "entry 42, hash " + "ab" * 32
    assert data["release"]["window"] == "2009-10 to 2010-03"
    assert data["release"]["name"] == "test-release"
    whatif = (tmp_path / "site" / "whatif.html").read_text()
    assert "Disclosure control: counts of 1 to 10 suppressed" in whatif
    assert '28.0 <span class="interval">(23.0 to 33.0)</span>' in whatif
    assert "2.0</td>" in whatif  # no interval where the comparison has none
    assert "plotly" in (tmp_path / "site" / "assets" / "plotly.min.js").read_text()[:2000].lower()


def test_downloads_are_the_manifests_files_with_their_hashes_and_keys_are_not_copied(
    tmp_path: Path,
) -> None:
    write_release(tmp_path / "release")
    site = write_site(tmp_path / "release", tmp_path / "site")
    manifest = json.loads((tmp_path / "release" / "manifest.json").read_text())
    listed = {f["path"]: f["sha256"] for f in manifest["files"]}
    assert set(site.files) == {*listed, "manifest.json"}
    page = (tmp_path / "site" / "downloads.html").read_text()
    for path, sha in listed.items():
        copy = tmp_path / "site" / "files" / path
        assert hashlib.sha256(copy.read_bytes()).hexdigest() == sha
        assert f'href="files/{path}"' in page and sha in page
    assert not list((tmp_path / "site").rglob("*.key"))
    # pages written into the release before its manifest are listed there, and not copied
    write_site(tmp_path / "release", tmp_path / "release" / "site")
    manifest["files"].append({"path": "site/index.html", "sha256": "0" * 64})
    (tmp_path / "release" / "manifest.json").write_text(json.dumps(manifest))
    again = write_site(tmp_path / "release", tmp_path / "public")
    assert (
        "site/index.html" not in again.files
        and not (tmp_path / "public" / "files" / "site").exists()
    )


def test_only_the_release_parts_are_copied_into_the_pages_not_the_run_beside_them(
    tmp_path: Path,
) -> None:
    """A release written into a run's folder: the manifest hashes every file there (the
    database, the report), but the pages publish only the release's own parts."""
    folder = tmp_path / "release"
    write_release(folder)
    (folder / "scomm.db").write_text("the whole audit log, names and all")
    (folder / "logs").mkdir()
    (folder / "logs" / "run.log").write_text("case 1: Jane Doe")
    write_manifest(folder, release="test-release", chain_head=None, rules={}, row_counts={})
    listed = {f["path"] for f in json.loads((folder / "manifest.json").read_text())["files"]}
    assert {"scomm.db", "logs/run.log"} <= listed
    site = write_site(folder, tmp_path / "site")
    assert "scomm.db" not in site.files and "logs/run.log" not in site.files
    assert not (tmp_path / "site" / "files" / "scomm.db").exists()
    assert not (tmp_path / "site" / "files" / "logs").exists()
    assert "statistics/cells.json" in site.files and "whatif.json" in site.files
    assert "scomm.db" not in (tmp_path / "site" / "downloads.html").read_text()


def test_a_rounded_release_marks_suppressed_cells_as_under_15() -> None:
    cells = [
        {"measure": "m", "geo": "US", "period": "2010-01", "value": 20, "status": "rounded"},
        {"measure": "m", "geo": "US", "period": "2010-02", "value": None, "status": "suppressed"},
    ]
    data = site_data(cells, [], {"name": "r"})
    assert data["marker"] == SUPPRESSED
    assert data["values"]["m"]["US"] == [20, None] and data["status"]["m"]["US"] == "rx"


def test_a_rounded_count_under_15_is_shown_as_the_marker_not_refused() -> None:
    """protect(rounding="drb") publishes a count of 11 to 14 as status "rounded" with no
    value: the pages show it as "<15" (like a suppressed cell), they do not refuse it."""
    layout = Layout((Measure("m", "M", ("a",), "ice_monthly"),), {"CA0010000": "CA"},
                    ("2010-01", "2010-02"))  # fmt: skip
    base = {("a", "CA0010000", "2010-01"): 12, ("a", "CA0010000", "2010-02"): 40}
    made = protect(published_cells(base, layout), layout, Rule(rounding="drb"))
    key = CellKey("m", "CA0010000", "2010-01")
    assert made.status[key] == "rounded" and made.values[key] is None
    rows = [{"measure": k.measure, "geo": k.geo, "period": k.period, "value": v,
             "status": made.status[k]} for k, v in made.values.items()]  # fmt: skip
    data = site_data(rows, [], {"name": "r"})
    assert data["marker"] == SUPPRESSED
    assert data["values"]["m"]["CA0010000"][0] is None
    assert data["status"]["m"]["CA0010000"][0] == "x"


@pytest.mark.parametrize(
    "cell",
    [
        {"measure": "m", "geo": "US", "period": "2010-01", "value": 3, "status": "suppressed"},
        {"measure": "m", "geo": "US", "period": "2010-01", "value": None, "status": "shown"},
        {"measure": "m", "geo": "US", "period": "2010-01", "value": "12", "status": "shown"},
        {"measure": "m", "geo": "US", "value": 12, "status": "shown"},
    ],
)
def test_a_malformed_cell_is_refused(cell: dict) -> None:  # type: ignore[type-arg]
    with pytest.raises(ScommError, match="cells.json: cell 0"):
        site_data([cell], [], {})


def test_a_malformed_whatif_is_refused_and_a_missing_one_leaves_a_note(tmp_path: Path) -> None:
    write_release(tmp_path / "release", whatif=False)
    write_site(tmp_path / "release", tmp_path / "site")
    assert 'id="no-whatif"' in (tmp_path / "site" / "whatif.html").read_text()
    bad = tmp_path / "whatif.json"
    bad.write_text(json.dumps({"policies": ["a", "b"], "rows": [{"measure": "x", "a": {}}]}))
    with pytest.raises(ScommError, match="whatif.json: row 0"):
        write_site(tmp_path / "release", tmp_path / "site2", whatif=bad)
