"""Whole-flow fixtures."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from scomm.config import Settings
from scomm.sim.driver import RunSpec, run
from scomm.sim.synth.world import World, build_world

PrepareOnce = Callable[..., None]


@pytest.fixture(scope="session")
def small_world() -> World:
    return build_world(seed=3, bookings=60)


class Prepared(Exception):
    """Raised where a run would start its bookings: its database is prepared."""


@contextmanager
def stop_at_the_bookings(name: str, _total: int) -> Iterator[Callable[[int], None]]:
    if name == "running bookings":
        raise Prepared(name)
    yield lambda _n: None


def prepare_once(spec: RunSpec, path: Path, *copies: Path) -> None:
    """Prepare `spec`'s run on the SQLite file `path` (the world's jurisdictions and
    repositories loaded, nothing booked yet: most of a small run's cost is enrolling its
    people), then copy the prepared file and its gallery snapshots to each of `copies`;
    `run(spec, ...)` on any of them resumes from there as from a run never started."""
    try:
        run(spec, Settings(database_url=f"sqlite:///{path}"), stage=stop_at_the_bookings)
    except Prepared:
        pass
    else:
        raise AssertionError("the run did not stop before its bookings")
    snapshots = path.with_name(path.name + ".galleries")
    for copy in copies:
        shutil.copyfile(path, copy)
        if snapshots.exists():
            shutil.copytree(snapshots, copy.with_name(copy.name + ".galleries"))


@pytest.fixture
def prepared_copies() -> PrepareOnce:
    """`prepared_copies(spec, path, *copies)`: `prepare_once`, for the tests that run one
    world twice (a clean run and a crashed one) from the same start."""
    return prepare_once
