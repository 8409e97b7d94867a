"""`scomm compare A B`: the score of two fingerprints (images or minutiae templates) under one
of the benchmark's engines, the matcher's explanation of it, and a picture of the pairing.

The picture (`--svg`) is written by hand as text: both prints side by side at 500 ppi (the
images embedded as base64 PNG; a template drawn on a blank canvas of its image's size), every
minutia a small circle with a tick in its direction, and the minutia pairs that agree under
the matcher's transform (the explanation's `matched` pairs) joined by lines.
"""

from __future__ import annotations

import base64
import io
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from xml.sax.saxutils import escape as xml_escape
from xml.sax.saxutils import quoteattr

import numpy as np
import typer
from PIL import Image
from rich.markup import escape
from rich.table import Table

from scomm.biometrics.engine import FingerTemplate
from scomm.biometrics.images import ImageDecodeError, load_finger_image
from scomm.biometrics.match import MatchExplanation
from scomm.biometrics.minutiae import Minutiae
from scomm.biometrics.protocols import FailureToEnrol
from scomm.cli.console import console
from scomm.cli.errors import BadInput
from scomm.cli.options import check_file_target
from scomm.cli.template import is_template, read_template

PPI = 500  # every print is compared (and drawn) at 500 ppi
GAP = 24  # pixels between the two prints in the picture
TITLE = 22  # height of the picture's title strip
KIND_COLOURS = {1: "#e4572e", 2: "#2e86de"}  # ridge ending, bifurcation; other: grey
TICK = 12.0  # length of a minutia's direction tick, pixels


@dataclass(frozen=True)
class Print:
    """One side of the comparison: an image at 500 ppi or a template's minutiae."""

    path: Path
    described: str
    pixels: np.ndarray | None = None
    minutiae: Minutiae | None = None


def load_print(path: Path, ppi: int | None) -> Print:
    """The image or template in `path`; BadInput naming the file when it is neither."""
    if not path.is_file():
        raise BadInput(f"{path}: no such file")
    data = path.read_bytes()
    if is_template(data):
        loaded = read_template(path)
        views = loaded.record.views
        if not views:
            raise BadInput(f"{path}: the {loaded.format} has no finger view")
        which = f", finger view 1 of {len(views)}" if len(views) > 1 else ""
        minutiae = views[0].minutiae
        described = f"{loaded.format}{which}, {len(minutiae)} minutiae"
        return Print(path, described, minutiae=minutiae)
    try:
        image = load_finger_image(data, ppi)
    except ImageDecodeError as error:
        raise BadInput(
            f"{path}: neither a minutiae template nor an image scomm reads: {error}"
        ) from error
    origin = {"argument": "--ppi", "metadata": "from the file", "assumed": image.note}
    described = (
        f"{image.format} image {image.source_width} x {image.source_height} at "
        f"{image.source_ppi:g} ppi ({origin[image.ppi_origin]})"
    )
    return Print(path, described, pixels=image.pixels)


def compare(
    a: Annotated[Path, typer.Argument(metavar="A", help="An image or a minutiae template.")],
    b: Annotated[Path, typer.Argument(metavar="B", help="An image or a minutiae template.")],
    explain: Annotated[
        bool,
        typer.Option(
            "--explain",
            help="Show the matcher's explanation: partial scores, transform, minutia pairs.",
        ),
    ] = False,
    svg: Annotated[
        Path | None,
        typer.Option(
            "--svg",
            dir_okay=False,
            metavar="OUT",
            help="Write both prints side by side with their minutiae, pairs joined by lines.",
        ),
    ] = None,
    engine: Annotated[
        str | None,
        typer.Option(
            "--engine",
            show_default=False,
            help="Engine of `scomm bench verify --engine` (default: that command's default).",
        ),
    ] = None,
    ppi: Annotated[
        int | None,
        typer.Option(
            "--ppi",
            min=100,
            max=4000,
            help="Resolution of the images (default: what the file says, else 500).",
        ),
    ] = None,
) -> None:
    """Compare two fingerprints, each an image (PNG, TIFF, BMP, JPEG, JPEG 2000, WSQ) or a
    minutiae template (ISO/IEC 19794-2, INCITS 378, scomm's compact form): print the
    engine's score (higher means more alike), and with --explain how the matcher got it."""
    from scomm.sim.bench.engines import MinutiaeEngine, bench_engines

    check_file_target(svg, "--svg")
    if svg is not None and svg.exists() and svg.resolve() in (a.resolve(), b.resolve()):
        raise BadInput(f"--svg {svg} is one of the prints; write the picture elsewhere")
    prints = [load_print(path, ppi) for path in (a, b)]
    registry = bench_engines()
    name = engine or registry.default
    if name not in registry:
        raise BadInput(f"--engine {name!r}: no such engine; known: {', '.join(registry.names)}")
    matcher: Any = registry.create(name)
    explaining = getattr(matcher, "explain", None)
    if (explain or svg) and explaining is None:
        raise BadInput(f"engine {name!r} does not explain its scores (--explain, --svg)")
    templates = []
    for side in prints:
        try:
            if side.pixels is not None:
                templates.append(matcher.extract(side.pixels, PPI))
            elif side.minutiae is not None and isinstance(matcher, MinutiaeEngine):
                templates.append(matcher.from_minutiae(side.minutiae))
            else:
                raise BadInput(f"{side.path}: engine {name!r} cannot compare minutiae templates")
        except FailureToEnrol as error:
            raise BadInput(f"{side.path}: no template: {error}") from error
    score = float(matcher.compare(templates[0], templates[1]))
    for label, side, template in zip("AB", prints, templates, strict=True):
        found = ""
        if side.pixels is not None and isinstance(template, FingerTemplate):
            found = f"; {template.minutiae_count} minutiae found"
        console.print(f"{label}: {escape(str(side.path))}: {escape(side.described)}{found}")
    console.print(f"score {score:.4f} (engine {escape(name)}; higher means more alike)")
    if not (explain or svg):
        return
    if explaining is None or not all(isinstance(t, FingerTemplate) for t in templates):
        raise BadInput(f"engine {name!r} gives no minutiae to explain its score with")
    explanation: MatchExplanation = explaining(templates[0], templates[1])
    if explain:
        _print_explanation(explanation, templates[0], templates[1])
    if svg is not None:
        svg.write_text(picture(prints, templates, explanation), encoding="utf-8")
        console.print(f"wrote {escape(str(svg))}: {len(explanation.matched)} minutia pairs joined")


def _point(template: FingerTemplate, index: int) -> str:
    f = template.features
    degrees = math.degrees(float(f.theta[index])) % 360.0
    return f"#{index + 1} ({float(f.x[index]):.0f}, {float(f.y[index]):.0f}, {degrees:.0f} deg)"


def _print_explanation(found: MatchExplanation, a: FingerTemplate, b: FingerTemplate) -> None:
    console.print(
        f"LSS-R score {found.lssr_score:.4f}, consolidation score "
        f"{found.consolidation_score:.4f} (the score combines the two)"
    )
    console.print(
        f"transform A onto B: rotation {math.degrees(found.rotation):.1f} deg, shift "
        f"({found.tx:.1f}, {found.ty:.1f}) px; {found.matched_count} minutia pairs agree under "
        f"it; minutiae in the common area: A {found.overlap_a} of {a.minutiae_count}, "
        f"B {found.overlap_b} of {b.minutiae_count}"
    )
    agreeing = {(int(i), int(j)) for i, j in found.matched}
    kept = Table(title="minutia pairs the relaxation kept (LSS-R)")
    for column in ("#", "A minutia (x, y, angle)", "B minutia (x, y, angle)"):
        kept.add_column(column)
    for column in ("local similarity", "relaxed", "agrees"):
        kept.add_column(column, justify="right")
    for k, (i, j) in enumerate(found.pairs):
        kept.add_row(
            str(k + 1), _point(a, int(i)), _point(b, int(j)),
            f"{float(found.local_similarity[k]):.3f}", f"{float(found.relaxed[k]):.3f}",
            "yes" if (int(i), int(j)) in agreeing else "",
        )  # fmt: skip
    console.print(kept)
    matched = Table(title="minutia pairs that agree under the transform (consolidation)")
    for column in ("#", "A minutia (x, y, angle)", "B minutia (x, y, angle)"):
        matched.add_column(column)
    for k, (i, j) in enumerate(found.matched):
        matched.add_row(str(k + 1), _point(a, int(i)), _point(b, int(j)))
    console.print(matched)


def _png_base64(pixels: np.ndarray) -> str:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _num(value: float) -> str:
    return f"{value:.1f}"


def picture(
    prints: list[Print], templates: list[FingerTemplate], explanation: MatchExplanation
) -> str:
    """SVG text of both prints side by side, their minutiae and the agreeing pairs."""
    sizes = [(t.features.width, t.features.height) for t in templates]
    offsets = [0, sizes[0][0] + GAP]
    width = offsets[1] + sizes[1][0]
    height = TITLE + max(h for _, h in sizes)
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">',
        f"<title>scomm compare: score {explanation.score:.4f}</title>",
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
    ]
    for side, template, (w, h), dx in zip(prints, templates, sizes, offsets, strict=True):
        out.append(
            f'<text x="{dx + 2}" y="{TITLE - 6}" font-family="sans-serif" font-size="13">'
            f"{xml_escape(side.path.name)}</text>"
        )
        out.append(f'<g class="print" transform="translate({dx},{TITLE})">')
        if side.pixels is not None:
            out.append(
                f'<image class="fingerprint" width="{w}" height="{h}" '
                f'xlink:href="data:image/png;base64,{_png_base64(side.pixels)}"/>'
            )
        else:
            out.append(
                f'<rect class="canvas" width="{w}" height="{h}" fill="#ffffff" stroke="#999999"/>'
            )
        out += _minutiae(template)
        out.append("</g>")
    a, b = templates[0].features, templates[1].features
    out.append('<g class="pairs" stroke="#1e9e3e" stroke-width="1.5" stroke-opacity="0.8">')
    for i, j in explanation.matched:
        out.append(
            f'<line class="pair" x1="{_num(float(a.x[i]))}" y1="{_num(float(a.y[i]) + TITLE)}" '
            f'x2="{_num(float(b.x[j]) + offsets[1])}" y2="{_num(float(b.y[j]) + TITLE)}"/>'
        )
    out.append("</g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _minutiae(template: FingerTemplate) -> list[str]:
    """A circle and a direction tick per minutia; ISO angles run counter-clockwise with the
    image's y axis pointing down, so the tick goes to (cos t, -sin t)."""
    f = template.features
    out = []
    for k in range(len(f.x)):
        x, y, t = float(f.x[k]), float(f.y[k]), float(f.theta[k])
        colour = KIND_COLOURS.get(int(f.kind[k]), "#777777")
        out.append(
            f'<g class="minutia" stroke={quoteattr(colour)} fill="none" stroke-width="1.5">'
            f'<circle cx="{_num(x)}" cy="{_num(y)}" r="4"/>'
            f'<line class="direction" x1="{_num(x)}" y1="{_num(y)}" '
            f'x2="{_num(x + TICK * math.cos(t))}" y2="{_num(y - TICK * math.sin(t))}"/></g>'
        )
    return out
