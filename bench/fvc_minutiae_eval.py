"""FVC2002 DB1-4_B evaluation of `scomm.biometrics.match.MccMatcher` on cached minutiae.

FVC protocol per database (10 fingers x 8 impressions): 280 genuine comparisons (every pair of
impressions of one finger) and 2,880 impostor comparisons (every pair of impressions of
different fingers).  Impostor throughput is CPU time (time.process_time) of `compare_many`
over packed candidates, single thread.

Minutiae caches (read, never written):
  nbis:   {nbis_dir}/DB{d}_B_{finger}_{impression}.npz, arrays m (N x 5: x, y, angle in
          degrees ISO, kind, reliability 0-1), w, h, ppi
  leader: {leader_dir}/DB{d}_B_{finger}_{impression}.npz, arrays minutiae (N x 5: x, y,
          theta radians ISO, kind, quality 0-1), shape (h, w), ppi

Build the caches from the FVC2002 images with scomm's own extractors first:
  .venv/bin/python bench/cache_fvc_minutiae.py --data ../shared/data/fvc2002

Usage:
  .venv/bin/python bench/fvc_minutiae_eval.py --src nbis
  .venv/bin/python bench/fvc_minutiae_eval.py --src leader --set consolidation.weight=0.4
Prints a table, then one JSON line.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

from scomm.biometrics.evaluation import eer, fnmr_at_fmr
from scomm.biometrics.match import MccMatcher, MccParams
from scomm.biometrics.minutiae import Minutiae

FINGERS = range(101, 111)
IMPRESSIONS = range(1, 9)


def load(src: str, root: Path, db: int, finger: int, impression: int) -> Minutiae:
    z = np.load(root / f"DB{db}_B_{finger}_{impression}.npz")
    if src == "leader":
        a = z["minutiae"]
        h, w = (int(v) for v in z["shape"])
        angle = a[:, 2]
        ppi = int(round(float(z["ppi"])))
    else:
        a = z["m"]
        w, h, ppi = int(z["w"]), int(z["h"]), int(z["ppi"])
        angle = np.deg2rad(a[:, 2])
    # truncated, as the earlier dev script did: quality enters the template key, and the
    # key decides which side of a pair is "A" (the comparison is not exactly symmetric)
    quality = np.clip(a[:, 4] * 100, 0, 100).astype(np.uint8)
    return Minutiae(a[:, 0], a[:, 1], angle, a[:, 3].astype(np.uint8), quality, w, h, ppi)


def with_settings(p: MccParams, settings: list[str]) -> MccParams:
    """Apply 'section.name=value' overrides (value evaluated with math available)."""
    for s in settings:
        key, value = s.split("=", 1)
        section, name = key.split(".")
        sub = getattr(p, section)
        typ = type(getattr(sub, name))
        v = eval(value, {"math": math})  # noqa: S307 - a benchmark's own command line
        p = dataclasses.replace(p, **{section: dataclasses.replace(sub, **{name: typ(v)})})
    return p


def error_rates(genuine: np.ndarray, impostor: np.ndarray) -> dict[str, float]:
    """EER and FNMR at FMR 1% / 0.1%, as `scomm bench verify` computes them."""
    return {
        "eer": eer(genuine, impostor),
        "fnmr_at_fmr1": fnmr_at_fmr(genuine, impostor, 1e-2),
        "fnmr_at_fmr01": fnmr_at_fmr(genuine, impostor, 1e-3),
    }


def evaluate_db(matcher: MccMatcher, src: str, root: Path, db: int) -> dict[str, float]:
    keys = [(f, i) for f in FINGERS for i in IMPRESSIONS]
    templates = [matcher.prepare(load(src, root, db, f, i)) for f, i in keys]
    genuine: list[float] = []
    impostor: list[float] = []
    cpu = 0.0
    for a, (finger, _) in enumerate(keys):
        same = [templates[b] for b in range(a + 1, len(keys)) if keys[b][0] == finger]
        diff = [templates[b] for b in range(a + 1, len(keys)) if keys[b][0] != finger]
        if same:
            genuine.extend(matcher.compare_many(templates[a], matcher.pack(same)))
        if diff:
            packed = matcher.pack(diff)
            c0 = time.process_time()
            scores = matcher.compare_many(templates[a], packed)
            cpu += time.process_time() - c0
            impostor.extend(scores)
    g, i = np.array(genuine), np.array(impostor)
    assert len(g) == 280 and len(i) == 2880, (len(g), len(i))
    out = error_rates(g, i)
    out["impostor_per_s"] = len(i) / cpu
    out["cpu_s"] = cpu
    out["n_impostor"] = len(i)
    out["mean_minutiae"] = float(np.mean([len(t) for t in templates]))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--src", choices=("nbis", "leader"), default="nbis")
    ap.add_argument("--nbis-dir", type=Path, default=Path("/tmp/nbis_min"))
    ap.add_argument("--leader-dir", type=Path, default=Path("/tmp/leader_cache"))
    ap.add_argument("--dbs", default="1,2,3,4")
    ap.add_argument("--set", action="append", default=[], help="e.g. lssr.max_dtheta=math.pi/4")
    args = ap.parse_args(argv)
    root = args.leader_dir if args.src == "leader" else args.nbis_dir
    matcher = MccMatcher(with_settings(MccParams(), args.set))
    warm = matcher.prepare(load(args.src, root, int(args.dbs.split(",")[0]), 101, 1))
    matcher.compare_many(warm, [warm, warm])  # compile / load the numba cache
    results = {}
    print(f"{'DB':<5}{'EER %':>8}{'FNMR@1%':>9}{'FNMR@.1%':>10}{'imp/s/core':>12}{'minutiae':>10}")
    for db in (int(d) for d in args.dbs.split(",")):
        r = evaluate_db(matcher, args.src, root, db)
        results[f"DB{db}"] = r
        print(
            f"DB{db:<3}{r['eer'] * 100:8.2f}{r['fnmr_at_fmr1'] * 100:9.1f}"
            f"{r['fnmr_at_fmr01'] * 100:10.1f}{r['impostor_per_s']:12,.0f}"
            f"{r['mean_minutiae']:10.0f}",
            flush=True,
        )
    eers = [r["eer"] for r in results.values()]
    total = sum(r["n_impostor"] for r in results.values()) / sum(
        r["cpu_s"] for r in results.values()
    )
    print(
        f"mean  {np.mean(eers) * 100:7.2f}  max {max(eers) * 100:.2f}  impostor/s/core {total:,.0f}"
    )
    summary = {
        "src": args.src,
        "settings": args.set,
        "mean_eer": float(np.mean(eers)),
        "max_eer": float(max(eers)),
        "impostor_per_s_per_core": total,
        "per_db": {
            k: {kk: v[kk] for kk in ("eer", "fnmr_at_fmr1", "fnmr_at_fmr01", "impostor_per_s")}
            for k, v in results.items()
        },
        "params": dataclasses.asdict(matcher.params),
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
