"""`scomm stats`: the statistics release, counted from the audit log alone once its chain
verifies, put through disclosure control and written as files."""

from __future__ import annotations

from enum import StrEnum
from functools import partial
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from scomm.cli.console import console
from scomm.cli.database import verified_snapshot
from scomm.cli.errors import BadInput
from scomm.cli.options import DatabaseUrl
from scomm.cli.release_folder import check_release_name, check_same_head, release_in
from scomm.cli.stats_site import site

stats_app = typer.Typer(
    help="Statistics from the audit log alone, with disclosure control.",
    invoke_without_command=True,
)
stats_app.command("site")(site)


OutFolder = Annotated[
    Path | None,
    typer.Option(
        "--out",
        file_okay=False,
        metavar="DIR",
        help="Folder of the release; the statistics go into DIR/statistics/.",
    ),
]
ReleaseName = Annotated[
    str | None,
    typer.Option(
        "--release",
        metavar="NAME",
        show_default=False,
        help="Name of the release (letters, digits, . _ -); default: chain-SEQ, after the "
        "chain head it is built from.",
    ),
]


class Rounding(StrEnum):
    NONE = "none"
    DRB = "drb"


class Audit(StrEnum):
    EXACT = "exact"
    MARGINS = "margins"


@stats_app.callback()
def stats(
    ctx: Annotated[typer.Context, "the invocation: is a subcommand of `stats` run instead?"],
    database: DatabaseUrl = None,
    out: OutFolder = None,
    release: ReleaseName = None,
    rounding: Annotated[
        Rounding,
        typer.Option(
            "--rounding",
            help="drb: after suppression, round the shown counts in the Census Disclosure "
            "Review Board's manner (under 15 as '<15'; 15-99 to 10; 100-999 to 50; ...).",
        ),
    ] = Rounding.NONE,
    audit: Annotated[
        Audit,
        typer.Option(
            "--audit",
            help="exact: complementary suppression until a linear-programming adversary "
            "recovers no suppressed cell from everything published (minutes for hundreds of "
            "jurisdictions); margins: the cheaper rule that no single margin gives one away.",
        ),
    ] = Audit.EXACT,
    dp_scale: Annotated[
        float | None,
        typer.Option(
            "--dp-scale",
            min=0.5,
            max=1e6,
            show_default=False,
            help="A differentially private release instead of suppression: discrete Gaussian "
            "noise of this standard deviation on every base count (OpenDP); the privacy loss "
            "(rho, epsilon at delta 1e-10) is printed and written to release.json.",
        ),
    ] = None,
    dp_cells_per_person: Annotated[
        int,
        typer.Option(
            "--dp-cells-per-person",
            min=1,
            max=10_000,
            help="With --dp-scale: how many base counts (atom x jurisdiction x month) one "
            "person can add to; the privacy loss holds for people within this bound.",
        ),
    ] = 12,
) -> None:
    """Verify the audit chain, count the statistics from it and write the release.

    ICE's monthly layout (submissions, IDENT matches by level, ICE arrests, removals by
    level) and what ICE never published (detainers and their ends, holds past their legal
    end, citizens on USCIS's records, dismissed charges, switch changes), for the nation,
    each state and each jurisdiction, per month, fiscal year and in all; counts of 1 to 10
    suppressed. A broken chain is refused."""
    if ctx.invoked_subcommand is not None:
        return
    from scomm.reports.disclosure import DpSettings, Rule, protect
    from scomm.reports.release import statistics_of_session

    if out is None:
        raise BadInput("--out DIR is required: the folder of the release")
    if release is not None:
        check_release_name(release)
    if out.exists() and not out.is_dir():
        raise BadInput(f"--out {out} is a file, not a directory")
    if (out / "statistics").exists() and not (out / "statistics").is_dir():
        raise BadInput(f"--out {out}: {out / 'statistics'} is a file, not a directory")
    # a folder holding parts of another release (`scomm foia export`) is not written into
    existing = release_in(out, release)
    with verified_snapshot(database) as (session, result):
        check_same_head(out, existing, session)
        name = release or (
            str(existing["release"])
            if existing is not None and existing.get("release")
            else f"chain-{result.entries}"
        )
        rule = Rule(
            rounding="drb" if rounding is Rounding.DRB else None,
            audit="exact" if audit is Audit.EXACT else "margins",
            dp=DpSettings(scale=dp_scale, cells_per_person=dp_cells_per_person)
            if dp_scale is not None
            else None,
        )
        made = statistics_of_session(
            session,
            out,
            name,
            protect=partial(protect, rule=rule),
            bound=rule.bound,
        )
    table = Table(title=f"release {escape(made.name)}: the nation, {_window(made.layout.months)}")
    table.add_column("measure")
    table.add_column("count", justify="right")
    for _, title, value in made.nation_cumulative():
        table.add_row(escape(title), "suppressed" if value is None else f"{value:,}")
    console.print(table)
    console.print(
        f"built from audit entry {made.head.seq} ({made.head.entry_hash[:16]}...); "
        f"disclosure: {escape(str(made.rule))}"
    )
    if made.privacy is not None:
        console.print(
            f"privacy loss: rho {made.privacy['rho_zcdp']:.4g} (zCDP), epsilon "
            f"{made.privacy['epsilon']:.4g} at delta {made.privacy['delta']:g}, for a person "
            f"in at most {dp_cells_per_person} base counts; no count is exact"
        )
    console.print(f"statistics written to {escape(str(out / 'statistics'))}/")


def _window(months: tuple[str, ...]) -> str:
    return f"{months[0]} to {months[-1]}" if months else "no events"
