"""The whole-flow tests' running system: jurisdictions and both repositories loaded from a
synthetic world (the handler tests use `fakes.py` instead)."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest

from scomm.biometrics.profiles import DEMO_ENGINE
from scomm.config import Settings
from scomm.domain.clock import ScenarioClock
from scomm.sim.synth.enrolment import enrol_repositories, load_jurisdictions
from scomm.sim.synth.world import World, build_world
from scomm.sim.synth.world_prints import EnrolmentTemplates, template_store
from scomm.system import System


@pytest.fixture(scope="module")
def world() -> World:
    return build_world(seed=5, bookings=12, population=40)


class SessionTemplates:
    """Enrolment templates by engine, made once for the whole session: kept in memory, and
    on disk (`world_prints.TemplateStore`) in a folder that every pytest-xdist worker of
    the session shares, so that a worker reads what another one extracted."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.by_engine: dict[str, EnrolmentTemplates] = {}

    def of(self, system: System) -> EnrolmentTemplates:
        engine = system.ctx.engine_name
        if engine not in self.by_engine:
            store = template_store(self.folder, system.ctx.extractor)
            self.by_engine[engine] = EnrolmentTemplates(system.ctx.extractor, store=store)
        return self.by_engine[engine]


@pytest.fixture(scope="session")
def enrolment_templates(tmp_path_factory: pytest.TempPathFactory) -> SessionTemplates:
    base = tmp_path_factory.getbasetemp()
    # under xdist each worker's base is a folder of the session's own (pytest-N/popen-gwK)
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    return SessionTemplates(shared / "session-templates")


@pytest.fixture
def system(world: World, database_url: str, enrolment_templates: SessionTemplates) -> System:
    clock = ScenarioClock(world.start - timedelta(days=1))
    running = System(
        Settings(database_url=database_url, seed=world.seed, engine=DEMO_ENGINE), clock
    )
    load_jurisdictions(running, world)
    enrol_repositories(running, world, templates=enrolment_templates.of(running))
    yield running
    running.close()
