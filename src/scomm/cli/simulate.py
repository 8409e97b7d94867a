"""`scomm demo` and `scomm simulate`: synthetic bookings through every hop of the flow."""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from scomm.audit.checkpoints import PRIVATE_KEY_FILE, generate_keys, require_new_log
from scomm.cli.console import console
from scomm.cli.database import masked
from scomm.cli.errors import BadInput
from scomm.cli.options import (
    MAX_COUNT,
    Biometrics,
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
from scomm.config import Settings, load_settings
from scomm.sim.driver_spec import AUTO_MODEL_BOOKINGS
from scomm.store.db import sqlite_url

# The demo's default size: under 3 minutes on 2 cores with the default engine, whose LEADER
# minutiae cost about 1 s of CPU per rolled print. Every person with a record is enrolled
# (ten prints) and every booking brings ten more, so the world is small: 16 bookings in a
# world of 22 people, where seed 1 still reaches every hop of the flow, an ERRT included
# (README, "The demo's size").
DEMO_BOOKINGS = 16
DEMO_POPULATION = 22


def demo(
    bookings: Annotated[
        int, typer.Option(min=1, max=MAX_COUNT, help="How many bookings to run.")
    ] = DEMO_BOOKINGS,
    population: Annotated[
        int,
        typer.Option(
            min=1,
            max=MAX_COUNT,
            help="People in the world (those with a record are enrolled in the repositories).",
        ),
    ] = DEMO_POPULATION,
    seed: Seed = 1,
    out: Annotated[
        Path, out_folder("Folder for summary.json, report.html and the SQLite database.")
    ] = Path("demo-out"),
) -> None:
    """Build a synthetic world and run its bookings through every hop of the flow, then
    publish its release (statistics, case tables, codebook, manifest, pages) in OUT/release."""
    from scomm.sim.demo import publish_run, run_demo

    settings = load_settings(seed=seed)
    replaced = "SCOMM_DATABASE_URL" not in os.environ
    if replaced:
        db_file = out / "scomm.db"
        # a configured log signs another chain: refused before the old database goes
        _require_new_log(settings, sqlite_url(db_file.resolve()))
        out.mkdir(parents=True, exist_ok=True)
        _remove_sqlite(db_file)
        settings = load_settings(seed=seed, database_url=sqlite_url(db_file.resolve()))
    settings = demo_anchor(settings, out, replaced)
    with progress_bars(console) as progress:
        result = run_demo(
            settings, bookings, seed, out, stage=rich_stage(progress), population=population
        )
    print_summary(result.summary)
    console.print(
        f"wrote {out / 'summary.json'} and {out / 'report.html'}; "
        f"database {escape(masked(result.database_url))}"
    )
    if settings.checkpoint_log is not None and settings.audit_key is not None:
        anchor = result.summary.get("anchor") or {}
        console.print(
            f"signed checkpoints in {escape(str(settings.checkpoint_log))} (key "
            f"{escape(str(settings.audit_key))}): "
            + escape(str(anchor.get("line") or anchor.get("problem") or "not verified"))
        )
    release = publish_run(settings, out / "release", "demo")
    statistics = release.statistics
    console.print(
        f"release {escape(statistics.name)} (audit entry {statistics.head.seq}) in "
        f"{escape(str(release.folder))}: statistics, case tables, codebook.md, manifest.json; "
        f"{len(statistics.published) - sum(v is not None for v in statistics.published.values())}"
        f" of {len(statistics.published):,} cells suppressed"
    )
    if release.site is not None:
        console.print(f"open the public pages: {escape(str(release.site.out_dir / 'index.html'))}")


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
    biometrics: Annotated[
        Biometrics,
        typer.Option(
            "--biometrics",
            help="images: grow and match every print (database run); model: the flow in "
            "memory with the engine's measured error rates in place of matching; auto: the "
            f"model above {AUTO_MODEL_BOOKINGS:,} bookings (images with --database).",
        ),
    ] = Biometrics.AUTO,
) -> None:
    """Run a scenario through the full flow on scenario time.

    It counts every message and outcome per month, jurisdiction and level, and compares the
    published figures the scenario targets with the simulated ones. A large world runs in
    memory with a biometric model in place of image matching (--biometrics), as the output
    says."""
    from scomm.sim.demo import run_scenario

    chosen = chosen_scenario(scenario, scale, seed, safeguards)
    check_file_target(json_out, "--json")
    if database is not None and biometrics is Biometrics.MODEL:
        raise BadInput("--biometrics model runs in memory and writes no database: drop --database")
    if database is not None:  # a database run was asked for: images, whatever the size
        biometrics = Biometrics.IMAGES
    out.mkdir(parents=True, exist_ok=True)
    url = database or os.environ.get("SCOMM_DATABASE_URL") or None
    if url is None:
        db_file = out / "scomm.db"
        url = sqlite_url(db_file.resolve())
        _require_new_log(load_settings(database_url=url), url)
        _remove_sqlite(db_file)
    settings = load_settings(database_url=url)
    began = time.monotonic()
    with progress_bars(console) as progress:
        result = run_scenario(
            settings, chosen, out, stage=rich_stage(progress), biometrics=biometrics.value
        )
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(result.summary, indent=2) + "\n")
    print_targets(result.summary)
    model = result.summary.get("biometrics", {}).get("mode") == "model"
    if model:
        described = result.summary["biometrics"]
        console.print(
            "biometric model in place of image matching (engine "
            f"{escape(str(described['engine']))}, FNIR with 10 fingers "
            f"{described['fnir']['10']:.3g}); the run was kept in memory, the database "
            "was not written"
        )
    console.print(
        f"{result.summary['run']['bookings']} bookings in {time.monotonic() - began:.0f} s; "
        f"wrote {out / 'summary.json'} and {out / 'report.html'}"
        + ("" if model else f"; database {escape(masked(url))}")
    )


def demo_anchor(settings: Settings, out: Path, replaced: bool) -> Settings:
    """With no signing key configured, the demo signs its checkpoints with a key of its own
    (OUT/keys, made once) into a log of its own, OUT/checkpoints.jsonl, both outside the
    database; a log belongs to the database it signs, so it goes when the demo replaces the
    database. A configured key signs into the configured log, as any run does."""
    if settings.audit_key is not None:
        return settings
    keys = out / "keys"
    if not (keys / PRIVATE_KEY_FILE).exists():
        generate_keys(keys)
    log = out / "checkpoints.jsonl"
    if replaced:
        log.unlink(missing_ok=True)
    return replace(settings, audit_key=keys / PRIVATE_KEY_FILE, checkpoint_log=log)


def _require_new_log(settings: Settings, url: str) -> None:
    """With a configured signing key, refuse to replace the database while the configured
    checkpoint log signs a chain: the new database's chain would not extend it (each
    database needs its own log). The demo's own log (no key configured) is replaced with
    the database instead (`demo_anchor`)."""
    if settings.audit_key is not None:
        require_new_log(settings.checkpoint_log, url)


def _remove_sqlite(db_file: Path) -> None:
    """Remove a SQLite database and its write-ahead log: each run starts on an empty one."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_file}{suffix}").unlink(missing_ok=True)


def print_targets(summary: dict[str, Any]) -> None:
    rows = summary.get("targets") or []
    if not rows:
        return
    table = Table(title="target against simulated (95% interval of the simulated figure)")
    columns = ("figure", "role", "period", "place", "target", "simulated", "n", "95% interval")
    for column in (*columns, "inside"):
        table.add_column(column, justify="left" if column in columns[:4] else "right")
    order = {"fit": 0, "check": 1}
    for r in sorted(rows, key=lambda r: order.get(r.get("role", "check"), 2)):
        sim = r["simulated"]
        low, high = r["interval_95"]
        bound = {"at_least": ">= ", "at_most": "<= "}.get(r.get("comparison", ""), "")
        table.add_row(
            escape(r["figure"]),
            escape(r.get("role", "check")),
            escape(r.get("period", "")),
            escape(r.get("state", "national")),
            f"{bound}{r['target']:.4g}",
            "n/a" if sim is None or (isinstance(sim, float) and math.isnan(sim)) else f"{sim:.4g}",
            str(int(r["denominator"] or r["numerator"])),
            f"{low:.3g} - {high:.3g}",
            "n/a"
            if r["target_in_interval"] is None
            else "yes"
            if r["target_in_interval"]
            else "[red]no[/red]",
        )
    console.print(table)
