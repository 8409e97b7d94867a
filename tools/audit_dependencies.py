"""`make lint`'s vulnerability audit: pip-audit over every pin of requirements/lock.txt.

Usage: .venv/bin/python tools/audit_dependencies.py [LOCK_FILE]

pip-audit asks an advisory source about each pinned release. It first tries PyPI's per-release
JSON API (the one pip-audit's default service reads), then OSV. Where neither answers, it prints
one line, "pip-audit skipped: cannot reach ...", and exits 0: a machine without that access can
still lint. Where one answers, pip-audit runs with --strict against it: a locked release with a
known vulnerability fails (pip-audit's table names the package, its version, the advisory and
the fixed versions), and so does a release it could not look up, since a partial audit would be
a false all-clear. The fix for a vulnerable pin is a newer release: `make lock UPGRADE=1` (or a
raised lower bound in pyproject.toml and `make lock`).
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

PYPI = "PyPI"
OSV = "OSV"
PROBE_TIMEOUT_S = 10.0
NAMES = {PYPI: "PyPI's per-release JSON API", OSV: "OSV's query API"}

# A fetch answers (status, error): status is the HTTP status, or None with the error text.
Fetch = Callable[[str, str, dict[str, object] | None], tuple[int | None, str]]

_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")


def first_pin(lock_text: str) -> tuple[str, str]:
    """The first `name==version` line of a lock file (the release the probes ask about)."""
    for line in lock_text.splitlines():
        match = _PIN.match(line)
        if match:
            return match.group(1), match.group(2)
    raise SystemExit("audit_dependencies: the lock file pins nothing")


def probe_urls(name: str, version: str) -> list[tuple[str, str, str, dict[str, object] | None]]:
    """(service, method, url, json body) for each advisory source, in the order they are tried."""
    return [
        (PYPI, "GET", f"https://pypi.org/pypi/{name}/{version}/json", None),
        (
            OSV,
            "POST",
            "https://api.osv.dev/v1/query",
            {"package": {"name": name, "ecosystem": "PyPI"}, "version": version},
        ),
    ]


def _short(error: BaseException) -> str:
    """One short phrase for a failed request (requests' own messages run to several lines)."""
    text = " ".join(str(error).split())
    for marker, phrase in (
        ("Name or service not known", "name resolution failed"),
        ("Temporary failure in name resolution", "name resolution failed"),
        ("Failed to resolve", "name resolution failed"),
        ("Connection refused", "connection refused"),
        ("timed out", "timed out"),
        ("CERTIFICATE_VERIFY_FAILED", "TLS certificate not trusted"),
    ):
        if marker in text:
            return phrase
    return f"{type(error).__name__}: {text[:120]}"


def fetch(method: str, url: str, body: dict[str, object] | None) -> tuple[int | None, str]:
    """The live fetch, with requests (pip-audit's own HTTP client, so the same TLS settings)."""
    import requests

    try:
        response = requests.request(method, url, json=body, timeout=PROBE_TIMEOUT_S)
    except requests.RequestException as error:
        return None, _short(error)
    return response.status_code, ""


def choose_service(name: str, version: str, get: Fetch) -> tuple[str | None, str]:
    """The first advisory source that answers, or None and why none did (one line)."""
    failures = []
    for service, method, url, body in probe_urls(name, version):
        status, error = get(method, url, body)
        if status == 200:
            return service, ""
        failures.append(f"{NAMES[service]} ({error or f'HTTP {status}'})")
    return None, " nor ".join(failures)


def pip_audit_command(lock: Path, service: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "pip_audit",
        "--requirement",
        str(lock),
        "--require-hashes",
        "--disable-pip",  # the lock is complete and hashed: audit its pins, resolve nothing
        "--strict",  # a release that could not be looked up fails: no partial all-clear
        "--vulnerability-service",
        service.lower(),
        "--aliases",
        "on",
        "--progress-spinner",
        "off",
    ]


def main(
    argv: list[str],
    get: Fetch = fetch,
    run: Callable[[list[str]], int] = lambda cmd: subprocess.run(cmd, check=False).returncode,
) -> int:
    lock = Path(argv[0]) if argv else Path("requirements/lock.txt")
    name, version = first_pin(lock.read_text(encoding="utf-8"))
    service, why = choose_service(name, version, get)
    if service is None:
        print(f"pip-audit skipped: cannot reach {why}")
        return 0
    rc = run(pip_audit_command(lock, service))
    if rc != 0:
        print(
            f"pip-audit failed against {service} (above): bump the vulnerable pin "
            "(`make lock UPGRADE=1`, or raise its bound in pyproject.toml and `make lock`)",
            file=sys.stderr,
        )
        return 1
    print(f"pip-audit: no known vulnerability in {lock} ({service})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
