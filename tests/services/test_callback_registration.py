"""Callback registration: an operator allows an agency its callback hosts (the first time,
a signing secret, shown once); the agency sets its URL only on those hosts; every change is
audited (kind `agency`), never the secret."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from sqlalchemy import select

from scomm.domain.agencies import (
    BOOKING_WRITE,
    CALLBACK_WRITE,
    DECISION_READ,
    DECISION_WRITE,
    DEFAULT_SCOPES,
    IAQ_READ,
    IAR_READ,
    MATCH_READ,
    TASK_WRITE,
    AgencyKind,
)
from scomm.services import agencies, callbacks
from scomm.services.callbacks import CallbackChangeRefused
from scomm.store.db import Database
from scomm.store.models import AuditEntryRow

T0 = datetime(2026, 12, 7, 10, 0)


@pytest.fixture
def db(database_url: str) -> Database:
    database = Database(database_url)
    database.migrate()
    agencies.add_agency(
        database, T0, client_id="jail-a", kind=AgencyKind.JAIL, name="A",
        scope_value="CA0010000", serve=True,
    )  # fmt: skip
    return database


def agency_entries(db: Database) -> list[tuple[str, str, dict[str, object]]]:
    with db.sessions() as session:
        rows = session.scalars(select(AuditEntryRow).where(AuditEntryRow.name.like("CALLBACK%")))
        return [(r.kind, r.name, json.loads(r.payload)) for r in rows]


def test_a_jail_may_set_its_callback_and_redeliver() -> None:
    scopes = DEFAULT_SCOPES[AgencyKind.JAIL]
    assert CALLBACK_WRITE in scopes and TASK_WRITE in scopes


def test_the_operator_allows_hosts_and_the_first_registration_makes_the_secret(
    db: Database,
) -> None:
    made = callbacks.set_callback(
        db, T0, "jail-a", hosts=("Hooks.Example.",), url="https://hooks.example/scomm"
    )
    assert len(made.new_secret) >= 40
    kept = callbacks.registration(db, "jail-a")
    assert kept is not None and kept.secret == made.new_secret
    assert kept.allowed_hosts == ("hooks.example",) and kept.url == "https://hooks.example/scomm"
    assert made.new_secret not in repr(kept)
    again = callbacks.set_callback(db, T0, "jail-a", hosts=("hooks.example", "b.example"))
    assert again.new_secret == "" and again.registration.secret == made.new_secret
    assert again.registration.url == "https://hooks.example/scomm"  # kept: still allowed
    rotated = callbacks.set_callback(db, T0, "jail-a", hosts=("b.example",), new_secret=True)
    assert rotated.new_secret not in ("", made.new_secret)
    assert rotated.registration.url is None  # its host is no longer allowed: dropped
    entries = agency_entries(db)
    assert [(k, n) for k, n, _ in entries] == [("agency", "CALLBACK_SET")] * 3
    assert [p["secret"] for _, _, p in entries] == ["new", "kept", "new"]
    assert made.new_secret not in json.dumps(entries)
    assert rotated.new_secret not in json.dumps(entries)


def test_the_agency_sets_its_url_only_on_an_allowed_host(db: Database) -> None:
    with pytest.raises(CallbackChangeRefused, match="no callback host is allowed"):
        callbacks.set_own_url(db, T0, "jail-a", "https://hooks.example/x")
    first = callbacks.set_callback(db, T0, "jail-a", hosts=("hooks.example",))
    for url in ("https://evil.example/x", "ftp://hooks.example/x", "https://u:p@hooks.example/"):
        with pytest.raises(CallbackChangeRefused):
            callbacks.set_own_url(db, T0, "jail-a", url)
    made = callbacks.set_own_url(db, T0, "jail-a", "https://hooks.example/x")
    assert made.new_secret == "" and made.registration.url == "https://hooks.example/x"
    rotated = callbacks.set_own_url(db, T0, "jail-a", None, new_secret=True)
    assert rotated.registration.url is None
    assert rotated.new_secret not in ("", first.new_secret)
    names = [(n, p["url"]) for _, n, p in agency_entries(db)]
    assert names[1:] == [
        ("CALLBACK_URL_SET", "https://hooks.example/x"),
        ("CALLBACK_URL_SET", None),
    ]


def test_an_operator_cannot_register_for_an_unknown_agency_or_a_bad_host(db: Database) -> None:
    with pytest.raises(CallbackChangeRefused, match="no agency"):
        callbacks.set_callback(db, T0, "nobody", hosts=("hooks.example",))
    with pytest.raises(CallbackChangeRefused, match="not a host name"):
        callbacks.set_callback(db, T0, "jail-a", hosts=("hooks example",))
    with pytest.raises(CallbackChangeRefused, match="allow-list"):
        callbacks.set_callback(
            db, T0, "jail-a", hosts=("hooks.example",), url="https://other.example/"
        )
    assert callbacks.registration(db, "jail-a") is None


def test_the_upgrade_gives_existing_submitting_jails_the_new_scopes(database_url: str) -> None:
    from alembic import command
    from sqlalchemy import text

    from scomm.store.db import alembic_config
    from scomm.store.models import AgencyRow

    db = Database(database_url)
    with db.engine.begin() as connection:
        config = alembic_config(database_url)
        config.attributes["connection"] = connection
        command.upgrade(config, "0007")
    with db.engine.begin() as connection:
        for client_id, kind, scopes in (
            ("jail-old", "jail", "scomm.transaction.write scomm.transaction.read"),
            ("jail-readonly", "jail", "scomm.transaction.read"),
            ("bureau-old", "bureau", "scomm.transaction.read"),
            ("lesc-old", "lesc", "scomm.transaction.read scomm.task.read"),
            ("ero-old", "ero", "scomm.transaction.read scomm.task.read"),
        ):
            connection.execute(
                text(
                    "INSERT INTO agencies (client_id, kind, name, scopes, secret_hash,"
                    " created_at, failed_attempts) VALUES (:c, :k, :c, :s, 'x', :at, 0)"
                ),
                {"c": client_id, "k": kind, "s": scopes, "at": T0},
            )
    db.migrate()
    with db.sessions() as session:
        scopes = {r.client_id: r.scopes.split() for r in session.scalars(select(AgencyRow))}
    assert {CALLBACK_WRITE, TASK_WRITE, BOOKING_WRITE} <= set(scopes["jail-old"])
    assert {IAQ_READ, IAR_READ} <= set(scopes["lesc-old"])
    assert {MATCH_READ, DECISION_READ, DECISION_WRITE} <= set(scopes["ero-old"])
    assert scopes["jail-readonly"] == ["scomm.transaction.read"]
    assert scopes["bureau-old"] == ["scomm.transaction.read"]
    db.dispose()
