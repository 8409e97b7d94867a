"""What `scomm serve` runs besides the app: the token key it signs with, and the
dispatcher in a background thread of the same process (on the embedded database; workers
as processes of their own are a later part of issue 15)."""

from __future__ import annotations

import contextlib
import os
import threading
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from sqlalchemy.engine import make_url

from scomm.api.errors import ApiKeyError
from scomm.api.tokens import KEY_FILE, TokenKeys
from scomm.config import Delays, Settings
from scomm.system import System

POLL = 0.5  # seconds between two looks at the outbox when nothing was due
# The dispatcher's thread runs this much nicer than the requests' threads (Linux: per
# thread, and the extraction threads it starts inherit it): with the CPUs busy extracting,
# a CAR's acceptance still gets them at once.
DISPATCHER_NICE = 10


def key_path(settings: Settings) -> Path:
    """Where the key that signs tokens is: `settings.api_key` (SCOMM_API_KEY), else
    `api-key.pem` beside a SQLite database."""
    if settings.api_key is not None:
        return settings.api_key
    url = make_url(settings.database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        raise ApiKeyError("set SCOMM_API_KEY to the Ed25519 PEM key that signs the tokens")
    return Path(url.database).parent / KEY_FILE


def token_keys(settings: Settings) -> tuple[TokenKeys, Path]:
    """The keys of `key_path`: the one that signs tokens (made, mode 0600, on the first
    start beside a SQLite database) and the public keys rotated out of it (`rotate_key`)."""
    path = key_path(settings)
    return TokenKeys.from_file(path, create=settings.api_key is None), path


def without_delays(settings: Settings) -> Settings:
    """The actors answer at once (a demonstration: an SRE within a second, not 30 minutes)."""
    zero = timedelta(0)
    return replace(settings, delays=Delays(*(zero,) * len(Delays.__dataclass_fields__)))


class DispatcherThread:
    """Delivers the outbox's due messages until stopped: the flow behind the service.

    It holds the process's write lock for one delivery at a time, and not while the engine
    decodes and extracts a booking's prints (`System.prepare`, before the delivery takes
    the lock): a request that writes (a CAR's acceptance) waits at most for one delivery's
    own writes and search, not for every due message and its extraction."""

    def __init__(self, system: System, writer: threading.Lock, poll: float = POLL) -> None:
        self.system = system
        self.writer = writer  # the process's write lock (`Service.writer`)
        self.poll = poll
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name="scomm-dispatcher", daemon=True)
        self.failure: BaseException | None = None

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join()

    def _run(self) -> None:
        _lower_priority(DISPATCHER_NICE)
        while not self.stopping.is_set():
            try:
                handled = self.deliver_due()
            except Exception as error:  # the dispatcher keeps a failing message itself
                self.failure = error
                handled = 0
            if not handled:
                self.stopping.wait(self.poll)

    def deliver_due(self) -> int:
        """Deliver the messages due now, each under the write lock on its own, its engine
        work done before it takes the lock; returns how many were handled."""
        handled = 0
        for seq in self.system.due_now():
            if self.stopping.is_set():
                break
            self.system.prepare(seq)
            with self.writer:
                if self.system.dispatcher.deliver(seq):
                    handled += 1
                self.system.checkpoint_due()
        return handled


def _lower_priority(by: int) -> None:
    """Make the calling thread `by` nicer (where the system lets a thread have its own)."""
    with contextlib.suppress(AttributeError, OSError):
        thread = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, thread, os.getpriority(os.PRIO_PROCESS, thread) + by)
