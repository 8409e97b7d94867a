"""Speed of preparing MCC templates: `MccMatcher.prepare` one by one, then `pack`, against
`prepare_packed` on a whole `MinutiaeBatch` (the 1:N search's per-probe shortlist step).

Sets of --min..--max minutiae: the LEADER minutiae cached from FVC2002 (see
bench/fvc_minutiae_eval.py for the cache), each copy shifted by whole pixels so that the
--sets sets differ, or random sets (--source random).  Times are CPU time of the one thread
that runs everything, best of --repeat runs after a warm-up; the script also checks that both
paths give identical packed arrays.

Usage:
  .venv/bin/python bench/mcc_prepare_speed.py
  .venv/bin/python bench/mcc_prepare_speed.py --source random --sets 2000
Prints a table, then one JSON line.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from scomm.biometrics.match import MccMatcher, PackedTemplates, prepare_packed
from scomm.biometrics.minutiae import Minutiae
from scomm.biometrics.minutiae_batch import MinutiaeBatch

sys.path.insert(0, str(Path(__file__).parent))
from fvc_minutiae_eval import load  # noqa: E402 - a sibling benchmark script


def leader_sets(root: Path, count: int, lo: int, hi: int, seed: int) -> list[Minutiae]:
    """`count` sets made from the cached FVC2002 LEADER minutiae with lo..hi minutiae."""
    pool = []
    for path in sorted(root.glob("DB*_B_*_*.npz")):
        db, _, finger, impression = path.stem.split("_")
        m = load("leader", root, int(db[2:]), int(finger), int(impression)).at_ppi(500)
        if lo <= len(m) <= hi:
            pool.append(m)
    if not pool:
        raise SystemExit(f"no cached LEADER minutiae with {lo}..{hi} minutiae under {root}")
    rng = np.random.default_rng(seed)
    sets = []
    for i in range(count):
        m = pool[i % len(pool)]
        dx, dy = rng.integers(-15, 16, 2)
        sets.append(dataclasses.replace(m, x=m.x + dx, y=m.y + dy))
    return sets


def random_sets(count: int, lo: int, hi: int, seed: int) -> list[Minutiae]:
    """Uniform positions in a 300 x 380 pixel print area, uniform directions."""
    rng = np.random.default_rng(seed)
    sets = []
    for _ in range(count):
        n = int(rng.integers(lo, hi + 1))
        sets.append(
            Minutiae(
                rng.uniform(50, 350, n),
                rng.uniform(60, 440, n),
                rng.uniform(0, 2 * np.pi, n),
                rng.integers(1, 3, n),
                rng.integers(20, 100, n),
                416,
                560,
                500,
            )
        )
    return sets


def best_time(run: Callable[[], object], repeat: int) -> float:
    """Least thread CPU time of `repeat` runs, after one warm-up run."""
    run()
    best = float("inf")
    for _ in range(repeat):
        start = time.thread_time()
        run()
        best = min(best, time.thread_time() - start)
    return best


def identical(a: PackedTemplates, b: PackedTemplates) -> bool:
    return all(
        getattr(a, f.name) == getattr(b, f.name)
        if f.name == "size"
        else np.array_equal(getattr(a, f.name), getattr(b, f.name))
        and getattr(a, f.name).dtype == getattr(b, f.name).dtype
        for f in dataclasses.fields(PackedTemplates)
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--source", choices=("leader", "random"), default="leader")
    ap.add_argument("--leader-dir", type=Path, default=Path("/tmp/leader_cache"))
    ap.add_argument("--sets", type=int, default=2000)
    ap.add_argument("--min", type=int, default=40, help="fewest minutiae in a set")
    ap.add_argument("--max", type=int, default=60, help="most minutiae in a set")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    if args.source == "leader":
        sets = leader_sets(args.leader_dir, args.sets, args.min, args.max, args.seed)
    else:
        sets = random_sets(args.sets, args.min, args.max, args.seed)
    batch = MinutiaeBatch.from_minutiae(sets)
    matcher = MccMatcher()
    views = [batch[i] for i in range(len(batch))]

    def one_by_one() -> PackedTemplates:
        return matcher.pack([matcher.prepare(m) for m in views])

    per = 1e6 / len(batch)
    timings = {
        "prepare": best_time(lambda: [matcher.prepare(m) for m in views], args.repeat) * per,
        "prepare_pack": best_time(one_by_one, args.repeat) * per,
        "prepare_packed": best_time(lambda: prepare_packed(matcher, batch), args.repeat) * per,
    }
    same = identical(prepare_packed(matcher, batch), one_by_one())

    print(
        f"{len(batch):,} sets from {args.source}, {batch.counts().mean():.1f} minutiae on average"
    )
    print(f"{'path':<30}{'us/template':>12}{'templates/s':>13}")
    for name, label in (
        ("prepare", "prepare, one by one"),
        ("prepare_pack", "prepare, then pack"),
        ("prepare_packed", "prepare_packed (batch)"),
    ):
        print(f"{label:<30}{timings[name]:12.1f}{1e6 / timings[name]:13,.0f}")
    print(f"identical packed arrays: {same}")
    summary = {
        "source": args.source,
        "sets": len(batch),
        "mean_minutiae": float(batch.counts().mean()),
        "us_per_template": {k: round(v, 2) for k, v in timings.items()},
        "identical": same,
    }
    print(json.dumps(summary))
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
