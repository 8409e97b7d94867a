"""A world prepared into a database once: jurisdictions, switches and both repositories,
then an audit entry (`RUN_PREPARED`) recording the run's spec.

A database that holds that entry for the same spec is resumed; one that holds it for
another spec, or holds anything without it, is refused (`RunRefused`). A SQLite file is
prepared in a side file (`<name>.preparing`, with its gallery snapshots) that is renamed
into place when complete, so a process killed while preparing leaves nothing behind;
another database must be empty, and a start killed while preparing it leaves it refused.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.engine import make_url

from scomm.config import Settings
from scomm.domain.clock import ScenarioClock
from scomm.sim.driver_spec import RunRefused, RunSpec, engine_profile
from scomm.sim.synth.enrolment import enrol_repositories, load_jurisdictions
from scomm.sim.synth.transactions import booking_transaction
from scomm.sim.synth.world import World
from scomm.sim.synth.world_prints import EnrolmentTemplates, template_store
from scomm.store.db import Database
from scomm.store.models import AuditEntryRow
from scomm.store.templates import snapshot_folder
from scomm.system import System

PREPARED = "RUN_PREPARED"  # the audit entry that says the world is loaded and the run may start

OpenSystem = Callable[[Settings, ScenarioClock], System]
Advance = Callable[[int], None]


def prepare(
    world: World,
    settings: Settings,
    spec: RunSpec,
    open_system: OpenSystem,
    advance: Advance,
) -> dict[str, bytes] | None:
    """Prepare the run on `settings.database_url` unless it already is; None when it was
    (the run resumes), else the CARs drawn while enrolling, by TCN (each person's prints
    are grown once, for their enrolment and their bookings together)."""
    url = settings.database_url
    # the profile too: a run resumed under another SCOMM_ENGINE would switch engines midway
    wanted = {**spec.recorded(world), "engine_profile": engine_profile(spec.engine, settings)}
    found = prepared_spec(url)
    if found is not None:
        if found == wanted:
            return None
        if {k: v for k, v in found.items() if k != "world"} == {
            k: v for k, v in wanted.items() if k != "world"
        }:
            raise RunRefused(
                f"database {url} holds a run of this spec on another world (the world's "
                "code changed since it started): it cannot be resumed"
            )
        raise RunRefused(
            f"database {url} holds another run ({_differences(found, wanted)}): resume it "
            "with its own options, or start this one on an empty database"
        )
    if not _is_empty(url):
        raise RunRefused(
            f"database {url} is neither empty nor prepared for this run "
            "(was its preparation interrupted? start again on an empty one)"
        )
    target = _sqlite_path(url)
    side = target.with_name(target.name + ".preparing") if target is not None else None
    work = settings
    if side is not None:
        _remove_database(side)
        # unsigned: the side file may be thrown away; the run's own start signs its head
        work = replace(_with_url(settings, f"sqlite:///{side}"), audit_key=None)
    system = open_system(work, ScenarioClock(world.start - timedelta(days=1)))
    try:
        cars = _load(system, world, spec, advance)
        with system.unit_of_work() as uow:
            uow.record("operation", PREPARED, "operator", "", wanted)
            uow.commit()
        if side is not None:
            system.save_galleries()
            with system.db.engine.connect() as connection:  # all into the main file first
                connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        system.close()
    if side is not None and target is not None:
        _move_into_place(side, target)
    return cars


def _load(system: System, world: World, spec: RunSpec, advance: Advance) -> dict[str, bytes]:
    """Jurisdictions, switches and both repositories; the bookings' CARs drawn on the way."""
    load_jurisdictions(system, world)
    by_person: dict[str, list[int]] = {}
    for index, planned in enumerate(world.bookings):
        by_person.setdefault(planned.person_id, []).append(index)
    # this run's, dropped after it; read from and kept in the settings' cache folder
    store = template_store(system.settings.cache_dir, system.ctx.extractor)
    templates = EnrolmentTemplates(system.ctx.extractor, store=store)
    drawn = enrol_repositories(
        system,
        world,
        progress=advance,
        also=lambda person: [
            (i, booking_transaction(world, i, spec.compression, spec.fingers))
            for i in by_person.get(person.person_id, [])
        ],
        templates=templates,
    )
    return {world.bookings[i].booking.tcn: raw for cars in drawn.values() for i, raw in cars}


def prepared_spec(url: str) -> dict[str, Any] | None:
    """The spec a database was prepared for, or None (read without changing the database:
    one that is not scomm's is left as it is, to be refused)."""
    path = _sqlite_path(url)
    if path is not None and not path.exists():
        return None
    db = Database(url)
    try:
        if AuditEntryRow.__tablename__ not in inspect(db.engine).get_table_names():
            return None
        with db.sessions() as session:
            payload = session.scalar(
                select(AuditEntryRow.payload).where(
                    AuditEntryRow.kind == "operation", AuditEntryRow.name == PREPARED
                )
            )
    finally:
        db.dispose()
    return None if payload is None else dict(json.loads(payload))


def _differences(found: dict[str, Any], wanted: dict[str, Any]) -> str:
    """How the spec a database holds differs from this run's (its world left out)."""
    keys = [k for k in found.keys() | wanted.keys() if k != "world"]
    return "; ".join(
        f"{k} {found.get(k)!r} there, {wanted.get(k)!r} here"
        for k in sorted(keys)
        if found.get(k) != wanted.get(k)
    )


def _is_empty(url: str) -> bool:
    """A database a run may take (`Database.is_empty`; a SQLite file is then replaced by the
    prepared one, so anything else in it would be lost); a missing file is empty."""
    path = _sqlite_path(url)
    if path is not None and not path.exists():
        return True
    db = Database(url)
    try:
        return db.is_empty()
    finally:
        db.dispose()


def _sqlite_path(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    if parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def _with_url(settings: Settings, url: str) -> Settings:
    return replace(settings, database_url=url)


def _remove_database(path: Path) -> None:
    """A SQLite file, its journal files and its gallery snapshots."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    snapshots = snapshot_folder(f"sqlite:///{path}")
    if snapshots is not None and snapshots.exists():
        shutil.rmtree(snapshots)


def _move_into_place(side: Path, target: Path) -> None:
    """The prepared side file (and its snapshots) become the target. The snapshots move
    first: a kill before the database moves leaves the target unprepared (prepared again
    on the next start), never a prepared target beside another run's snapshots."""
    side_snapshots = snapshot_folder(f"sqlite:///{side}")
    target_snapshots = snapshot_folder(f"sqlite:///{target}")
    assert side_snapshots is not None and target_snapshots is not None
    if target_snapshots.exists():
        shutil.rmtree(target_snapshots)
    if side_snapshots.exists():
        os.replace(side_snapshots, target_snapshots)
    # The target is empty (checked above); journal files of its own must not meet the
    # prepared file.
    for suffix in ("-wal", "-shm", "-journal"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    os.replace(side, target)
    for suffix in ("-wal", "-shm"):
        Path(f"{side}{suffix}").unlink(missing_ok=True)
