"""The whole flow on a small synthetic world: every hop, and the books balance."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from sqlalchemy import select

from scomm.config import Settings
from scomm.reports.ledger import Ledger
from scomm.reports.measures import base_counts
from scomm.reports.summary import summarise_entries
from scomm.sim.driver import RunSpec, run
from scomm.sim.scenario_report import RunRecord
from scomm.store.db import Database
from scomm.store.models import AuditEntryRow, CaseRow, OutboxRow

REQUIRED_MESSAGES = (
    "CAR",
    "SRE",
    "ERRT",
    "IDR_MATCH",
    "IDR_NO_MATCH",
    "IAQ",
    "IAR",
    "MATCH_NOTIFICATION",
    "DETAINER",
    "DETAINER_RESPONSE",
    "TRANSFER",
    "NTA",
    "HEARING_DUE",
    "IJ_ORDER",
    "REMOVAL_DUE",
)
REQUIRED_OUTCOMES = ("hold_honored", "hold_declined", "released", "transferred", "removed")
# where a case ends after the transfer to ICE (scomm.domain.removals)
ICE_ENDS = {"removed", "released_on_bond", "relief_granted", "terminated"}


# `demo_run` (tests/conftest.py, shared with tests/reports) runs the demo on a small world
# that still uses every hop, with re-arrests: three planned bookings' people are held by ICE
# at their time, and those bookings are not made (`driver.absent`)
SEED, BOOKINGS, POPULATION, SKIPPED = 3, 40, 25, 3


def test_every_hop_is_used(demo_run: tuple[dict, Path]) -> None:
    summary, out = demo_run
    on_disk = json.loads((out / "summary.json").read_text())
    assert on_disk["messages"] == summary["messages"]
    for name in REQUIRED_MESSAGES:
        assert summary["messages"].get(name, 0) > 0, f"no {name} in {summary['messages']}"
    for name in REQUIRED_OUTCOMES:
        assert summary["outcomes"].get(name, 0) > 0, f"no {name} in {summary['outcomes']}"
    assert summary["audit_verified"] is True
    assert "<table>" in (out / "report.html").read_text()


def test_the_books_balance(demo_run: tuple[dict, Path]) -> None:
    m, o = demo_run[0]["messages"], demo_run[0]["outcomes"]
    assert demo_run[0]["run"]["bookings_skipped_absent"] == SKIPPED
    assert m["CAR"] == BOOKINGS - SKIPPED
    assert m["SRE"] + m["ERRT"] == m["CAR"]  # every CAR answered exactly once
    assert m["IDR_MATCH"] + m["IDR_NO_MATCH"] == m["IDENT_SEARCH"]
    assert m["IAQ"] == m["IAR"] == m["IDR_MATCH"] == m["MATCH_NOTIFICATION"]
    assert m["DETAINER"] == m["DETAINER_RESPONSE"] == o["hold_honored"] + o["hold_declined"]
    assert o["released"] + o["transferred"] == m["CAR"]  # everyone leaves the jail once
    assert o.get("not_forwarded", 0) + m["IDENT_SEARCH"] + m["ERRT"] == m["CAR"]
    # after the transfer: every notice to appear heard and decided, every order carried out
    assert m["NTA"] == m["HEARING_DUE"] == m["IJ_ORDER"]
    assert o["removed"] <= m["REMOVAL_DUE"]
    assert o["removed"] + o.get("released_by_ice", 0) <= o["transferred"]
    # the statistics count each removal once, in its month, at the level its entry names
    by_month = demo_run[0]["removals"]
    assert sum(sum(levels.values()) for levels in by_month.values()) == o["removed"]
    assert all(
        level in {"level_0", "level_1", "level_2", "level_3"}
        for c in by_month.values()
        for level in c
    )


def test_every_transfer_to_ice_ends_in_removal_or_release(demo_run: tuple[dict, Path]) -> None:
    """Read from the cases: the person ICE took is removed, released on bond, granted
    relief or let go when the proceedings end; the removal's entry names its level."""
    _, out = demo_run
    db = Database(f"sqlite:///{out / 'scomm.db'}")
    with db.sessions() as session:
        ends = list(
            session.scalars(select(CaseRow.state).where(CaseRow.custody == "transferred_to_ice"))
        )
        removed = session.scalars(
            select(AuditEntryRow.payload).where(
                AuditEntryRow.kind == "case_state", AuditEntryRow.name == "removed"
            )
        ).all()
    db.dispose()
    assert ends and set(ends) <= ICE_ENDS
    assert len(removed) == ends.count("removed") > 0
    for payload in map(json.loads, removed):
        assert payload["rule_set"] == "2011-conviction-based" and payload["level"] in (0, 1, 2, 3)


def test_every_case_ends_in_a_final_state(demo_run: tuple[dict, Path]) -> None:
    _, out = demo_run
    db = Database(f"sqlite:///{out / 'scomm.db'}")
    with db.sessions() as session:
        states = set(session.scalars(select(CaseRow.state)))
        custody = set(session.scalars(select(CaseRow.custody)))
        pending = session.scalars(select(OutboxRow).where(OutboxRow.status != "delivered")).all()
    db.dispose()
    assert states <= {
        "rejected",
        "not_forwarded",
        "ident_no_match",
        "no_action",
        "detainer_lodged",
        "notification_requested",
        "state_only",
        *ICE_ENDS,
    }
    assert custody <= {"released", "transferred_to_ice"}
    assert pending == []


def test_the_repositories_search_with_no_biometric_error(demo_run: tuple[dict, Path]) -> None:
    """Ground truth: no false match and no missed match, in either repository."""
    summary, _ = demo_run
    truth = summary["ground_truth"]
    assert summary["run"]["engine"] == "skeleton-mcc-v1"
    assert truth["criminal_identifications"] > 0 and truth["ident_matches"] > 0
    for error in (
        "criminal_false_matches",
        "criminal_missed_matches",
        "ident_false_matches",
        "ident_missed_matches",
    ):
        assert truth[error] == 0, f"{error}: {truth}"


def test_the_model_run_agrees_with_the_image_run(demo_run: tuple[dict, Path]) -> None:
    """The same world in memory with the biometric model (`--biometrics model`): every case
    takes the same path as in the image-level run above, which has no biometric error
    (the model, on this world, draws none either: its FNIR for ten fingers is measured 0)."""
    summary, out = demo_run
    settings = Settings(database_url=f"sqlite:///{out / 'not-written.db'}", seed=SEED)
    spec = RunSpec.demo(SEED, BOOKINGS, population=POPULATION)
    result = run(replace(spec, biometrics="model"), settings)
    assert result.store is not None and result.biometrics["mode"] == "model"
    assert not (out / "not-written.db").exists()
    modelled = RunRecord.of_entries(result.store.audit_entries())
    db = Database(f"sqlite:///{out / 'scomm.db'}")
    with db.sessions() as session:
        imaged = RunRecord.read(session)
        imaged_counts = base_counts(Ledger.read(session))
    db.dispose()
    assert result.skipped_absent == SKIPPED
    assert len(modelled.bookings) == BOOKINGS - SKIPPED
    assert modelled.bookings == imaged.bookings
    assert modelled.states == imaged.states
    assert modelled.custody == imaged.custody
    assert modelled.ident_ids == imaged.ident_ids
    assert modelled.ident_replies == imaged.ident_replies
    assert modelled.detainers == imaged.detainers
    assert modelled.criminal_searches == imaged.criminal_searches
    counted = summarise_entries(result.store.audit_entries()).as_dict()
    for part in ("messages", "outcomes", "decisions", "final_states", "levels", "hops"):
        assert counted[part] == summary[part], part
    assert counted["per_month"] == summary["per_month"]
    # the statistics release counts the same from either run (what-if arms run in memory)
    assert base_counts(Ledger.of_entries(result.store.audit_entries())) == imaged_counts
