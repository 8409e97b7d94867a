"""`scomm switches set | show`: the per-jurisdiction switches A-D, changed with an audit entry."""

from __future__ import annotations

import getpass
from datetime import UTC, datetime, time
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from scomm.bus.unit_of_work import UnitOfWork
from scomm.cli.console import console
from scomm.cli.database import open_database
from scomm.cli.errors import BadInput
from scomm.cli.options import DatabaseUrl
from scomm.domain.clock import SystemClock
from scomm.domain.switches import Switch, SwitchOwner, SwitchPermissionError, SwitchSetting
from scomm.services import switches

switches_app = typer.Typer(
    help="Per-jurisdiction switches A-D: show them, change them (audited).", no_args_is_help=True
)
DATE_FORMAT = "YYYY-MM-DD[THH:MM[+HH:MM]], UTC unless an offset is given"
SWITCH_MEANING = {
    Switch.A_PRINTS_TO_FBI: "prints go to the FBI",
    Switch.B_FORWARD_TO_IDENT: "CJIS forwards to IDENT",
    Switch.C_RESULTS_TO_JAIL: "IDENT/IAR results to the jail",
    Switch.D_HONOUR_DETAINERS: "jail honours detainers",
}


# What the audit entry of a change made here names as its agency: an operator on the command
# line, never a client of the service (a client id has no colon); with the OS user.
OPERATOR_AGENCY = "cli:operator"


def os_user() -> str:
    """The operating-system user running the command ("unknown" where none can be found)."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown"


def moment(text: str, option: str) -> datetime:
    """A date or date and time typed after `option`, as the database keeps them: naive UTC.

    A time with an offset (`+02:00`, `Z`) is converted to UTC; one without is UTC already
    (the database's clock, or a simulation's scenario time). The row and its audit entry get
    the same converted value, so a zone is never kept in one and dropped from the other."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError as error:
        raise BadInput(f"{option} {text!r} is not a date ({DATE_FORMAT})") from error
    if value.tzinfo is None:
        return value
    try:
        return value.astimezone(UTC).replace(tzinfo=None)
    except OverflowError as error:  # 0001-01-01T00:00+01:00 is a moment before year 1 in UTC
        raise BadInput(f"{option} {text!r} lies outside the years 1-9999 in UTC") from error


def shown(value: datetime) -> str:
    """A moment as the command prints it: to the minute, and saying it is UTC."""
    return f"{value:%Y-%m-%d %H:%M} UTC"


def brief(value: datetime) -> str:
    """A moment in the history table: its date, and its time unless it is midnight."""
    return f"{value:%Y-%m-%d}" if value.time() == time() else f"{value:%Y-%m-%d %H:%M}"


@switches_app.command("set")
def switches_set(
    ori: Annotated[str, typer.Option("--ori", help="The booking agency's ORI (9 characters).")],
    switch: Annotated[Switch, typer.Option("--switch", help="Which switch.")],
    on: Annotated[bool, typer.Option("--on/--off", help="Turn the switch on or off.")],
    effective: Annotated[str, typer.Option("--effective", help=f"From when ({DATE_FORMAT}).")],
    by: Annotated[SwitchOwner, typer.Option("--by", help="The party making the change.")],
    reason: Annotated[str, typer.Option("--reason", help="Why (kept in the audit log).")],
    until: Annotated[
        str | None,
        typer.Option("--until", help="Until when (the same form); open-ended if absent."),
    ] = None,
    database: DatabaseUrl = None,
) -> None:
    """Change a switch of one jurisdiction from a date on; refused unless `--by` owns it.

    An operator's action: the audit entry names the agency "cli:operator" and the OS user."""
    if not reason.strip():
        raise BadInput("--reason must say why the switch changes")
    setting = SwitchSetting(
        ori=ori,
        switch=switch,
        enabled=on,
        effective_from=moment(effective, "--effective"),
        effective_to=moment(until, "--until") if until else None,
        changed_by=by,
        reason=reason.strip(),
    )
    with open_database(database, migrate=True) as db, UnitOfWork(db, SystemClock()) as uow:
        try:
            setting_id = switches.set_switch(
                uow, setting, require_known_ori=True, agency=OPERATOR_AGENCY, os_user=os_user()
            )
        except SwitchPermissionError as error:
            owners = switches.owners_text(switch)
            raise BadInput(f"refused: {error} (owners of {switch}: {owners})") from error
        except ValueError as error:  # the setting itself is malformed (an ORI, a period)
            raise BadInput(str(error)) from error
        uow.commit()
    console.print(
        f"switch {switch} of {escape(ori)} {'on' if on else 'off'} from "
        f"{shown(setting.effective_from)}"
        f"{f' until {shown(setting.effective_to)}' if setting.effective_to else ''}, "
        f"by {by} (setting {setting_id}, audited)"
    )


@switches_app.command("show")
def switches_show(
    ori: Annotated[
        str | None, typer.Option("--ori", help="One jurisdiction; all if absent.")
    ] = None,
    at: Annotated[
        str | None, typer.Option("--at", help=f"The moment to show ({DATE_FORMAT}); default: now.")
    ] = None,
    database: DatabaseUrl = None,
) -> None:
    """The switches in force at a moment, per jurisdiction, and the history of changes.

    Only settings the audit log records count; a row written around `switches set` (no
    audit entry, or one it disagrees with) is left out, with a warning line naming it."""
    when = moment(at, "--at") if at else SystemClock().now()
    with open_database(database) as db, UnitOfWork(db, SystemClock()) as uow:  # reads only
        in_force = switches.switches_in_force(uow, when, ori)
        history = switches.switch_history(uow, ori)
        refused = switches.refused_settings(uow, ori)
    table = Table(title=f"switches in force at {shown(when)}")
    table.add_column("ORI")
    for switch in Switch:
        table.add_column(f"{switch.value}: {SWITCH_MEANING[switch]}", justify="center")
    for place, values in in_force.items():
        table.add_row(escape(place), *("on" if values[s] else "[red]off[/red]" for s in Switch))
    console.print(table)
    defaults = ", ".join(f"{s.value} {switches.default_text(s)}" for s in Switch)
    log = Table(title=f"history (defaults before any setting: {defaults})")
    for column in ("#", "ORI", "switch", "value", "from", "until", "by", "recorded", "reason"):
        log.add_column(column)
    for change in history:
        s = change.setting
        log.add_row(
            str(change.setting_id),
            escape(s.ori),
            s.switch.value,
            "on" if s.enabled else "off",
            brief(s.effective_from),
            brief(s.effective_to) if s.effective_to else "",
            s.changed_by.value,
            f"{change.recorded_at:%Y-%m-%d %H:%M}",
            escape(s.reason),  # typed by people: "[/x]" in it must print, not break the table
        )
    console.print(log)
    for row in refused:  # rows written around `switches set`: left out above, and by the flow
        console.print(f"[red]warning:[/red] {escape(row.describe())}", soft_wrap=True)
