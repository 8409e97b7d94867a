"""The product starts without the simulator, and the layer contract in pyproject.toml holds."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]

# Every product package: what a county, a bureau or the coming service app would import.
PRODUCT = [
    "scomm.system",
    "scomm.services",
    "scomm.bus",
    "scomm.audit",
    "scomm.store",
    "scomm.reports",
    "scomm.nist",
    "scomm.forms",
    "scomm.biometrics",
    "scomm.config",
    "scomm.domain",
]
SIMULATOR = ("scomm.sim", "scomm.cli")


def imported_after(modules: list[str]) -> list[str]:
    """The scomm modules a fresh interpreter holds after importing `modules` (and their
    submodules that the packages load themselves)."""
    code = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('scomm'))))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO_ROOT
    )
    return list(json.loads(out.stdout.strip().splitlines()[-1]))


def test_the_composition_root_imports_nothing_of_the_simulator() -> None:
    loaded = imported_after(["scomm.system"])
    assert "scomm.system" in loaded
    assert [m for m in loaded if m.startswith(SIMULATOR)] == []


def test_no_product_package_imports_the_simulator_or_the_command_line() -> None:
    loaded = imported_after(PRODUCT)
    assert set(PRODUCT) <= set(loaded)
    assert [m for m in loaded if m.startswith(SIMULATOR)] == []


def test_the_simulator_is_importable_above_the_product() -> None:
    """The check above is not vacuous: the simulator's modules do load (and load the product)."""
    loaded = imported_after(["scomm.sim.synth.world"])
    assert "scomm.sim.synth.world" in loaded


def test_the_layer_contract_is_kept() -> None:
    lint_imports = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    if lint_imports is None:
        pytest.skip("import-linter is not installed (pip install -e '.[dev]')")
    run = subprocess.run(
        [lint_imports, "--no-cache"], capture_output=True, text=True, cwd=REPO_ROOT
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
