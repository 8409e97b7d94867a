"""`scomm db upgrade`: create or migrate the database schema."""

from __future__ import annotations

import typer

from scomm.cli.console import console
from scomm.cli.database import open_database
from scomm.cli.options import UpgradedDatabaseUrl

db_app = typer.Typer(help="The database schema.", no_args_is_help=True)


@db_app.command("upgrade")
def db_upgrade(database: UpgradedDatabaseUrl = None) -> None:
    """Create the database if it is new, or migrate its schema, to the newest revision."""
    with open_database(database, migrate=True, must_exist=False):
        pass
    console.print("schema at the newest revision")
