"""Write (or check) the engine profiles scomm ships: calibrate the default engine on real
prints, fit the demo engine's pair coder, write every profile as data
(`scomm/biometrics/profiles/data`).

The job is `scomm.sim.bench.engine_profiles`.  The default engine (`scomm-mcc-v2`,
`real_print_profile`) extracts FVC2002 DB1-DB3 B with its extractor (`--extractor`, by
default `engine_profiles.EXTRACTOR_KIND`) once, into `--fvc-cache` (SCOMM_FVC_CACHE,
default ~/.cache/scomm/fvc-minutiae; LEADER: about 4 min of one core the first time, a few
seconds after), then calibrates its thresholds and fits its pair coder (about 5 s).  The
demo engine's fit takes about 6 s of one core (8 synthetic people's rolled prints); the
other profiles are written from the settings in the code.  The demo's thresholds are
those recorded in `scomm.sim.synth.demo_engine` (measured with
`bench/demo_engine_calibration.py`), or those of a calibration run given with
`--calibration FILE` (a file holding that bench's JSON line).

Run: .venv/bin/python bench/write_engine_profiles.py [--out DIR] [--only NAME] [--check]
         [--fvc DIR] [--fvc-cache DIR] [--extractor KIND]
Prints a table, then one JSON line.  With --check nothing is written to the package: the
profiles are written to a temporary folder and compared byte for byte with the shipped
ones (exit status 1 when any differs).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from scomm.biometrics.profiles import REAL_PRINT_ENGINE, EngineProfile
from scomm.biometrics.profiles.model import EXTRACTOR_KINDS
from scomm.sim.bench import engine_profiles
from scomm.sim.bench.engine_profiles import SHIPPED, shipped_folder, write_shipped
from scomm.sim.synth import demo_engine


def calibrated_thresholds(path: Path) -> dict[int, float]:
    """The `thresholds` of the last JSON line of a `demo_engine_calibration.py` run."""
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    report = json.loads(lines[-1])
    return {int(count): float(value) for count, value in report["thresholds"].items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=shipped_folder(), help="folder to write")
    parser.add_argument("--only", action="append", default=[], choices=sorted(SHIPPED))
    parser.add_argument("--calibration", type=Path, help="the demo calibration bench's output")
    parser.add_argument("--check", action="store_true", help="compare with the shipped files")
    parser.add_argument(
        "--fvc", type=Path, help="FVC2002 folder (default: $SCOMM_DATA_DIR/fvc2002)"
    )
    parser.add_argument("--fvc-cache", type=Path, help="folder of the cached FVC minutiae")
    parser.add_argument(
        "--extractor",
        choices=EXTRACTOR_KINDS,
        default=engine_profiles.EXTRACTOR_KIND,
        help="the default engine's extractor",
    )
    args = parser.parse_args()
    jobs: dict[str, Callable[[], EngineProfile]] = dict(SHIPPED)

    def real_print() -> EngineProfile:
        found = engine_profiles.real_print_calibration(args.extractor, args.fvc, args.fvc_cache)
        print(
            f"{REAL_PRINT_ENGINE}: {len(found.impostor):,} impostor and "
            f"{len(found.genuine):,} genuine single-finger scores; tail {found.tail}"
        )
        for database, figures in found.per_database.items():
            print(f"  {database}: {json.dumps(figures, sort_keys=True)}")
        for count, calibration in found.fpir_model.items():
            print(f"  {count:>2} fingers: threshold {calibration.threshold:.4f}")
        return engine_profiles.real_print_profile(args.extractor, calibration=found)

    jobs[REAL_PRINT_ENGINE] = real_print
    if args.calibration is not None:
        thresholds = calibrated_thresholds(args.calibration)
        jobs[demo_engine.ENGINE_NAME] = lambda: demo_engine.demo_profile(thresholds=thresholds)
    before = {p.name: p.read_bytes() for p in shipped_folder().iterdir() if p.is_file()}
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) if args.check else args.out
        start = time.perf_counter()
        written = write_shipped(out, tuple(args.only), jobs)
        seconds = time.perf_counter() - start
        rows = []
        for name, paths in written.items():
            for path in paths:
                data = path.read_bytes()
                same = before.get(path.name) == data  # as shipped before this run
                rows.append(
                    {
                        "engine": name,
                        "file": path.name,
                        "bytes": len(data),
                        "sha256": hashlib.sha256(data).hexdigest()[:16],
                        "same_as_shipped": same,
                    }
                )
    print(f"{'engine':<26} {'file':<44} {'bytes':>7} {'sha256':<16} shipped")
    for row in rows:
        print(
            f"{row['engine']:<26} {row['file']:<44} {row['bytes']:>7} {row['sha256']:<16} "
            f"{'same' if row['same_as_shipped'] else 'DIFFERENT'}"
        )
    where = "a temporary folder (check)" if args.check else str(args.out)
    print(f"wrote {len(rows)} files to {where} in {seconds:.1f} s")
    print(json.dumps({"seconds": round(seconds, 2), "files": rows}, sort_keys=True))
    return 1 if args.check and not all(row["same_as_shipped"] for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
