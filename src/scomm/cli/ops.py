"""`scomm switches` and `scomm ops`: audited switch changes and operations on the message bus."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import typer
from rich.console import Console
from rich.table import Table

from scomm import operations
from scomm.bus.unit_of_work import UnitOfWork
from scomm.config import load_settings
from scomm.domain.clock import SystemClock
from scomm.domain.switches import Switch, SwitchOwner, SwitchPermissionError, SwitchSetting
from scomm.store.db import Database

switches_app = typer.Typer(
    help="Per-jurisdiction switches A-D: show them, change them (audited).", no_args_is_help=True
)
ops_app = typer.Typer(help="Operations: dead letters and their replay.", no_args_is_help=True)
console = Console()

DatabaseOption = typer.Option(
    None,
    "--database",
    "-d",
    help="SQLAlchemy URL; default: $SCOMM_DATABASE_URL, else "
    "the demo's sqlite:///demo-out/scomm.db",
)
SWITCH_MEANING = {
    Switch.A_PRINTS_TO_FBI: "prints go to the FBI",
    Switch.B_FORWARD_TO_IDENT: "CJIS forwards to IDENT",
    Switch.C_RESULTS_TO_JAIL: "IDENT/IAR results to the jail",
    Switch.D_HONOUR_DETAINERS: "jail honours detainers",
}


@contextmanager
def _database(url: str | None) -> Iterator[Database]:
    db = Database(url or load_settings().database_url)
    try:
        db.migrate()
        yield db
    finally:
        db.dispose()


def _fail(message: str, code: int = 2) -> typer.Exit:
    console.print(f"[red]error:[/red] {message}")
    return typer.Exit(code)


def _date(text: str, option: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError as error:
        raise _fail(f"{option} {text!r} is not a date (YYYY-MM-DD[THH:MM])") from error


@switches_app.command("set")
def switches_set(
    ori: str = typer.Option(..., "--ori", help="The booking agency's ORI (9 characters)."),
    switch: Switch = typer.Option(..., "--switch", help="A, B, C or D."),
    on: bool = typer.Option(..., "--on/--off", help="Turn the switch on or off."),
    effective: str = typer.Option(..., "--effective", help="From when (YYYY-MM-DD[THH:MM])."),
    until: str | None = typer.Option(None, "--until", help="Until when; open-ended if absent."),
    by: SwitchOwner = typer.Option(..., "--by", help="The party making the change."),
    reason: str = typer.Option(..., "--reason", help="Why (kept in the audit log)."),
    database: str | None = DatabaseOption,
) -> None:
    """Change a switch of one jurisdiction from a date on; refused unless `--by` owns it."""
    if not reason.strip():
        raise _fail("--reason must say why the switch changes")
    setting = SwitchSetting(
        ori=ori,
        switch=switch,
        enabled=on,
        effective_from=_date(effective, "--effective"),
        effective_to=_date(until, "--until") if until else None,
        changed_by=by,
        reason=reason.strip(),
    )
    with _database(database) as db, UnitOfWork(db, SystemClock()) as uow:
        try:
            setting_id = operations.set_switch(uow, setting, require_known_ori=True)
        except SwitchPermissionError as error:
            raise _fail(f"refused: {error} (owners of {switch}: "
                        f"{operations.owners_text(switch)})") from error  # fmt: skip
        except (operations.UnknownJurisdiction, ValueError) as error:
            raise _fail(str(error)) from error
        uow.commit()
    console.print(
        f"switch {switch} of {ori} {'on' if on else 'off'} from {setting.effective_from:%Y-%m-%d}"
        f"{f' until {setting.effective_to:%Y-%m-%d}' if setting.effective_to else ''}, "
        f"by {by} (setting {setting_id}, audited)"
    )


@switches_app.command("show")
def switches_show(
    ori: str | None = typer.Option(None, "--ori", help="One jurisdiction; all if absent."),
    at: str | None = typer.Option(None, "--at", help="The moment to show; default: now."),
    database: str | None = DatabaseOption,
) -> None:
    """The switches in force at a moment, per jurisdiction, and the history of changes."""
    moment = _date(at, "--at") if at else SystemClock().now()
    with _database(database) as db, db.sessions() as session:
        in_force = operations.switches_in_force(session, moment, ori)
        history = operations.switch_history(session, ori)
    table = Table(title=f"switches in force at {moment:%Y-%m-%d %H:%M}")
    table.add_column("ORI")
    for switch in Switch:
        table.add_column(f"{switch.value}: {SWITCH_MEANING[switch]}", justify="center")
    for place, values in in_force.items():
        table.add_row(place, *("on" if values[s] else "[red]off[/red]" for s in Switch))
    console.print(table)
    log = Table(title="history (defaults before any setting: A on, B off, C on, D on)")
    for column in ("#", "ORI", "switch", "value", "from", "until", "by", "recorded", "reason"):
        log.add_column(column)
    for change in history:
        s = change.setting
        log.add_row(
            str(change.setting_id),
            s.ori,
            s.switch.value,
            "on" if s.enabled else "off",
            f"{s.effective_from:%Y-%m-%d}",
            f"{s.effective_to:%Y-%m-%d}" if s.effective_to else "",
            s.changed_by.value,
            f"{change.recorded_at:%Y-%m-%d %H:%M}",
            s.reason,
        )
    console.print(log)


@ops_app.command("dead-letters")
def ops_dead_letters(database: str | None = DatabaseOption) -> None:
    """List the messages the dispatcher gave up on: type, case, attempts, last error."""
    with _database(database) as db, db.sessions() as session:
        rows = operations.dead_letters(session)
    if not rows:
        console.print("no dead letters")
        return
    table = Table(title=f"{len(rows)} dead letter(s)")
    for column in ("seq", "message id", "type", "to", "case", "attempts", "due", "last error"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(
            str(row.seq),
            row.message_id,
            row.type,
            row.recipient,
            row.case_id,
            str(row.attempts),
            f"{row.available_at:%Y-%m-%d %H:%M}",
            row.last_error or "",
        )
    console.print(table)


@ops_app.command("replay")
def ops_replay(
    ref: str | None = typer.Argument(None, help="A dead letter's seq or message id."),
    replay_all: bool = typer.Option(False, "--all", help="Replay every dead letter."),
    reason: str = typer.Option(
        "replayed by an operator", "--reason", help="Why (kept in the audit log)."
    ),
    database: str | None = DatabaseOption,
) -> None:
    """Put dead letters back for delivery (audited); the next run delivers them."""
    if (ref is None) == (not replay_all):
        raise _fail("name one dead letter (seq or message id) or pass --all")
    with _database(database) as db, UnitOfWork(db, SystemClock()) as uow:
        try:
            rows = operations.replay(uow, ref, reason=reason)
        except operations.NothingToReplay as error:
            raise _fail(str(error), code=1) from error
        uow.commit()
    if not rows:
        console.print("no dead letters")
        return
    for row in rows:
        console.print(f"replaying {row.seq} {row.type} -> {row.recipient} (case {row.case_id})")
    console.print(f"{len(rows)} message(s) back in the outbox, pending")


@ops_app.command("run-world")
def ops_run_world(
    database: str = typer.Option(..., "--database", "-d", help="SQLAlchemy URL of the run."),
    seed: int = typer.Option(1, help="Seed of the synthetic world."),
    bookings: int = typer.Option(200, min=1, help="How many bookings."),
    population: int | None = typer.Option(None, help="People in the world (default: 2x)."),
    engine: str = typer.Option("minutiae", help="minutiae (the demo's) or baseline (fast)."),
    compression: str = typer.Option("WSQ20", help="Finger images: WSQ20, PNG or NONE."),
    fingers: int = typer.Option(
        10, min=1, max=10, help="Finger images per CAR (fewer: a faster, smaller run)."
    ),
    progress: bool = typer.Option(False, help="Print a line per booking and per message."),
) -> None:
    """Run a synthetic world on a database, or resume the run a killed process left there."""
    from scomm.sim.driver import RunRefused, RunSpec, run

    spec = RunSpec.demo(seed, bookings, population, engine, compression, fingers)

    def say(line: str) -> None:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()

    try:
        settings = load_settings(database_url=database)
        result = run(spec, settings, report=say if progress else None)
    except RunRefused as error:
        raise _fail(str(error)) from error
    say(f"run complete: {result.booked} bookings made by this start")
