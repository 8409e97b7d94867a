"""Options that several commands share, each defined once, and the enums of their choices."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from scomm.cli.errors import BadInput

MAX_SEED = 2**32 - 1  # numpy's legacy generators take no more; no run needs more
# The most of anything a command counts (bookings, people, fingers, searches): more than one
# machine runs; a larger number is a typo, refused before it overflows an array or a clock.
MAX_COUNT = 100_000_000
MAX_ACCEPTORS = 64  # `scomm serve --acceptors`: processes that answer the agencies

DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database",
        "-d",
        metavar="URL",
        show_default=False,
        help="SQLAlchemy URL of an existing database; default: $SCOMM_DATABASE_URL, else "
        "the demo's sqlite:///demo-out/scomm.db.",
    ),
]
NewDatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database",
        "-d",
        metavar="URL",
        show_default=False,
        help="SQLAlchemy URL of an empty database, or of this run's to resume it (default: "
        "$SCOMM_DATABASE_URL, else OUT/scomm.db, replaced on each run).",
    ),
]
UpgradedDatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database",
        "-d",
        metavar="URL",
        show_default=False,
        help="SQLAlchemy URL of the database to create or migrate; default: "
        "$SCOMM_DATABASE_URL, else the demo's sqlite:///demo-out/scomm.db.",
    ),
]
RunDatabaseUrl = Annotated[
    str,
    typer.Option(
        "--database", "-d", metavar="URL", help="SQLAlchemy URL of the run (created if new)."
    ),
]
# `scomm serve --acceptors`, and `scomm bench serve`'s, which passes it on
Acceptors = Annotated[
    int,
    typer.Option(
        "--acceptors",
        min=1,
        max=MAX_ACCEPTORS,
        help="Processes that answer the agencies (1: the process that delivers the "
        "messages answers them too; more use more cores).",
    ),
]
Seed = Annotated[
    int, typer.Option("--seed", min=0, max=MAX_SEED, help="Seed (same seed, same result).")
]
ScenarioSeed = Annotated[
    int | None,
    typer.Option(
        "--seed", min=0, max=MAX_SEED, show_default=False, help="Seed (default: the scenario's)."
    ),
]
Progress = Annotated[
    bool, typer.Option("--progress/--no-progress", help="Show the progress as it goes.")
]
JsonFile = Annotated[
    Path | None,
    typer.Option(
        "--json", dir_okay=False, metavar="FILE", help="Also write the results here as JSON."
    ),
]
Scenario = Annotated[
    str,
    typer.Option(
        "--scenario",
        "-s",
        help="A built-in scenario name (rollout-2008-2011, demo) or a scenario YAML file.",
    ),
]
Scale = Annotated[
    float | None,
    typer.Option(
        "--scale",
        min=0.0,
        show_default=False,
        help="Simulated bookings per real booking, above 0 (default: the scenario's).",
    ),
]


def check_file_target(path: Path | None, option: str) -> None:
    """Refuse, before any work, a file to write that cannot be: a folder, or below a file."""
    if path is None:
        return
    if path.is_dir():
        raise BadInput(f"{option} {path} is a directory, not a file")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise BadInput(f"{option} {path}: {parent} is a file, not a directory")
            return


def out_folder(help: str) -> Any:
    """The `--out` option: a folder (created if missing) that `help` says what goes into."""
    return typer.Option("--out", file_okay=False, metavar="DIR", help=help)


class OnOff(StrEnum):
    ON = "on"
    OFF = "off"


class RunEngine(StrEnum):
    """Engines of `ops run-world` (scomm.sim.driver_spec.ENGINES)."""

    MINUTIAE = "minutiae"
    BASELINE = "baseline"


class Biometrics(StrEnum):
    """How `simulate` matches prints (scomm.sim.driver_spec.BIOMETRICS)."""

    AUTO = "auto"
    IMAGES = "images"
    MODEL = "model"


class Compression(StrEnum):
    """How finger images travel in a transaction."""

    WSQ20 = "WSQ20"
    PNG = "PNG"
    NONE = "NONE"


class RecordType(StrEnum):
    """ANSI/NIST record type of finger images: 14 (EBTS) or 4 (legacy)."""

    TYPE_14 = "14"
    TYPE_4 = "4"


class ImpressionKind(StrEnum):
    PLAIN = "plain"
    ROLLED = "rolled"
    BOTH = "both"


class Extractor(StrEnum):
    """Minutiae extractors of the realism study (scomm.sim.synth.realism.EXTRACTORS)."""

    LEADER = "leader"
    MINDTCT = "mindtct"
