"""Bit identity and comparison speed of the MCC matcher on the FVC2002 ISO templates.

Every FVC2002 DB1-4_B protocol pair (genuine and impostor, `fvc_pairs`; 12,640) is scored
from the ISO/IEC 19794-2 templates under DATA/iso-templates/secugen/fvc2002, with the
parameter sets the repository uses.  The SHA-256 of each score array (float64,
little-endian) is the digest that `tests/biometrics/match/test_bit_identity.py` pins: run
this before and after a change to the matcher's kernels; the digests must not move unless
the change means to alter scores.  Times: thread CPU time of all 1:1 comparisons
(`compare`) and of the same pairs as 1:N rows (`compare_many` of each probe against its
later partners, packed once), best of --repeat runs after a warm-up.  Pin it to one core
(`taskset -c 1`) on a shared machine.

Usage:
  python bench/mcc_pins.py [--data DIR] [--repeat 5]
Prints a table, then one JSON line.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from scomm.biometrics.evaluation import fvc_pairs
from scomm.biometrics.match import MatcherTemplate, MccMatcher, MccParams, PackedTemplates
from scomm.biometrics.match.mcc_params import GALLERY_MATCHER_PARAMS, LEADER_MATCHER_PARAMS
from scomm.biometrics.minutiae import Minutiae
from scomm.biometrics.minutiae_records import read_record

PARAMS = {
    "leader": LEADER_MATCHER_PARAMS,
    "gallery": GALLERY_MATCHER_PARAMS,
    "default": MccParams(),
}
Key = tuple[int, int]


def read_databases(root: Path) -> dict[str, dict[Key, Minutiae]]:
    """{database: {(finger, impression): minutiae}} of the ISO templates under root."""
    out: dict[str, dict[Key, Minutiae]] = {}
    for db in sorted(p for p in root.iterdir() if p.is_dir()):
        out[db.name] = {
            (int(f), int(i)): read_record(path.read_bytes()).views[0].minutiae
            for path in sorted(db.glob("*_*.iso"))
            for f, i in [path.stem.split("_")]
        }
    return out


def protocol(by_key: dict[Key, Minutiae]) -> list[tuple[Key, Key]]:
    fingers = sorted({f for f, _ in by_key})
    genuine, impostor = fvc_pairs(
        fingers, {f: sorted(i for g, i in by_key if g == f) for f in fingers}
    )
    return genuine + impostor


def best_cpu(run: Callable[[], object], repeat: int) -> float:
    """Least thread CPU time of `repeat` runs, after one warm-up run."""
    run()
    best = float("inf")
    for _ in range(repeat):
        start = time.thread_time()
        run()
        best = min(best, time.thread_time() - start)
    return best


def measure(name: str, data: dict[str, dict[Key, Minutiae]], repeat: int) -> dict[str, object]:
    matcher = MccMatcher(PARAMS[name])
    jobs = []
    for by_key in data.values():
        prepared = {k: matcher.prepare(m) for k, m in by_key.items()}
        jobs.append((prepared, protocol(by_key)))

    def one_to_one() -> np.ndarray:
        return np.array([matcher.compare(p[a], p[b]) for p, pairs in jobs for a, b in pairs])

    # the same pairs as 1:N rows: each probe against its partners, from one packed gallery
    rows: list[tuple[MatcherTemplate, PackedTemplates, np.ndarray]] = []
    where: list[int] = []  # each 1:N score's place in the 1:1 order
    done = 0
    for prepared, pairs in jobs:
        keys = list(prepared)
        index = {k: n for n, k in enumerate(keys)}
        packed = matcher.pack([prepared[k] for k in keys])
        by_probe: dict[Key, list[tuple[int, int]]] = {}
        for n, (a, b) in enumerate(pairs):
            by_probe.setdefault(a, []).append((index[b], done + n))
        for a, partners in by_probe.items():
            rows.append((prepared[a], packed, np.array([c for c, _ in partners])))
            where += [n for _, n in partners]
        done += len(pairs)

    def one_to_many() -> np.ndarray:
        return np.concatenate([matcher.compare_many(p, packed, sel) for p, packed, sel in rows])

    scores = one_to_one()
    many = np.zeros_like(scores)
    many[where] = one_to_many()
    return {
        "params": name,
        "pairs": len(scores),
        "sha256": hashlib.sha256(scores.astype("<f8").tobytes()).hexdigest(),
        "batch_equal": bool(np.array_equal(many, scores)),
        "compare_us": round(1e6 * best_cpu(one_to_one, repeat) / len(scores), 3),
        "compare_many_us": round(1e6 * best_cpu(one_to_many, repeat) / len(scores), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = os.environ.get(
        "SCOMM_DATA_DIR", str(Path(__file__).resolve().parents[1].parent / "shared" / "data")
    )
    parser.add_argument("--data", type=Path, default=Path(default))
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--params", nargs="*", default=list(PARAMS), choices=list(PARAMS))
    args = parser.parse_args()
    root = args.data / "iso-templates" / "secugen" / "fvc2002"
    if not root.is_dir():
        raise SystemExit(f"{root} not found (set --data or SCOMM_DATA_DIR)")
    data = read_databases(root)
    results = [measure(name, data, args.repeat) for name in args.params]
    print(f"{'params':<8} {'pairs':>6} {'compare us':>11} {'1:N us':>8} {'1:N = 1:1':>9}  sha256")
    for r in results:
        print(
            f"{r['params']:<8} {r['pairs']:>6} {r['compare_us']:>11.3f} "
            f"{r['compare_many_us']:>8.3f} {r['batch_equal']!s:>9}  {r['sha256']}"
        )
    print(json.dumps({"bench": "mcc_pins", "results": results}))


if __name__ == "__main__":
    main()
