"""`scomm nist show | validate | images`: look inside ANSI/NIST-ITL (EBTS) transactions, for
the people who exchange them: what a file holds, whether a tenprint submission passes
scomm's EBTS checks (and which field fails), and its finger images as PNG files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from PIL import Image
from rich.markup import escape
from rich.table import Table

from scomm.cli.console import console
from scomm.cli.errors import BadInput, CheckFailed
from scomm.nist import (
    TENPRINT_TOTS,
    TransactionError,
    decode_tenprint,
    read_header,
    read_record_images,
    read_tot,
)
from scomm.nist.wire import parse_records, record_idc, scan_type1

nist_app = typer.Typer(help="ANSI/NIST-ITL (EBTS) transaction files.", no_args_is_help=True)

TransactionFile = Annotated[
    Path,
    typer.Argument(
        metavar="FILE",
        help="An ANSI/NIST-ITL transaction (a CAR that `scomm synth tenprint` wrote).",
    ),
]


def _read(path: Path) -> bytes:
    if not path.is_file():
        raise BadInput(f"{path}: no such file")
    return path.read_bytes()


def _shown(value: str) -> str:
    """A field's text for the terminal: separators and other control characters as "?"."""
    return escape("".join(ch if ch.isprintable() else "?" for ch in value))


def _fault(error: TransactionError) -> str:
    return str(error)  # "1.002 VER: ...": the field, its mnemonic and the reason


@nist_app.command("show")
def nist_show(file: TransactionFile) -> None:
    """The transaction's Type-1 header as written (and whether EBTS would take it), its records
    (type, IDC) and its finger images (record, finger position, impression, resolution,
    size, compression)."""
    raw = _read(file)
    # The Type-1 fields as written: any edition's header shows (a 1.002 VER of "0", a DAI that
    # is no 9-character ORI); whether it is what EBTS asks is said below it, not refused.
    fields = scan_type1(raw)
    console.print(
        "  ".join(
            f"{name} {_shown(fields.get(number, '-'))}"
            for name, number in (("TOT", 4), ("VER", 2), ("TCN", 9), ("ORI", 8), ("DAI", 7))
        )
        + f"  DAT {_shown(fields.get(5, '-'))}"
    )
    try:
        read_header(raw)
    except TransactionError as error:
        console.print(f"note: not an EBTS header: {escape(str(error))}")
    records = Table(title="records")
    for column in ("#", "type", "IDC"):
        records.add_column(column, justify="right")
    for index, record in enumerate(parse_records(raw), start=1):
        records.add_row(str(index), f"Type-{record.type}", str(record_idc(record)))
    console.print(records)
    images = Table(title="finger images")
    for column in ("record", "IDC", "FGP", "IMP", "ppi", "width x height", "compression"):
        images.add_column(column)
    for found in read_record_images(raw):
        image = found.image
        height, width = image.pixels.shape[:2]
        images.add_row(
            f"Type-{found.record_type}", str(found.idc), str(image.position),
            str(image.impression), str(image.ppi), f"{width} x {height}",
            escape(found.compression),
        )  # fmt: skip
    console.print(images)


@nist_app.command("validate")
def nist_validate(file: TransactionFile) -> None:
    """Check a tenprint submission (CAR or CNA) as scomm's CJIS does; exit 1 naming the
    field at fault, as an ERRT would."""
    raw = _read(file)
    try:
        tot = read_tot(raw)
        if tot not in TENPRINT_TOTS:
            raise CheckFailed(f"1.004: TOT {tot} is not a tenprint submission (CAR or CNA)")
        submission = decode_tenprint(raw)
    except TransactionError as error:
        raise CheckFailed(f"invalid: {_fault(error)}") from error
    console.print(
        f"valid {escape(tot)}: TCN {escape(submission.tcn)}, "
        f"{len(submission.fingers)} finger images, ORI {escape(submission.ori)}"
    )


@nist_app.command("images")
def nist_images(
    file: TransactionFile,
    out: Annotated[
        Path,
        typer.Option("--out", file_okay=False, metavar="DIR", help="Folder for the PNG files."),
    ],
) -> None:
    """Write every finger image of the transaction as an 8-bit PNG, in record order, named
    by record, IDC and finger position."""
    raw = _read(file)
    found = read_record_images(raw)
    if out.exists() and not out.is_dir():
        raise BadInput(f"--out {out}: not a folder")
    out.mkdir(parents=True, exist_ok=True)
    for index, record in enumerate(found, start=1):
        name = (
            f"{index:02d}-type{record.record_type}-idc{record.idc}-fgp{record.image.position}.png"
        )
        Image.fromarray(record.image.pixels).save(out / name, dpi=(record.image.ppi,) * 2)
    console.print(f"wrote {len(found)} images to {escape(str(out))}")
