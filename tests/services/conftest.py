"""The whole-flow tests' running system: jurisdictions and both repositories loaded from a
synthetic world (the handler tests use `fakes.py` instead)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from scomm.biometrics.profiles import DEMO_ENGINE
from scomm.config import Settings
from scomm.domain.clock import ScenarioClock
from scomm.sim.synth.enrolment import enrol_repositories, load_jurisdictions
from scomm.sim.synth.world import World, build_world
from scomm.sim.synth.world_prints import EnrolmentTemplates
from scomm.system import System


@pytest.fixture(scope="module")
def world() -> World:
    return build_world(seed=5, bookings=12, population=40)


@pytest.fixture(scope="session")
def enrolment_templates() -> dict[str, EnrolmentTemplates]:
    """Enrolment templates by engine, made once for the whole session."""
    return {}


@pytest.fixture
def system(
    world: World, database_url: str, enrolment_templates: dict[str, EnrolmentTemplates]
) -> System:
    clock = ScenarioClock(world.start - timedelta(days=1))
    running = System(
        Settings(database_url=database_url, seed=world.seed, engine=DEMO_ENGINE), clock
    )
    load_jurisdictions(running, world)
    engine = running.ctx.engine_name
    if engine not in enrolment_templates:
        enrolment_templates[engine] = EnrolmentTemplates(running.ctx.extractor)
    enrol_repositories(running, world, templates=enrolment_templates[engine])
    yield running
    running.close()
