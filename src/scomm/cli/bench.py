"""Benchmarks of scomm's fingerprint engines: ``scomm bench verify`` (FVC verification) and
``scomm bench search`` (1:N identification on a synthetic template gallery); and of the
service: ``scomm bench serve`` (jails submitting CARs to `scomm serve` over loopback).

`bench_app` is the Typer app the main CLI mounts as ``scomm bench``; it also runs on its
own: ``python -c "from scomm.cli.bench import bench_app; bench_app()" verify --data DIR``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from scomm.cli.errors import ErrorHandlingGroup
from scomm.cli.options import MAX_COUNT, Acceptors, JsonFile, Progress, Seed, check_file_target

# Its own error handler too: bench/verify_fvc.sh runs this app without the root one.
bench_app = typer.Typer(
    cls=ErrorHandlingGroup,
    help="Benchmarks of the fingerprint engines.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# The threshold's calibration scores 200 probes against up to 50 identities each and needs
# 2,000 scores (scomm.biometrics.index.calibration): a gallery of fewer cannot be calibrated.
MIN_GALLERY = 10


@bench_app.callback()
def _bench() -> None:
    """Benchmarks of the fingerprint engines."""


@bench_app.command("verify")
def verify(
    data: Annotated[
        Path | None,
        typer.Option(
            "--data",
            file_okay=False,
            help="Folder of database folders (DB1_B, ...) of FINGER_IMPRESSION images, "
            "optionally with a MANIFEST.csv giving each image's ppi.",
        ),
    ] = None,
    peers: Annotated[
        bool,
        typer.Option(
            "--peers", help="Also run the peer engines (NBIS mindtct + bozorth3) as baselines."
        ),
    ] = False,
    json_path: JsonFile = None,
    engine: Annotated[
        str | None,
        typer.Option(
            "--engine",
            show_default=False,
            help='Engine to measure (default: "scomm", the default engine profile that the '
            'flow and bench search run; "scomm-leader", "scomm-fast", "baseline", "nbis").',
        ),
    ] = None,
    templates: Annotated[
        Path | None,
        typer.Option(
            "--templates",
            file_okay=False,
            help="Matcher-only track: folder of database folders of ISO 19794-2 templates "
            "(FINGER_IMPRESSION.iso), read instead of images.",
        ),
    ] = None,
    limit_fingers: Annotated[
        int | None,
        typer.Option(
            "--limit-fingers",
            min=2,
            max=MAX_COUNT,
            help="Use only the first N fingers of each database.",
        ),
    ] = None,
    databases: Annotated[
        list[str] | None,
        typer.Option("--db", help="Only this database (repeatable), e.g. --db DB1_B."),
    ] = None,
    ppi: Annotated[
        int,
        typer.Option(
            "--ppi", min=100, max=4000, help="ppi of images that MANIFEST.csv does not list."
        ),
    ] = 500,
    progress: Progress = True,
) -> None:
    """FVC verification protocol per database: EER, FNMR at FMR 1% and 0.1%, failures to
    enrol, CPU time per extraction and per comparison."""
    from scomm.sim.bench.engines import bench_engines, resampler_name
    from scomm.sim.bench.verify import (
        bench_json,
        find_databases,
        results_table,
        run_benchmark,
    )

    check_file_target(json_path, "--json")
    out = Console()
    if not out.is_terminal:  # piped or captured: do not squeeze the table into 80 columns
        out = Console(width=120)
    registry = bench_engines()
    name = engine or registry.default
    if name not in registry:
        raise typer.BadParameter(
            f"unknown engine {name!r}; registered: {', '.join(registry.names)}",
            param_hint="--engine",
        )
    root = templates or data
    if root is None:
        raise typer.BadParameter("give --data DIR (images) or --templates DIR", param_hint="--data")
    peer_names = [p for p in ("nbis",) if peers and p != name]
    found = find_databases(
        root,
        templates=templates is not None,
        default_ppi=ppi,
        only=databases or None,
        limit_fingers=limit_fingers,
    )
    engines = [registry.create(n) for n in (name, *peer_names)]
    reports = run_benchmark(found, engines, templates=templates is not None, show_progress=progress)
    track = "templates (matcher only)" if templates else f"images, resampled by {resampler_name()}"
    title = f"FVC verification: engine {name!r} on {root} ({track})"
    out.print(results_table(reports, title))
    out.print(
        f"Engine measured: [bold]{name}[/bold]"
        + (f"; peers: {', '.join(peer_names)}" if peer_names else "")
        + ". Times are CPU time: extraction of the whole process, comparisons of the"
        + " thread that runs them."
    )
    if json_path is not None:
        document = bench_json(reports[0], reports[1:])
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
        out.print(f"Wrote {json_path}")


@bench_app.command("search")
def search(
    identities: Annotated[
        int, typer.Option("--identities", min=MIN_GALLERY, max=MAX_COUNT, help="Gallery size.")
    ] = 100_000,
    probes: Annotated[
        int, typer.Option("--probes", min=2, max=MAX_COUNT, help="Searches: half mated, half not.")
    ] = 200,
    fingers: Annotated[
        int, typer.Option("--fingers", min=1, max=10, help="Fingers per identity: 10, 2 or 1.")
    ] = 10,
    json_path: JsonFile = None,
    seed: Seed = 1,
    shortlist: Annotated[
        int | None,
        typer.Option(
            "--shortlist",
            min=1,
            max=MAX_COUNT,
            show_default=False,
            help="Candidates the first stage passes to the matcher (default: the engine's).",
        ),
    ] = None,
    engine: Annotated[
        str | None,
        typer.Option(
            "--engine",
            show_default=False,
            help="Engine profile (a shipped name or a .json file) whose search is measured "
            "(default: the default engine, the one the flow runs).",
        ),
    ] = None,
    cache: Annotated[
        Path,
        typer.Option("--cache", file_okay=False, help="Folder for generated gallery snapshots."),
    ] = Path(".scomm-cache"),
    progress: Progress = True,
) -> None:
    """1:N search on a synthetic gallery: FNIR at FPIR 0.1% and 0.01% (two-stage and
    exhaustive) and at the engine's own threshold, latency percentiles, memory per finger,
    enrolment and load speed."""
    from scomm.config import DEFAULT_ENGINE
    from scomm.sim.bench.search import SearchBenchConfig, run_search_bench, search_table

    check_file_target(json_path, "--json")
    out = Console()
    if not out.is_terminal:
        out = Console(width=120)
    try:
        config = SearchBenchConfig(
            identities,
            probes,
            fingers,
            seed=seed,
            shortlist=shortlist,
            cache=cache,
            engine=engine or DEFAULT_ENGINE,
        )
        config.profile()  # an unknown engine, or one without an indexed search, stops here
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    report = _with_progress(progress, lambda tick: run_search_bench(config, tick))
    out.print(search_table(report))
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(report.to_json(), indent=2) + "\n", encoding="utf-8")
        out.print(f"Wrote {json_path}")


@bench_app.command("serve")
def serve(
    jails: Annotated[
        int, typer.Option("--jails", min=1, max=1000, help="Jail agencies submitting at once.")
    ] = 4,
    rate: Annotated[
        float,
        typer.Option("--rate", min=0.01, max=10_000.0, help="CARs offered per second, in all."),
    ] = 50.0,
    rates: Annotated[
        str | None,
        typer.Option(
            "--rates",
            show_default=False,
            help="A sweep instead of --rate: offered rates one after another, e.g. 10,25,50.",
        ),
    ] = None,
    duration: Annotated[
        float,
        typer.Option("--duration", min=0.5, max=86_400.0, help="Seconds each rate is offered."),
    ] = 30.0,
    cars: Annotated[
        int,
        typer.Option(
            "--cars",
            min=1,
            max=100_000,
            help="Distinct synthetic CARs, sent in order over the run (round robin past the last).",
        ),
    ] = 64,
    enrol: Annotated[
        int,
        typer.Option(
            "--enrol",
            min=0,
            max=100_000,
            help="Of those CARs' people, how many are enrolled in IDENT first (their CARs "
            "match there and get an IAR; their extraction is the engine's own time).",
        ),
    ] = 2,
    drain: Annotated[
        float,
        typer.Option(
            "--drain", min=0.0, max=86_400.0, help="Seconds to wait for the SREs after a rate."
        ),
    ] = 60.0,
    engine: Annotated[
        str | None,
        typer.Option(
            "--engine",
            show_default=False,
            help="Engine profile the service runs (default: the default engine).",
        ),
    ] = None,
    database: Annotated[
        str | None,
        typer.Option(
            "--database",
            "-d",
            show_default=False,
            help="A PostgreSQL URL to serve from (default: a temporary SQLite file).",
        ),
    ] = None,
    acceptors: Acceptors = 1,
    cache: Annotated[
        Path,
        typer.Option("--cache", file_okay=False, help="Folder for the generated CARs."),
    ] = Path(".scomm-cache"),
    distinct: Annotated[
        bool,
        typer.Option(
            "--distinct/--repeat",
            help="Make the pool as large as the run's submissions, so that no CAR is sent "
            "twice (a repeat is memoised in the service and costs its engine nothing); "
            "--repeat: --cars CARs round robin, phases with repeats left out of the "
            "sustained rate.",
        ),
    ] = False,
    seed: Seed = 1,
    json_path: JsonFile = None,
    progress: Progress = True,
) -> None:
    """`scomm serve` on loopback under load: N jails submit CARs at once at a total rate;
    accepted CARs/s, acceptance p50/p99 (POST to 202), time to SRE and to IAR, the engine's
    own time apart, and the outbox queue over time (does it grow at that rate?)."""
    from scomm.sim.bench.serve import ServeBenchConfig, run_serve_bench, serve_table

    check_file_target(json_path, "--json")
    offered = (rate,) if rates is None else _rates(rates)
    if database is not None and not database.startswith("postgresql"):
        raise typer.BadParameter("a postgresql:// URL (default: a temporary SQLite file)",
                                 param_hint="--database")  # fmt: skip
    out = Console()
    if not out.is_terminal:
        out = Console(width=140)
    config = ServeBenchConfig(
        jails=jails, rates=offered, duration=duration, cars=cars, enrol=min(enrol, cars),
        seed=seed, database=database, engine=engine, cache=cache, drain=drain,
        distinct=distinct, acceptors=acceptors,
    )  # fmt: skip
    report = _with_progress(progress, lambda tick: run_serve_bench(config, tick))
    out.print(serve_table(report))
    document = report.to_json()
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
        out.print(f"Wrote {json_path}")
    typer.echo(json.dumps(document, separators=(",", ":")))


def _rates(text: str) -> tuple[float, ...]:
    try:
        found = tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError as error:
        raise typer.BadParameter("numbers separated by commas, e.g. 10,25,50",
                                 param_hint="--rates") from error  # fmt: skip
    if not found or any(not 0.01 <= value <= 10_000 for value in found):
        raise typer.BadParameter("rates from 0.01 to 10000 CARs/s", param_hint="--rates")
    return found


def _with_progress(show: bool, work: Any) -> Any:
    """Run work(tick), tick(stage, done, total) driving one Rich bar per stage."""
    if not show:
        return work(lambda stage, done, total: None)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    columns = (
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, transient=False) as bars:
        tasks: dict[str, Any] = {}

        def tick(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bars.add_task(stage, total=total)
            bars.update(tasks[stage], completed=done)

        return work(tick)


__all__ = ["bench_app", "search", "serve", "verify"]
