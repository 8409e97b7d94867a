"""`scomm synth fingers | tenprint | realism | world | load`: synthetic prints, transactions,
worlds, and a world loaded into a service's database."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from scomm.cli.console import console
from scomm.cli.errors import BadInput
from scomm.cli.options import (
    MAX_COUNT,
    Compression,
    Extractor,
    ImpressionKind,
    RecordType,
    Scale,
    Scenario,
    ScenarioSeed,
    Seed,
    UpgradedDatabaseUrl,
    out_folder,
)
from scomm.cli.progress_bars import progress_bars
from scomm.cli.scenarios import chosen_scenario

synth_app = typer.Typer(
    help="Synthetic fingerprints, booking transactions and worlds.", no_args_is_help=True
)
MAX_NUMBER = 2**62  # booking and person numbers stay below 2**63, the generators' limit
KINDS = {
    ImpressionKind.PLAIN: ("plain",),
    ImpressionKind.ROLLED: ("rolled",),
    ImpressionKind.BOTH: ("plain", "rolled"),
}


@synth_app.command("fingers")
def synth_fingers(
    count: Annotated[
        int, typer.Option(min=1, max=MAX_COUNT, help="How many fingers (ten per synthetic person).")
    ] = 10,
    seed: Seed = 1,
    out: Annotated[Path, out_folder("Folder for the PNG images.")] = Path("synth-fingers"),
    impressions: Annotated[
        int, typer.Option(min=0, max=MAX_COUNT, help="Impressions of each kind per finger.")
    ] = 2,
    kind: Annotated[
        ImpressionKind, typer.Option(help="Impressions to draw.")
    ] = ImpressionKind.BOTH,
    masters: Annotated[bool, typer.Option(help="Also write each finger's master.")] = True,
) -> None:
    """Draw SFinGe-style master fingerprints and their impressions as 500 ppi PNG files."""
    from PIL import Image

    from scomm.sim.synth.impression_image import impression, master_image
    from scomm.sim.synth.ridge_master import make_master

    out.mkdir(parents=True, exist_ok=True)
    classes: dict[str, int] = {}
    with progress_bars(console) as progress:
        task = progress.add_task("fingers", total=count)
        for k in range(count):
            identity, finger = divmod(k, 10)
            master = make_master(seed, identity, finger + 1)
            classes[master.pattern_class] = classes.get(master.pattern_class, 0) + 1
            stem = f"person{identity:05d}_fgp{finger + 1:02d}"
            if masters:
                Image.fromarray(master_image(master)).save(out / f"{stem}_master.png")
            for what in KINDS[kind]:
                for number in range(impressions):
                    image = impression(master, number, what)
                    Image.fromarray(image).save(out / f"{stem}_{what}{number}.png")
            progress.advance(task)
    shares = ", ".join(f"{name} {n}" for name, n in sorted(classes.items()))
    console.print(f"wrote {count} fingers to {escape(str(out))} ({shares})")


@synth_app.command("tenprint")
def synth_tenprint(
    count: Annotated[
        int, typer.Option(min=1, max=MAX_NUMBER, help="How many booking transactions.")
    ] = 10,
    out: Annotated[Path, out_folder("Folder for the ANSI/NIST files.")] = Path("synth-tenprints"),
    seed: Seed = 1,
    first: Annotated[
        int, typer.Option(min=0, max=MAX_NUMBER, help="Number of the first booking (and person).")
    ] = 0,
    record_type: Annotated[
        RecordType, typer.Option(help="Finger image records: 14 (EBTS) or 4 (legacy).")
    ] = RecordType.TYPE_14,
    compression: Annotated[
        Compression, typer.Option(help="Finger images (PNG: Type-14 only).")
    ] = Compression.WSQ20,
    check: Annotated[
        bool,
        typer.Option(help="Read every file back with nistitl and scomm's parser, decoding each."),
    ] = False,
) -> None:
    """Write EBTS criminal tenprint submissions (CAR) of synthetic bookings: Type-1, Type-2
    and the 14 images of a tenprint card (10 rolled, plain thumbs, four-finger slaps)."""
    from scomm.nist import TransactionError, decode_tenprint
    from scomm.sim.synth.booking_transactions import booking_transaction

    if record_type is RecordType.TYPE_4 and compression is Compression.PNG:
        raise BadInput(f"--compression {compression} is not available for Type-{record_type}")
    out.mkdir(parents=True, exist_ok=True)
    total = 0
    with progress_bars(console) as progress:
        task = progress.add_task("transactions", total=count)
        for number in range(first, first + count):
            raw = booking_transaction(seed, number, compression.value, int(record_type.value))
            path = out / f"car-{number:06d}.an2"
            path.write_bytes(raw)
            total += len(raw)
            if check:
                try:
                    _check_transaction(raw)
                    decode_tenprint(raw)
                except TransactionError as error:
                    raise BadInput(f"{path} does not read back: {error}") from error
            progress.advance(task)
    checked = "; each read back by nistitl and scomm" if check else ""
    console.print(
        f"wrote {count} transactions ({total / 1e6:.1f} MB) to {escape(str(out))}{checked}"
    )


def _check_transaction(raw: bytes) -> None:
    """nistitl parses `raw` on its own (scomm's parser checks much more afterwards)."""
    import nistitl

    from scomm.nist import TransactionError

    message = nistitl.Message()
    try:
        message.parse(raw)
    except Exception as error:
        raise TransactionError(None, f"nistitl cannot parse it: {error}") from error


@synth_app.command("realism")
def synth_realism(
    real: Annotated[
        Path, typer.Option(help="FVC2002 folder (DB1_B ... DB4_B, MANIFEST.csv).")
    ] = Path("../shared/data/fvc2002"),
    out: Annotated[Path, out_folder("Folder for report.md and report.json.")] = Path(
        "synth-realism"
    ),
    extractor: Annotated[
        Extractor, typer.Option(help="leader (about 1 s an image) or mindtct.")
    ] = Extractor.LEADER,
    synthetic_fingers: Annotated[
        int, typer.Option(min=2, max=MAX_COUNT, help="Synthetic fingers to measure.")
    ] = 20,
    impressions: Annotated[int, typer.Option(min=2, max=8, help="Impressions per finger.")] = 8,
    real_fingers: Annotated[
        int, typer.Option(min=2, max=10, help="Fingers per real database.")
    ] = 10,
    nfiq2: Annotated[bool, typer.Option(help="Compute NFIQ 2 for every image.")] = True,
    seed: Seed = 2002,
    cache: Annotated[
        Path | None, typer.Option(help="Folder to cache the real images' features.")
    ] = None,
) -> None:
    """Compare synthetic impressions with FVC2002 DB1-3 (DB4 apart): minutiae counts, NFIQ 2,
    genuine and impostor scores, each with its two-sample KS statistic."""
    from scomm.sim.synth.realism import (
        RealismOptions,
        image_count,
        report_markdown,
        run_realism,
    )

    options = RealismOptions(
        real, extractor.value, synthetic_fingers, impressions, real_fingers, nfiq2, seed, cache
    )
    if not real.is_dir():
        raise BadInput(f"real-data folder {real} not found (FVC2002 B databases expected)")
    total = image_count(options)
    out.mkdir(parents=True, exist_ok=True)
    with progress_bars(console) as progress:
        tasks: dict[str, object] = {}

        def advance(stage: str, n: int) -> None:
            if stage not in tasks:
                tasks[stage] = progress.add_task(stage, total=None)
            progress.advance(tasks[stage], n)  # type: ignore[arg-type]

        overall = progress.add_task("images", total=total)

        def step(stage: str, n: int) -> None:
            advance(stage, n)
            progress.advance(overall, n)

        report = run_realism(options, step)
    (out / "report.md").write_text(report_markdown(report))
    (out / "report.json").write_text(report.to_json() + "\n")
    table = Table(title=f"synthetic vs FVC2002 DB1-3 ({extractor})")
    table.add_column("measure")
    table.add_column("KS synthetic", justify="right")
    table.add_column("KS DB4 (SFinGe)", justify="right")
    for key in ("minutiae", "nfiq2", "genuine", "impostor"):
        table.add_row(
            key, f"{report.ks['synthetic'][key]:.3f}", f"{report.ks['db4_sfinge'][key]:.3f}"
        )
    console.print(table)
    console.print(f"wrote {escape(str(out / 'report.md'))} and {escape(str(out / 'report.json'))}")


@synth_app.command("world")
def synth_world(
    scenario: Scenario,
    scale: Scale = None,
    seed: ScenarioSeed = None,
    out: Annotated[Path, out_folder("Folder for the CSV and JSON files.")] = Path("world-out"),
) -> None:
    """Build a scenario's world (no flow) and write persons, bookings, dispositions and
    jurisdictions as CSV, with world.json holding its planned statistics."""
    from scomm.sim.synth.world import build_scenario_world
    from scomm.sim.synth.world_export import write_world

    chosen = chosen_scenario(scenario, scale, seed, None)
    with progress_bars(console) as progress:
        task = progress.add_task("building the world", total=round(chosen.expected_bookings()))
        world = build_scenario_world(chosen, progress=lambda n: progress.advance(task, n))
        progress.update(task, total=len(world.bookings), completed=len(world.bookings))
        rows = len(world.people) + 2 * len(world.bookings) + len(world.jurisdictions)
        task = progress.add_task("writing files", total=rows)
        files = write_world(world, out, progress=lambda n: progress.advance(task, n))
    stats = json.loads((out / "world.json").read_text())["statistics"]
    table = Table(title=f"world of scenario {escape(chosen.name)} (scale {chosen.scale:g})")
    table.add_column("statistic")
    table.add_column("value", justify="right")
    for key in (
        "bookings",
        "bookings_represented",
        "people",
        "jurisdictions",
        "submissions",
        "submissions_at_scale_1",
        "expected_match_rate",
        "stale_citizens_among_ident_records",
        "citizens_among_people",
    ):
        table.add_row(key, str(stats[key]))
    console.print(table)
    console.print("wrote " + escape(", ".join(str(p) for p in files)))


@synth_app.command("load")
def synth_load(
    database: UpgradedDatabaseUrl = None,
    bookings: Annotated[
        int, typer.Option(min=1, max=10_000, help="How many bookings to write as CARs.")
    ] = 16,
    population: Annotated[
        int,
        typer.Option(
            min=1,
            max=100_000,
            help="People in the world (those with a record are enrolled in the repositories).",
        ),
    ] = 22,
    seed: Seed = 1,
    out: Annotated[Path, out_folder("Folder for the bookings' CAR files.")] = Path("serve-cars"),
) -> None:
    """Load the demo's synthetic world into a service's database (its jurisdictions and
    switches, CJIS and IDENT enrolled) and write its bookings' CARs for jails to submit
    over HTTP (README "Running scomm as a service")."""
    from scomm.cli.database import masked
    from scomm.config import load_settings
    from scomm.sim.serve_world import WorldAlreadyLoaded, load_world

    settings = load_settings(database_url=database, seed=seed)
    try:
        with progress_bars(console) as progress:
            task = progress.add_task("enrolling the world's people", total=population)
            loaded = load_world(
                settings, seed, bookings, population, out,
                advance=lambda n: progress.advance(task, n),
            )  # fmt: skip
    except WorldAlreadyLoaded as error:
        raise BadInput(error.message) from error
    table = Table(title=f"CARs of the world of seed {seed} in {escape(str(out))}")
    for column in ("file", "jail ORI", "in CJIS", "in IDENT", "expected answer"):
        table.add_column(column)
    for booking in loaded:
        answer = (
            "ERRT" if booking.defect else "SRE" + (", IAR" if booking.immigration_record else "")
        )
        table.add_row(
            escape(booking.file.name), booking.ori,
            "yes" if booking.criminal_record else "no",
            "yes" if booking.immigration_record else "no", answer,
        )  # fmt: skip
    console.print(table)
    console.print(
        f"loaded into {escape(masked(settings.database_url))}: add a jail agency for an ORI "
        "above (scomm agencies add --kind jail --ori ORI ...) and submit its CARs"
    )
