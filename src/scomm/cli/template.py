"""`scomm template show | convert`: finger-minutiae records for the people who exchange them.

Reads ISO/IEC 19794-2:2005, ANSI INCITS 378-2004 and INCITS 378-2009 records (the standard
sniffed from the header by `scomm.biometrics.minutiae_records.read_record`) and scomm's own
compact template (`SCM1`, `scomm.biometrics.compact_minutiae`); writes ISO/IEC 19794-2:2005
or INCITS 378-2004, saying what the other standard cannot carry.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from rich.markup import escape
from rich.table import Table

from scomm.biometrics import compact_minutiae
from scomm.biometrics.minutiae import Minutiae
from scomm.biometrics.minutiae_records import (
    INCITS378_2004,
    INCITS378_2009,
    ISO19794_2_2005,
    FingerView,
    MinutiaeRecord,
    MinutiaeRecordError,
    declared_length,
    read_record,
    write_incits378,
    write_iso19794_2,
)
from scomm.biometrics.minutiae_records.model import FORMAT_ID, MAX_QUALITY
from scomm.cli.console import console
from scomm.cli.errors import BadInput
from scomm.cli.options import check_file_target
from scomm.nist.finger_tables import FINGER_POSITIONS, IMPRESSION_TYPES

template_app = typer.Typer(
    help="Finger-minutiae templates: ISO/IEC 19794-2:2005, ANSI INCITS 378 and scomm's compact "
    "form.",
    no_args_is_help=True,
)

COMPACT = "scomm compact template (SCM1)"
LABELS = {
    ISO19794_2_2005: "ISO/IEC 19794-2:2005",
    INCITS378_2004: "ANSI INCITS 378-2004",
    INCITS378_2009: "ANSI INCITS 378-2009",
}
MINUTIA_TYPES = {0: "other", 1: "ridge ending", 2: "bifurcation"}
# Impression type 9 is ISO/IEC 19794-2's live-scan contactless; not in the ANSI/NIST table.
IMPRESSIONS = {**IMPRESSION_TYPES, 9: "live-scan contactless"}
# Angle units of the two standards, in degrees.
ANGLE_UNIT = {ISO19794_2_2005: 360 / 256, INCITS378_2004: 2.0, INCITS378_2009: 2.0}


class Target(StrEnum):
    """The standard `template convert` writes."""

    ISO = "iso"
    ANSI = "ansi"


TARGETS = {Target.ISO: ISO19794_2_2005, Target.ANSI: INCITS378_2004}


@dataclass(frozen=True)
class TemplateFile:
    """A minutiae template read from a file: its format, as the header has it, and its
    content as a `MinutiaeRecord` (a compact template as a record of one unknown finger)."""

    path: Path
    format: str  # LABELS' values or COMPACT
    version: str  # the record's version field, "" for the compact form
    length: int  # the record length the header declares (the compact form: its size)
    size: int  # bytes in the file: more than `length` when zero padding follows the record
    record: MinutiaeRecord

    @property
    def compact(self) -> bool:
        return self.format == COMPACT


def is_template(data: bytes) -> bool:
    """Whether `data` starts as a minutiae record or a compact template does."""
    return data[:4] in (FORMAT_ID, compact_minutiae.MAGIC)


def read_template(path: Path) -> TemplateFile:
    """The template in file `path`; BadInput naming the file, field and byte offset when it is
    not one this reads."""
    if not path.is_file():
        raise BadInput(f"{path}: no such file")
    data = path.read_bytes()
    if data[:4] == compact_minutiae.MAGIC:
        try:
            minutiae = compact_minutiae.decode(data)
        except compact_minutiae.CompactTemplateError as error:
            raise BadInput(f"{path}: {error}") from error
        view = FingerView(0, 0, 0, 0, minutiae)
        record = MinutiaeRecord(
            ISO19794_2_2005, minutiae.width, minutiae.height, minutiae.ppi, (view,)
        )
        return TemplateFile(path, COMPACT, "", len(data), len(data), record)
    if data[:4] != FORMAT_ID:
        raise BadInput(
            f"{path}: not a minutiae template: it starts with {data[:4]!r} (ISO/IEC 19794-2 "
            f"and INCITS 378 records start with {FORMAT_ID!r}, scomm's compact templates with "
            f"{compact_minutiae.MAGIC!r}) (at byte offset 0)"
        )
    try:
        record = read_record(data)
        length = declared_length(data, record.standard)
    except MinutiaeRecordError as error:
        raise BadInput(f"{path}: {error}") from error
    version = data[4:7].decode("latin-1").strip()
    return TemplateFile(path, LABELS[record.standard], version, length, len(data), record)


def position_name(code: int) -> str:
    return f"{code} ({FINGER_POSITIONS.get(code, 'not a finger position')})"


def impression_name(code: int) -> str:
    return f"{code} ({IMPRESSIONS.get(code, 'not an impression type')})"


TemplateArgument = Annotated[
    Path,
    typer.Argument(
        metavar="FILE",
        help="An ISO/IEC 19794-2:2005 or INCITS 378 (2004, 2009) finger-minutiae record, or a "
        "scomm compact template (SCM1).",
    ),
]


@template_app.command("show")
def template_show(
    file: TemplateArgument,
    minutiae: Annotated[
        bool,
        typer.Option(
            "--minutiae", help="Also list each view's minutiae (x, y, angle, type, quality)."
        ),
    ] = False,
) -> None:
    """The template's format, version, record length, image size and resolution, and each
    finger view (position, impression, quality, number of minutiae)."""
    loaded = read_template(file)
    record = loaded.record
    length = f"{loaded.length} bytes"
    if loaded.size > loaded.length:
        length += f" (+ {loaded.size - loaded.length} bytes of zero padding in the file)"
    version = f", version {loaded.version}" if loaded.version else ""
    console.print(f"{escape(str(file))}: {loaded.format}{escape(version)}, record length {length}")
    resolution = f"{record.ppi} ppi"
    if record.ppi_y is not None:
        resolution = f"{record.ppi} x {record.ppi_y} ppi"
    line = f"image {record.width} x {record.height} pixels at {resolution}"
    if not loaded.compact:
        line += f", capture equipment 0x{record.capture_equipment:04x}"
    if record.standard != ISO19794_2_2005:
        owner, kind = record.cbeff_product_id >> 16, record.cbeff_product_id & 0xFFFF
        line += f", CBEFF product 0x{owner:04x}:0x{kind:04x}"
    console.print(line)
    views = Table(title=f"{len(record.views)} finger view(s)")
    for column in ("view", "finger position", "view number", "impression", "quality"):
        views.add_column(column)
    views.add_column("minutiae", justify="right")
    views.add_column("extended data", justify="right")
    for index, view in enumerate(record.views, start=1):
        views.add_row(
            str(index), position_name(view.finger_position), str(view.view_number),
            impression_name(view.impression_type), str(view.quality),
            str(len(view.minutiae)), f"{len(view.extended_data)} bytes",
        )  # fmt: skip
    console.print(views)
    if minutiae:
        for index, view in enumerate(record.views, start=1):
            console.print(_minutiae_table(view.minutiae, f"finger view {index}: minutiae"))


def _minutiae_table(minutiae: Minutiae, title: str) -> Table:
    table = Table(title=title)
    for column in ("#", "x", "y", "angle (deg)", "type", "quality"):
        table.add_column(column, justify="left" if column == "type" else "right")
    # float32 radians back to the record's degrees: 196.875 (unit 140 of 360/256) must not
    # print as 196.87, so round off the float32 noise first
    degrees = np.round(np.degrees(minutiae.angle.astype(np.float64)), 4) % 360.0
    for k in range(len(minutiae)):
        table.add_row(
            str(k + 1), f"{float(minutiae.x[k]):g}", f"{float(minutiae.y[k]):g}",
            f"{degrees[k]:.2f}", MINUTIA_TYPES.get(int(minutiae.kind[k]), "?"),
            str(int(minutiae.quality[k])),
        )  # fmt: skip
    return table


@template_app.command("convert")
def template_convert(
    file: TemplateArgument,
    to: Annotated[
        Target,
        typer.Option(
            "--to",
            help="iso: ISO/IEC 19794-2:2005; ansi: ANSI INCITS 378-2004.",
            case_sensitive=False,
        ),
    ],
    out: Annotated[
        Path,
        typer.Option("--out", dir_okay=False, metavar="OUT", help="The record file to write."),
    ],
) -> None:
    """Write the template's minutiae as the other standard's record, and say what does not
    carry over (fields one format lacks, rounding of angles and positions)."""
    loaded = read_template(file)
    check_file_target(out, "--out")
    if out.exists() and out.resolve() == file.resolve():
        raise BadInput(f"--out {out} is the input file; write the converted record elsewhere")
    target = TARGETS[to]
    source, notes = _for_target(loaded, target)
    try:
        data = (write_iso19794_2 if target == ISO19794_2_2005 else write_incits378)(source)
        written = read_record(data)
    except MinutiaeRecordError as error:
        raise BadInput(f"{file}: cannot be written as {LABELS[target]}: {error}") from error
    notes += _changes(loaded, source, written)
    out.write_bytes(data)
    count = sum(len(view.minutiae) for view in written.views)
    console.print(
        f"wrote {escape(str(out))}: {LABELS[target]} record of {len(data)} bytes, "
        f"{len(written.views)} finger view(s), {count} minutiae (from {loaded.format})"
    )
    for note in notes:
        console.print(f"  {escape(note)}")


def _for_target(loaded: TemplateFile, target: str) -> tuple[MinutiaeRecord, list[str]]:
    """The record to hand the writer of `target`, and what of it does not carry over."""
    record, notes = loaded.record, []
    if loaded.format == LABELS[target]:
        notes.append(f"the file is already {loaded.format}: rewritten as scomm writes it")
    if loaded.compact:
        notes.append(
            "not carried over: a compact template has no finger position, impression type or "
            "finger quality: written as 0 (unknown finger), 0 (live-scan plain) and 0"
        )
        # quarter pixels on the last column or row would round to the pixel past the edge
        minutiae = record.views[0].minutiae
        out_x = np.rint(minutiae.x) >= record.width
        out_y = np.rint(minutiae.y) >= record.height
        x = np.where(out_x, np.float32(record.width - 1), minutiae.x).astype(np.float32)
        y = np.where(out_y, np.float32(record.height - 1), minutiae.y).astype(np.float32)
        clipped = int(np.count_nonzero(out_x | out_y))
        if clipped:
            notes.append(f"changed: {clipped} minutiae on the image's edge moved inside it")
        moved = replace(minutiae, x=x, y=y)
        record = replace(record, views=(replace(record.views[0], minutiae=moved),))
    if record.standard == ISO19794_2_2005 and target != ISO19794_2_2005 and not loaded.compact:
        notes.append(
            "not carried over: ISO/IEC 19794-2 has no CBEFF product identifier: written as 0 (none)"
        )
    if record.standard != ISO19794_2_2005 and target == ISO19794_2_2005:
        if record.cbeff_product_id:
            notes.append(
                f"not carried over: CBEFF product identifier 0x{record.cbeff_product_id:08x} "
                "(ISO/IEC 19794-2:2005 has no such field)"
            )
    if record.standard == INCITS378_2009:
        notes.append(
            "not carried over: INCITS 378-2009's per-view quality algorithm vendor and id; "
            "minutia qualities 254/255 (not reported, failed), if any, read as 0"
        )
    views: list[FingerView] = []
    for index, view in enumerate(record.views, start=1):
        mine = view.minutiae
        if (mine.width, mine.height, mine.ppi) != (record.width, record.height, record.ppi):
            notes.append(
                f"changed: finger view {index} has its own image ({mine.width} x {mine.height} "
                f"at {mine.ppi} ppi); {LABELS[target]} has one image per record "
                f"({record.width} x {record.height} at {record.ppi} ppi): minutiae rescaled"
            )
        if view.quality > MAX_QUALITY:
            notes.append(
                f"changed: finger view {index} quality {view.quality} "
                f"({'failed' if view.quality == 255 else 'not reported'}) written as 0"
            )
            view = replace(view, quality=0)
        if view.extended_data and _standard_family(record.standard) != _standard_family(target):
            notes.append(
                f"not carried over: finger view {index}'s extended data ({_areas(view)}): "
                "ISO/IEC 19794-2 and INCITS 378 encode these areas differently"
            )
        views.append(view)
    return replace(record, views=tuple(views)), notes


def _standard_family(standard: str) -> str:
    return "iso" if standard == ISO19794_2_2005 else "incits"


def _areas(view: FingerView) -> str:
    """`view`'s extended data areas in words: "41 bytes: ridge counts, core and delta"."""
    names = {1: "ridge counts", 2: "core and delta", 3: "zonal quality"}
    block, pos, kinds = view.extended_data, 0, []
    while pos + 4 <= len(block):
        kind = int.from_bytes(block[pos : pos + 2], "big")
        kinds.append(names.get(kind, f"vendor area 0x{kind:04x}"))
        length = int.from_bytes(block[pos + 2 : pos + 4], "big")
        pos += max(length, 4)
    return f"{len(block)} bytes: {', '.join(dict.fromkeys(kinds))}"


def _changes(loaded: TemplateFile, source: MinutiaeRecord, written: MinutiaeRecord) -> list[str]:
    """What the writer's rounding changed: largest angle and position change per record."""
    angle = position = 0.0
    for before, after in zip(source.views, written.views, strict=True):
        old = before.minutiae
        if old.ppi != written.ppi:
            old = old.at_ppi(written.ppi)
        if len(old) == 0:
            continue
        turn = np.degrees(after.minutiae.angle.astype(np.float64) - old.angle) % 360.0
        angle = max(angle, float(np.max(np.minimum(turn, 360.0 - turn))))
        dx = after.minutiae.x.astype(np.float64) - old.x
        dy = after.minutiae.y.astype(np.float64) - old.y
        position = max(position, float(np.max(np.hypot(dx, dy))))
    notes = []
    unit = ANGLE_UNIT[written.standard]
    if angle > 1e-3:
        notes.append(
            f"changed: angles rounded to units of {unit:g} degrees "
            f"(largest change {angle:.2f} degrees)"
        )
    if position > 1e-3:
        notes.append(
            f"changed: positions rounded to whole pixels (largest change {position:.2f} pixels)"
        )
    return notes
