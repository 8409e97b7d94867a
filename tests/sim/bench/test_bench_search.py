"""`scomm bench search` end to end on a small synthetic gallery."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from scomm.biometrics.profiles import load_profile
from scomm.cli.bench import bench_app
from scomm.config import DEFAULT_ENGINE


def test_bench_search_writes_the_documented_json(tmp_path: Path) -> None:
    out = tmp_path / "search.json"
    args = ["search", "--identities", "400", "--probes", "10", "--fingers", "2",
            "--cache", str(tmp_path / "cache"), "--no-progress", "--json", str(out)]  # fmt: skip
    result = CliRunner().invoke(bench_app, args)
    assert result.exit_code == 0, result.output
    assert "FNIR at FPIR 1e-3" in result.output
    doc = json.loads(out.read_text())
    assert doc["identities"] == 400 and doc["fingers"] == 2 and doc["probes"] == 10
    assert set(doc["fnir_at_fpir"]) == {"1e-3", "1e-4"}
    assert set(doc["exhaustive_fnir_at_fpir"]) == {"1e-3", "1e-4"}
    assert doc["latency_ms"]["p50"] > 0 and doc["latency_ms"]["p99"] >= doc["latency_ms"]["p50"]
    assert 0 < doc["bytes_per_finger"] < 2_000
    assert doc["enrol_identities_per_s"] > 0 and doc["load_s"] >= 0
    assert doc["speedup_vs_exhaustive"] > 0
    # two index fingers of 400 synthetic people: every mate is found, no stranger is taken
    assert doc["fnir_at_fpir"]["1e-3"] == 0.0 and doc["observed_fpir"]["1e-3"] == 0.0
    # the default engine's search: its shortlist, and its own threshold for two fingers
    profile = load_profile(DEFAULT_ENGINE)
    assert doc["shortlist"] == profile.shortlist
    own = doc["extra"]["profile"]
    assert own["engine"] == DEFAULT_ENGINE and own["threshold"] == profile.thresholds[2]
    assert own["observed_fpir"] == 0.0 and own["model_gallery_size"] > 0
    assert (tmp_path / "cache").is_dir()  # the gallery snapshot, reused by the next run
    again = CliRunner().invoke(bench_app, args)
    assert again.exit_code == 0, again.output


def test_bench_search_refuses_bad_finger_counts(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        bench_app, ["search", "--identities", "10", "--fingers", "3", "--no-progress"]
    )
    assert result.exit_code != 0
    assert "--fingers must be one of" in result.output


def test_bench_search_refuses_an_engine_without_an_indexed_search(tmp_path: Path) -> None:
    args = ["search", "--identities", "10", "--engine", "scomm-leader-mcc-v1", "--no-progress"]
    result = CliRunner().invoke(bench_app, args)
    assert result.exit_code == 2
    assert "has no indexed search" in result.output
