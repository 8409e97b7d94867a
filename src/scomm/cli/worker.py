"""`scomm worker`: the dispatcher as a process of its own, beside `scomm serve --no-worker`
on PostgreSQL (any number of them); on SQLite `scomm serve` delivers in its own process."""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Annotated

import typer
from rich.markup import escape

from scomm.api.server import POLL, Worker, is_sqlite, without_delays
from scomm.cli.console import console
from scomm.cli.database import masked
from scomm.cli.errors import BadInput
from scomm.cli.options import UpgradedDatabaseUrl
from scomm.config import Settings, load_settings
from scomm.domain.clock import SystemClock
from scomm.system import System

SQLITE_ONE_PROCESS = (
    "on SQLite `scomm serve` delivers the messages in its own process (one writer); "
    "`scomm worker` runs beside `scomm serve --no-worker` on PostgreSQL"
)


def worker(
    poll: Annotated[
        float,
        typer.Option(
            "--poll",
            min=0.01,
            max=60.0,
            help="Seconds between two looks at the outbox when nothing was due.",
        ),
    ] = POLL,
    delays: Annotated[
        bool,
        typer.Option(
            "--delays/--no-delays",
            help="The actors take their configured time "
            "(--no-delays: they answer at once, for a demonstration).",
        ),
    ] = True,
    database: UpgradedDatabaseUrl = None,
) -> None:
    """Deliver the flow's messages (the dispatcher) until SIGTERM or SIGINT, which end the
    delivery under way and exit 0. Several may run at once on PostgreSQL, each message
    delivered once; on SQLite `scomm serve` does this itself."""
    settings = load_settings(database_url=database)
    if is_sqlite(settings.database_url):
        raise BadInput(SQLITE_ONE_PROCESS)
    run_worker(settings if delays else without_delays(settings), poll)


def run_worker(settings: Settings, poll: float) -> None:
    """Start the system and deliver until SIGTERM or SIGINT (one that comes while it starts
    lets it start, then stop)."""
    stopping = threading.Event()

    def stop(signum: int, _frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    system = System(settings, SystemClock())
    try:
        console.print(f"scomm worker delivering from {escape(masked(settings.database_url))}")
        delivered = Worker(system, poll, stopping).run()
        console.print(f"scomm worker stopped after {delivered} deliveries")
    finally:
        system.close()
