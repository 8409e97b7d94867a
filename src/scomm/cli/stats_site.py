"""`scomm stats site`: the public pages of a statistics release, as static files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from scomm.cli.console import console
from scomm.cli.errors import BadInput
from scomm.cli.options import check_file_target


def site(
    release: Annotated[
        Path,
        typer.Option(
            "--release",
            file_okay=False,
            metavar="DIR",
            help="The release folder `scomm stats` wrote (statistics/cells.json, ...).",
        ),
    ],
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            file_okay=False,
            metavar="DIR",
            show_default=False,
            help="Folder for the pages (default: RELEASE/site); publish with SCOMM_PUBLIC_DIR=DIR.",
        ),
    ] = None,
    whatif: Annotated[
        Path | None,
        typer.Option(
            "--whatif",
            dir_okay=False,
            metavar="FILE",
            show_default=False,
            help="A `scomm whatif --json` comparison (default: RELEASE/whatif.json).",
        ),
    ] = None,
) -> None:
    """Write the public pages of a statistics release: static files that work when opened
    from the folder, and that `scomm serve` serves at /public/ from $SCOMM_PUBLIC_DIR."""
    from scomm.reports.site import write_site

    if not (release / "statistics" / "cells.json").is_file():
        raise BadInput(f"--release {release}: no statistics/cells.json there (run scomm stats)")
    target = out if out is not None else release / "site"
    if target.resolve() == release.resolve() or target.resolve() in release.resolve().parents:
        raise BadInput(f"--out {target}: the pages need a folder of their own, not the release's")
    if whatif is not None and not whatif.is_file():
        raise BadInput(f"--whatif {whatif}: no such file")
    check_file_target(target / "index.html", "--out")
    written = write_site(release, target, whatif=whatif)
    index = (target / "index.html").resolve()
    console.print(
        f"wrote {len(written.pages)} pages and {len(written.files)} release files to "
        f"{escape(str(target))}\nopen {escape(index.as_uri())}\n"
        f"or publish them: SCOMM_PUBLIC_DIR={escape(str(target.resolve()))} scomm serve "
        "(then /public/)"
    )
