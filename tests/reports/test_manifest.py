"""The release manifest: every file's sha256 and size, the chain head, the rules; and its check."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from scomm.reports.ledger import ChainHead
from scomm.reports.manifest import (
    MANIFEST,
    file_digest,
    manifest_chain_head,
    verify_manifest,
    write_manifest,
)

HEAD = ChainHead(357, "ab" * 32)


def _release(tmp_path: Path) -> Path:
    (tmp_path / "cases").mkdir()
    (tmp_path / "statistics").mkdir()
    (tmp_path / "cases" / "encounters.csv").write_text("a,b\n1,2\n")
    (tmp_path / "statistics" / "cells.json").write_text("[]\n")
    return tmp_path


def test_the_manifest_lists_every_file_but_itself_with_its_hash(tmp_path: Path) -> None:
    folder = _release(tmp_path)
    created = datetime(2026, 12, 7, 17, 0, tzinfo=UTC)
    document = write_manifest(
        folder,
        release="r1",
        chain_head=HEAD,
        rules={"cases": {"k": 11}},
        row_counts={"cases/encounters": 1},
        created=created,
    )
    on_disk = json.loads((folder / MANIFEST).read_text())
    assert on_disk == document
    assert on_disk["release"] == "r1" and on_disk["created"] == "2026-12-07T17:00:00+00:00"
    assert on_disk["chain_head"] == {"seq": 357, "entry_hash": "ab" * 32}
    paths = [entry["path"] for entry in on_disk["files"]]
    assert paths == ["cases/encounters.csv", "statistics/cells.json"]
    first = on_disk["files"][0]
    assert first["sha256"] == file_digest(folder / "cases" / "encounters.csv")
    assert first["bytes"] == len("a,b\n1,2\n")
    assert manifest_chain_head(folder) == HEAD
    assert verify_manifest(folder).ok


def test_a_second_part_keeps_the_first_parts_rules_and_counts(tmp_path: Path) -> None:
    folder = _release(tmp_path)
    write_manifest(
        folder,
        release="r1",
        chain_head=HEAD,
        rules={"statistics": {"suppress": "1-10"}},
        row_counts={"statistics/ice_monthly": 40},
    )
    (folder / "cases" / "removals.csv").write_text("x\n")
    document = write_manifest(
        folder,
        release="r1",
        chain_head=HEAD,
        rules={"cases": {"k": 11}},
        row_counts={"cases/removals": 0},
    )
    assert set(document["rules"]) == {"statistics", "cases"}
    assert document["row_counts"] == {"cases/removals": 0, "statistics/ice_monthly": 40}
    assert "cases/removals.csv" in [entry["path"] for entry in document["files"]]


def test_verify_names_a_changed_a_missing_and_an_unlisted_file(tmp_path: Path) -> None:
    folder = _release(tmp_path)
    write_manifest(folder, release="r1", chain_head=None, rules={}, row_counts={})
    (folder / "cases" / "encounters.csv").write_text("a,b\n1,3\n")  # same size, other bytes
    (folder / "statistics" / "cells.json").unlink()
    (folder / "cases" / "extra.csv").write_text("\n")
    check = verify_manifest(folder)
    assert not check.ok
    assert any(p.startswith("cases/encounters.csv: changed") for p in check.problems)
    assert "statistics/cells.json: listed but missing" in check.problems
    assert "cases/extra.csv: present but not listed" in check.problems
    assert len(check.problems) == 3


def test_verify_without_a_manifest_says_so(tmp_path: Path) -> None:
    check = verify_manifest(tmp_path)
    assert not check.ok and "no readable manifest.json" in check.problems[0]


def test_a_corrupt_manifest_is_a_failed_check_and_one_line_from_the_cli(tmp_path: Path) -> None:
    """`scomm foia verify` on a damaged manifest (not JSON, a file entry without a path, a
    head without a seq) reports it as a failed check (exit 1), and `scomm foia export` into
    such a folder refuses it (exit 2): one line each, no internal error."""
    from typer.testing import CliRunner

    from scomm.cli import app

    runner = CliRunner()
    for text, says in (
        ("{not json", "not a readable manifest"),
        ('{"files": [{"x": 1}]}', "files[0] names no path"),
        ('{"files": {"a": 1}}', "files are not a list"),
    ):
        (tmp_path / "manifest.json").write_text(text)
        check = verify_manifest(tmp_path)
        assert not check.ok and any(says in p for p in check.problems), check.problems
        result = runner.invoke(app, ["foia", "verify", "--dir", str(tmp_path)])
        assert result.exit_code == 1, result.output
        assert says in result.stderr and "internal error" not in result.stderr
    from scomm.store.db import Database

    url = f"sqlite:///{tmp_path / 'scomm.db'}"
    db = Database(url)
    db.migrate()
    db.dispose()
    (tmp_path / "manifest.json").write_text('{"release": "x", "chain_head": {"seq": "z"}}')
    result = runner.invoke(
        app, ["foia", "export", "--release", "x", "--out", str(tmp_path), "-d", url]
    )
    assert result.exit_code == 2, result.output
    assert "chain_head is not" in result.stderr and "internal error" not in result.stderr
