"""What `scomm serve` runs besides the app: the token key it signs with, and the
dispatcher in a background thread of the same process (the embedded database's one-process
mode); and `Worker`, the dispatcher as a process of its own (`scomm worker`, PostgreSQL:
any number side by side, `scomm serve --no-worker` answering the agencies)."""

from __future__ import annotations

import contextlib
import gc
import json
import logging
import os
import sys
import threading
from collections import defaultdict
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from scomm.api.callbacks import install as install_callbacks
from scomm.api.errors import ApiKeyError
from scomm.api.tokens import KEY_FILE, TokenKeys
from scomm.biometrics.protocols import Gallery, Template
from scomm.config import Delays, Settings
from scomm.domain.messages import Actor, DeliveryStatus, message_from_payload
from scomm.domain.records import Repository
from scomm.store.db import Database
from scomm.store.models import FingerTemplateRow, OutboxRow
from scomm.store.templates import gallery_generation
from scomm.store.write_lock import sqlite_file
from scomm.system import System

log = logging.getLogger(__name__)

POLL = 0.5  # seconds between two looks at the outbox when nothing was due
# The dispatcher's thread runs this much nicer than the requests' threads (Linux: per
# thread, and the extraction threads it starts inherit it): with the CPUs busy extracting,
# a CAR's acceptance still gets them at once.
DISPATCHER_NICE = 10
# The interpreter's switch interval while `scomm serve` runs (Python's default: 5 ms). A
# request that holds the write lock gives the GIL up at each SQLite call and must get it
# back from whichever thread took it (another request parsing its CAR, the dispatcher's
# engine work): with 5 ms each time, a dozen calls under the lock became 60 ms of holding,
# and the requests behind it queued (issue 15 item 6, one back-to-back pair on a shared
# machine: acceptance p99 350 ms at 50 CARs/s with the dispatcher idle, 50 ms with this).
REQUEST_SWITCH_INTERVAL_S = 0.0005
CHECKPOINT_EVERY = 1.0  # seconds between two copies of SQLite's write-ahead log (`WalCheckpointer`)
WAL_RESTART_PAGES = 1 << 18  # a longer log is restarted (`WalCheckpointer`): 1 GiB of 4 KiB


def key_path(settings: Settings) -> Path:
    """Where the key that signs tokens is: `settings.api_key` (SCOMM_API_KEY), else
    `api-key.pem` beside a SQLite database."""
    if settings.api_key is not None:
        return settings.api_key
    database = sqlite_file(settings.database_url)
    if database is None:
        raise ApiKeyError("set SCOMM_API_KEY to the Ed25519 PEM key that signs the tokens")
    return database.parent / KEY_FILE


def token_keys(settings: Settings) -> tuple[TokenKeys, Path]:
    """The keys of `key_path`: the one that signs tokens (made, mode 0600, on the first
    start beside a SQLite database) and the public keys rotated out of it (`rotate_key`)."""
    path = key_path(settings)
    return TokenKeys.from_file(path, create=settings.api_key is None), path


def without_delays(settings: Settings) -> Settings:
    """The actors answer at once (a demonstration: an SRE within a second, not 30 minutes),
    ICE and the immigration court too (no days between the steps after a transfer)."""
    zero = timedelta(0)
    return replace(
        settings,
        delays=Delays(*(zero,) * len(Delays.__dataclass_fields__)),
        removal_policy=settings.removal_policy.at_once(),
    )


class DispatcherThread:
    """Delivers the outbox's due messages until stopped: the flow behind the service.

    It holds the process's write lock for one delivery at a time, and not while the engine
    decodes and extracts a booking's prints (`System.prepare`, before the delivery takes
    the lock): a request that writes (a CAR's acceptance) waits at most for one delivery's
    own writes and search, not for every due message and its extraction."""

    def __init__(
        self, system: System, writer: AbstractContextManager[Any], poll: float = POLL
    ) -> None:
        self.system = system
        self.writer = writer  # the process's write lock (`Service.writer`)
        self.poll = poll
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name="scomm-dispatcher", daemon=True)
        self.failure: BaseException | None = None
        # people enrolled by another process (`scomm synth load` beside `make serve`, as the
        # README has it) are searched too: followed before each delivery, outside the lock
        # (only this thread searches the galleries)
        self.follower = GalleryFollower(system)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join()

    def _run(self) -> None:
        _lower_priority(DISPATCHER_NICE)
        warm_galleries(self.system)  # not inside the first search, under the write lock
        while not self.stopping.is_set():
            try:
                handled = self.deliver_due()
            except Exception as error:  # the dispatcher keeps a failing message itself
                self.failure = error
                log.warning(
                    "dispatcher pass failed: %s: %s", type(error).__name__, first_line(error)
                )
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
            self.follower.sync()
            self.system.prepare(seq)
            self._send_callback_ahead(seq)
            with self.writer:
                if self.system.dispatcher.deliver(seq):
                    handled += 1
                self.system.checkpoint_due()
        return handled

    def _send_callback_ahead(self, seq: int) -> None:
        """A callback's POST, made before its delivery takes the write lock (the delivery
        then records its outcome): a receiver's 5 s, or its slow answer, holds no request."""
        sender = self.system.dispatcher.handlers.get(Actor.CALLBACK)
        if sender is None or not hasattr(sender, "send_ahead"):
            return
        with self.system.db.sessions() as session:
            row = session.get(OutboxRow, seq)
            if row is None or row.recipient != Actor.CALLBACK.value:
                return
            if row.status != DeliveryStatus.PENDING.value:
                return
            kind, payload = row.type, row.payload
        sender.send_ahead(message_from_payload(kind, json.loads(payload)))


def first_line(error: BaseException) -> str:
    """The first line of `error`'s message: what a log line shows of it (not the SQL's
    values that a database error's later lines hold)."""
    return (str(error).strip().splitlines() or [""])[0]


def _lower_priority(by: int) -> None:
    """Make the calling thread `by` nicer (where the system lets a thread have its own)."""
    with contextlib.suppress(AttributeError, OSError):
        thread = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, thread, os.getpriority(os.PRIO_PROCESS, thread) + by)


@contextlib.contextmanager
def short_gil_turns(interval: float = REQUEST_SWITCH_INTERVAL_S) -> Iterator[None]:
    """`REQUEST_SWITCH_INTERVAL_S` as the switch interval until the block ends."""
    previous = sys.getswitchinterval()
    sys.setswitchinterval(interval)
    try:
        yield
    finally:
        sys.setswitchinterval(previous)


def warm_galleries(system: System) -> None:
    """Load each gallery's compiled search kernels now (`IndexedGallery.warm`: about 0.1 s,
    paid by the first search otherwise); a gallery of another kind has none. A failure is
    logged and left to the first search, which meets it again."""
    for _, gallery in system.galleries():
        warm = getattr(gallery, "warm", None)
        if warm is None:
            continue
        try:
            warm()
        except Exception as error:
            log.warning("warming the %s gallery failed: %s", type(gallery).__name__, error)


class WalCheckpointer:
    """`scomm serve` on SQLite: the write-ahead log copied into the database file every
    `every` seconds by a thread of its own, instead of inside the commit of whichever
    request crossed SQLite's 1000 pages (a CAR is some 85 of them: one acceptance in a
    dozen waited for the copy and its fsync, holding the write lock).

    Each turn copies holding no lock. Under a steady stream of CARs that copy is never
    whole (the writers append while it runs, the readers hold older views), so the log is
    never started again and grows by every CAR: a gigabyte a minute at 50 CARs/s (issue 15
    item 6). Once it holds more than `restart_at` pages, a turn therefore copies the rest
    holding `writer`, the process's write lock, waiting a little for the log's readers
    (`scomm.store.db.RESTART_WAIT_MS`), and the next writer starts the log again from its
    beginning (the file keeps its length: cut back to 64 MiB at each restart, two 60 s
    runs of the load bench had a 485 and a 505 ms maximum, against 150 and 324). That turn
    holds the lock for some 20-120 ms, which the requests behind it wait: so the bound is
    high, a gigabyte (about every 40 s at 50 CARs/s); a pause in the writes restarts the
    log without it."""

    def __init__(
        self,
        db: Database,
        every: float = CHECKPOINT_EVERY,
        writer: AbstractContextManager[Any] | None = None,
        restart_at: int = WAL_RESTART_PAGES,
    ) -> None:
        self.db = db
        self.every = every
        self.writer = writer
        self.restart_at = restart_at
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name="scomm-checkpoint", daemon=True)
        self.failure: BaseException | None = None

    def start(self) -> None:
        self.db.checkpoint_apart()
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        if self.thread.is_alive():
            self.thread.join()
        self.checkpoint()  # the log left short for the next start

    def _run(self) -> None:
        while not self.stopping.wait(self.every):
            self.checkpoint()

    def checkpoint(self) -> None:
        try:
            pages, _ = self.db.checkpoint_wal()
            if self.writer is not None and pages > self.restart_at:
                with self.writer:  # the rest, with no writer appending more
                    self.db.checkpoint_wal(restart=True)
        except Exception as error:  # a busy moment: the next turn copies it
            self.failure = error
            log.warning("checkpoint failed: %s: %s", type(error).__name__, first_line(error))


@contextlib.contextmanager
def frozen_heap() -> Iterator[None]:
    """What the start made (the engine, the galleries, the app) kept out of the garbage
    collector's full passes until the block ends (`gc.freeze`): a full pass over it took
    the GIL for up to 250 ms, and every request waited that long (issue 15 item 6)."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def is_sqlite(database_url: str) -> bool:
    """The embedded database: one process delivers (`scomm serve` with its thread)."""
    return make_url(database_url).get_backend_name() == "sqlite"


class GalleryFollower:
    """Keeps the galleries that a worker holds in memory up with the template rows: an
    identity that another worker enrolled (the repository's generation moved) is enrolled
    here too before the next message is handled. Only identities the gallery lacks are
    read (CJIS enrols new subjects; it does not change an enrolled one's templates)."""

    def __init__(self, system: System) -> None:
        self.system = system
        self.seen: dict[Repository, int] = {}  # empty: the first look compares every id

    def __call__(self) -> None:
        self.sync()

    def sync(self) -> int:
        """Enrol what the galleries lack; returns how many identities were added."""
        added = 0
        with self.system.db.sessions() as session:
            for repository, gallery in self.system.galleries():
                generation = gallery_generation(session, repository)
                if self.seen.get(repository) == generation:
                    continue
                stored = session.scalars(
                    select(FingerTemplateRow.identity_id)
                    .where(FingerTemplateRow.repository == repository.value)
                    .distinct()
                ).all()
                missing = sorted(i for i in stored if i not in gallery)
                for start in range(0, len(missing), 500):
                    added += self._enrol(session, repository, gallery, missing[start : start + 500])
                self.seen[repository] = generation
        return added

    def _enrol(
        self, session: Session, repository: Repository, gallery: Gallery, ids: list[str]
    ) -> int:
        by_identity: dict[str, dict[int, Template]] = defaultdict(dict)
        rows = session.execute(
            select(
                FingerTemplateRow.identity_id, FingerTemplateRow.finger, FingerTemplateRow.data
            ).where(
                FingerTemplateRow.repository == repository.value,
                FingerTemplateRow.identity_id.in_(ids),
            )
        )
        for identity_id, finger, data in rows:
            by_identity[identity_id][finger] = self.system.ctx.codec.decode(data, finger)
        for identity_id, templates in by_identity.items():
            gallery.enrol(identity_id, templates)
        return len(by_identity)


class Worker:
    """The dispatcher as a process of its own: delivers the due messages until `stop` (a
    signal handler may call it), ending the delivery it is in, then returns. Workers share
    the outbox through the claim's row locks (`scomm.bus.dispatcher.Dispatcher`), so it
    takes no process lock: nothing else in its process writes."""

    def __init__(
        self, system: System, poll: float = POLL, stopping: threading.Event | None = None
    ) -> None:
        self.system = system
        self.poll = poll
        self.stopping = stopping or threading.Event()
        self.delivered = 0
        system.dispatcher.should_stop = self.stopping.is_set
        # other workers enrol subjects too: this one's galleries follow the rows
        system.dispatcher.before_handling = GalleryFollower(system)
        install_callbacks(system)  # a worker POSTs the agencies' callbacks too

    def stop(self) -> None:
        self.stopping.set()

    def run(self) -> int:
        """Deliver until stopped; returns how many deliveries were made."""
        while not self.stopping.is_set():
            try:
                handled = self.system.dispatcher.run_due()
                self.system.checkpoint_due()
            except Exception as error:  # the database away for a moment: look again later
                log.warning("worker pass failed: %s: %s", type(error).__name__, first_line(error))
                handled = 0
            self.delivered += handled
            if not handled:
                self.stopping.wait(self.poll)
        return self.delivered
