"""The statistics from the audit log alone equal the counts from the actors' own tables, on
one finished demo run (the session's `demo_run`): every measure both can count, per
jurisdiction and month where the tables keep the event's date, per jurisdiction where they
keep only how it ended; and the measures the tables cannot count are named."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from scomm.audit.chain import consistent_snapshot
from scomm.bus.memory import database_entries
from scomm.reports.actor_counts import UNCOUNTABLE, UNDATED, ActorCounts, count_tables
from scomm.reports.cells import CUMULATIVE, CellKey, Layout, published_cells
from scomm.reports.ledger import ChainHead, Ledger, chain_head
from scomm.reports.measures import MEASURES, base_counts, layout_of
from scomm.store.db import Database
from scomm.store.models import AuditHeadRow

# the measures the actors' tables hold no trace of (why: actor_counts.UNCOUNTABLE)
NOT_IN_THE_TABLES = {
    "removals_l1",
    "removals_l2",
    "removals_l3",
    "removals_noncriminal",
    "holds_past_legal_end",
    "detainers_on_dismissed_charges",
}
# the measures the tables count only per jurisdiction: they keep no date of the event
UNDATED_IN_THE_TABLES = {"ice_arrests", "detainers_transferred", "removals", "citizens_transferred"}


class Counted:
    def __init__(self, ledger: Ledger, tables: ActorCounts, head: ChainHead, stored: Any) -> None:
        self.ledger = ledger
        self.tables = tables
        self.head = head
        self.stored = stored
        self.base = base_counts(ledger)
        self.layout: Layout = layout_of(ledger, self.base)
        self.cells = published_cells(self.base, self.layout)
        self.table_cells = published_cells(tables.dated, self.layout)


@pytest.fixture(scope="module")
def counted(demo_run: tuple[dict[str, Any], Path]) -> Counted:
    db = Database(f"sqlite:///{demo_run[1] / 'scomm.db'}")
    with consistent_snapshot(db) as session:
        ledger = Ledger.read(session)
        tables = count_tables(session)
        head = chain_head(database_entries(session))
        row = session.get(AuditHeadRow, 1)
        stored = None if row is None else ChainHead(row.seq, row.entry_hash)
    db.dispose()
    return Counted(ledger, tables, head, stored)


def dated_measures() -> list[str]:
    return [
        m.name
        for m in MEASURES
        if m.name not in NOT_IN_THE_TABLES and m.name not in UNDATED_IN_THE_TABLES
    ]


def test_every_measure_is_counted_by_both_or_named() -> None:
    assert set(UNCOUNTABLE) == NOT_IN_THE_TABLES
    assert set(UNDATED) == UNDATED_IN_THE_TABLES
    names = {m.name for m in MEASURES}
    assert NOT_IN_THE_TABLES | UNDATED_IN_THE_TABLES < names


def test_dated_measures_are_equal_per_jurisdiction_and_month(counted: Counted) -> None:
    differ = [
        (name, ori, month, counted.cells[key], counted.table_cells[key])
        for name in dated_measures()
        for ori in counted.layout.jurisdictions
        for month in counted.layout.months
        if counted.cells[key := CellKey(name, ori, month)] != counted.table_cells[key]
    ]
    assert differ == []


def test_undated_measures_are_equal_per_jurisdiction(counted: Counted) -> None:
    for name in UNDATED_IN_THE_TABLES:
        for ori in counted.layout.jurisdictions:
            from_log = counted.cells[CellKey(name, ori, CUMULATIVE)]
            assert from_log == counted.tables.undated[name, ori], (name, ori)


def test_the_run_gives_the_comparison_something_to_compare(counted: Counted) -> None:
    """Not a vacuous equality: the demo exercises most measures, in several places."""
    nation = {m.name: counted.cells[CellKey(m.name, "US", CUMULATIVE)] for m in MEASURES}
    for name in (
        "submissions",
        "ident_matches",
        "ident_matches_l1",
        "ident_matches_no_level",
        "ice_arrests",
        "removals",
        "detainers_lodged",
        "detainers_honoured",
        "detainers_declined",
        "detainers_expired",
        "citizens_matched",
        "unclassifiable_literals",
        "switch_changes_federal",
        "switch_changes_jurisdiction",
    ):
        assert nation[name] > 0, name
    busy = {ori for (_, ori, _) in counted.tables.dated}
    assert len(busy) >= 3


def test_the_ledger_recomputes_the_chain_head_the_database_records(counted: Counted) -> None:
    assert counted.stored is not None and counted.head == counted.stored
    assert counted.ledger.last_seq == counted.head.seq
