"""`scomm stats site`: the pages of a release folder, and one-line refusals."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from typer.testing import CliRunner

from scomm.cli.app import app

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "reports"))
from public_release import write_release  # noqa: E402

runner = CliRunner()


def test_stats_site_writes_the_pages_and_says_where_to_open_them(tmp_path: Path) -> None:
    write_release(tmp_path / "release")
    release, pages = str(tmp_path / "release"), str(tmp_path / "pages")
    result = runner.invoke(
        app, ["stats", "site", "--release", release, "--out", pages], env={"COLUMNS": "300"}
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "pages" / "drilldown.html").is_file()
    assert (tmp_path / "pages" / "files" / "manifest.json").is_file()
    assert (tmp_path / "pages" / "index.html").resolve().as_uri() in " ".join(result.output.split())


def test_stats_site_refuses_a_folder_without_a_release_or_a_suppressed_cell_with_a_value(
    tmp_path: Path,
) -> None:
    result = runner.invoke(app, ["stats", "site", "--release", str(tmp_path)])
    assert result.exit_code == 2
    assert "no statistics/cells.json" in result.output and "Traceback" not in result.output
    write_release(tmp_path / "release")
    cells_file = tmp_path / "release" / "statistics" / "cells.json"
    cells = json.loads(cells_file.read_text())
    leaked = next(c for c in cells if c["status"] == "suppressed")
    leaked["value"] = 7
    cells_file.write_text(json.dumps(cells))
    result = runner.invoke(app, ["stats", "site", "--release", str(tmp_path / "release")])
    assert result.exit_code == 2
    assert "suppressed but carries a value; refusing to publish" in " ".join(result.output.split())
    assert not (tmp_path / "release" / "site" / "index.html").exists()
