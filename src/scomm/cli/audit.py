"""`scomm audit verify | reconcile`: check the hash-chained audit log, and the rows the flow
acts on against it."""

from __future__ import annotations

import typer
from rich.markup import escape

from scomm.audit.chain import verify_database
from scomm.audit.reconcile import reconcile_database
from scomm.cli.console import console
from scomm.cli.database import open_database
from scomm.cli.errors import CheckFailed
from scomm.cli.options import DatabaseUrl

audit_app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)


@audit_app.command("verify")
def audit_verify(database: DatabaseUrl = None) -> None:
    """Check the audit chain; exit 1 naming the first bad entry if a row was changed or deleted."""
    with open_database(database) as db:
        result = verify_database(db)  # one snapshot: a live flow's appends raise no alarm
    if not result.ok:
        raise CheckFailed(f"audit chain broken at entry {result.first_bad_seq}: {result.problem}")
    console.print(f"audit chain intact: {result.entries} entries")


@audit_app.command("reconcile")
def audit_reconcile(database: DatabaseUrl = None) -> None:
    """Rebuild switch settings, cases and detainers from the audit log alone and name every
    row that disagrees with it, one line each (table, key, field); exit 1 if any does.

    The chain is verified first, in the same snapshot: a broken chain is no ground to
    rebuild from. Every column of the three tables is rebuilt; in a log written before its
    entries carried the case and detainer details (FBI number, IDENT id, level, rule set,
    removability, the detainer's record and hold deadline, the jail's receipt of a
    notification request) those fields are unknown: they are counted as unchecked, never
    as agreeing. Officer decisions, bookings and the other tables are not reconciled."""
    with open_database(database) as db:
        verification, result = reconcile_database(db)
    if result is None:
        raise CheckFailed(
            f"audit chain broken at entry {verification.first_bad_seq}: "
            f"{verification.problem} (reconcile rebuilds only from an intact chain)"
        )
    for disagreement in result.disagreements:
        console.print(escape(disagreement.describe()), soft_wrap=True)
    checked = ", ".join(f"{n} {table}" for table, n in result.rows.items())
    if result.unchecked:
        fields = ", ".join(f"{tag} ({n})" for tag, n in sorted(result.unchecked.items()))
        console.print(
            "unchecked, not recorded by older audit entries "
            f"(the first: entry {result.first_unrecorded}): {escape(fields)}",
            soft_wrap=True,
        )
    if not result.ok:
        raise CheckFailed(
            f"{len(result.disagreements)} disagreement(s) with the audit log "
            f"({checked} rows read, {result.entries} entries)"
        )
    console.print(f"all rows agree with the audit log: {checked} ({result.entries} entries)")
