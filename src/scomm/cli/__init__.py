"""The command line: `scomm demo`, `audit verify`, `report`, `db upgrade`, `bench verify`."""

from __future__ import annotations

import json
import os
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from scomm.audit.chain import verify
from scomm.cli.bench import bench_app
from scomm.cli.ops import ops_app, switches_app
from scomm.cli.progress_bars import progress_bars, rich_stage
from scomm.cli.simulate import simulate
from scomm.cli.synth import synth_app
from scomm.config import load_settings
from scomm.store.db import Database, sqlite_url

app = typer.Typer(
    help="scomm: the Secure Communities flow, open and auditable.",
    no_args_is_help=True,
    add_completion=False,
)
audit_app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)
db_app = typer.Typer(help="The database schema.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")
app.add_typer(db_app, name="db")
app.add_typer(bench_app, name="bench", help="Benchmarks of the fingerprint engine.")
app.add_typer(synth_app, name="synth")
app.add_typer(switches_app, name="switches")
app.add_typer(ops_app, name="ops")
app.command("simulate")(simulate)
console = Console()

DatabaseOption = typer.Option(
    None,
    "--database",
    "-d",
    help="SQLAlchemy URL; default: $SCOMM_DATABASE_URL, else "
    "the demo's sqlite:///demo-out/scomm.db",
)


@app.command()
def demo(
    bookings: int = typer.Option(200, min=1, help="How many bookings to run."),
    seed: int = typer.Option(1, help="Seed of the synthetic world (same seed, same run)."),
    out: Path = typer.Option(
        Path("demo-out"), help="Folder for summary.json, report.html and the SQLite database."
    ),
) -> None:
    """Build a synthetic world and run its bookings through every hop of the flow."""
    from scomm.sim.demo import run_demo
    from scomm.sim.driver import RunRefused

    settings = load_settings(seed=seed)
    if "SCOMM_DATABASE_URL" not in os.environ:
        db_file = out / "scomm.db"
        out.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db_file}{suffix}").unlink(missing_ok=True)
        settings = load_settings(seed=seed, database_url=sqlite_url(db_file.resolve()))
    try:
        with progress_bars(console) as progress:
            result = run_demo(settings, bookings, seed, out, stage=rich_stage(progress))
    except RunRefused as error:
        console.print(f"[red]error:[/red] {error}")
        raise typer.Exit(2) from error
    _print_summary(result.summary)
    console.print(
        f"wrote {out / 'summary.json'} and {out / 'report.html'}; database {result.database_url}"
    )


@audit_app.command("verify")
def audit_verify(database: str | None = DatabaseOption) -> None:
    """Check the audit chain; exit 1 naming the first bad entry if a row was changed or deleted."""
    db = Database(database or load_settings().database_url)
    try:
        with db.sessions() as session:
            result = verify(session)
    finally:
        db.dispose()
    if result.ok:
        console.print(f"audit chain intact: {result.entries} entries")
        return
    console.print(
        f"[red]audit chain broken at entry {result.first_bad_seq}[/red]: {result.problem}"
    )
    raise typer.Exit(1)


@db_app.command("upgrade")
def db_upgrade(database: str | None = DatabaseOption) -> None:
    """Create or migrate the schema to the newest revision."""
    db = Database(database or load_settings().database_url)
    db.migrate()
    db.dispose()
    console.print("schema at the newest revision")


@app.command()
def report(
    database: str | None = DatabaseOption,
    json_out: Path | None = typer.Option(None, "--json", help="Write the summary here."),
) -> None:
    """Recompute the published statistics from the audit log alone."""
    from scomm.reports.summary import summarise

    db = Database(database or load_settings().database_url)
    try:
        with db.sessions() as session:
            summary = summarise(session).as_dict()
    finally:
        db.dispose()
    _print_summary(summary)
    if json_out:
        json_out.write_text(json.dumps(summary, indent=2) + "\n")


def _print_summary(summary: dict[str, object]) -> None:
    table = Table(title="scomm summary")
    table.add_column("section")
    table.add_column("name")
    table.add_column("count", justify="right")
    for section in ("messages", "outcomes", "ground_truth"):
        values = summary.get(section) or {}
        assert isinstance(values, dict)
        for name, count in values.items():
            table.add_row(section, name, str(count))
    console.print(table)
