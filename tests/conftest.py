"""Shared fixtures: where the shared data lives, textured test images, a fresh database."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import text

from scomm.store.db import Database

REPO_ROOT = Path(__file__).resolve().parents[1]
# tests/audit/tampering.py (`from tampering import tampering`), for tamper tests in any folder
sys.path.insert(0, str(Path(__file__).parent / "audit"))

ImageMaker = Callable[..., np.ndarray]
POSTGRES_ENV = "SCOMM_TEST_POSTGRES_URL"

# Commands the tests run (`scomm demo`, `scomm simulate`...) read their engine and cache
# folder from the environment: the flow's tests run the synthetic-only engine (skeleton
# minutiae, milliseconds a print; the default engine's extractor costs about a second a
# print), and nothing a test runs writes into the user's cache (whatever the developer's own
# environment says).  Tests of the default engine and of the cache name them.
os.environ["SCOMM_ENGINE"] = "skeleton-mcc-v1"
os.environ["SCOMM_CACHE_DIR"] = "off"


def pytest_configure(config: pytest.Config) -> None:
    """Under pytest-xdist each worker gets a PostgreSQL database of its own (the tests drop
    and recreate schemas), made beside the one CI names before any test module reads it."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    url = os.environ.get(POSTGRES_ENV)
    if not worker or not url:
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    base = make_url(url)
    name = f"{base.database}_{worker}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    os.environ[POSTGRES_ENV] = base.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The shared data folder ($SCOMM_DATA_DIR, default ../shared/data next to the repository);
    tests that need it skip with the reason when it is absent."""
    configured = os.environ.get("SCOMM_DATA_DIR")
    path = Path(configured) if configured else REPO_ROOT.parent / "shared" / "data"
    if not path.is_dir():
        pytest.skip(f"shared data folder {path} not found (set SCOMM_DATA_DIR to run these tests)")
    return path


def textured_image(height: int, width: int, seed: int = 0) -> np.ndarray:
    """Ridge-like sinusoid, bending with position, plus mild noise: content WSQ handles well."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    angle = 0.5 + 0.3 * seed
    phase = 2 * np.pi * (x * np.cos(angle) + y * np.sin(angle)) / 9.0 + 3 * np.sin(x / 23.0)
    grey = 127 + 90 * np.sin(phase) + rng.normal(0.0, 6.0, (height, width))
    return np.clip(grey, 0, 255).astype(np.uint8)


@pytest.fixture
def textured() -> ImageMaker:
    """`textured(height, width, seed=0)` -> uint8 HxW array."""
    return textured_image


# The finished demo run that the whole-flow tests (tests/e2e/test_flow.py) and the
# statistics tests (tests/reports) read, made once a session: it is among the suite's
# costliest fixtures. Seed 3, 40 planned bookings, 25 people (three bookings are not made:
# their person is held by ICE at the time): a scan of seeds and sizes with the biometric
# model found it among the smallest worlds that use every hop and every measure the
# statistics tests need (detainers expired, US citizens matched, switch changes...). Every
# person with a record or a booking costs an image-level enrolment (about a second of CPU),
# so the population is kept small. Its tests only read it.
DEMO_SEED, DEMO_BOOKINGS, DEMO_POPULATION = 3, 40, 25


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, object], Path]:
    """(the demo's summary, the folder holding its scomm.db, summary.json and report.html)

    Under xdist the run is made once for all workers: the first worker that needs it
    makes it in the run's shared temporary folder, holding a lock; the others wait for
    it and copy the folder (loadfile sends its four files to both workers)."""
    import fcntl
    import json
    import shutil

    out = tmp_path_factory.mktemp("demo")
    if os.environ.get("PYTEST_XDIST_WORKER") is None:  # one process: nothing to share
        return json.loads(json.dumps(_make_demo_run(out))), out  # as the workers read it
    shared = tmp_path_factory.getbasetemp().parent / "shared-demo-run"  # this run's, per uid
    shared.mkdir(exist_ok=True)
    with (shared / "lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        made = shared / "summary-of-the-run.json"
        if not made.exists():
            summary = _make_demo_run(shared / "demo")
            made.write_text(json.dumps(summary))
        summary = json.loads(made.read_text())
    shutil.copytree(shared / "demo", out, dirs_exist_ok=True)
    return summary, out


def _make_demo_run(out: Path) -> dict[str, object]:
    from scomm.biometrics.profiles import DEMO_ENGINE
    from scomm.config import Settings
    from scomm.sim.demo import run_demo

    out.mkdir(parents=True, exist_ok=True)
    settings = Settings(
        database_url=f"sqlite:///{out / 'scomm.db'}", seed=DEMO_SEED, engine=DEMO_ENGINE
    )
    result = run_demo(
        settings, bookings=DEMO_BOOKINGS, seed=DEMO_SEED, out_dir=out, population=DEMO_POPULATION
    )
    return result.summary


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'scomm.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def both_databases(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The embedded SQLite default and, where CI provides one, PostgreSQL (emptied first):
    a module or folder that must hold on both takes `database_url` from this."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'scomm.db'}"
        return
    postgres = os.environ.get("SCOMM_TEST_POSTGRES_URL")
    if not postgres:
        pytest.skip("SCOMM_TEST_POSTGRES_URL not set (CI runs these against a throwaway server)")
    db = Database(postgres)
    with db.engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    db.dispose()
    yield postgres
