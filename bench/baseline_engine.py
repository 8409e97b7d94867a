"""Measure the baseline correlation engine on synthetic fingers: speed and score distributions.

Run: .venv/bin/python bench/baseline_engine.py [--small 500] [--large 2000] [--persons 200]
Prints a table, then one JSON line.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np

from scomm.biometrics.baseline import CorrelationExtractor, CorrelationGallery
from scomm.biometrics.protocols import FINGER_POSITIONS
from scomm.sim.synth.fingers import impression, master_finger, tenprint_seeds

PPI = 500
NON_MATED_OFFSET = 1_000_000  # person seeds of people never enrolled
# The master size DEFAULT_THRESHOLD was measured on (the demo's own until it moved to 256 px
# prints and the skeleton-mcc engine).
SIZE = 128


def capture(person: int, rng: np.random.Generator, extractor: CorrelationExtractor, timer: list):
    """Fresh ten-finger templates of `person`; appends extraction seconds per finger to timer."""
    templates = {}
    for finger, seed in zip(FINGER_POSITIONS, tenprint_seeds(person), strict=True):
        image = impression(master_finger(seed, size=SIZE), rng)
        start = time.perf_counter()
        templates[finger] = extractor.extract(image, PPI, finger)
        timer.append(time.perf_counter() - start)
    return templates


def search_ms(gallery: CorrelationGallery, probes: list) -> list[float]:
    times = []
    for probe in probes:
        start = time.perf_counter()
        gallery.search(probe)
        times.append(1e3 * (time.perf_counter() - start))
    return times


def summary(values: list[float]) -> dict[str, float]:
    return {
        "min": round(min(values), 3),
        "mean": round(statistics.fmean(values), 3),
        "max": round(max(values), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=500)
    parser.add_argument("--large", type=int, default=2000)
    parser.add_argument("--persons", type=int, default=200, help="for the score distributions")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    extractor = CorrelationExtractor()
    extract_s: list[float] = []

    # Score distributions: every mated and non-mated probe against a gallery of `persons`.
    gallery = CorrelationGallery()
    for person in range(args.persons):
        gallery.enrol(f"P{person}", capture(person, rng, extractor, extract_s))
    genuine, impostor, rank1 = [], [], 0
    for person in range(args.persons):
        result = gallery.search(capture(person, rng, extractor, extract_s), args.persons)
        rank1 += result.best is not None and result.best.identity_id == f"P{person}"
        for candidate in result.candidates:
            mated = candidate.identity_id == f"P{person}"
            (genuine if mated else impostor).append(candidate.fused_score)
    for person in range(NON_MATED_OFFSET, NON_MATED_OFFSET + args.persons):
        result = gallery.search(capture(person, rng, extractor, extract_s), args.persons)
        impostor.extend(candidate.fused_score for candidate in result.candidates)
    midpoint = (max(impostor) + min(genuine)) / 2

    # Search speed at two gallery sizes.
    small, large = CorrelationGallery(), CorrelationGallery()
    for person in range(args.large):
        templates = capture(person, rng, extractor, extract_s)
        large.enrol(f"P{person}", templates)
        if person < args.small:
            small.enrol(f"P{person}", templates)
    probes = [capture(person, rng, extractor, []) for person in range(20)]
    small.search(probes[0])  # warm-up
    small_ms = search_ms(small, probes)
    large_ms = search_ms(large, probes)

    report = {
        "extract_ms_per_finger": round(1e3 * statistics.fmean(extract_s), 3),
        f"search_ms_10_fingers_{args.small}": round(statistics.median(small_ms), 2),
        f"search_ms_10_fingers_{args.large}": round(statistics.median(large_ms), 2),
        "genuine_fused": summary(genuine),
        "impostor_fused": summary(impostor),
        "genuine_n": len(genuine),
        "impostor_n": len(impostor),
        "rank1_rate": rank1 / args.persons,
        "threshold_midpoint": round(midpoint, 3),
        "threshold_in_use": gallery.threshold,
    }
    print(f"{'measure':<34} value")
    print(f"{'extract ms / finger':<34} {report['extract_ms_per_finger']:.3f}")
    print(f"{f'search ms, 10 fingers, {args.small} ids':<34} {statistics.median(small_ms):.2f}")
    print(f"{f'search ms, 10 fingers, {args.large} ids':<34} {statistics.median(large_ms):.2f}")
    for name, values in (("genuine", genuine), ("impostor", impostor)):
        s = summary(values)
        label = f"{name} fused (n={len(values)})"
        print(f"{label:<34} min {s['min']:.3f}  mean {s['mean']:.3f}  max {s['max']:.3f}")
    print(f"{'rank-1 rate':<34} {report['rank1_rate']:.3f}")
    print(f"{'midpoint max impostor/min genuine':<34} {midpoint:.3f}")
    print(json.dumps(report, sort_keys=True))


if __name__ == "__main__":
    main()
