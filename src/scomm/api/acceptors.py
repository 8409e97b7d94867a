"""`scomm serve --acceptors N`: N processes answer the agencies, and the process that
started them delivers the flow's messages (the dispatcher thread, the WAL checkpointer and
the extraction's children, as in the one-process mode).

Why more than one process: one interpreter runs Python on one core at a time. A CAR's
acceptance (reading its 250 kB body, parsing its records, rendering its outbox row,
writing the booking) is some 10-20 ms of the interpreter; at 50 CARs/s one process had
its interpreter busy all the time, the host's second core mostly idle, and any slower
moment became a queue of requests (issue 15 item 6; the README's Load section has the
figures). Acceptors share the listening socket (uvicorn's workers); each holds the
database's write lock (`scomm.store.write_lock`) for its writes, as the dispatcher does.

An acceptor searches nothing: it loads no gallery and holds no engine work. It gets its
settings from the process that started it (`acceptor_environment`), so both run the same
database, keys and delays."""

from __future__ import annotations

import base64
import ctypes
import gc
import logging
import os
import pickle
import signal
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractContextManager, asynccontextmanager, suppress
from typing import Any

from fastapi import FastAPI

from scomm.api.app import create_app
from scomm.api.common import Service
from scomm.api.errors import AcceptorStartError
from scomm.api.server import REQUEST_SWITCH_INTERVAL_S, first_line, key_path
from scomm.api.tokens import TokenKeys
from scomm.config import Settings
from scomm.domain.catalogue import RuleCatalogue
from scomm.domain.clock import SystemClock
from scomm.domain.hold import us_federal_holiday
from scomm.store.write_lock import ProcessWriteLock, write_lock_for
from scomm.system import System, engine_context

SETTINGS_VARIABLE = "SCOMM_ACCEPTOR_SETTINGS"  # the settings, from the process that started it
PARENT_VARIABLE = "SCOMM_ACCEPTOR_PARENT"  # that process's id
KID_VARIABLE = "SCOMM_ACCEPTOR_KID"  # the id of the token key it signs with
PR_SET_PDEATHSIG = 1  # prctl(2): the signal a process gets when its parent ends
APP_FACTORY = "scomm.api.acceptors:acceptor_app"  # what uvicorn's worker processes call
STARTUP_FAILURE = 3  # uvicorn.config's: a worker that exits so is not started again

log = logging.getLogger(__name__)


def acceptor_environment(settings: Settings, kid: str) -> dict[str, str]:
    """The variables that give an acceptor process these settings (pickled: they pass
    only from a process to the children it starts) and the signing key's id `kid`."""
    return {
        SETTINGS_VARIABLE: base64.b64encode(pickle.dumps(settings)).decode("ascii"),
        PARENT_VARIABLE: str(os.getpid()),
        KID_VARIABLE: kid,
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
    return started_or_exit(build_acceptor_app)


def started_or_exit(build: Callable[[], FastAPI]) -> FastAPI:
    """`build()`, or, where it fails, the reason logged and exit status 3: uvicorn then
    stops the other processes and `scomm serve` says so, instead of starting this one
    again twice a second for ever."""
    try:
        return build()
    except Exception as error:
        log.error("an acceptor could not start: %s: %s", type(error).__name__, first_line(error))
        sys.exit(STARTUP_FAILURE)


def build_acceptor_app() -> FastAPI:
    settings = settings_from_environment()
    end_with_parent(int(os.environ.get(PARENT_VARIABLE) or 0))
    keys = TokenKeys.from_file(key_path(settings))  # the starting process made it
    expected = os.environ.get(KID_VARIABLE)
    if expected and keys.kid != expected:
        # a restarted acceptor must not sign with a key the others do not know
        raise AcceptorStartError(
            f"the token key is {keys.kid}, not {expected} as when scomm serve started "
            "(rotated since?): restart scomm serve"
        )
    # the engine and the rules outside the lock: only the database's part is a write
    context = engine_context(settings, us_federal_holiday(), RuleCatalogue.load())
    writer = write_lock_for(settings.database_url)
    with writer:  # the start migrates (nothing to do by now) and may anchor
        system = System(settings, SystemClock(), context=context, load_galleries=False)
    # the starting process's checkpointer copies the write-ahead log: no commit here does
    system.db.checkpoint_apart()
    app = create_app(Service(system, keys, writer=writer))
    app.router.lifespan_context = _closing(system, writer)
    sys.setswitchinterval(REQUEST_SWITCH_INTERVAL_S)  # as the one-process mode's requests
    gc.collect()
    gc.freeze()  # the start's heap out of the collector's full passes (`frozen_heap`)
    return app


def end_with_parent(parent: int) -> None:
    """SIGTERM to this process once `parent` (the process that delivers the messages and
    started the acceptors) is gone, however it ended (SIGKILL too): an acceptor left behind
    would go on booking CARs that no one delivers. Linux's prctl; elsewhere, nothing. No
    `parent` (0): nothing."""
    if not parent:
        return
    with suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM) != 0:
            log.warning("this acceptor will not end with scomm serve (prctl refused)")
    if os.getppid() != parent:  # it ended before the prctl
        os.kill(os.getpid(), signal.SIGTERM)


def _closing(system: System, writer: AbstractContextManager[Any]) -> Any:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            with writer:  # nothing of this process's writes half done meanwhile
                system.close()
            if isinstance(writer, ProcessWriteLock):
                with suppress(OSError):
                    writer.close()

    return lifespan
