"""The write lock of the processes that serve one SQLite database (`scomm serve
--acceptors N`: N processes answer the agencies and one more delivers the flow's messages).

A scomm transaction reads the audit chain's head, then appends after it. Two processes
that both read the same head before either commits would both append the same seq: one
commit fails on the chain's key, or (SQLite's driver begins the transaction only at the
first write, after that read) one overwrites the head the other moved. So every write of
every serving process is made holding this lock: a `threading.Lock` for the process's own
threads and an exclusive `flock` on a file beside the database for the other processes. A
process blocked in `flock` gives the interpreter up and wakes as soon as the holder lets go
(no polling, unlike SQLite's busy handler, which sleeps 1 to 100 ms between tries). The
kernel lets the `flock` go with the process: a process killed while it holds it blocks no
one (and SQLite drops the transaction it did not commit).

PostgreSQL needs none of this (its transactions lock the head's row), and neither does an
in-memory SQLite database (one process only): `write_lock_for` gives a plain
`threading.Lock` there."""

from __future__ import annotations

import os
import threading
from contextlib import AbstractContextManager
from pathlib import Path
from types import TracebackType
from typing import Any

from sqlalchemy.engine import make_url

from scomm.store.errors import WriteLockError

try:
    import fcntl
except ImportError:  # pragma: no cover - not on Linux or macOS
    fcntl = None  # type: ignore[assignment]

LOCK_SUFFIX = ".writer-lock"  # the lock file: the database's path with this appended


class ProcessWriteLock:
    """Held by at most one thread of all the processes that open `path`."""

    def __init__(self, path: Path) -> None:
        if fcntl is None:
            raise WriteLockError("a write lock shared by processes needs flock (Linux, macOS)")
        self.path = path
        self._threads = threading.Lock()
        self._owner: int | None = None  # the thread that holds it
        try:
            self._fd: int | None = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as error:
            raise WriteLockError(f"cannot open the write lock {path}: {error.strerror}") from error

    def acquire(self) -> bool:
        self._threads.acquire()
        try:
            if self._fd is None:
                raise WriteLockError(f"the write lock {self.path} is closed")
            fcntl.flock(self._fd, fcntl.LOCK_EX)  # releases the GIL while it waits
        except BaseException:
            self._threads.release()
            raise
        self._owner = threading.get_ident()
        return True

    def release(self) -> None:
        if self._owner != threading.get_ident():
            raise RuntimeError(f"this thread does not hold the write lock {self.path}")
        self._owner = None
        try:
            if self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._threads.release()

    def locked(self) -> bool:
        return self._threads.locked()

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.release()

    def close(self) -> None:
        """Let the file go, once no thread holds the lock; it is unusable after."""
        if self._owner is not None:
            raise WriteLockError(f"the write lock {self.path} is held: release it first")
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def sqlite_file(database_url: str) -> Path | None:
    """The file of a SQLite database URL; None for another database or an in-memory one."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database)


def write_lock_for(database_url: str) -> AbstractContextManager[Any]:
    """The lock every write to this database is made under: shared by all the processes
    that serve a SQLite file, a plain thread lock for any other database."""
    path = sqlite_file(database_url)
    if path is None:
        return threading.Lock()
    return ProcessWriteLock(path.with_name(path.name + LOCK_SUFFIX))
