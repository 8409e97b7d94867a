"""The killed-writer attack: a writer killed with SIGKILL never signs its "closed" line, and
before writer locks its id stayed open in the checkpoint log for good, so everything forged
after it passed as "not yet anchored" (exit 0), even after later honest runs had closed.

A real process holds an `Anchor` open and is killed with SIGKILL; the database's owner then
appends a well-formed entry; an honest writer starts later, finds the dead writer's lock
free and signs it off ("abandoned"), appends and closes. The auditor's `audit verify
--checkpoint` names the forged entry's range as an unanchored gap (exit 1 with --strict),
and an entry forged after the honest run closed as a forgery (exit 1). On SQLite, and on
PostgreSQL when CI names a server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner, Result

from scomm.audit.chain import append
from scomm.audit.checkpoints import (
    ABANDONED,
    OPEN,
    Anchor,
    generate_keys,
    load_private_key,
    read_log,
)
from scomm.cli import app
from scomm.store.db import Database

POSTGRES_ENV = "SCOMM_TEST_POSTGRES_URL"
runner = CliRunner()

# a writer that opens, appends six entries (a checkpoint every 4), says so, then waits to die
WRITER = """
import sys, time
from datetime import datetime
from pathlib import Path
from scomm.audit.chain import append
from scomm.audit.checkpoints import Anchor, load_private_key
from scomm.store.db import Database
db = Database(sys.argv[1])
anchor = Anchor(db, load_private_key(Path(sys.argv[2])), Path(sys.argv[3]), 4)
anchor.begin()
for i in range(1, 7):
    with db.sessions() as session:
        append(session, recorded_at=datetime(2010, 1, 1, 0, 0, i), kind="outcome",
               name="IDR_NO_MATCH", actor="ident", case_id=f"case-{i}", payload={"n": i})
        session.commit()
    anchor.tick()
print(anchor.writer, flush=True)
time.sleep(300)
"""


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        chosen = f"sqlite:///{tmp_path / 'scomm.db'}"
    else:
        chosen = os.environ.get(POSTGRES_ENV, "")
        if not chosen:
            pytest.skip(f"{POSTGRES_ENV} not set (CI runs these against a server)")
        reset = Database(chosen)
        with reset.engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        reset.dispose()
    db = Database(chosen)
    db.migrate()
    db.dispose()
    yield chosen


def append_as_owner(db: Database, seq: int, name: str = "IDR_MATCH") -> None:
    """A well-formed entry appended by the database's owner, no writer running."""
    with db.sessions() as session:
        append(
            session,
            recorded_at=datetime(2010, 1, 2, 0, 0, seq),
            kind="outcome",
            name=name,
            actor="ident",
            case_id=f"forged-{seq}",
            payload={"forged": seq},
        )
        session.commit()


def said(result: Result) -> str:
    """What a command printed, its lines wrapped by the console joined again."""
    return " ".join(result.output.split())


def verify(url: str, log: Path, public: Path, *extra: str) -> Result:
    args = ["audit", "verify", "--checkpoint", str(log), "--public-key", str(public)]
    env = {"COLUMNS": "400", "SCOMM_AUDIT_KEY": None, "SCOMM_CHECKPOINT_LOG": None}
    result = runner.invoke(app, [*args, *extra, "--database", url], env=env)
    assert "Traceback" not in result.output, result.output
    return result


def test_a_writer_killed_with_sigkill_lets_no_forgery_through(url: str, tmp_path: Path) -> None:
    private, public = generate_keys(tmp_path / "keys")
    log = tmp_path / "checkpoints.jsonl"
    process = subprocess.Popen(
        [sys.executable, "-c", WRITER, url, str(private), str(log)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        dead = process.stdout.readline().strip()
        assert dead, "the writer did not start"
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert [(c.state, c.seq) for c in read_log(log)] == [(OPEN, 0), (OPEN, 4)]
    db = Database(url)
    try:
        append_as_owner(db, 7)  # forged after the kill
        waiting = verify(url, log, public)  # nobody has started since: not yet anchored
        assert waiting.exit_code == 0, waiting.output
        assert f"writers open: {dead} (last checkpoint: entry 4)" in said(waiting)

        honest = Anchor(db, load_private_key(private), log, 4)  # a later, honest run
        honest.begin()
        assert [(c.state, c.writer, c.seq) for c in read_log(log)][-2] == (ABANDONED, dead, 7)
        for seq in (8, 9):
            append_as_owner(db, seq, "IDR_NO_MATCH")
        honest.close()

        plain = verify(url, log, public)
        assert plain.exit_code == 0, plain.output
        assert f"unanchored gap: entries 5-7 (writer {dead} stopped" in said(plain)
        strict = verify(url, log, public, "--strict")
        assert strict.exit_code == 1, strict.output

        append_as_owner(db, 10)  # forged after the honest run closed
        forged = verify(url, log, public)
        assert forged.exit_code == 1, forged.output
        assert "at entry 10: entry 10 was appended after the run closed at entry 9" in said(forged)
    finally:
        db.dispose()
