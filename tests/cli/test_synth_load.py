"""`scomm synth load`: a world loaded into a service's database, its CARs written for jails
to submit; loading it twice is refused with one line, not half a second world."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select
from typer.testing import CliRunner

from scomm.cli import app
from scomm.domain.records import Repository
from scomm.nist.car import decode_tenprint
from scomm.sim.synth.world import build_world
from scomm.store.db import Database
from scomm.store.models import JurisdictionRow, SubjectRow

runner = CliRunner()


def test_load_enrols_the_world_and_writes_its_cars_once(database_url: str, tmp_path: Path) -> None:
    out = tmp_path / "cars"
    args = ["synth", "load", "-d", database_url, "--bookings", "4", "--population", "6",
            "--seed", "3", "--out", str(out)]  # fmt: skip
    loaded = runner.invoke(app, args)
    assert loaded.exit_code == 0, loaded.output
    world = build_world(3, 4, 6)
    files = sorted(out.glob("car-*.an2"))
    assert [f.name for f in files] == [f"car-{i:02d}.an2" for i in range(4)]
    for file, planned in zip(files, world.bookings, strict=True):
        if planned.defect is None:
            assert decode_tenprint(file.read_bytes()).tcn == planned.booking.tcn
    recorded = [p for p in world.people.values() if p.immigration is not None]
    with Database(database_url).sessions() as session:
        places = set(session.scalars(select(JurisdictionRow.ori)))
        subjects = session.scalar(
            select(func.count())
            .select_from(SubjectRow)
            .where(SubjectRow.repository == Repository.IMMIGRATION.value)
        )
    assert places == {p.jurisdiction.ori for p in world.jurisdictions}
    assert subjects == len(recorded) > 0
    again = runner.invoke(app, [*args[:-1], str(tmp_path / "again")])
    assert again.exit_code == 2
    assert "already holds jurisdiction" in again.output and "Traceback" not in again.output
    assert not (tmp_path / "again").exists()
