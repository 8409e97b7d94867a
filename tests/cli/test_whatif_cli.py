"""`scomm whatif` through the real command line (Typer's runner), on a tiny scenario."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scomm.cli import app

TINY = """
schema: 1
scenario: tiny-whatif
seed: 3
bookings: 40
window: {start: 2010-01-01, end: 2010-07-01}
states:
  - code: TX
    sib_ori: TX0000000
    counties:
      - {ori: TX0010000, name: One County, share: 0.7, activation: 2009-01-01}
      - {ori: TX0020000, name: Two County, share: 0.3, activation: 2009-06-01,
         detainer_policy: honor_none}
population:
  people_per_booking: 1.0
  minimum_people: 30
  citizenship_paths:
    native_citizen: {share: 0.3}
    naturalized: {share: 0.3, ident_record: 1.0, stale: 1.0}
    overstay: {share: 0.4, ident_record: 1.0}
arrests:
  offense_mix: {"5404": 0.5, "1315": 0.5}
dispositions:
  shares: {convicted: 0.5, dismissed: 0.5}
  delay_days: {median: 20, min: 7, max: 40}
officer_policy: {detain_levels: [1, 2, 3]}
"""


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("whatif") / "tiny.yaml"
    path.write_text(TINY)
    return path


def test_whatif_prints_the_differences_and_writes_the_json(tiny: Path, tmp_path: Path) -> None:
    out = tmp_path / "deep" / "whatif.json"
    result = CliRunner().invoke(
        app,
        [
            "whatif",
            "--scenario",
            str(tiny),
            "--policy",
            "safeguards-on",
            "--policy",
            "safeguards-off",
            "--seeds",
            "2",
            "--json",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "A: safeguards-on" in result.output and "B: safeguards-off" in result.output
    assert "US citizens (truly) with a detainer" in result.output
    assert "the same IDENT answer for each" in result.output
    assert "B: safeguards-off: no safeguard (the original program)" in result.output
    written = json.loads(out.read_text())
    assert written["scenario"] == "tiny-whatif"
    assert written["policies"] == ["safeguards-on", "safeguards-off"]
    assert written["seeds"] == [3, 4]
    rows = {r["measure"]: r for r in written["rows"]}
    for arm in ("a", "b"):  # a booking of a person ICE holds or removed is not made
        made, not_made = rows["bookings"][arm]["mean"], rows["bookings_not_made"][arm]["mean"]
        assert made + not_made == 40
    # stale naturalized records: with safeguard (a) off, citizens get detainers
    assert rows["us_citizens_detainers"]["a"]["mean"] == 0
    assert rows["us_citizens_detainers"]["b"]["mean"] > 0


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--policy", "safeguards-on"], "--policy twice"),
        (["--policy", "scenario", "--policy", "sideways"], "neither a policy file"),
        (["--policy", "scenario", "--policy", "missing.yaml"], "no such policy file"),
    ],
)
def test_whatif_refuses_bad_policies_in_one_line(
    tiny: Path, extra: list[str], message: str
) -> None:
    result = CliRunner().invoke(app, ["whatif", "--scenario", str(tiny), *extra])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    "args",
    [
        ["-s", "rollout-2008-2011", "--scale", "inf"],
        ["-s", "demo", "--json", "."],
        ["-s", "demo", "--json", "a-file/whatif.json"],
    ],
    ids=" ".join,
)
def test_what_no_run_can_have_is_refused_before_any_work(
    args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a-file").write_text("a file")
    policies = ["--policy", "safeguards-on", "--policy", "safeguards-off"]
    result = CliRunner().invoke(app, ["whatif", *args, *policies])
    assert result.exit_code == 2, result.output
    assert len(result.output.strip().splitlines()) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["a-file"]
