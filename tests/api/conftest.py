"""A service on SQLite in a temporary folder: one served jail (the ORI of a synthetic CAR)
and its agency, another jail's agency, an auditor, a system on scenario time with the
baseline engine (fast), and a TestClient on the app."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from api_world import OTHER_ORI, START, Served, car
from fastapi.testclient import TestClient

from scomm.api.app import create_app
from scomm.api.common import Service
from scomm.api.tokens import TokenKeys
from scomm.config import Settings
from scomm.domain.agencies import AgencyKind
from scomm.domain.clock import ScenarioClock
from scomm.domain.hold import us_federal_holiday
from scomm.domain.policies import DetainerPolicy
from scomm.domain.records import Jurisdiction
from scomm.services import agencies
from scomm.system import System, baseline_context


@pytest.fixture(autouse=True)
def cheap_secret_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2id with small work factors in these tests (11 ms a hash instead of 130): a test
    world makes and checks a dozen secrets. Hashes stay argon2id, salted and verified the
    same way; tests/services/test_agencies.py and the processes these tests start (serve,
    workers) keep the real work factors."""
    from argon2 import PasswordHasher

    from scomm.services import agencies

    monkeypatch.setattr(
        agencies, "_HASHER", PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
    )


@pytest.fixture
def served(database_url: str) -> Iterator[Served]:
    settings = Settings(database_url=database_url, seed=1)
    system = System(
        settings, ScenarioClock(START), context=baseline_context(settings, us_federal_holiday())
    )
    _, _, ori = car()
    with system.unit_of_work() as uow:
        for place in (ori, OTHER_ORI):
            uow.jurisdictions.add(
                Jurisdiction(
                    ori=place, name=f"county {place}", state=place[:2],
                    sib_ori=f"{place[:2]}SIB0000", detainer_policy=DetainerPolicy.HONOR_ALL,
                    activation_at=None,
                )
            )  # fmt: skip
        uow.commit()
    made = {
        "jail-a": agencies.add_agency(
            system.db, START, client_id="jail-a", kind=AgencyKind.JAIL, name="A",
            scope_value=ori,
        ),
        "jail-b": agencies.add_agency(
            system.db, START, client_id="jail-b", kind=AgencyKind.JAIL, name="B",
            scope_value=OTHER_ORI,
        ),
        "auditor": agencies.add_agency(
            system.db, START, client_id="auditor", kind=AgencyKind.AUDITOR, name="Audit"
        ),
    }  # fmt: skip
    service = Service(system, TokenKeys.generate())
    with TestClient(create_app(service)) as client:
        yield Served(client, system, service, ori, {k: v.secret for k, v in made.items()})
    system.close()
