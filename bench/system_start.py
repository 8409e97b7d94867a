"""Time building a `System` on a fresh SQLite file: imports, migrations, engine, galleries.

The composition root loads its engine from a profile (no prints grown, nothing fitted), so
a start should take well under 2 s.  Each start runs in a fresh Python process (so the
import time counts, as it does for `scomm` commands) on a new database file.

Run: .venv/bin/python bench/system_start.py [--runs 3] [--engine skeleton-mcc-v1]
Prints a table, then one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

TARGET_S = 2.0

_ONE_START = """
import json, sys, time
start = time.perf_counter()
from datetime import datetime
from scomm.config import Settings
from scomm.domain.clock import ScenarioClock
from scomm.system import System
imported = time.perf_counter()
settings = Settings(database_url=sys.argv[1], engine=sys.argv[2])
system = System(settings, ScenarioClock(datetime(2012, 1, 1)))
built = time.perf_counter()
system.close()
print(json.dumps({"import_s": imported - start, "build_s": built - imported,
                  "total_s": built - start, "modules": len(sys.modules),
                  "sim_modules": sorted(m for m in sys.modules if m.startswith("scomm.sim"))}))
"""


def one_start(folder: Path, index: int, engine: str) -> dict[str, object]:
    url = f"sqlite:///{folder / f'start-{index}.db'}"
    done = subprocess.run(
        [sys.executable, "-c", _ONE_START, url, engine],
        check=True,
        capture_output=True,
        text=True,
        env=os.environ.copy(),
    )
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--engine", default="skeleton-mcc-v1")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        runs = [one_start(Path(scratch), i, args.engine) for i in range(args.runs)]
    print(f"{'run':>3} {'import s':>9} {'build s':>8} {'total s':>8} {'modules':>8}")
    for i, run in enumerate(runs):
        print(
            f"{i:>3} {run['import_s']:>9.3f} {run['build_s']:>8.3f} {run['total_s']:>8.3f} "
            f"{run['modules']:>8}"
        )
    totals = [float(run["total_s"]) for run in runs]  # type: ignore[arg-type]
    median = statistics.median(totals)
    sim = sorted({m for run in runs for m in run["sim_modules"]})  # type: ignore[attr-defined]
    print(
        f"median start {median:.3f} s (target under {TARGET_S:.0f} s); "
        f"simulator modules imported: {len(sim)}"
    )
    report = {
        "engine": args.engine,
        "runs": args.runs,
        "median_total_s": round(median, 3),
        "median_import_s": round(statistics.median(float(r["import_s"]) for r in runs), 3),  # type: ignore[arg-type]
        "median_build_s": round(statistics.median(float(r["build_s"]) for r in runs), 3),  # type: ignore[arg-type]
        "under_target": median < TARGET_S,
        "sim_modules": sim,
    }
    print(json.dumps(report, sort_keys=True))


if __name__ == "__main__":
    main()
