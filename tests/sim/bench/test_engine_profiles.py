"""The profile job: every shipped profile but the demo's (tested with its fit) is current."""

from __future__ import annotations

from pathlib import Path

import pytest

from scomm.biometrics.profiles import load_profile, shipped_engines
from scomm.sim.bench.engine_profiles import SHIPPED, shipped_folder, write_shipped
from scomm.sim.synth.demo_engine import ENGINE_NAME


def test_every_shipped_profile_has_a_job_and_every_job_a_shipped_profile() -> None:
    assert set(SHIPPED) == set(shipped_engines())


@pytest.mark.parametrize("name", sorted(set(SHIPPED) - {ENGINE_NAME}))
def test_the_shipped_profile_is_what_the_job_writes(tmp_path: Path, name: str) -> None:
    for path in write_shipped(tmp_path, (name,))[name]:
        assert path.read_bytes() == (shipped_folder() / path.name).read_bytes(), path.name
    assert load_profile(name) == SHIPPED[name]()


def test_an_unknown_job_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no profile job for nope"):
        write_shipped(tmp_path, ("nope",))
