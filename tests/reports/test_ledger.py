"""The ledger read from hand-made audit entries: what it keeps of each case, detainer and
switch, the base counts of the measures, the layout, and the chain head it recomputes."""

from __future__ import annotations

from datetime import timedelta

from audit_story import CA, T0, TX, story
from sqlalchemy.orm import Session

from scomm.audit import chain
from scomm.bus.memory import database_entries
from scomm.reports.cells import CUMULATIVE, US, CellKey, published_cells
from scomm.reports.ledger import ChainHead, Ledger, chain_head
from scomm.reports.measures import (
    ATOMS,
    MEASURES,
    base_counts,
    jurisdiction_table,
    layout_of,
)
from scomm.store.db import Database
from scomm.store.models import AuditHeadRow


def test_the_ledger_keeps_what_happened_to_each_case() -> None:
    ledger = Ledger.of_entries(story().entries, {CA: "Alder County"})
    a, b, c = ledger.cases["a"], ledger.cases["b"], ledger.cases["c"]
    assert (a.ori, a.booked_at, a.charges, a.person_key) == (CA, T0, ("ROBBERY",), "ID-a")
    assert a.determination is not None and a.determination.status_unresolved
    assert a.citizenship_record == "naturalization" and a.criminal_identified is True
    (held,) = a.detainers
    assert (held.answer, held.outcome, held.lodged_at) == (
        "honoured",
        "transferred",
        T0 + timedelta(days=1),
    )
    assert held.hold_deadline == T0 + timedelta(days=5) and a.held_past_legal_end()
    assert (
        a.disposition == "dismissed" and a.removal_level == 0 and a.custody == "transferred_to_ice"
    )
    assert b.ident == "not_forwarded" and b.forwarded_at is None
    assert b.unclassified_literals == ("WALKING A LLAMA",) and b.criminal_identified is False
    # the jail's "declined" answered a detainer already withdrawn: no answer to one in force
    assert (c.detainers[0].answer, c.detainers[0].outcome) == ("", "withdrawn")
    assert c.determination is None and c.ident == "match"
    assert ledger.cases["d"].detainers[0].outcome == "declined"
    assert ledger.entries == len(story().entries)
    # activation: the first enabled switch B of the federal government (the state's is
    # not honoured); a jurisdiction's name only where one was given
    assert jurisdiction_table(ledger) == [
        {"ori": CA, "name": "Alder County", "state": "CA", "activated": "2009-05-26"},
        {"ori": TX, "name": TX, "state": "TX", "activated": "2010-01-05"},
    ]
    assert [(s.ori, s.switch, s.owner) for s in ledger.switch_changes][2] == (
        TX,
        "C",
        "jurisdiction",
    )


def test_base_counts_date_each_event_and_place_it_in_its_booking_jurisdiction() -> None:
    base = base_counts(Ledger.of_entries(story().entries))
    assert set(atom for atom, _, _ in base) <= set(ATOMS)
    assert base == {
        ("submission", CA, "2010-03"): 4,  # a, d, e, f
        ("submission", TX, "2010-04"): 1,  # c: forwarded on 1 April
        ("ident_match_l1", CA, "2010-03"): 1,
        ("ident_match_l2", CA, "2010-03"): 1,
        ("ident_match_l3", CA, "2010-03"): 1,
        ("ident_match_unleveled", TX, "2010-04"): 1,
        ("citizen_matched", CA, "2010-03"): 1,
        ("citizen_status_unresolved", CA, "2010-03"): 1,
        # detainers and the answers to them count in the month they were lodged
        ("detainer_honoured", CA, "2010-03"): 2,
        ("detainer_expired", CA, "2010-05"): 1,  # the hold's deadline
        ("hold_past_legal_end", CA, "2010-06"): 1,  # when custody ended
        ("citizen_detained", CA, "2010-03"): 1,
        ("detainer_charges_failed", CA, "2010-03"): 1,
        ("detainer_declined", CA, "2010-03"): 1,
        ("detainer_unanswered", TX, "2010-04"): 1,
        ("detainer_withdrawn", TX, "2010-04"): 1,
        ("ice_arrest", CA, "2010-04"): 1,
        ("citizen_transferred", CA, "2010-04"): 1,
        ("hold_past_legal_end", CA, "2010-04"): 1,
        ("removal_noncriminal", CA, "2010-05"): 1,
        ("booking_unclassified_literal", TX, "2010-03"): 1,
        # switch changes: the month they take effect, in the ORI they name, by their party
        ("switch_change_federal", CA, "2009-05"): 1,
        ("switch_change_federal", TX, "2010-01"): 1,
        ("switch_change_jurisdiction", TX, "2010-11"): 1,
        ("switch_change_state", CA, "2008-01"): 1,
    }


def test_the_layout_spans_the_first_to_the_last_event_month() -> None:
    ledger = Ledger.of_entries(story().entries)
    base = base_counts(ledger)
    layout = layout_of(ledger, base)
    assert (layout.months[0], layout.months[-1], len(layout.months)) == ("2008-01", "2010-11", 35)
    assert dict(layout.jurisdictions) == {CA: "CA", TX: "TX"}
    assert layout.measures == MEASURES and {m.group for m in MEASURES} == {
        "ice_monthly",
        "never_published",
    }
    assert {a for m in MEASURES for a in m.atoms} == set(ATOMS)  # every atom is published
    cells = published_cells(base, layout)
    nation = {m.name: cells[CellKey(m.name, US, CUMULATIVE)] for m in MEASURES}
    assert nation["ident_matches"] == 4 and nation["ident_matches_no_level"] == 1
    assert nation["detainers_lodged"] == 4  # = declined + honoured + unanswered
    assert nation["holds_past_legal_end"] == 2 and nation["detainers_expired"] == 1
    assert nation["ice_arrests"] == nation["detainers_transferred"] == 1
    assert nation["removals"] == nation["removals_noncriminal"] == 1
    assert nation["switch_changes"] == 4 and nation["switch_changes_operator"] == 0
    assert layout_of(Ledger.of_entries([])).months == ()


def test_the_chain_head_of_entries_is_the_head_the_database_records(both_databases: str) -> None:
    db = Database(both_databases)
    db.migrate()
    log = story()
    with Session(db.engine) as session:
        for e in log.entries:  # payloads through JSON, as the database keeps them
            chain.append(session, recorded_at=e.recorded_at, kind=e.kind, name=e.name,
                         actor=e.actor, case_id=e.case_id, payload=e.payload)  # fmt: skip
        session.commit()
        head = session.get(AuditHeadRow, 1)
        assert head is not None
        stored = ChainHead(head.seq, head.entry_hash)
        assert chain_head(database_entries(session)) == stored
    assert chain_head(log.entries) == stored  # a memory run's entries: the same head
    assert chain_head([]) == ChainHead(0, chain.GENESIS_HASH)
    db.dispose()
