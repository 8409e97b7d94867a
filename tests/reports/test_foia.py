"""The FOIA release on hand-made rows: keyed pseudonyms, the files, the codebook."""

from __future__ import annotations

import csv
import json
import random
import stat
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from scomm.reports.foia import (
    TABLES,
    person_uid,
    write_case_tables,
)
from scomm.reports.ledger import ChainHead
from scomm.reports.manifest import head_dict, verify_manifest

HEAD = ChainHead(12, "cd" * 32)


def _raw(people: int = 40, seed: int = 1) -> dict[str, list[dict[str, Any]]]:
    """Rows of the four tables for `people` people, each booked once or twice; every
    person detained and transferred, so each one appears in several tables."""
    rng = random.Random(seed)
    raw: dict[str, list[dict[str, Any]]] = {spec.name: [] for spec in TABLES}
    for i in range(people):
        key = f"FBI{i:07d}"
        for _ in range(rng.choice([1, 2])):
            place = {"fiscal_year": 2011, "month": "2011-03", "state": "CA", "area": "LOS"}
            raw["encounters"].append(
                {
                    "person_key": key,
                    **place,
                    "ident_match": True,
                    "criminality_level": "3",
                    "removability": "removable",
                    "recorded_status_class": "out_of_status",
                    "citizen_on_uscis_record": False,
                    "ice_action": "detainer",
                }
            )
            raw["detainers"].append(
                {
                    "person_key": key,
                    **place,
                    "criminality_level": "3",
                    "outcome": "transferred",
                    "charges_dismissed": False,
                    "held_past_legal_end": False,
                    "citizen_on_uscis_record": False,
                }
            )
        raw["arrests"].append(
            {
                "person_key": key,
                "fiscal_year": 2011,
                "month": "2011-04",
                "state": "CA",
                "area": "LOS",
                "criminality_level": "3",
                "track": "hearing",
                "detained": True,
                "citizen_on_uscis_record": False,
            }
        )
    raw["encounters"].append(
        {
            "person_key": None,
            "fiscal_year": 2011,
            "month": "2011-03",
            "state": "CA",
            "area": "LOS",
            "ident_match": False,
        }
    )
    return raw


def _uids(release: Any) -> dict[str, set[str]]:
    return {
        name: {str(row["person_uid"]) for row in table.rows if row["person_uid"] is not None}
        for name, table in release.tables.items()
    }


def test_the_same_person_has_one_uid_across_tables_and_none_across_releases(tmp_path: Path) -> None:
    raw = _raw()
    first = write_case_tables(tmp_path / "one", "one", raw, chain_head=HEAD)
    second = write_case_tables(tmp_path / "two", "two", raw, chain_head=HEAD)
    one, two = _uids(first), _uids(second)
    assert len(one["arrests"]) == 40  # one uid per person
    assert one["encounters"] == one["detainers"] == one["arrests"]
    everything_one = set().union(*one.values())
    everything_two = set().union(*two.values())
    assert everything_one and everything_two and not everything_one & everything_two
    # within a release: each person's rows carry the uid of their key
    counts = {uid: 0 for uid in one["arrests"]}
    for row in first.tables["encounters"].rows:
        if row["person_uid"] is not None:
            counts[str(row["person_uid"])] += 1
    assert sum(counts.values()) == len(raw["encounters"]) - 1
    # the booking without a person key has no uid
    assert sum(row["person_uid"] is None for row in first.tables["encounters"].rows) == 1


def test_the_uid_is_a_keyed_hash_of_the_person_key() -> None:
    assert person_uid(b"k" * 32, "FBI0000001") == person_uid(b"k" * 32, "FBI0000001")
    assert person_uid(b"k" * 32, "FBI0000001") != person_uid(b"j" * 32, "FBI0000001")
    assert person_uid(b"k" * 32, None) is None and person_uid(b"k" * 32, "") is None
    assert len(str(person_uid(b"k" * 32, "x"))) == 20


def test_the_files_are_typed_hashed_and_hold_no_secret(tmp_path: Path) -> None:
    secret = bytes(range(32))
    out = tmp_path / "release"
    release = write_case_tables(out, "r1", _raw(), chain_head=HEAD, secret=secret)
    for spec in TABLES:
        csv_rows = list(csv.DictReader((out / "cases" / f"{spec.name}.csv").open()))
        table = pq.read_table(out / "cases" / f"{spec.name}.parquet")
        assert table.column_names == list(spec.names)
        assert len(csv_rows) == table.num_rows == len(release.tables[spec.name].rows)
        types = {field.name: str(field.type) for field in table.schema}
        for column in spec.columns:
            assert (
                types[column.name]
                == {"string": "string", "int": "int32", "bool": "bool"}[column.type]
            )
        assert table.to_pylist() == release.tables[spec.name].rows
    assert {
        row["ident_match"] for row in csv.DictReader((out / "cases" / "encounters.csv").open())
    } <= {"true", "false", ""}
    assert verify_manifest(out).ok
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["chain_head"] == head_dict(HEAD)
    assert manifest["row_counts"]["cases/encounters"] == len(release.tables["encounters"].rows)
    assert manifest["rules"]["cases"]["k_anonymity"]["encounters"]["k"] == 11
    listed = {entry["path"] for entry in manifest["files"]}
    assert {"codebook.json", "codebook.md", "cases/removals.parquet"} <= listed
    for path in out.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert secret not in data and secret.hex().encode() not in data


def test_the_codebook_counts_values_and_missing_values(tmp_path: Path) -> None:
    release = write_case_tables(tmp_path, "r1", _raw(), chain_head=HEAD)
    book = json.loads((tmp_path / "codebook.json").read_text())
    assert [table["table"] for table in book["tables"]] == [spec.name for spec in TABLES]
    encounters = book["tables"][0]
    rows = release.tables["encounters"].rows
    assert encounters["rows"] == len(rows)
    fields = {entry["field"]: entry for entry in encounters["fields"]}
    assert "values" not in fields["person_uid"]
    for name, entry in fields.items():
        assert entry["missing"] == sum(row[name] is None for row in rows)
        if name != "person_uid":
            assert sum(v["count"] for v in entry["values"]) + entry["missing"] == len(rows)
            assert all(v["count"] >= 11 for v in entry["values"])
    markdown = (tmp_path / "codebook.md").read_text()
    assert "## encounters" in markdown and "| `ident_match` | bool |" in markdown


def test_the_secret_is_kept_only_outside_the_release_and_private(tmp_path: Path) -> None:
    out = tmp_path / "release"
    kept = tmp_path / "keys" / "r1.secret.key"
    release = write_case_tables(out, "r1", _raw(), chain_head=HEAD, secret_file=kept)
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    secret = bytes.fromhex(kept.read_text().strip())
    uid = person_uid(secret, "FBI0000000")
    assert uid in {row["person_uid"] for row in release.tables["arrests"].rows}
    with pytest.raises(ValueError, match="inside the release folder"):
        write_case_tables(out, "r1", _raw(), chain_head=HEAD, secret_file=out / "s.key")


def test_rows_are_in_the_order_of_what_they_publish_not_of_events(tmp_path: Path) -> None:
    """Bookings in time order, the months withheld: the published order is by the values
    shown (then the identifier), so a row's place tells nothing of its date."""
    raw = {
        "removals": [
            {
                "person_key": f"FBI{i:07d}",
                "fiscal_year": 2011,
                "month": f"2011-{1 + i % 12:02d}",
                "state": "CA",
                "area": "LOS",
                "criminality_level": "3",
                "track": "hearing",
            }
            for i in range(30)
        ]
    }
    release = write_case_tables(tmp_path, "r1", raw, chain_head=HEAD, secret=b"s" * 32)
    rows = release.tables["removals"].rows
    assert {row["month"] for row in rows} == {None}
    uids = [str(row["person_uid"]) for row in rows]
    assert uids == sorted(uids)
    assert uids != [person_uid(b"s" * 32, row["person_key"]) for row in raw["removals"]]


def test_a_table_published_empty_does_not_tell_none_from_fewer_than_k(tmp_path: Path) -> None:
    """A table of 1 to 10 rows is published empty, and its manifest entry, codebook entry
    and row count are those of a table that had no row at all."""
    few = _raw()
    few["arrests"] = few["arrests"][:4]
    assert 0 < len(few["arrests"]) < 11
    none = _raw()
    none["arrests"] = []
    one = write_case_tables(tmp_path / "few", "r", few, chain_head=HEAD, secret=b"s" * 32)
    two = write_case_tables(tmp_path / "none", "r", none, chain_head=HEAD, secret=b"s" * 32)
    for key in ("rules", "row_counts"):
        assert (
            one.manifest[key]["cases" if key == "rules" else "cases/arrests"]
            == (two.manifest[key]["cases" if key == "rules" else "cases/arrests"])
        )
    books = [json.loads((tmp_path / n / "codebook.json").read_text()) for n in ("few", "none")]
    arrests = [next(t for t in b["tables"] if t["table"] == "arrests") for b in books]
    assert arrests[0] == arrests[1]
