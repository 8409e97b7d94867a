"""`scomm ops dead-letters | alarms | replay | run-world`: operations on the message bus, its
alarms and its runs."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table
from sqlalchemy.engine import make_url

from scomm.audit import alarms
from scomm.bus import dead_letters
from scomm.bus.unit_of_work import UnitOfWork
from scomm.cli.console import console
from scomm.cli.database import open_database
from scomm.cli.errors import BadInput
from scomm.cli.options import (
    MAX_COUNT,
    Compression,
    DatabaseUrl,
    Progress,
    RunDatabaseUrl,
    RunEngine,
    Seed,
)
from scomm.domain.clock import SystemClock

ops_app = typer.Typer(
    help="Operations: dead letters and their replay, alarms, resumable runs.",
    no_args_is_help=True,
)
MAX_SEQ = 2**63 - 1  # the outbox's seq is a 64-bit integer


@ops_app.command("dead-letters")
def ops_dead_letters(database: DatabaseUrl = None) -> None:
    """List the messages the dispatcher gave up on: type, case, attempts, last error."""
    with open_database(database) as db, db.sessions() as session:  # reads only
        rows = dead_letters.dead_letters(session)
    if not rows:
        console.print("no dead letters")
        return
    table = Table(title=f"{len(rows)} dead letter(s)")
    for column in ("seq", "message id", "type", "to", "case", "attempts", "due", "last error"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(
            str(row.seq),
            escape(row.message_id),
            escape(row.type),
            escape(row.recipient),
            escape(row.case_id),
            str(row.attempts),
            f"{row.available_at:%Y-%m-%d %H:%M}",
            escape(row.last_error or ""),
        )
    console.print(table)


@ops_app.command("alarms")
def ops_alarms(database: DatabaseUrl = None) -> None:
    """List the alarms in the audit log (an outbox payload that differs from its audit entry,
    ...): seq, when, alarm, raised by, case, and each detail on a line of its own."""
    with open_database(database) as db, db.sessions() as session:  # reads only
        rows = alarms.alarms(session)
    if not rows:
        console.print("no alarms")
        return
    console.print(f"{len(rows)} alarm(s)")
    for row in rows:
        console.print(
            f"entry {row.seq} {row.recorded_at:%Y-%m-%d %H:%M:%S} {escape(row.name)} "
            f"by {escape(row.actor)}" + (f", case {escape(row.case_id)}" if row.case_id else ""),
            soft_wrap=True,
        )
        for key, value in _details(row.payload).items():
            shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
            console.print(f"  {escape(key)}: {escape(shown)}", soft_wrap=True)


def _details(payload: str) -> dict[str, object]:
    """An alarm's payload as key: value (whatever else it is, as one "details" value)."""
    try:
        value = json.loads(payload)
    except ValueError:
        value = payload
    return value if isinstance(value, dict) else {"details": value}


@ops_app.command("replay")
def ops_replay(
    ref: Annotated[
        str | None, typer.Argument(help="A dead letter's seq or message id.", show_default=False)
    ] = None,
    replay_all: Annotated[bool, typer.Option("--all", help="Replay every dead letter.")] = False,
    reason: Annotated[
        str, typer.Option("--reason", help="Why (kept in the audit log).")
    ] = "replayed by an operator",
    database: DatabaseUrl = None,
) -> None:
    """Put dead letters back for delivery (audited); the next run delivers them."""
    if (ref is None) == (not replay_all):
        raise BadInput("name one dead letter (seq or message id) or pass --all")
    if ref is not None and ref.isdigit() and not (ref.isascii() and int(ref) <= MAX_SEQ):
        # digits that are no outbox seq ("²", or beyond 64 bits) name no dead letter either
        raise dead_letters.NothingToReplay(f"no dead letter with seq or message id {ref!r}")
    with open_database(database, migrate=True) as db, UnitOfWork(db, SystemClock()) as uow:
        rows = dead_letters.replay(uow, ref, reason=reason)
        uow.commit()
    if not rows:
        console.print("no dead letters")
        return
    for row in rows:
        console.print(
            f"replaying {row.seq} {escape(row.type)} -> {escape(row.recipient)} "
            f"(case {escape(row.case_id)})"
        )
    console.print(f"{len(rows)} message(s) back in the outbox, pending")


@ops_app.command("run-world")
def ops_run_world(
    database: RunDatabaseUrl,
    seed: Seed = 1,
    bookings: Annotated[int, typer.Option(min=1, max=MAX_COUNT, help="How many bookings.")] = 200,
    population: Annotated[
        int | None, typer.Option(min=1, max=MAX_COUNT, help="People in the world (default: 2x).")
    ] = None,
    engine: Annotated[
        RunEngine, typer.Option(help="minutiae (the demo's) or baseline (fast).")
    ] = RunEngine.MINUTIAE,
    compression: Annotated[
        Compression, typer.Option(help="How the finger images travel.")
    ] = Compression.WSQ20,
    fingers: Annotated[
        int, typer.Option(min=1, max=10, help="Finger images per CAR (fewer: faster, smaller).")
    ] = 10,
    progress: Progress = False,
) -> None:
    """Run a synthetic world on a database, or resume the run a killed process left there.

    With --progress, it prints a line per booking and per delivered message."""
    from scomm.config import load_settings
    from scomm.sim.driver import RunSpec, run

    make_url(database)  # a URL that is none fails here, not after the world is built
    spec = RunSpec.demo(seed, bookings, population, engine.value, compression.value, fingers)

    def say(line: str) -> None:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()

    result = run(spec, load_settings(database_url=database), report=say if progress else None)
    say(f"run complete: {result.booked} bookings made by this start")
