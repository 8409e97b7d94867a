"""`scomm bench serve`: a real `scomm serve` process on loopback, two jails, a low rate for
a few seconds; the JSON holds every figure and they agree with each other (no timing is
asserted). About 8 s: the service is a process of its own (imports, migrations, engine)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from scomm.biometrics.profiles import BASELINE_ENGINE
from scomm.cli import app
from scomm.nist.car import decode_tenprint, encode_tenprint
from scomm.nist.tenprint import FingerImage
from scomm.sim.bench import serve as bench_serve
from scomm.sim.bench.serve import CarWriter, ServeBenchConfig, jail_oris
from scomm.sim.synth.booking_transactions import synthetic_booking
from scomm.store.db import Database

POSTGRES = os.environ.get("SCOMM_TEST_POSTGRES_URL")


def _ridges(seed: int, size: int = 96) -> np.ndarray:
    y, x = np.mgrid[0:size, 0:size].astype(np.float64)
    angle = 0.5 + 0.3 * seed
    phase = 2 * np.pi * (x * np.cos(angle) + y * np.sin(angle)) / 9.0 + 3 * np.sin(x / 23.0)
    return np.clip(127 + 90 * np.sin(phase), 0, 255).astype(np.uint8)


def small_cars(count: int) -> list[bytes]:
    """Small CARs (ten 96x96 uncompressed fingers, distinct per CAR): fast to make and read."""
    made = []
    for number in range(count):
        sub = synthetic_booking(1, number, with_images=False)
        fingers = tuple(
            FingerImage(pixels=_ridges(number * 10 + p), position=p, ppi=500) for p in range(1, 11)
        )
        made.append(encode_tenprint(replace(sub, fingers=fingers), compression="NONE"))
    return made


def test_a_pool_car_is_made_the_jails_in_place() -> None:
    raw = small_cars(1)[0]
    writer = CarWriter(raw)
    ori = jail_oris(3)[2]
    tcn = f"{ori}{writer.tcn[9:17]}00000042"
    car = decode_tenprint(writer.write(ori, tcn))
    assert (car.tcn, car.ori, car.cri, car.dai) == (tcn, ori, ori, f"{ori[:2]}SIB0000")
    assert len(set(jail_oris(40))) == 40 and all(len(o) == 9 for o in jail_oris(40))


def test_a_distinct_run_draws_a_pool_as_large_as_its_submissions() -> None:
    config = ServeBenchConfig(rates=(2.0, 0.5), duration=10.0, cars=4)
    assert config.submissions() == 25 and config.pool_size() == 4
    assert replace(config, distinct=True).pool_size() == 25
    assert replace(config, distinct=True, cars=64).pool_size() == 64


@pytest.fixture(params=["sqlite", "postgresql"])
def served_from(request: pytest.FixtureRequest) -> Iterator[list[str]]:
    """The bench's own temporary SQLite, and where CI provides one, PostgreSQL."""
    if request.param == "sqlite":
        yield []
        return
    if not POSTGRES:
        pytest.skip("SCOMM_TEST_POSTGRES_URL not set (CI runs these against a throwaway server)")
    db = Database(POSTGRES)
    with db.engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    db.dispose()
    yield ["--database", POSTGRES]


def test_bench_serve_reports_every_figure(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, served_from: list[str]
) -> None:
    monkeypatch.setattr(bench_serve, "pool_cars", lambda count, *_: small_cars(count))
    out = tmp_path / "serve.json"
    result = CliRunner().invoke(
        app,
        ["bench", "serve", "--jails", "2", "--rate", "2", "--duration", "3", "--cars", "4",
         "--enrol", "1", "--drain", "60", "--engine", BASELINE_ENGINE, "--no-progress",
         "--json", str(out), "--cache", str(tmp_path / "cache"), *served_from],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    report: dict[str, Any] = json.loads(out.read_text())
    assert json.loads(result.output.strip().splitlines()[-1]) == report  # the JSON line
    assert (report["jails"], report["cars"], report["enrolled"]) == (2, 4, 1)
    assert report["engine"] == BASELINE_ENGINE and report["engine_ms"]["n"] == 1
    assert report["database"] == ("postgresql" if served_from else "sqlite (temporary)")
    [phase] = report["phases"]
    assert phase["rate"] == 2 and phase["submitted"] == 6
    assert phase["accepted"] == phase["submitted"] and phase["refused"] == 0
    assert not phase["errors"]
    latency = phase["acceptance_ms"]
    assert latency["n"] == 6 and 0 < latency["p50"] <= latency["p99"] <= latency["max"]
    # every CAR got its SRE, and GET /v1/transactions/{tcn} says COMPLETED for each
    assert phase["completed"] == phase["completed_over_http"] == 6
    assert 0 < phase["sre_s"]["p50"] <= phase["sre_s"]["p99"]
    # the enrolled person's CARs (pool CAR 0, sent first and fifth) matched at IDENT
    assert phase["iar_expected"] == phase["iar_received"] == phase["iar_s"]["n"] == 2
    assert phase["queue"] and all(n >= 0 for _, n in phase["queue"])
    assert isinstance(phase["queue_grows"], bool)
    # 6 CARs from a pool of 4: the last two were sent before (memoised in the service), so
    # the phase does not count for the rate the engine sustains, whatever its queue did
    assert phase["repeated_cars"] == 2
    assert report["sustained_rate"] is None
    steady = not phase["queue_grows"] and phase["accepted"] == phase["submitted"]
    assert ("--distinct" in report["sustained_note"]) == steady
