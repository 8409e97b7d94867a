"""requirements/lock.txt pins, with hashes, everything pyproject.toml asks for (no network), and
tools/audit_dependencies.py audits it or says plainly that it could not."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import re
import tomllib
from pathlib import Path
from types import ModuleType

import pytest
from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

REPO_ROOT = Path(__file__).resolve().parents[2]
LOCK = REPO_ROOT / "requirements" / "lock.txt"
BUILD_LOCK = REPO_ROOT / "requirements" / "build.txt"
BUILD_IN = REPO_ROOT / "requirements" / "build.in"
RELOCK = "pyproject.toml and requirements/ disagree: run `make lock` and commit the result"

_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+?)\s*\\?$")
_HASH = re.compile(r"^--hash=sha256:[0-9a-f]{64}\s*\\?$")


def read_lock(path: Path) -> dict[NormalizedName, tuple[Version, int]]:
    """Each pinned name with its version and how many file hashes it lists. Any other line
    (an unpinned name, a URL, an editable, an option) fails: the lock pins and hashes only."""
    pins: dict[NormalizedName, tuple[Version, int]] = {}
    current: NormalizedName | None = None
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if line[0].isspace():
            assert current is not None and _HASH.match(stripped), (path.name, number, line)
            version, hashes = pins[current]
            pins[current] = (version, hashes + 1)
            continue
        match = _PIN.match(line)
        assert match, f"{path.name}:{number} is not a `name==version` pin: {line!r}"
        current = canonicalize_name(match.group(1))
        assert current not in pins, f"{path.name}:{number} pins {current} twice"
        pins[current] = (Version(match.group(2)), 0)
    return pins


def pyproject() -> dict[str, object]:
    with (REPO_ROOT / "pyproject.toml").open("rb") as f:
        return tomllib.load(f)


def declared() -> list[Requirement]:
    """Every requirement `make lock` locks: the dependencies, every extra's, and build.in's."""
    project = pyproject()["project"]
    assert isinstance(project, dict)
    lines = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        lines.extend(extra)
    for line in BUILD_IN.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            lines.append(line.strip())
    return [Requirement(line) for line in lines]


def test_every_declared_requirement_is_pinned_in_the_lock_within_its_bounds() -> None:
    pins = read_lock(LOCK)
    wrong = []
    for requirement in declared():
        name = canonicalize_name(requirement.name)
        if name not in pins:
            wrong.append(f"{requirement} is not in requirements/lock.txt")
        elif not requirement.specifier.contains(pins[name][0], prereleases=True):
            wrong.append(f"{requirement} but requirements/lock.txt pins {name}=={pins[name][0]}")
    assert not wrong, f"{RELOCK}: " + "; ".join(wrong)


def test_every_pin_lists_the_hashes_of_its_files() -> None:
    for path in (LOCK, BUILD_LOCK):
        unhashed = [name for name, (_, hashes) in read_lock(path).items() if hashes == 0]
        assert not unhashed, f"{path.name} pins without a hash: {unhashed}"


def test_the_build_tools_are_locked_alone_at_the_lock_s_versions() -> None:
    build_system = pyproject()["build-system"]
    assert isinstance(build_system, dict)
    build_in = {
        canonicalize_name(Requirement(line.strip()).name)
        for line in BUILD_IN.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    }
    for line in build_system["requires"]:
        assert canonicalize_name(Requirement(line).name) in build_in, (
            f"[build-system] requires {line}: add it to requirements/build.in, then `make lock`"
        )
    lock, build = read_lock(LOCK), read_lock(BUILD_LOCK)
    assert build_in <= set(build), RELOCK
    disagree = {n: (str(build[n][0]), str(lock.get(n, (None,))[0])) for n in build}
    disagree = {n: versions for n, versions in disagree.items() if versions[0] != versions[1]}
    assert not disagree, f"{RELOCK}: build.txt and lock.txt pin {disagree}"


def test_the_extras_of_a_locked_requirement_are_locked_too() -> None:
    """psycopg[binary] needs psycopg-binary: the extra's requirements, read from the installed
    release's metadata (the venv `make` installed from this lock), are pinned as well."""
    pins = read_lock(LOCK)
    checked = 0
    for requirement in declared():
        for extra in requirement.extras:
            try:
                requires = importlib.metadata.requires(requirement.name) or []
            except importlib.metadata.PackageNotFoundError:
                continue
            for line in requires:
                needed = Requirement(line)
                if needed.marker is not None and needed.marker.evaluate({"extra": extra}):
                    checked += 1
                    assert canonicalize_name(needed.name) in pins, (
                        f"{requirement} needs {needed.name}: {RELOCK}"
                    )
    if checked == 0:
        pytest.skip("no requirement with extras is installed here")


# tools/audit_dependencies.py, driven with stand-ins for the network and for pip-audit.


def audit_tool() -> ModuleType:
    path = REPO_ROOT / "tools" / "audit_dependencies.py"
    spec = importlib.util.spec_from_file_location("audit_dependencies", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_audit_is_skipped_with_one_line_naming_each_source_when_none_answers(
    capsys: pytest.CaptureFixture[str],
) -> None:
    tool = audit_tool()
    ran: list[list[str]] = []

    def offline(method: str, url: str, body: object) -> tuple[int | None, str]:
        return (404, "") if "pypi.org" in url else (None, "name resolution failed")

    assert tool.main([str(LOCK)], get=offline, run=lambda cmd: ran.append(cmd) or 0) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert ran == []
    assert out == [
        "pip-audit skipped: cannot reach PyPI's per-release JSON API (HTTP 404)"
        " nor OSV's query API (name resolution failed)"
    ]


@pytest.mark.parametrize(("pypi_status", "service"), [(200, "pypi"), (503, "osv")])
def test_audit_runs_pip_audit_strictly_against_the_first_source_that_answers(
    pypi_status: int, service: str
) -> None:
    tool = audit_tool()
    ran: list[list[str]] = []

    def online(method: str, url: str, body: object) -> tuple[int | None, str]:
        return (pypi_status, "") if "pypi.org" in url else (200, "")

    assert tool.main([str(LOCK)], get=online, run=lambda cmd: ran.append(cmd) or 0) == 0
    (command,) = ran
    assert command[command.index("--vulnerability-service") + 1] == service
    assert {"--strict", "--require-hashes", "--disable-pip"} <= set(command)
    assert command[command.index("--requirement") + 1] == str(LOCK)


def test_audit_fails_lint_when_pip_audit_finds_a_vulnerability(
    capsys: pytest.CaptureFixture[str],
) -> None:
    tool = audit_tool()

    def online(method: str, url: str, body: object) -> tuple[int | None, str]:
        return 200, ""

    assert tool.main([str(LOCK)], get=online, run=lambda cmd: 1) == 1
    assert "pip-audit failed against PyPI" in capsys.readouterr().err
