"""`scomm switches set/show` and `scomm ops dead-letters/replay` against a real database."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from scomm.audit.chain import verify
from scomm.bus.unit_of_work import UnitOfWork
from scomm.cli import app
from scomm.domain.clock import ScenarioClock
from scomm.domain.messages import Actor, Release
from scomm.store.db import Database
from scomm.store.models import AuditEntryRow, OutboxRow, SwitchSettingRow

runner = CliRunner()
ORI = "CA0010000"  # Alder County, the one jurisdiction of the county_db fixture (conftest)


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), env={"COLUMNS": "240"})
    return result.exit_code, result.output


def switch_set(url: str, *extra: str) -> tuple[int, str]:
    return invoke("switches", "set", "--database", url, "--ori", ORI, *extra)


def test_a_switch_change_is_recorded_and_audited_with_who_when_why(county_db: str) -> None:
    code, out = switch_set(
        county_db, "--switch", "C", "--off", "--effective", "2011-06-01",
        "--by", "jurisdiction", "--reason", "board vote: opt out of learning results",
    )  # fmt: skip
    assert code == 0, out
    assert "audited" in out
    db = Database(county_db)
    with db.sessions() as session:
        row = session.scalars(select(SwitchSettingRow)).one()
        entry = session.scalars(select(AuditEntryRow).where(AuditEntryRow.kind == "switch")).one()
        assert verify(session).ok
    db.dispose()
    assert (row.ori, row.switch, row.enabled, row.changed_by) == (ORI, "C", False, "jurisdiction")
    assert row.effective_from == datetime(2011, 6, 1) and row.effective_to is None
    assert row.reason == "board vote: opt out of learning results"
    assert (datetime.now() - row.recorded_at).total_seconds() < 3600 * 24
    assert entry.name == "SWITCH_C" and entry.actor == "jurisdiction"
    assert json.loads(entry.payload)["reason"] == row.reason


@pytest.mark.parametrize(
    ("switch", "party"),
    [("B", "jurisdiction"), ("B", "state"), ("D", "state"), ("D", "federal"), ("A", "federal")],
)
def test_a_party_that_does_not_own_the_switch_is_refused(
    county_db: str, switch: str, party: str
) -> None:
    code, out = switch_set(
        county_db, "--switch", switch, "--off", "--effective", "2011-06-01",
        "--by", party, "--reason", "try",
    )  # fmt: skip
    assert code == 2
    assert "refused" in out and "belongs to" in out and party in out
    db = Database(county_db)
    with db.sessions() as session:
        assert session.scalars(select(SwitchSettingRow)).all() == []
        assert session.scalars(select(AuditEntryRow)).all() == []
    db.dispose()


def test_unknown_ori_bad_date_and_empty_reason_are_refused(county_db: str) -> None:
    base = ["--switch", "D", "--off", "--by", "jurisdiction"]
    code, out = invoke(
        "switches", "set", "--database", county_db, "--ori", "ZZ9990000", *base,
        "--effective", "2011-01-01", "--reason", "x",
    )  # fmt: skip
    assert code == 2 and "no jurisdiction" in out
    code, out = switch_set(county_db, *base, "--effective", "June 2011", "--reason", "x")
    assert code == 2 and "not a date" in out
    code, out = switch_set(county_db, *base, "--effective", "2011-01-01", "--reason", "  ")
    assert code == 2 and "--reason" in out
    code, out = switch_set(
        county_db, *base, "--effective", "2011-01-01", "--until", "2010-01-01", "--reason", "x"
    )
    assert code == 2 and "end after it starts" in out


def test_show_gives_the_settings_in_force_at_a_date_and_the_history(county_db: str) -> None:
    assert switch_set(
        county_db, "--switch", "B", "--on", "--effective", "2010-03-01",
        "--by", "federal", "--reason", "activated",
    )[0] == 0  # fmt: skip
    assert switch_set(
        county_db, "--switch", "D", "--off", "--effective", "2011-06-01",
        "--until", "2012-01-01", "--by", "jurisdiction", "--reason", "ordinance",
    )[0] == 0  # fmt: skip

    def row_of(at: str) -> list[str]:
        code, out = invoke("switches", "show", "--database", county_db, "--ori", ORI, "--at", at)
        assert code == 0, out
        line = next(line for line in out.splitlines() if ORI in line)
        return [cell.strip() for cell in line.split("│")[2:6]]

    assert row_of("2010-01-01") == ["on", "off", "on", "on"]
    assert row_of("2010-06-01") == ["on", "on", "on", "on"]
    assert row_of("2011-07-01") == ["on", "on", "on", "off"]
    assert row_of("2012-02-01") == ["on", "on", "on", "on"]
    code, out = invoke("switches", "show", "--database", county_db)
    assert code == 0
    assert "ordinance" in out and "activated" in out and "federal" in out


def make_dead_letters(url: str) -> list[int]:
    db = Database(url)
    clock = ScenarioClock(datetime(2010, 1, 1))
    with UnitOfWork(db, clock, cause="seed") as uow:
        for i in range(2):
            uow.emit(
                Release(
                    message_id=f"m{i}",
                    case_id=f"case-{i}",
                    tcn=f"t{i}",
                    sender=Actor.LEA,
                    recipient=Actor.ERO,
                    reason="test",
                )
            )
        uow.commit()
    with db.sessions() as session, session.begin():
        rows = session.scalars(select(OutboxRow).order_by(OutboxRow.seq)).all()
        for row in rows:
            row.status, row.attempts, row.last_error = "dead", 5, "RuntimeError: ERO unavailable"
        seqs = [row.seq for row in rows]
    db.dispose()
    return seqs


def test_dead_letters_are_listed_and_replayed_with_an_audit_entry(county_db: str) -> None:
    code, out = invoke("ops", "dead-letters", "--database", county_db)
    assert code == 0 and "no dead letters" in out
    first, second = make_dead_letters(county_db)
    code, out = invoke("ops", "dead-letters", "--database", county_db)
    assert code == 0, out
    assert "2 dead letter(s)" in out
    assert "RELEASE" in out and "case-0" in out and "ERO unavailable" in out and " 5 " in out

    code, out = invoke("ops", "replay", "--database", county_db)
    assert code == 2 and "--all" in out
    code, out = invoke("ops", "replay", "12345", "--database", county_db)
    assert code == 1 and "no dead letter" in out
    code, out = invoke(
        "ops", "replay", str(first), "--reason", "ERO back online", "--database", county_db
    )
    assert code == 0, out
    db = Database(county_db)
    with db.sessions() as session:
        status = dict(session.execute(select(OutboxRow.seq, OutboxRow.status)).all())
        replays = session.scalars(
            select(AuditEntryRow).where(AuditEntryRow.name == "DEAD_LETTER_REPLAYED")
        ).all()
    assert status == {first: "pending", second: "dead"}
    assert [json.loads(r.payload)["reason"] for r in replays] == ["ERO back online"]
    assert replays[0].case_id == "case-0" and replays[0].actor == "operator"

    code, out = invoke("ops", "replay", "--all", "--database", county_db)
    assert code == 0 and "1 message(s) back" in out
    with db.sessions() as session:
        assert set(session.scalars(select(OutboxRow.status))) == {"pending"}
        assert verify(session).ok
    db.dispose()


def test_a_tampered_outbox_row_shows_as_an_alarm_and_a_dead_letter(county_db: str) -> None:
    from scomm.bus.dispatcher import Dispatcher

    code, out = invoke("ops", "alarms", "--database", county_db)
    assert code == 0 and "no alarms" in out
    db = Database(county_db)
    clock = ScenarioClock(datetime(2011, 1, 1))
    with UnitOfWork(db, clock, cause="seed") as uow:
        uow.emit(
            Release(
                message_id="m[/bold]",  # stored text, printed as it is
                case_id="case-0",
                tcn="t0",
                sender=Actor.LEA,
                recipient=Actor.ERO,
                reason="test",
            )
        )
        uow.commit()
    with db.sessions() as session, session.begin():
        row = session.scalars(select(OutboxRow)).one()
        row.payload = row.payload.replace('"test"', '"forged"')
        seq, audit_seq = row.seq, row.audit_seq

    class Never:
        def handle(self, message: object, uow: object) -> None:
            raise AssertionError("a tampered message was handled")

    Dispatcher(db, clock, {Actor.ERO: Never()}).run_due()
    db.dispose()
    code, out = invoke("ops", "alarms", "--database", county_db)
    assert code == 0, out
    assert "1 alarm(s)" in out and "OUTBOX_TAMPERED" in out and "m[/bold]" in out
    assert f"payload differs from audit entry {audit_seq}" in out
    code, out = invoke("ops", "dead-letters", "--database", county_db)
    assert code == 0, out
    assert f"outbox {seq}: payload differs from audit entry {audit_seq}" in out
