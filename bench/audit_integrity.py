"""What integrity costs: verifying a chain alone and against its signed checkpoints,
signing a checkpoint, and reconciling the rows with the audit log.

A chain of `--entries` synthetic entries is appended on a fresh SQLite file by a signing
writer (`Anchor`, a checkpoint every `--every` entries); then each check is timed `--repeat`
times (the median is reported). With `--database URL` the checks run on that database
instead (a demo's, say: `--database sqlite:///demo-out/scomm.db --log
demo-out/checkpoints.jsonl --public-key demo-out/keys/audit-signing-key.pub.pem`), and
`reconcile` is timed too.

Run: .venv/bin/python bench/audit_integrity.py [--entries 20000] [--every 1000] [--repeat 3]
Prints a table, then one JSON line.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from scomm.audit.chain import append, verify_database
from scomm.audit.checkpoints import (
    CLOSED,
    Anchor,
    generate_keys,
    load_private_key,
    load_public_key,
    verify_anchored,
)
from scomm.audit.reconcile import reconcile_database
from scomm.store.db import Database


def timed(action: Callable[[], object], repeat: int) -> tuple[float, object]:
    seconds = []
    result: object = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = action()
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds), result


def synthetic_chain(folder: Path, entries: int, every: int) -> tuple[str, Path, Path, float]:
    """A fresh database with `entries` entries signed every `every`; the mean seconds one
    checkpoint took to sign and write (fsync included)."""
    url = f"sqlite:///{folder / 'chain.db'}"
    private, public = generate_keys(folder / "keys")
    log = folder / "checkpoints.jsonl"
    db = Database(url)
    db.migrate()
    anchor = Anchor(db, load_private_key(private), log, every)
    anchor.begin()
    moment = datetime(2010, 1, 1)
    batch = 500
    for first in range(0, entries, batch):
        with db.sessions() as session:
            for n in range(first, min(first + batch, entries)):
                append(
                    session,
                    recorded_at=moment + timedelta(seconds=n),
                    kind="message",
                    name="IDR_NO_MATCH",
                    actor="ident",
                    case_id=f"case-{n // 7}",
                    payload={"message_id": f"msg-{n}", "tcn": f"T{n:08d}", "n": n},
                )
            session.commit()
        anchor.tick()
    signing = []
    for _ in range(20):
        start = time.perf_counter()
        anchor.checkpoint(CLOSED)
        signing.append(time.perf_counter() - start)
    anchor.close()
    db.dispose()
    return url, log, public, statistics.mean(signing)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=20000)
    parser.add_argument("--every", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--database", help="time an existing database instead")
    parser.add_argument("--log", type=Path, help="its checkpoint log (with --database)")
    parser.add_argument("--public-key", type=Path, help="its public key (with --database)")
    args = parser.parse_args()
    report: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as scratch:
        if args.database:
            url, log, public = args.database, args.log, args.public_key
            if log is None or public is None:
                parser.error("--database needs --log and --public-key")
        else:
            url, log, public, sign_s = synthetic_chain(Path(scratch), args.entries, args.every)
            report["checkpoint_sign_and_write_ms"] = round(sign_s * 1000, 2)
        db = Database(url)
        key = load_public_key(public)
        plain_s, plain = timed(lambda: verify_database(db), args.repeat)
        anchored_s, (chain, check) = timed(  # type: ignore[misc]
            lambda: verify_anchored(db, log, key), args.repeat
        )
        assert getattr(plain, "ok", False) and chain.ok and check is not None and check.ok
        report |= {
            "database": "synthetic" if not args.database else "given",
            "entries": chain.entries,
            "checkpoints": len(log.read_text().splitlines()),
            "verify_s": round(plain_s, 3),
            "verify_anchored_s": round(anchored_s, 3),
        }
        if args.database:
            reconcile_s, (_, result) = timed(  # type: ignore[misc]
                lambda: reconcile_database(db), args.repeat
            )
            report["reconcile_s"] = round(reconcile_s, 3)
            report["reconcile_ok"] = bool(result is not None and result.ok)
        db.dispose()
    print(f"{'measure':<30} {'value':>12}")
    for name, value in report.items():
        print(f"{name:<30} {value!s:>12}")
    print(json.dumps(report))


if __name__ == "__main__":
    main()
