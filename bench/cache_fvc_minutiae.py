"""Extract and cache the minutiae of every FVC2002 B image for bench/fvc_minutiae_eval.py.

Uses scomm's own extractors on images resampled to 500 ppi (MANIFEST.csv gives each ppi):
MINDTCT into --nbis-dir, LEADER into --leader-dir, in the layouts that script reads.

  .venv/bin/python bench/cache_fvc_minutiae.py --data ../shared/data/fvc2002 [--only leader]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from scomm.biometrics.extract_leader import LeaderExtractor
from scomm.biometrics.extract_nbis import MindtctExtractor
from scomm.biometrics.images import decode_image
from scomm.biometrics.resample import to_500_ppi
from scomm.sim.bench.verify import find_databases


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--nbis-dir", type=Path, default=Path("/tmp/nbis_min"))
    ap.add_argument("--leader-dir", type=Path, default=Path("/tmp/leader_cache"))
    ap.add_argument("--only", choices=("nbis", "leader"), default=None)
    args = ap.parse_args()
    sources = [args.only] if args.only else ["nbis", "leader"]
    mindtct, leader = MindtctExtractor(), LeaderExtractor()
    for database, samples in find_databases(args.data).items():
        for sample in samples:
            image = to_500_ppi(decode_image(sample.path.read_bytes()), sample.ppi)
            h, w = image.shape
            name = f"{database}_{sample.finger}_{sample.impression}.npz"
            start = time.process_time()
            if "nbis" in sources:
                m = mindtct.minutiae(image)
                rows = np.column_stack([m.x, m.y, np.rad2deg(m.angle), m.kind, m.quality / 100])
                args.nbis_dir.mkdir(parents=True, exist_ok=True)
                np.savez(args.nbis_dir / name, m=rows, w=w, h=h, ppi=500)
            if "leader" in sources:
                m = leader.minutiae(image)
                rows = np.column_stack([m.x, m.y, m.angle, m.kind, m.quality / 100])
                args.leader_dir.mkdir(parents=True, exist_ok=True)
                np.savez(args.leader_dir / name, minutiae=rows, shape=(h, w), ppi=500)
            print(f"{name}: {time.process_time() - start:.2f} s", flush=True)


if __name__ == "__main__":
    main()
