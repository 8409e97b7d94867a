"""`scomm serve`: the agencies' HTTP interface (scomm.api) on uvicorn, with the dispatcher in
the same process (or, with --no-worker on PostgreSQL, in `scomm worker` processes)."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Annotated, ClassVar

import typer
from rich.markup import escape

from scomm.api.acceptors import APP_FACTORY, STARTUP_FAILURE, acceptor_environment
from scomm.api.app import create_app
from scomm.api.callbacks import install as install_callbacks
from scomm.api.common import Service
from scomm.api.extraction import extraction_apart
from scomm.api.server import (
    DISPATCHER_NICE,
    DispatcherThread,
    GalleryFollower,
    WalCheckpointer,
    frozen_heap,
    is_sqlite,
    short_gil_turns,
    token_keys,
    without_delays,
)
from scomm.biometrics.wsq_codec import decoding_from_fork_server
from scomm.cli.console import console
from scomm.cli.database import masked
from scomm.cli.errors import BadInput, CliError
from scomm.cli.options import Acceptors, UpgradedDatabaseUrl
from scomm.config import Settings, load_settings
from scomm.domain.clock import SystemClock
from scomm.store.write_lock import ProcessWriteLock, sqlite_file, write_lock_for
from scomm.system import System

# what uvicorn's supervisor of several processes takes for itself and leaves set
SUPERVISOR_SIGNALS = tuple(
    getattr(signal, name)
    for name in ("SIGINT", "SIGTERM", "SIGHUP", "SIGTTIN", "SIGTTOU")
    if hasattr(signal, name)
)


class AcceptorsFailed(CliError):
    """An acceptor process of `scomm serve --acceptors N` could not start."""

    exit_code: ClassVar[int] = 1


def serve(
    host: Annotated[str, typer.Option("--host", help="The address to listen on.")] = "127.0.0.1",
    port: Annotated[
        int, typer.Option("--port", min=1, max=65535, help="The TCP port to listen on.")
    ] = 8000,
    delays: Annotated[
        bool,
        typer.Option(
            "--delays/--no-delays",
            help="The actors take their configured time "
            "(--no-delays: they answer at once, for a demonstration).",
        ),
    ] = True,
    worker: Annotated[
        bool,
        typer.Option(
            "--worker/--no-worker",
            help="Deliver the flow's messages in this process too (--no-worker, PostgreSQL "
            "only: `scomm worker` processes deliver them).",
        ),
    ] = True,
    acceptors: Acceptors = 1,
    database: UpgradedDatabaseUrl = None,
) -> None:
    """Serve the agencies over HTTP (POST /v1/oauth/token, /v1/transactions, /openapi.json),
    delivering the flow's messages in the same process. Put TLS in front of it."""
    settings = load_settings(database_url=database)
    if not worker and is_sqlite(settings.database_url):
        raise BadInput(
            "on SQLite `scomm serve` delivers the messages itself (one process delivers): "
            "--no-worker is for PostgreSQL, with `scomm worker` processes"
        )
    if (
        acceptors > 1
        and is_sqlite(settings.database_url)
        and not sqlite_file(settings.database_url)
    ):
        raise BadInput(
            "--acceptors above 1 needs a database that processes share: a SQLite file or "
            "PostgreSQL, not an in-memory SQLite database"
        )
    settings = settings if delays else without_delays(settings)
    run_service(settings, host, port, worker, acceptors)


def run_service(
    settings: Settings, host: str, port: int, worker: bool = True, acceptors: int = 1
) -> None:
    """Start the system, its dispatcher thread (unless `worker` is False) and the app on
    uvicorn, until SIGINT or SIGTERM: in this process, or with `acceptors` above 1 in that
    many processes of uvicorn's (`scomm.api.acceptors`)."""
    keys, key_path = token_keys(settings)
    # every write of every process that serves the database is made holding it
    writer = write_lock_for(settings.database_url)
    # the isolated WSQ decoder forked from a small process, not from this one
    with exit_on_sigterm(), short_gil_turns(), decoding_from_fork_server():
        system = System(settings, SystemClock())
        service = Service(system, keys, writer=writer)
        dispatcher = DispatcherThread(system, writer) if worker else None
        # the dispatcher's extraction in child processes: off the requests' GIL
        extraction = extraction_apart(system, nice=DISPATCHER_NICE) if worker else None
        if dispatcher is not None and not is_sqlite(settings.database_url):
            # `scomm worker` processes may deliver beside it: follow their enrolments
            system.dispatcher.before_handling = GalleryFollower(system)
        checkpointer = (
            WalCheckpointer(system.db, writer=writer) if is_sqlite(settings.database_url) else None
        )
        # the callback sender before the dispatcher's first pass (`create_app` keeps it)
        install_callbacks(system)
        try:
            if checkpointer is not None:
                checkpointer.start()
            if extraction is not None:
                extraction.start()
            if dispatcher is not None:
                dispatcher.start()
            console.print(
                f"scomm serving {escape(masked(settings.database_url))} on http://"
                f"{escape(host)}:{port} (token key {escape(str(key_path))}, kid {keys.kid})"
                + ("" if acceptors == 1 else f"; {acceptors} processes answer the agencies")
                + ("" if dispatcher is not None else "; `scomm worker` processes deliver")
            )
            if acceptors == 1:
                serve_here(service, host, port)
            else:
                serve_in_acceptors(settings, keys.kid, host, port, acceptors)
        finally:
            if dispatcher is not None:
                dispatcher.stop()
            if checkpointer is not None:
                checkpointer.stop()
            if extraction is not None:
                extraction.close()
            system.close()
            if isinstance(writer, ProcessWriteLock):
                writer.close()


def serve_here(service: Service, host: str, port: int) -> None:
    """The app on uvicorn in this process, until SIGINT or SIGTERM."""
    import uvicorn

    app = create_app(service)
    with frozen_heap():
        uvicorn.run(app, host=host, port=port, log_level="info")


def serve_in_acceptors(
    settings: Settings, kid: str, host: str, port: int, acceptors: int, factory: str = APP_FACTORY
) -> None:
    """The app (`factory`, an import string) in `acceptors` worker processes of uvicorn's
    sharing one listening socket, each started with these settings and the signing key
    `kid`, until SIGINT or SIGTERM (uvicorn stops them, and starts one again that dies).
    Raises AcceptorsFailed where one could not start (uvicorn stopped them all)."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    variables = acceptor_environment(settings, kid)
    saved = {name: os.environ.get(name) for name in variables}
    handlers = {number: signal.getsignal(number) for number in SUPERVISOR_SIGNALS}
    os.environ.update(variables)  # the children are spawned with this environment
    try:
        config = uvicorn.Config(
            factory, factory=True, workers=acceptors, host=host, port=port, log_level="info"
        )
        with config.bind_socket() as listening:
            supervisor = Multiprocess(config, sockets=[listening])
            supervisor.run()
    finally:
        for number, handler in handlers.items():  # uvicorn's stay set otherwise
            signal.signal(number, handler)
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    failed = [p.pid for p in supervisor.processes if p.exitcode == STARTUP_FAILURE]
    if failed:
        raise AcceptorsFailed(
            f"acceptor process {failed[0]} could not start (its reason is logged above): "
            "scomm serve stopped"
        )


@contextmanager
def exit_on_sigterm() -> Iterator[None]:
    """SIGTERM ends the command with exit status 0 after its `finally` blocks (the dispatcher
    stopped, the system closed), as SIGINT does; uvicorn, which takes both signals while it
    serves, raises the signal again once it has shut down, and this handler ends it (with
    `--acceptors`, uvicorn's supervisor returns instead, and `serve_in_acceptors` puts the
    handlers back)."""

    def stop(signum: int, frame: FrameType | None) -> None:
        raise typer.Exit(0)

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
