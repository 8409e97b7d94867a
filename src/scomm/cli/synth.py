"""`scomm synth`: synthetic fingerprints, tenprint transactions and worlds."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from scomm.cli.progress_bars import progress_bars

synth_app = typer.Typer(
    help="Synthetic fingerprints, booking transactions and worlds.", no_args_is_help=True
)
console = Console()


def _fail(message: str) -> typer.Exit:
    console.print(f"[red]error:[/red] {message}")
    return typer.Exit(2)


def _output_folder(out: Path) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise _fail(f"cannot create the output folder {out}: {error.strerror}") from error


@synth_app.command()
def fingers(
    count: int = typer.Option(10, min=1, help="How many fingers (ten per synthetic person)."),
    seed: int = typer.Option(1, min=0, help="Seed (same seed, same fingers)."),
    out: Path = typer.Option(Path("synth-fingers"), help="Folder for the PNG images."),
    impressions: int = typer.Option(2, min=0, help="Impressions of each kind per finger."),
    kind: str = typer.Option("both", help="Impressions to draw: plain, rolled or both."),
    masters: bool = typer.Option(True, help="Also write each finger's master."),
) -> None:
    """Draw SFinGe-style master fingerprints and their impressions as 500 ppi PNG files."""
    from PIL import Image

    from scomm.sim.synth.impression_image import impression
    from scomm.sim.synth.ridge_master import make_master, master_image

    kinds = {"plain": ("plain",), "rolled": ("rolled",), "both": ("plain", "rolled")}.get(kind)
    if kinds is None:
        raise _fail(f"--kind must be plain, rolled or both, not {kind!r}")
    _output_folder(out)
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
            for what in kinds:
                for number in range(impressions):
                    image = impression(master, number, what)
                    Image.fromarray(image).save(out / f"{stem}_{what}{number}.png")
            progress.advance(task)
    shares = ", ".join(f"{name} {n}" for name, n in sorted(classes.items()))
    console.print(f"wrote {count} fingers to {out} ({shares})")


@synth_app.command()
def tenprint(
    count: int = typer.Option(10, min=1, help="How many booking transactions."),
    out: Path = typer.Option(Path("synth-tenprints"), help="Folder for the ANSI/NIST files."),
    seed: int = typer.Option(1, min=0, help="Seed (same seed, same transactions)."),
    first: int = typer.Option(0, min=0, help="Number of the first booking (and person)."),
    record_type: int = typer.Option(14, help="Finger image records: 14 (EBTS) or 4 (legacy)."),
    compression: str = typer.Option("WSQ20", help="WSQ20, NONE, or PNG (Type-14 only)."),
    check: bool = typer.Option(
        False, help="Read every file back with nistitl and scomm's parser, decoding each image."
    ),
) -> None:
    """Write EBTS criminal tenprint submissions (CAR) of synthetic bookings: Type-1, Type-2
    and the 14 images of a tenprint card (10 rolled, plain thumbs, four-finger slaps)."""
    from scomm.nist import TransactionError, decode_tenprint
    from scomm.sim.synth.booking_transactions import booking_transaction

    if record_type not in (14, 4):
        raise _fail(f"--record-type must be 14 or 4, not {record_type}")
    if compression not in ("WSQ20", "NONE", "PNG") or (record_type == 4 and compression == "PNG"):
        raise _fail(f"--compression {compression!r} is not available for Type-{record_type}")
    _output_folder(out)
    total = 0
    with progress_bars(console) as progress:
        task = progress.add_task("transactions", total=count)
        for number in range(first, first + count):
            raw = booking_transaction(seed, number, compression, record_type)
            path = out / f"car-{number:06d}.an2"
            path.write_bytes(raw)
            total += len(raw)
            if check:
                try:
                    _check_transaction(raw)
                    decode_tenprint(raw)
                except TransactionError as error:
                    raise _fail(f"{path} does not read back: {error}") from error
            progress.advance(task)
    checked = "; each read back by nistitl and scomm" if check else ""
    console.print(f"wrote {count} transactions ({total / 1e6:.1f} MB) to {out}{checked}")


def _check_transaction(raw: bytes) -> None:
    """nistitl parses `raw` on its own (scomm's parser checks much more afterwards)."""
    import nistitl

    from scomm.nist import TransactionError

    message = nistitl.Message()
    try:
        message.parse(raw)
    except Exception as error:
        raise TransactionError(None, f"nistitl cannot parse it: {error}") from error


@synth_app.command()
def realism(
    real: Path = typer.Option(
        Path("../shared/data/fvc2002"), help="FVC2002 folder (DB1_B ... DB4_B, MANIFEST.csv)."
    ),
    out: Path = typer.Option(Path("synth-realism"), help="Folder for report.md and report.json."),
    extractor: str = typer.Option("leader", help="leader (about 1 s an image) or mindtct."),
    synthetic_fingers: int = typer.Option(20, min=2, help="Synthetic fingers to measure."),
    impressions: int = typer.Option(8, min=2, max=8, help="Impressions per finger."),
    real_fingers: int = typer.Option(10, min=2, max=10, help="Fingers per real database."),
    nfiq2: bool = typer.Option(True, help="Compute NFIQ 2 for every image."),
    seed: int = typer.Option(2002, min=0, help="Seed of the synthetic fingers."),
    cache: Path | None = typer.Option(None, help="Folder to cache the real images' features."),
) -> None:
    """Compare synthetic impressions with FVC2002 DB1-3 (DB4 apart): minutiae counts, NFIQ 2,
    genuine and impostor scores, each with its two-sample KS statistic."""
    from scomm.sim.synth.realism import (
        EXTRACTORS,
        RealismError,
        RealismOptions,
        image_count,
        report_markdown,
        run_realism,
    )

    if extractor not in EXTRACTORS:
        raise _fail(f"--extractor must be one of {', '.join(EXTRACTORS)}, not {extractor!r}")
    options = RealismOptions(
        real, extractor, synthetic_fingers, impressions, real_fingers, nfiq2, seed, cache
    )
    if not real.is_dir():
        raise _fail(f"real-data folder {real} not found (FVC2002 B databases expected)")
    try:
        total = image_count(options)
    except RealismError as error:
        raise _fail(str(error)) from error
    _output_folder(out)
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

        try:
            report = run_realism(options, step)
        except RealismError as error:
            raise _fail(str(error)) from error
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
    console.print(f"wrote {out / 'report.md'} and {out / 'report.json'}")
