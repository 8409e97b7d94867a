"""`scomm serve --acceptors N`: N processes answer the agencies, and the process that
started them delivers the flow's messages (the dispatcher thread, the WAL checkpointer and
the extraction's children, as in the one-process mode).

Why more than one process: one interpreter runs Python on one core at a time. A CAR's
acceptance (reading its 250 kB body, parsing its records, rendering its outbox row,
writing the booking) is some 10-20 ms of the interpreter; at 50 CARs/s one process had
its interpreter busy all the time, the host's second core mostly idle, and any slower
moment became a queue of requests (issue 15 item 6: acceptance p99 of 80 to 740 ms over
60 s runs). Acceptors share the listening socket (uvicorn's workers); each holds the
database's write lock (`scomm.store.write_lock`) for its writes, as the dispatcher does.

An acceptor searches nothing: it loads no gallery and holds no engine work. It gets its
settings from the process that started it (`acceptor_environment`), so both run the same
database, keys and delays."""

from __future__ import annotations

import base64
import ctypes
import gc
import os
import pickle
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import AbstractContextManager, asynccontextmanager, suppress
from typing import Any

from fastapi import FastAPI

from scomm.api.app import create_app
from scomm.api.common import Service
from scomm.api.errors import AcceptorStartError
from scomm.api.server import REQUEST_SWITCH_INTERVAL_S, token_keys
from scomm.config import Settings
from scomm.domain.clock import SystemClock
from scomm.store.write_lock import ProcessWriteLock, write_lock_for
from scomm.system import System

SETTINGS_VARIABLE = "SCOMM_ACCEPTOR_SETTINGS"  # the settings, from the process that started it
PARENT_VARIABLE = "SCOMM_ACCEPTOR_PARENT"  # that process's id
PR_SET_PDEATHSIG = 1  # prctl(2): the signal a process gets when its parent ends
APP_FACTORY = "scomm.api.acceptors:acceptor_app"  # what uvicorn's worker processes call


def acceptor_environment(settings: Settings) -> dict[str, str]:
    """The variables that give an acceptor process these settings (pickled: they pass
    only from a process to the children it starts)."""
    return {
        SETTINGS_VARIABLE: base64.b64encode(pickle.dumps(settings)).decode("ascii"),
        PARENT_VARIABLE: str(os.getpid()),
    }


def settings_from_environment() -> Settings:
    text = os.environ.get(SETTINGS_VARIABLE)
    if not text:
        raise AcceptorStartError(
            f"{SETTINGS_VARIABLE} is not set: acceptors are started by `scomm serve --acceptors N`"
        )
    settings = pickle.loads(base64.b64decode(text))  # noqa: S301 - from our own parent
    if not isinstance(settings, Settings):
        raise AcceptorStartError(f"{SETTINGS_VARIABLE} does not hold scomm's settings")
    return settings


def acceptor_app() -> FastAPI:
    """The app of one acceptor process (uvicorn calls it in each worker process)."""
    settings = settings_from_environment()
    end_with_parent(int(os.environ.get(PARENT_VARIABLE, "0")))
    keys, _ = token_keys(settings)  # made by the starting process before it started us
    writer = write_lock_for(settings.database_url)
    with writer:  # the start migrates (nothing to do by now) and may anchor: a write
        system = System(settings, SystemClock(), load_galleries=False)
    app = create_app(Service(system, keys, writer=writer))
    app.router.lifespan_context = _closing(system, writer)
    sys.setswitchinterval(REQUEST_SWITCH_INTERVAL_S)  # as the one-process mode's requests
    gc.collect()
    gc.freeze()  # the start's heap out of the collector's full passes (`frozen_heap`)
    return app


def end_with_parent(parent: int) -> None:
    """SIGTERM to this process once `parent` (the process that delivers the messages and
    started the acceptors) is gone, however it ended (SIGKILL too): an acceptor left behind
    would go on booking CARs that no one delivers. Linux's prctl; elsewhere, nothing."""
    with suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if parent and os.getppid() != parent:  # it ended before the prctl
        os.kill(os.getpid(), signal.SIGTERM)


def _closing(system: System, writer: AbstractContextManager[Any]) -> Any:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            with writer:  # an anchor's "closed" checkpoint is a write
                system.close()
            if isinstance(writer, ProcessWriteLock):
                with suppress(OSError):
                    writer.close()

    return lifespan
