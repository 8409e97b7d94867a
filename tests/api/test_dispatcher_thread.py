"""`scomm serve`'s dispatcher thread holds the process's write lock one delivery at a time
and never while the engine extracts a booking's prints, so that a jail's CAR is accepted
without waiting behind the flow's fingerprint searches."""

from __future__ import annotations

import os
import sys
import threading
from dataclasses import replace
from typing import Any

import numpy as np
import pytest
from api_world import START, CountingLock, Served, car, ridges
from sqlalchemy import select

from scomm.api.server import DISPATCHER_NICE, DispatcherThread, without_delays
from scomm.api.tokens import Principal
from scomm.api.transactions import booking_from_car
from scomm.biometrics.index.gallery import IndexedGallery
from scomm.biometrics.memo import ExtractionMemo, MemoisedExtractor
from scomm.biometrics.profiles import DEMO_ENGINE
from scomm.biometrics.protocols import CandidateList, Extractor, Template
from scomm.config import Settings
from scomm.domain.agencies import AgencyKind
from scomm.domain.clock import SystemClock
from scomm.domain.hold import us_federal_holiday
from scomm.nist.car import decode_tenprint, encode_tenprint
from scomm.nist.tenprint import FingerImage
from scomm.services import agencies
from scomm.services.fingerprints import tenprint_templates
from scomm.sim.synth.booking_transactions import synthetic_booking
from scomm.store.models import OutboxRow
from scomm.system import System, baseline_context


class Watched:
    """An extractor that notes, at each extraction, whether the write lock was held."""

    def __init__(self, inner: Extractor, writer: CountingLock) -> None:
        self.inner = inner
        self.writer = writer
        self.held: list[bool] = []

    def extract(self, image: np.ndarray, ppi: int, finger: int) -> Template:
        self.held.append(self.writer.locked())
        return self.inner.extract(image, ppi, finger)


def _system(database_url: str, writer: CountingLock) -> tuple[System, Watched]:
    settings = without_delays(Settings(database_url=database_url, seed=1))
    context = baseline_context(settings, us_federal_holiday())
    inner = context.extractor.inner if isinstance(context.extractor, MemoisedExtractor) else None
    assert inner is not None
    watched = Watched(inner, writer)
    # a memo of its own: another test's extraction of the same prints would hide this one's
    memoised = MemoisedExtractor(watched, "watched-baseline", memo=ExtractionMemo())
    return System(settings, SystemClock(), context=replace(context, extractor=memoised)), watched


def _book_and_deliver(system: System, writer: CountingLock, raw: bytes, ori: str) -> int:
    """Book CAR `raw` as its jail `ori` would, then run the dispatcher thread's passes
    until nothing is due; returns how many deliveries it made."""
    agencies.add_agency(
        system.db, START, client_id="jail", kind=AgencyKind.JAIL, name="", scope_value=ori,
        serve=True,
    )  # fmt: skip
    jail = Principal(client_id="jail", kind=AgencyKind.JAIL, scopes=frozenset(),
                     scope_value=ori)  # fmt: skip
    system.book(booking_from_car(raw, system, jail), raw)
    thread = DispatcherThread(system, writer)  # type: ignore[arg-type]
    handled = 0
    while more := thread.deliver_due():
        handled += more
    return handled


def test_the_dispatcher_extracts_outside_the_write_lock_and_locks_each_delivery(
    database_url: str,
) -> None:
    writer = CountingLock()
    system, watched = _system(database_url, writer)
    raw, tcn, ori = car(3)
    try:
        handled = _book_and_deliver(system, writer, raw, ori)
        assert handled >= 3  # the SIB, CJIS, the jail's SRE at least
        assert writer.taken == handled  # once per delivery, not once for all of them
        assert watched.held and not any(watched.held)  # every extraction outside the lock
        # the delivery found the templates made: the search's extraction ran once per finger
        submission = decode_tenprint(raw)
        assert len(watched.held) == len(tenprint_templates(system.ctx, submission))
    finally:
        system.close()


def test_the_dispatcher_searches_an_indexed_gallery_outside_the_write_lock(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """CJIS's search of a CAR runs in `System.prepare`, before the delivery takes the lock;
    the handler, under the lock, gets the gallery's answer without searching again."""
    writer = CountingLock()
    settings = without_delays(Settings(database_url=database_url, seed=1, engine=DEMO_ENGINE))
    system = System(settings, SystemClock())
    searched: list[bool] = []  # per search made, whether the write lock was held
    real = IndexedGallery._search

    def noted(gallery: IndexedGallery, probe: Any, max_candidates: int) -> CandidateList:
        searched.append(writer.locked())
        return real(gallery, probe, max_candidates)

    monkeypatch.setattr(IndexedGallery, "_search", noted)
    sub = synthetic_booking(1, 3)  # synthetic prints: the skeleton engine finds minutiae
    raw, ori = encode_tenprint(sub, compression="NONE"), sub.cri
    try:
        _book_and_deliver(system, writer, raw, ori)
        assert searched == [False]  # CJIS searched once, before the lock
        with system.db.sessions() as session:
            kinds = session.scalars(select(OutboxRow.type).where(OutboxRow.status == "delivered"))
            assert "SRE" in set(kinds)  # the handler answered from that search
    finally:
        system.close()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice is Linux's")
def test_the_dispatcher_thread_yields_the_cpus_to_the_requests(database_url: str) -> None:
    writer = CountingLock()
    system, _ = _system(database_url, writer)
    thread = DispatcherThread(system, writer, poll=0.01)  # type: ignore[arg-type]
    mine = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    try:
        thread.start()
        native = thread.thread.native_id
        assert native is not None
        for _ in range(500):  # it lowers its priority first thing; 5 s at most
            if os.getpriority(os.PRIO_PROCESS, native) != mine:
                break
            thread.stopping.wait(0.01)
        assert os.getpriority(os.PRIO_PROCESS, native) == min(19, mine + DISPATCHER_NICE)
        assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == mine
    finally:
        thread.stop()
        system.close()


def test_a_car_is_accepted_without_decoding_its_images(served: Served) -> None:
    """Acceptance reads the fields; a broken image gets the SIB's ERRT through the flow."""
    sub = synthetic_booking(1, 0, with_images=False)
    fingers = tuple(FingerImage(pixels=ridges(p), position=p, ppi=500) for p in range(1, 11))
    raw = encode_tenprint(replace(sub, fingers=fingers), compression="WSQ20")
    start = raw.index(b"\xff\xa0") + 2  # the first finger's WSQ stream, damaged
    broken = raw[:start] + bytes(40) + raw[start + 40 :]
    headers = served.headers("jail-a")
    nist = {"Content-Type": "application/x-ansi-nist"}
    accepted = served.client.post("/v1/transactions", content=broken, headers={**headers, **nist})
    assert accepted.status_code == 202, accepted.text
    served.system.run_until(None)
    done = served.client.get(f"/v1/transactions/{sub.tcn}", headers=headers).json()
    assert done["status"] == "COMPLETED" and done["response"]["type"] == "ERRT"


def test_a_failing_pass_is_logged_and_kept(
    served: Served, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A pass that fails (the database away for a moment) is kept for the service and
    logged with its first line, not left silent; the thread goes on."""
    thread = DispatcherThread(served.system, served.service.writer, poll=0.01)

    def broken() -> int:
        thread.stopping.set()
        raise RuntimeError("database is locked\nSELECT secret values")

    monkeypatch.setattr(thread, "deliver_due", broken)
    # run here, on the test's thread: it must not renice the test process's main thread
    monkeypatch.setattr("scomm.api.server._lower_priority", lambda by: None)
    with caplog.at_level("WARNING", logger="scomm.api.server"):
        thread._run()
    assert isinstance(thread.failure, RuntimeError)
    assert "dispatcher pass failed: RuntimeError: database is locked" in caplog.text
    assert "secret values" not in caplog.text
