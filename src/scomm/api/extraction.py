"""`scomm serve`'s fingerprint extraction in child processes, away from the requests' GIL.

The dispatcher thread of `scomm serve` extracts a booking's ten prints before it delivers
the booking (`System.prepare`): seconds of numpy and model code per CAR. In the serving
process that work takes turns at the GIL with the requests, and a CAR's acceptance, which
gives the GIL up at every SQLite call while it holds the write lock, waited behind it (issue
15 item 6, one back-to-back pair on a shared machine: acceptance p99 136 ms at 50 CARs/s
with the dispatcher extracting, 39 ms with it idle). `extraction_apart` moves the
extraction itself into `workers` child processes (spawned, niced like the dispatcher, each
with the same engine built from the same profile); the process keeps its memo, so a
template is still made once per image and the flow finds it where it did. A child that
dies is replaced; the call that met it extracts in the process instead. A child whose
parent is gone (SIGKILL) ends itself.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TYPE_CHECKING

# A child imports this module before it lowers its priority: only light imports here, the
# engine's after `os.nice` (`_start_child`).
if TYPE_CHECKING:
    import numpy as np

    from scomm.biometrics.protocols import Extractor, Template
    from scomm.system import System

PARENT_CHECK_S = 1.0  # how often a child looks whether its parent still runs

_extractor: Extractor | None = None  # in a child: its engine's extractor


def _start_child(engine: str, nice: int, parent: int) -> None:
    global _extractor
    with contextlib.suppress(OSError):
        os.nice(nice)
    from scomm.biometrics.profiles import build_engine, resolve_profile

    _extractor = build_engine(resolve_profile(engine)).extractor
    threading.Thread(target=_end_with, args=(parent,), name="parent-watch", daemon=True).start()


def _end_with(parent: int) -> None:
    """End this child once its parent is gone (a SIGKILLed `scomm serve` leaves it no one
    to answer)."""
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_S)
    os._exit(0)


def _ready() -> bool:
    return _extractor is not None


def _extract(image: np.ndarray, ppi: int, finger: int) -> Template:
    if _extractor is None:  # pragma: no cover - the pool's initializer sets it
        raise RuntimeError("the extraction child has no engine")
    return _extractor.extract(image, ppi, finger)


class ChildExtractor:
    """An `Extractor` whose `extract` runs in one of `workers` child processes, each with
    the engine of profile `engine` (a `FailureToEnrol` there is raised here); `local` is the
    same engine in this process, for the call that meets a dead child."""

    def __init__(self, engine: str, local: Extractor, workers: int, nice: int = 0) -> None:
        self.engine = engine
        self.local = local
        self.workers = workers
        self.nice = nice
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()
        self.replaced = 0  # pools replaced after a child died

    def _executor(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    self.workers,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_start_child,
                    initargs=(self.engine, self.nice, os.getpid()),
                )
            return self._pool

    def start(self) -> None:
        """Start the children now, without waiting for them (their engines load while the
        service starts, not when the first CAR is extracted)."""
        pool = self._executor()
        for _ in range(self.workers):
            pool.submit(_ready)

    def extract(self, image: np.ndarray, ppi: int, finger: int) -> Template:
        pool = self._executor()
        try:
            return pool.submit(_extract, image, ppi, finger).result()
        except BrokenProcessPool:
            with self._lock:
                if self._pool is pool:
                    self._pool = None
                    self.replaced += 1
            pool.shutdown(wait=False, cancel_futures=True)
            return self.local.extract(image, ppi, finger)

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


def extraction_apart(system: System, nice: int = 0, workers: int | None = None) -> ChildExtractor:
    """Make `system`'s (memoised) extraction run in child processes from now on (one per
    usable CPU but one, at least one, unless `workers`: the CPU left over serves the
    requests; on 2 cores, two busy children doubled acceptance p50 and p99 at 50 CARs/s);
    the children start at the first extraction. Close the
    returned extractor when the system stops."""
    from scomm.biometrics.memo import MemoisedExtractor, usable_cpus

    memoised = system.ctx.extractor
    if not isinstance(memoised, MemoisedExtractor):
        raise TypeError("extraction_apart needs the system's memoised extractor")
    child = ChildExtractor(
        system.settings.engine, memoised.inner, workers or max(1, usable_cpus() - 1), nice
    )
    memoised.inner = child
    return child
