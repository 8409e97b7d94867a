"""The first stage on synthetic against real minutiae: pair-code similarities, FVC protocol.

The search's shortlist is decided by the pair codes (scomm.biometrics.index.pair_code), so
the scale figures of `scomm bench search` can only be trusted if synthetic minutiae give
pair-code similarities like real ones.  Real: LEADER minutiae of FVC2002 DB1-3_B (cache of
bench/cache_fvc_minutiae.py); synthetic: plain impressions, as in
bench/synth_minutiae_calibration.py (whose loaders this reuses).  Similarity of two codes:
1 - 2 h / bits.  The coder is fitted on rolled synthetic impressions, as every gallery's is.

  .venv/bin/python bench/pair_code_synth_vs_real.py [--leader-dir /tmp/leader_cache]
Prints a table, then one JSON line.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from synth_minutiae_calibration import (  # noqa: E402
    ks_statistic,
    real_sets,
    synthetic_sets,
)

from scomm.biometrics.evaluation import eer  # noqa: E402
from scomm.biometrics.minutiae_batch import MinutiaeBatch  # noqa: E402
from scomm.sim.synth.minutiae_sets import DEFAULT_PARAMS  # noqa: E402
from scomm.sim.synth.pair_coder import synthetic_pair_coder  # noqa: E402


def similarities(databases: list, coder) -> tuple[np.ndarray, np.ndarray]:  # type: ignore[no-untyped-def]
    genuine, impostor = [], []
    for fingers in databases:
        keys = [(f, k) for f in range(len(fingers)) for k in range(len(fingers[f]))]
        codes = coder.encode(MinutiaeBatch.from_minutiae([fingers[f][k] for f, k in keys]))
        bits = np.unpackbits(codes.view(np.uint8), axis=1)
        agree = 1.0 - 2.0 * (bits[:, None, :] != bits[None, :, :]).mean(axis=2)
        for a in range(len(keys)):
            for b in range(a + 1, len(keys)):
                (genuine if keys[a][0] == keys[b][0] else impostor).append(agree[a, b])
    return np.array(genuine), np.array(impostor)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--leader-dir", type=Path, default=Path("/tmp/leader_cache"))
    ap.add_argument("--seed", type=int, default=2002)
    args = ap.parse_args()
    coder = synthetic_pair_coder(0)
    real_g, real_i = similarities(real_sets(args.leader_dir, (1, 2, 3)), coder)
    synth = synthetic_sets(args.seed, 25, (2, 3, 7, 8), DEFAULT_PARAMS)
    syn_g, syn_i = similarities(synth, coder)
    rows = {
        "real": (real_g, real_i),
        "synthetic": (syn_g, syn_i),
    }
    print(f"{'':<11}{'genuine mean/sd':>18}{'impostor mean/sd':>19}{'d prime':>9}{'EER %':>8}")
    out = {}
    for name, (g, i) in rows.items():
        d = (g.mean() - i.mean()) / i.std()
        out[name] = {"genuine": [float(g.mean()), float(g.std())],
                     "impostor": [float(i.mean()), float(i.std())],
                     "d_prime": float(d), "eer": float(eer(g, i))}  # fmt: skip
        print(f"{name:<11}{g.mean():>10.3f} / {g.std():.3f}{i.mean():>11.3f} / {i.std():.3f}"
              f"{d:>9.2f}{eer(g, i) * 100:>8.2f}")  # fmt: skip
    out["ks_genuine"] = ks_statistic(real_g, syn_g)
    out["ks_impostor"] = ks_statistic(real_i, syn_i)
    print(f"KS genuine {out['ks_genuine']:.3f}   KS impostor {out['ks_impostor']:.3f}")
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
