"""`scomm agencies add | list | rotate | revoke | release | callback`: the clients of the
service.

`add` and `rotate` print the new secret once (it is kept only as a hash); `list` never
prints a secret, and flags an agency unused for 90 days (CJIS AC-2). Each change is
written to the audit chain as an operator's action."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from scomm.cli.console import console
from scomm.cli.database import open_database
from scomm.cli.errors import BadInput
from scomm.cli.options import DatabaseUrl
from scomm.domain.agencies import STALE_AFTER, AgencyKind, InvalidAgency
from scomm.domain.clock import SystemClock
from scomm.services import agencies, callbacks
from scomm.services.agencies import AgencyRefused, NewSecret
from scomm.services.callbacks import CallbackChangeRefused

agencies_app = typer.Typer(
    help="The agencies that use the service: add, list, rotate a secret, revoke, release, "
    "callback.",
    no_args_is_help=True,
)

ClientId = Annotated[str, typer.Argument(help="The agency's client id.", show_default=False)]


def _show_secret(made: NewSecret, what: str) -> None:
    console.print(
        f"{what} {escape(made.agency.client_id)} ({made.agency.kind}"
        f"{f' {escape(made.agency.scope_value)}' if made.agency.scope_value else ''}; "
        f"scopes {' '.join(made.agency.scopes)}; audited)"
    )
    console.print("client secret (shown once, kept only as a hash):", soft_wrap=True)
    typer.echo(made.secret)


def _moment(value: datetime | None) -> str:
    return "" if value is None else f"{value:%Y-%m-%d %H:%M}"


@agencies_app.command("add")
def agencies_add(
    kind: Annotated[AgencyKind, typer.Option("--kind", help="What the agency is.")],
    client_id: Annotated[
        str | None,
        typer.Option(
            "--client-id",
            help="Its client id; default: the kind and its ORI, state or area (jail-mn0000000).",
        ),
    ] = None,
    ori: Annotated[str | None, typer.Option("--ori", help="A jail's ORI.")] = None,
    state: Annotated[str | None, typer.Option("--state", help="A bureau's state.")] = None,
    area: Annotated[
        str | None,
        typer.Option("--area", help="An ERO field office's area of responsibility (ATL ... WAS)."),
    ] = None,
    name: Annotated[str, typer.Option("--name", help="Its name, for people.")] = "",
    scope: Annotated[
        list[str] | None,
        typer.Option("--scope", help="A scope (repeat); default: the kind's scopes."),
    ] = None,
    serve: Annotated[
        bool,
        typer.Option(
            "--serve",
            help="A jail whose ORI the flow does not serve yet: add it "
            "(state from the ORI, bureau STSIB0000).",
        ),
    ] = False,
    database: DatabaseUrl = None,
) -> None:
    """Add an agency and print its new client secret, once."""
    given = [v for v in (ori, state, area) if v is not None]
    if len(given) > 1:
        raise BadInput("give at most one of --ori, --state, --area")
    value = given[0].upper() if given else None
    chosen = client_id or (f"{kind}-{value.lower()}" if value else str(kind))
    with open_database(database, migrate=True) as db:
        try:
            made = agencies.add_agency(
                db, SystemClock().now(), client_id=chosen, kind=kind, name=name,
                scope_value=value, scopes=tuple(scope) if scope else None, serve=serve,
            )  # fmt: skip
        except (InvalidAgency, AgencyRefused) as error:
            raise BadInput(str(error)) from error
    _show_secret(made, "added")


@agencies_app.command("list")
def agencies_list(
    stale: Annotated[
        bool,
        typer.Option(
            "--stale", help="Only the agencies unused for 90 days or more (AC-2: disable them)."
        ),
    ] = False,
    database: DatabaseUrl = None,
) -> None:
    """Every agency, its scopes and its state (never a secret); "stale": not revoked and
    unused (no token issued) for 90 days or more, to be disabled (CJIS AC-2)."""
    with open_database(database) as db:
        rows = agencies.list_agencies(db)
    now = SystemClock().now()
    if stale:
        rows = [a for a in rows if a.stale(now)]
    title = f"{len(rows)} agencies" + (
        f" unused for {STALE_AFTER.days} days or more" if stale else ""
    )
    table = Table(title=title)
    for column in ("client id", "kind", "sees", "scopes", "created", "last used", "state"):
        table.add_column(column)
    for a in rows:
        state = "revoked" if a.revoked_at else "active" if a.active else "locked"
        if a.stale(now):
            state += f", stale (unused {STALE_AFTER.days}+ days)"
        table.add_row(
            escape(a.client_id), str(a.kind), escape(a.scope_value or "all"),
            escape(" ".join(a.scopes)), _moment(a.created_at), _moment(a.last_used_at), state,
        )  # fmt: skip
    console.print(table)


def _changed(action: str, client_id: str, database: str | None) -> NewSecret:
    with open_database(database, migrate=True) as db:
        now = SystemClock().now()
        try:
            if action == "rotate":
                return agencies.rotate_secret(db, now, client_id)
            if action == "revoke":
                return NewSecret(agencies.revoke_agency(db, now, client_id), "")
            return NewSecret(agencies.release_agency(db, now, client_id), "")
        except AgencyRefused as error:
            raise BadInput(str(error)) from error


@agencies_app.command("rotate")
def agencies_rotate(client_id: ClientId, database: DatabaseUrl = None) -> None:
    """Give the agency a new secret (the old one stops working) and print it, once."""
    _show_secret(_changed("rotate", client_id, database), "new secret for")


@agencies_app.command("revoke")
def agencies_revoke(client_id: ClientId, database: DatabaseUrl = None) -> None:
    """The agency may no longer get tokens (those it holds expire within 15 minutes)."""
    _changed("revoke", client_id, database)
    console.print(f"revoked {escape(client_id)} (audited)")


@agencies_app.command("release")
def agencies_release(client_id: ClientId, database: DatabaseUrl = None) -> None:
    """Release an agency locked after 5 failed authentications in 15 minutes (AC-7)."""
    _changed("release", client_id, database)
    console.print(f"released {escape(client_id)} (audited)")


@agencies_app.command("callback")
def agencies_callback(
    client_id: ClientId,
    allow_host: Annotated[
        list[str] | None,
        typer.Option(
            "--allow-host",
            help="A host the agency's callbacks may go to (repeat; replaces the list).",
        ),
    ] = None,
    allow_private: Annotated[
        list[str] | None,
        typer.Option(
            "--allow-private",
            help="A host they may go to even at a private, loopback or link-local address "
            "(repeat; a test receiver, a jail's own network).",
        ),
    ] = None,
    url: Annotated[
        str | None,
        typer.Option("--url", help="The callback URL (http or https, on an allowed host)."),
    ] = None,
    clear_url: Annotated[
        bool, typer.Option("--clear-url", help="No callback URL (callbacks stop).")
    ] = False,
    new_secret: Annotated[
        bool, typer.Option("--new-secret", help="A new signing secret (printed once).")
    ] = False,
    database: DatabaseUrl = None,
) -> None:
    """Set an agency's callback: the hosts its callbacks may reach (the agency may then set
    its URL itself, PUT /v1/agencies/me/callback) and perhaps the URL. The first time, and
    with --new-secret, prints the HMAC signing secret once (the server keeps it: HMAC needs
    the key on both sides)."""
    if url is not None and clear_url:
        raise BadInput("give --url or --clear-url, not both")
    hosts, private = tuple(allow_host or ()), tuple(allow_private or ())
    if not hosts and not private:
        raise BadInput("allow at least one host (--allow-host or --allow-private)")
    with open_database(database, migrate=True) as db:
        try:
            made = callbacks.set_callback(
                db, SystemClock().now(), client_id, hosts=hosts, private_hosts=private,
                url=url, clear_url=clear_url, new_secret=new_secret,
            )  # fmt: skip
        except CallbackChangeRefused as error:
            raise BadInput(str(error)) from error
    registered = made.registration
    private_note = " ".join(registered.private_hosts)
    console.print(
        f"callback of {escape(client_id)}: {escape(registered.url or 'no URL')}; hosts "
        f"{escape(' '.join(registered.allowed_hosts))}"
        f"{f'; private addresses allowed for {escape(private_note)}' if private_note else ''}"
        " (audited)"
    )
    if made.new_secret:
        console.print("callback signing secret (shown once):", soft_wrap=True)
        typer.echo(made.new_secret)
