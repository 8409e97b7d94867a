"""`scomm foia export`: the case-level FOIA release, from the audit log alone once its chain
verifies: pseudonymous, k-anonymous tables with their codebook and manifest."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from scomm.cli.console import console
from scomm.cli.database import verified_snapshot
from scomm.cli.errors import BadInput, CheckFailed
from scomm.cli.options import DatabaseUrl, check_file_target
from scomm.cli.release_folder import check_release_name, check_same_head, release_in

foia_app = typer.Typer(
    help="The FOIA release: case-level tables from the audit log, pseudonymous and k-anonymous.",
    no_args_is_help=True,
)


@foia_app.command("export")
def foia_export(
    release: Annotated[
        str,
        typer.Option(
            "--release", metavar="NAME", help="Name of the release (letters, digits, . _ -)."
        ),
    ],
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            file_okay=False,
            metavar="DIR",
            help="Folder of the release: the tables go into DIR/cases/, the codebook and "
            "the manifest into DIR.",
        ),
    ],
    database: DatabaseUrl = None,
    keep_secret: Annotated[
        Path | None,
        typer.Option(
            "--keep-secret",
            dir_okay=False,
            metavar="FILE",
            show_default=False,
            help="Keep the release's pseudonym key in FILE (mode 0600; outside DIR). "
            "Default: the key is discarded, so no one can link this release to another.",
        ),
    ] = None,
) -> None:
    """Verify the audit chain, then write the case-level tables (encounters, detainers,
    arrests, removals) as CSV and Parquet, with the codebook and the manifest.

    Each person has an identifier that links their rows within this release only (a keyed
    hash under a random per-release key). Dates are kept to the month, places to the state
    and ICE area; each table is generalised until every count it gives is 0 or at least
    11. A broken chain is refused."""
    from scomm.reports.foia import CASES, export_from_session

    check_release_name(release)
    if out.exists() and not out.is_dir():
        raise BadInput(f"--out {out} is a file, not a directory")
    if (out / CASES).exists() and not (out / CASES).is_dir():
        raise BadInput(f"--out {out}: {out / CASES} is a file, not a directory")
    if keep_secret is not None:
        check_file_target(keep_secret, "--keep-secret")
        folder = out.resolve()
        if folder in keep_secret.resolve().parents:
            raise BadInput(
                f"--keep-secret {keep_secret} is inside the release folder {out}: keep the "
                "key out of what is published"
            )
    existing = release_in(out, release)
    with verified_snapshot(database) as (session, _):
        head = check_same_head(out, existing, session)
        made = export_from_session(session, out, release, secret_file=keep_secret)
    table = Table(title=f"FOIA release {escape(release)}: case tables (k = 11)")
    table.add_column("table")
    table.add_column("rows", justify="right")
    table.add_column("values withheld", justify="right")
    for name, case_table in made.tables.items():
        table.add_row(name, f"{len(case_table.rows):,}", f"{sum(made.withheld[name].values()):,}")
    console.print(table)
    console.print(f"built from audit entry {head.seq} ({head.entry_hash[:16]}...)")
    if keep_secret is not None:
        console.print(f"pseudonym key kept in {escape(str(keep_secret))} (mode 0600)")
    else:
        console.print("pseudonym key discarded: this release links to no other")
    where = escape(str(out))
    console.print(f"tables written to {where}/{CASES}/; codebook and manifest in {where}/")


@foia_app.command("verify")
def foia_verify(
    folder: Annotated[
        Path,
        typer.Option(
            "--dir", file_okay=False, metavar="DIR", help="The release folder (its manifest.json)."
        ),
    ],
) -> None:
    """Check a release folder against its manifest: every file listed is there with its
    size and sha256, and no file is there that it does not list (exit 1 otherwise)."""
    from scomm.reports.manifest import read_manifest, verify_manifest

    if not folder.is_dir():
        raise BadInput(f"--dir {folder} is not a directory")
    check = verify_manifest(folder)
    if not check.ok:
        shown = "; ".join(check.problems[:5])
        more = f" (and {len(check.problems) - 5} more)" if len(check.problems) > 5 else ""
        raise CheckFailed(
            f"{folder} does not match its manifest: {len(check.problems)} problem(s): {shown}{more}"
        )
    manifest = read_manifest(folder) or {}
    head = manifest.get("chain_head") or {}
    console.print(
        f"release {escape(str(manifest.get('release')))}: {check.files} files match the "
        f"manifest; built from audit entry {escape(str(head.get('seq', '?')))}"
    )
