"""`scomm foia export` on the finished demo run (the session's shared `demo_run`): the
tables hold what the audit log says, the same person has one identifier in a release and
none in common with another release, every count is 0 or at least 11, and a broken chain
publishes nothing."""

from __future__ import annotations

import json
import shutil
import sqlite3
from itertools import combinations
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from scomm.audit.chain import consistent_snapshot
from scomm.cli import app
from scomm.reports.foia import TABLES, case_rows, person_uid, protect_tables
from scomm.reports.kanon import class_sizes
from scomm.reports.ledger import Ledger, recorded_head
from scomm.reports.manifest import verify_manifest
from scomm.store.db import Database

K = 11
runner = CliRunner()


def _url(demo: tuple[dict[str, Any], Path]) -> str:
    return f"sqlite:///{demo[1] / 'scomm.db'}"


@pytest.fixture(scope="module")
def ledger(demo_run: tuple[dict[str, Any], Path]) -> Ledger:
    db = Database(_url(demo_run))
    try:
        with consistent_snapshot(db) as session:
            return Ledger.read(session)
    finally:
        db.dispose()


@pytest.fixture(scope="module")
def exported(
    demo_run: tuple[dict[str, Any], Path], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Path]:
    """The same database exported twice, as two releases."""
    folder = tmp_path_factory.mktemp("foia")
    for name in ("one", "two"):
        result = runner.invoke(
            app,
            [
                "foia",
                "export",
                "--release",
                name,
                "--out",
                str(folder / name),
                "--database",
                _url(demo_run),
            ],
        )
        assert result.exit_code == 0, result.output
        assert "pseudonym key discarded" in result.output
    return folder / "one", folder / "two"


def _published(folder: Path) -> dict[str, list[dict[str, Any]]]:
    import pyarrow.parquet as pq

    return {
        spec.name: pq.read_table(folder / "cases" / f"{spec.name}.parquet").to_pylist()
        for spec in TABLES
    }


def test_the_tables_hold_what_the_audit_log_counts(
    demo_run: tuple[dict[str, Any], Path], ledger: Ledger, exported: tuple[Path, Path]
) -> None:
    messages, outcomes = demo_run[0]["messages"], demo_run[0]["outcomes"]
    raw = case_rows(ledger)
    assert len(raw["encounters"]) == messages["IDENT_SEARCH"]
    assert sum(row["ident_match"] for row in raw["encounters"]) == messages["IDR_MATCH"]
    assert len(raw["detainers"]) == messages["DETAINER"]
    assert len(raw["arrests"]) == outcomes["transferred"]
    assert len(raw["removals"]) == outcomes.get("removed", 0)
    manifest = json.loads((exported[0] / "manifest.json").read_text())
    for spec in TABLES:
        published = manifest["row_counts"][f"cases/{spec.name}"]
        # a table is published whole, or empty when it holds fewer than k people
        rows = raw[spec.name]
        people = len({r["person_key"] or f"row{i}" for i, r in enumerate(rows)})
        assert published == (len(rows) if people >= K else 0)


def test_one_person_one_uid_within_a_release_and_none_shared_across(
    ledger: Ledger, exported: tuple[Path, Path]
) -> None:
    secret = bytes(range(32))
    raw = case_rows(ledger)
    tables = protect_tables(raw, secret)
    for spec in TABLES:
        if tables[spec.name].rows:
            expected = [person_uid(secret, row["person_key"]) for row in raw[spec.name]]
            published = [row["person_uid"] for row in tables[spec.name].rows]
            assert sorted(published, key=str) == sorted(expected, key=str)
    keys = {name: {row["person_key"] for row in rows} for name, rows in raw.items()}
    # detained and arrested people were all screened: their rows link to their encounters
    assert keys["detainers"] and keys["detainers"] <= keys["encounters"]
    assert keys["arrests"] <= keys["encounters"]
    one, two = _published(exported[0]), _published(exported[1])
    uids_one = {row["person_uid"] for rows in one.values() for row in rows} - {None}
    uids_two = {row["person_uid"] for rows in two.values() for row in rows} - {None}
    assert uids_one and uids_two
    assert not uids_one & uids_two
    # every row follows CJIS's search, which noted an FBI number: no identifier is missing,
    # so the count of rows without one (which k-anonymity does not cover) is 0
    assert all(row["person_uid"] is not None for rows in one.values() for row in rows)


def test_every_count_from_a_published_table_is_zero_or_at_least_k(
    exported: tuple[Path, Path],
) -> None:
    for rows_by_table in (_published(exported[0]), _published(exported[1])):
        for spec in TABLES:
            rows = rows_by_table[spec.name]
            columns = [name for name in spec.names if name != "person_uid"]
            assert len(rows) == 0 or len(rows) >= K
            for width in (1, 2, 3):
                for subset in combinations(columns, width):
                    assert all(n >= K for n in class_sizes(rows, subset).values()), subset


def test_the_manifest_names_the_chain_head_and_every_file(
    demo_run: tuple[dict[str, Any], Path], exported: tuple[Path, Path]
) -> None:
    db = Database(_url(demo_run))
    try:
        with consistent_snapshot(db) as session:
            head = recorded_head(session)
    finally:
        db.dispose()
    for folder in exported:
        manifest = json.loads((folder / "manifest.json").read_text())
        assert manifest["chain_head"] == {"seq": head.seq, "entry_hash": head.entry_hash}
        assert manifest["rules"]["cases"]["k"] == K
        assert verify_manifest(folder).ok
        listed = {entry["path"] for entry in manifest["files"]}
        assert {f"cases/{s.name}.{ext}" for s in TABLES for ext in ("csv", "parquet")} <= listed


def test_a_broken_chain_publishes_nothing(
    demo_run: tuple[dict[str, Any], Path], tmp_path: Path
) -> None:
    copy = tmp_path / "broken.db"
    shutil.copyfile(demo_run[1] / "scomm.db", copy)
    with sqlite3.connect(copy) as connection:
        connection.execute("DROP TRIGGER audit_entries_no_update")
        connection.execute(
            "UPDATE audit_log SET payload = '{}' WHERE seq = "
            "(SELECT MIN(seq) FROM audit_log WHERE kind = 'booking')"
        )
    out = tmp_path / "release"
    result = runner.invoke(
        app,
        ["foia", "export", "--release", "r", "--out", str(out), "--database", f"sqlite:///{copy}"],
    )
    assert result.exit_code == 1, result.output
    assert "refusing to publish: audit chain broken at entry" in result.output
    assert not out.exists() or not any(out.iterdir())


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--release", "bad name"], "letters, digits"),
        (["--release", "r", "--keep-secret", "{out}/key"], "inside the release folder"),
        (["--release", "other"], "holds release 'one'"),
    ],
)
def test_bad_input_is_refused_in_one_line(
    demo_run: tuple[dict[str, Any], Path],
    exported: tuple[Path, Path],
    arguments: list[str],
    message: str,
) -> None:
    out = exported[0]
    filled = [argument.replace("{out}", str(out)) for argument in arguments]
    result = runner.invoke(
        app, ["foia", "export", *filled, "--out", str(out), "--database", _url(demo_run)]
    )
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output


def test_verify_checks_the_folder_against_its_manifest(
    exported: tuple[Path, Path], tmp_path: Path
) -> None:
    result = runner.invoke(app, ["foia", "verify", "--dir", str(exported[1])])
    assert result.exit_code == 0, result.output
    assert "release two:" in result.output and "files match the manifest" in result.output
    copy = tmp_path / "copy"
    shutil.copytree(exported[1], copy)
    with (copy / "cases" / "encounters.csv").open("a") as handle:
        handle.write("an added row\n")
    result = runner.invoke(app, ["foia", "verify", "--dir", str(copy)])
    assert result.exit_code == 1
    assert "cases/encounters.csv: changed" in result.output and "Traceback" not in result.output


def test_a_release_from_entries_names_the_same_chain_head_and_rows(
    demo_run: tuple[dict[str, Any], Path], exported: tuple[Path, Path], tmp_path: Path
) -> None:
    """What a memory run would give: the entries alone, the head recomputed from them."""
    from scomm.bus.memory import database_entries
    from scomm.reports.foia import export_from_entries

    db = Database(_url(demo_run))
    try:
        with consistent_snapshot(db) as session:
            entries = list(database_entries(session))
    finally:
        db.dispose()
    made = export_from_entries(entries, tmp_path / "memory", "memory")
    from_db = json.loads((exported[0] / "manifest.json").read_text())
    assert made.manifest["chain_head"] == from_db["chain_head"]
    assert made.manifest["row_counts"] == from_db["row_counts"]


def test_no_count_of_1_to_10_is_published_in_the_codebook_or_the_manifest(
    exported: tuple[Path, Path],
) -> None:
    book = json.loads((exported[0] / "codebook.json").read_text())
    counts = [table["rows"] for table in book["tables"]]
    for table in book["tables"]:
        for entry in table["fields"]:
            counts.append(entry["missing"])
            counts += [value["count"] for value in entry.get("values", ())]
    manifest = json.loads((exported[0] / "manifest.json").read_text())
    counts += list(manifest["row_counts"].values())
    assert counts and all(n == 0 or n >= K for n in counts), sorted(set(counts))


def test_the_adversary_recovers_no_suppressed_cell_of_the_whole_release(
    ledger: Ledger, demo_run: tuple[dict[str, Any], Path], tmp_path: Path
) -> None:
    """The adversary of issue 17 on one whole release of the demo run (statistics, case
    tables, codebook, manifest, pages): from every published cell, read back from
    cells.json as a reader gets it, it can pin no suppressed cell; the same cells with
    the small counts merely blanked (no complementary suppression) give some away, so
    this test can fail."""
    from scomm.reports.adversary import recover
    from scomm.reports.cells import CellKey
    from scomm.reports.publication import publish

    db = Database(_url(demo_run))
    try:
        with consistent_snapshot(db) as session:
            head = recorded_head(session)
    finally:
        db.dispose()
    made = publish(ledger, head, tmp_path / "whole", "whole")
    layout = made.statistics.layout
    cells = json.loads((tmp_path / "whole" / "statistics" / "cells.json").read_text())
    published = {CellKey(c["measure"], c["geo"], c["period"]): c["value"] for c in cells}
    suppressed = [key for key, value in published.items() if value is None]
    assert suppressed  # the demo has small counts: a release with none tests nothing
    for key in suppressed:  # a suppressed cell is never a zero (zeros are shown)
        assert made.statistics.cells[key] >= 1
    audit = recover(published, layout)
    assert audit.recovered == []
    for key in suppressed:
        low, high = audit.bounds[key].low, audit.bounds[key].high
        assert high is None or low < high, key

    exact = made.statistics.cells
    blanked = {key: None if 1 <= v <= 10 else v for key, v in exact.items()}
    control = recover(blanked, layout)
    assert control.recovered
    assert all(
        audit_bounds.low == exact[key]
        for key, audit_bounds in control.bounds.items()
        if key in control.recovered
    )
    assert verify_manifest(tmp_path / "whole").ok
    assert (tmp_path / "whole" / "site" / "index.html").is_file()
