"""Speed of the synthetic fingerprint generator: a tenprint card (10 rolled + 4 plain images).

For each of --people synthetic people: the card of a new person (cold: the ten masters are
grown first) and a second capture of the same person (warm: masters cached, as for a repeat
booking), then the parts on their own: one master, one rolled and one plain impression, and
the WSQ compression of a card's 14 images (what a CAR file adds).  Times are the CPU time
(`time.process_time`) of this one-threaded process after a warm-up that compiles the numba
kernels; run it on one core:

  taskset -c 0 .venv/bin/python bench/synth_tenprint_speed.py [--people 5] [--wsq]

Goal (issue 5): a card in at most 2 s on one core.  Prints a table, then one JSON line.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from functools import partial

import numpy as np

from scomm.sim.synth import ridge_master
from scomm.sim.synth.impression_image import impression
from scomm.sim.synth.ridge_master import make_master
from scomm.sim.synth.tenprint_card import tenprint_card

GOAL_S = 2.0


def cpu(fn: Callable[[], object]) -> float:
    start = time.process_time()
    fn()
    return time.process_time() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--people", type=int, default=5)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--wsq", action="store_true", help="also time the WSQ compression")
    args = ap.parse_args()
    tenprint_card(args.seed, 10**6)  # warm-up: numba kernels loaded or compiled
    cold, warm, wsq = [], [], []
    for person in range(args.people):
        ridge_master._cached_master.cache_clear()
        cold.append(cpu(partial(tenprint_card, args.seed, person)))
        warm.append(cpu(partial(tenprint_card, args.seed, person, capture=1)))
        if args.wsq:
            from scomm.biometrics.wsq_codec import encode_wsq

            card = tenprint_card(args.seed, person, capture=1)
            images = (*card.rolled, *card.plain)
            wsq.append(cpu(partial(lambda ims: [encode_wsq(im) for im in ims], images)))
    master = make_master(args.seed, 0, 1)
    parts = {
        "master_s": np.median([cpu(partial(make_master, args.seed, 1, f)) for f in range(1, 6)]),
        "rolled_s": np.median([cpu(partial(impression, master, n, "rolled")) for n in range(5)]),
        "plain_s": np.median([cpu(partial(impression, master, n, "plain")) for n in range(5)]),
    }
    result = {
        "bench": "synth_tenprint_speed",
        "people": args.people,
        "card_cold_s_mean": float(np.mean(cold)),
        "card_cold_s_max": float(np.max(cold)),
        "card_warm_s_mean": float(np.mean(warm)),
        **{k: float(v) for k, v in parts.items()},
        "goal_s": GOAL_S,
        "goal_met": bool(np.max(cold) <= GOAL_S),
    }
    if wsq:
        result["wsq_card_s_mean"] = float(np.mean(wsq))
    print(f"{'measure':<22}{'CPU s':>10}")
    for key, value in result.items():
        if key.endswith("_s") or "_s_" in key:
            print(f"{key:<22}{value:>10.3f}")
    print(
        f"{'goal: card cold <=':<22}{GOAL_S:>10.1f}  {'met' if result['goal_met'] else 'NOT met'}"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
