"""`scomm audit verify`: check the hash-chained audit log."""

from __future__ import annotations

import typer

from scomm.audit.chain import verify_database
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
