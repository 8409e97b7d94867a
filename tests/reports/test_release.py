"""A statistics release written from a memory run's entries: every file of statistics/, the
tables as views of cells.json, no small count shown, and the chain head it names."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq
from audit_story import CA, story

from scomm.reports.cells import CellKey, Layout
from scomm.reports.ledger import Ledger, chain_head
from scomm.reports.measures import base_counts
from scomm.reports.release import statistics_of_entries


def test_the_release_writes_every_table_as_views_of_its_cells(tmp_path: Path) -> None:
    entries = story().entries
    made = statistics_of_entries(entries, tmp_path, "test-1", names={CA: "Alder County"})
    folder = tmp_path / "statistics"
    assert sorted(p.name for p in folder.iterdir()) == [
        "cells.json",
        "ice_monthly.csv",
        "ice_monthly.parquet",
        "jurisdictions.csv",
        "never_published.csv",
        "never_published.parquet",
        "release.json",
    ]
    described = json.loads((folder / "release.json").read_text())
    head = chain_head(entries)
    assert described["chain_head"] == {"seq": head.seq, "entry_hash": head.entry_hash}
    assert described["release"] == "test-1"
    assert described["window"] == {"first": "2008-01", "last": "2010-11"}
    assert "complementary suppression" in described["disclosure"]

    cells = json.loads((folder / "cells.json").read_text())
    layout = made.layout
    assert len(cells) == len(list(layout.keys()))
    by_key = {(c["measure"], c["geo"], c["period"]): c for c in cells}
    for cell in cells:  # nothing of 1 to 10 shown; what is hidden is null
        if cell["status"] == "shown":
            assert cell["value"] == 0 or cell["value"] > 10
        else:
            assert cell["status"] == "suppressed" and cell["value"] is None
            assert made.cells[CellKey(cell["measure"], cell["geo"], cell["period"])] >= 1
    exact = made.cells[CellKey("submissions", CA, "2010-03")]
    assert exact == 4 and by_key["submissions", CA, "2010-03"]["value"] is None

    for group in ("ice_monthly", "never_published"):
        _check_table(folder, group, layout, by_key)
    with (folder / "jurisdictions.csv").open() as handle:
        roster = list(csv.DictReader(handle))
    assert roster[0] == {
        "ori": CA,
        "name": "Alder County",
        "state": "CA",
        "activated": "2009-05-26",
    }


def _check_table(folder: Path, group: str, layout: Layout, by_key: dict) -> None:
    measures = [m.name for m in layout.measures if m.group == group]
    with (folder / f"{group}.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    parquet = pq.read_table(folder / f"{group}.parquet").to_pylist()
    assert len(rows) == len(parquet) == len(layout.geos()) * len(layout.periods())
    for row, prow in zip(rows, parquet, strict=True):
        assert row["geo"] == prow["geo"] and row["period"] == prow["period"]
        for name in measures:
            value = by_key[name, row["geo"], row["period"]]["value"]
            assert prow[name] == value
            assert row[name] == ("" if value is None else str(value))
    levels = {(r["geo"], r["geo_level"]) for r in rows}
    assert (
        ("US", "nation") in levels and ("CA", "state") in levels and (CA, "jurisdiction") in levels
    )
    assert {r["period_kind"] for r in rows} == {"month", "fiscal_year", "cumulative"}


@dataclass
class Rounded:
    """A stand-in for `scomm.reports.disclosure.Protected`: values, status, rule."""

    values: dict[CellKey, int | None]
    status: dict[CellKey, str]
    rule: str = "every count times ten"


def test_the_protector_decides_what_is_published(tmp_path: Path) -> None:
    """Whatever protects the cells (disclosure's `protect`, with its rule) gets the exact
    cells, the layout and the base counts, and its values and statuses are what is written."""
    seen: dict[str, object] = {}

    def protect(cells: dict[CellKey, int], layout: Layout, base: dict) -> Rounded:
        seen["base"] = base
        values: dict[CellKey, int | None] = {k: 10 * v for k, v in cells.items()}
        return Rounded(values, dict.fromkeys(cells, "rounded"))

    made = statistics_of_entries(story().entries, tmp_path, "r", protect=protect)
    assert seen["base"] == base_counts(Ledger.of_entries(story().entries))
    cells = json.loads((tmp_path / "statistics" / "cells.json").read_text())
    assert {c["status"] for c in cells} == {"rounded"}
    submissions = [c for c in cells if (c["measure"], c["geo"]) == ("submissions", "US")]
    assert submissions[-1] == {
        "measure": "submissions",
        "geo": "US",
        "period": "cumulative",
        "value": 50,  # 5 forwarded, as the protector has it
        "status": "rounded",
    }
    assert made.rule == "every count times ten"
    described = json.loads((tmp_path / "statistics" / "release.json").read_text())
    assert described["disclosure"] == "every count times ten"


def test_a_noisy_release_gets_each_persons_contribution_bounded(tmp_path: Path) -> None:
    """The privacy loss of a noisy release assumes a person adds at most `per_cell` to a
    base count and to at most `cells_per_person` of them: the protector gets base counts
    bounded so, not the raw ones (a person booked three times in a month adds 1)."""
    from datetime import datetime

    from scomm.reports.ledger import CaseFacts, JurisdictionFacts
    from scomm.reports.measures import bounded_base_counts

    ledger = Ledger()
    ledger.jurisdictions["CA0010000"] = JurisdictionFacts("CA0010000", "CA", "Alder")
    for i in range(3):  # one person (one FBI number), three bookings in March
        at = datetime(2010, 3, 1 + i)
        ledger.cases[f"c{i}"] = CaseFacts(
            f"c{i}", "CA0010000", at, f"T{i}", fbi_number="FBI-1", forwarded_at=at,
            ident="no_match", unclassified_literals=("XYZ",), unclassified_at=at,
        )  # fmt: skip
    ledger.cases["other"] = CaseFacts(
        "other", "CA0010000", datetime(2010, 3, 9), "T9", fbi_number="FBI-2",
        forwarded_at=datetime(2010, 3, 9),
    )  # fmt: skip
    raw = base_counts(ledger)
    assert raw[("submission", "CA0010000", "2010-03")] == 4
    bounded = bounded_base_counts(ledger, cells_per_person=1, per_cell=1)
    assert bounded[("submission", "CA0010000", "2010-03")] == 2  # one from each person
    assert ("booking_unclassified_literal", "CA0010000", "2010-03") not in bounded
    assert bounded_base_counts(ledger, 2, 2)[("submission", "CA0010000", "2010-03")] == 3

    seen: dict[str, object] = {}

    def protect(cells: dict[CellKey, int], layout: Layout, base: dict) -> Rounded:
        seen["base"] = base
        return Rounded(dict(cells), dict.fromkeys(cells, "noisy"))

    from scomm.reports.release import build_statistics

    head = chain_head([])
    build_statistics(ledger, head, tmp_path, "n", protect=protect, bound=(1, 1))
    assert seen["base"] == bounded
    build_statistics(ledger, head, tmp_path / "exact", "e", protect=protect)
    assert seen["base"] == raw
