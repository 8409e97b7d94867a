"""`scomm demo` and `scomm simulate`: synthetic bookings through every hop of the flow."""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from scomm.cli.console import console
from scomm.cli.database import masked
from scomm.cli.options import (
    MAX_COUNT,
    JsonFile,
    NewDatabaseUrl,
    OnOff,
    Scale,
    Scenario,
    ScenarioSeed,
    Seed,
    check_file_target,
    out_folder,
)
from scomm.cli.progress_bars import progress_bars, rich_stage
from scomm.cli.report import print_summary
from scomm.cli.scenarios import chosen_scenario
from scomm.config import load_settings
from scomm.store.db import sqlite_url


def demo(
    bookings: Annotated[
        int, typer.Option(min=1, max=MAX_COUNT, help="How many bookings to run.")
    ] = 200,
    seed: Seed = 1,
    out: Annotated[
        Path, out_folder("Folder for summary.json, report.html and the SQLite database.")
    ] = Path("demo-out"),
) -> None:
    """Build a synthetic world and run its bookings through every hop of the flow."""
    from scomm.sim.demo import run_demo

    settings = load_settings(seed=seed)
    if "SCOMM_DATABASE_URL" not in os.environ:
        db_file = out / "scomm.db"
        out.mkdir(parents=True, exist_ok=True)
        _remove_sqlite(db_file)
        settings = load_settings(seed=seed, database_url=sqlite_url(db_file.resolve()))
    with progress_bars(console) as progress:
        result = run_demo(settings, bookings, seed, out, stage=rich_stage(progress))
    print_summary(result.summary)
    console.print(
        f"wrote {out / 'summary.json'} and {out / 'report.html'}; "
        f"database {escape(masked(result.database_url))}"
    )


def simulate(
    scenario: Scenario,
    scale: Scale = None,
    seed: ScenarioSeed = None,
    safeguards: Annotated[
        OnOff | None,
        typer.Option(
            "--safeguards", show_default=False, help="All four safeguards (default: the file's)."
        ),
    ] = None,
    json_out: JsonFile = None,
    database: NewDatabaseUrl = None,
    out: Annotated[
        Path, out_folder("Folder for summary.json, report.html and the database.")
    ] = Path("simulate-out"),
) -> None:
    """Run a scenario through the full flow on scenario time.

    It counts every message and outcome per month, jurisdiction and level, and compares the
    published figures the scenario targets with the simulated ones."""
    from scomm.sim.demo import run_scenario

    chosen = chosen_scenario(scenario, scale, seed, safeguards)
    check_file_target(json_out, "--json")
    out.mkdir(parents=True, exist_ok=True)
    url = database or os.environ.get("SCOMM_DATABASE_URL") or None
    if url is None:
        db_file = out / "scomm.db"
        _remove_sqlite(db_file)
        url = sqlite_url(db_file.resolve())
    settings = load_settings(database_url=url)
    began = time.monotonic()
    with progress_bars(console) as progress:
        result = run_scenario(settings, chosen, out, stage=rich_stage(progress))
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(result.summary, indent=2) + "\n")
    print_targets(result.summary)
    console.print(
        f"{result.summary['run']['bookings']} bookings in {time.monotonic() - began:.0f} s; "
        f"wrote {out / 'summary.json'} and {out / 'report.html'}; database {escape(masked(url))}"
    )


def _remove_sqlite(db_file: Path) -> None:
    """Remove a SQLite database and its write-ahead log: each run starts on an empty one."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_file}{suffix}").unlink(missing_ok=True)


def print_targets(summary: dict[str, Any]) -> None:
    rows = summary.get("targets") or []
    if not rows:
        return
    table = Table(title="target against simulated (95% interval of the simulated figure)")
    for column in ("figure", "target", "simulated", "n", "95% interval", "inside"):
        table.add_column(column, justify="left" if column == "figure" else "right")
    for r in rows:
        sim = r["simulated"]
        low, high = r["interval_95"]
        table.add_row(
            escape(r["figure"]),
            f"{r['target']:.4g}",
            "n/a" if sim is None or (isinstance(sim, float) and math.isnan(sim)) else f"{sim:.4g}",
            str(int(r["denominator"] or r["numerator"])),
            f"{low:.3g} - {high:.3g}",
            "yes" if r["target_in_interval"] else "[red]no[/red]",
        )
    console.print(table)
