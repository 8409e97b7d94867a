"""Wall and CPU time of each stage of a demo run (`scomm.sim.driver.run`), as JSON.

    .venv/bin/python bench/demo_stage_times.py BOOKINGS [--engine NAME] [--seed S] [--out DIR]

The stages are the driver's: building the world; enrolling the repositories (each person's
ridge masters grown, their enrolment templates extracted or read from SCOMM_CACHE_DIR, their
bookings' CARs drawn); running the bookings (every hop: the SIB's decode, CJIS's and IDENT's
extraction, memoised so that a booking's images are extracted once, their searches, LESC,
ERO, the jail).  CPU time is the process's (its threads included).  The database is made
afresh in --out (default /tmp/scomm-stage-times); the cache folder is SCOMM_CACHE_DIR's: run
twice to see a cold and a warm cache.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import resource
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from scomm.biometrics.memo import SHARED_MEMO
from scomm.config import load_settings
from scomm.sim.driver import RunSpec, run


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bookings", type=int)
    parser.add_argument("--engine", help="engine profile (default: SCOMM_ENGINE, else the default)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("/tmp/scomm-stage-times"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for old in args.out.glob("scomm.db*"):  # the database, its side files, its galleries
        shutil.rmtree(old) if old.is_dir() else old.unlink()
    stages: dict[str, dict[str, float]] = {}

    @contextlib.contextmanager
    def stage(name: str, total: int) -> Iterator[Callable[[int], None]]:
        wall, cpu = time.perf_counter(), cpu_seconds()
        yield lambda _n: None
        stages[name] = {
            "wall_s": round(time.perf_counter() - wall, 1),
            "cpu_s": round(cpu_seconds() - cpu, 1),
            "items": total,
        }

    settings = load_settings(database_url=f"sqlite:///{args.out / 'scomm.db'}", engine=args.engine)
    wall, cpu = time.perf_counter(), cpu_seconds()
    result = run(RunSpec.demo(args.seed, args.bookings), settings, stage=stage)
    report = {
        "bookings": args.bookings,
        "seed": args.seed,
        "engine": result.engine,
        "people": len(result.world.people),
        "cache_dir": str(settings.cache_dir),
        "stages": stages,
        "total": {
            "wall_s": round(time.perf_counter() - wall, 1),
            "cpu_s": round(cpu_seconds() - cpu, 1),
        },
        "extractions": {"memo_hits": SHARED_MEMO.hits, "memo_misses": SHARED_MEMO.misses},
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
