"""Calibrate the demo engine's thresholds: fused scores of mated and non-mated searches.

Synthetic people no world holds are enrolled from one capture (raw pixels, as
`synth.enrolment` enrols them); fresh captures of them and of as many never-enrolled people
go through WSQ and back (as a booking's CAR does) and are searched with the demo's
`IndexedGallery`, with all ten fingers, nine, five (FGP 1-5), two (the index fingers, FGP 2
and 7) and one (FGP 2).
For each count it prints the mates' fused scores (the sum of per-finger MCC scores), the
best non-mate's per search, and the threshold: the midpoint between the highest best
non-mate and the lowest mate, to 0.01 (when they overlap: the highest best non-mate rounded
up to 0.05, plus 0.05, favouring no false match over no miss).  Counts not measured get a
threshold interpolated linearly between their measured neighbours (`thresholds_1_to_10`).

Run: .venv/bin/python bench/demo_engine_calibration.py [--enrolled 300] [--unenrolled 300]
Prints a table, then one JSON line, whose "thresholds" the profile job takes with
`bench/write_engine_profiles.py --calibration FILE` (FILE holding this output).
"""

from __future__ import annotations

import argparse
import json
import math
import time
from collections.abc import Iterable

import numpy as np

from scomm.biometrics.index.gallery import MinutiaeTemplate
from scomm.biometrics.protocols import FINGER_POSITIONS, FailureToEnrol
from scomm.biometrics.wsq_codec import WsqJob, decode_wsq_images, encode_wsq
from scomm.sim.synth import demo_engine
from scomm.sim.synth.world_prints import ENROLMENT_CAPTURE, booking_capture, capture_images

PPI = 500
# Ten fingers, a tenprint with one finger missing, one hand, the two index fingers, one.
PROBE_FINGERS: dict[int, tuple[int, ...]] = {
    10: FINGER_POSITIONS,
    9: FINGER_POSITIONS[:9],
    5: FINGER_POSITIONS[:5],
    2: (2, 7),
    1: (2,),
}
UNENROLLED_OFFSET = 500_000  # person seeds of the never-enrolled, after the enrolled ones

Templates = dict[int, MinutiaeTemplate]


class Timer:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.counts: dict[str, int] = {}

    def add(self, name: str, seconds: float, count: int = 1) -> None:
        self.seconds[name] = self.seconds.get(name, 0.0) + seconds
        self.counts[name] = self.counts.get(name, 0) + count

    def ms(self, name: str) -> float:
        return 1e3 * self.seconds.get(name, 0.0) / max(1, self.counts.get(name, 0))


def capture(person: int, number: int, wsq: bool, timer: Timer) -> list[np.ndarray]:
    """Capture `number` of the person's ten fingers (FGP 1-10), through WSQ if `wsq`."""
    start = time.perf_counter()
    images = [image.pixels for image in capture_images(person, number)]
    timer.add("draw", time.perf_counter() - start, len(images))
    if not wsq:
        return images
    start = time.perf_counter()
    jobs = [WsqJob(encode_wsq(image), image.shape[1], image.shape[0]) for image in images]
    decoded = decode_wsq_images(jobs)
    timer.add("wsq", time.perf_counter() - start, len(images))
    return decoded


def templates_of(images: list[np.ndarray], timer: Timer, failures: list[int]) -> Templates:
    extractor = demo_engine.demo_extractor()
    out: Templates = {}
    for finger, image in zip(FINGER_POSITIONS, images, strict=True):
        start = time.perf_counter()
        try:
            out[finger] = extractor.extract(image, PPI, finger)
        except FailureToEnrol:
            failures.append(finger)
        timer.add("extract", time.perf_counter() - start)
    return out


def stats(values: Iterable[float]) -> dict[str, float]:
    v = np.asarray(list(values), dtype=np.float64)
    if not v.size:
        return {"n": 0}
    return {
        "n": int(v.size),
        "min": round(float(v.min()), 3),
        "p1": round(float(np.percentile(v, 1)), 3),
        "mean": round(float(v.mean()), 3),
        "p99": round(float(np.percentile(v, 99)), 3),
        "max": round(float(v.max()), 3),
    }


def choose_threshold(genuine_min: float, impostor_max: float) -> float:
    if genuine_min > impostor_max:
        return round((genuine_min + impostor_max) / 2, 2)
    return round(math.ceil(20 * impostor_max) / 20 + 0.05, 2)


def thresholds_1_to_10(measured: dict[int, float]) -> dict[int, float]:
    """Every finger count's threshold: measured, or interpolated between measured ones."""
    counts = sorted(measured)
    values = [measured[c] for c in counts]
    return {n: round(float(np.interp(n, counts, values)), 2) for n in FINGER_POSITIONS}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--enrolled", type=int, default=300)
    parser.add_argument("--unenrolled", type=int, default=300)
    parser.add_argument(
        "--seed", type=int, default=0, help="probes are booking capture number SEED"
    )
    parser.add_argument("--no-wsq", action="store_true", help="search raw captures")
    args = parser.parse_args()
    timer = Timer()
    failures: list[int] = []
    first = demo_engine.CALIBRATION_PERSON_SEED
    enrolled = demo_engine.outside_people(first, args.enrolled)
    unenrolled = demo_engine.outside_people(first + UNENROLLED_OFFSET, args.unenrolled)

    start = time.perf_counter()
    coder = demo_engine.fit_pair_coder()  # as the profile job fits it
    coder_s = time.perf_counter() - start
    gallery = demo_engine.gallery_for(coder, thresholds={})
    for person in enrolled:
        templates = templates_of(capture(person, ENROLMENT_CAPTURE, False, timer), timer, failures)
        gallery.enrol(f"P{person}", templates)

    probe_capture = booking_capture(args.seed)
    probes = [
        (
            person,
            templates_of(capture(person, probe_capture, not args.no_wsq, timer), timer, failures),
        )
        for person in (*enrolled, *unenrolled)
    ]
    gallery.search(probes[0][1])  # warm-up (numba)
    report: dict[str, object] = {}
    rows = []
    for count, fingers in PROBE_FINGERS.items():
        genuine, best_impostor, all_impostor = [], [], []
        rank1 = missed = 0
        for person, templates in probes:
            probe = {f: t for f, t in templates.items() if f in fingers}
            if not probe:
                continue
            start = time.perf_counter()
            result = gallery.search(probe, max_candidates=demo_engine.SHORTLIST)
            timer.add(f"search_{count}", time.perf_counter() - start)
            mate = f"P{person}"
            others = [c.fused_score for c in result.candidates if c.identity_id != mate]
            all_impostor += others
            best_impostor.append(max(others, default=0.0))
            if person in enrolled:
                scores = [c.fused_score for c in result.candidates if c.identity_id == mate]
                if scores:
                    genuine.append(scores[0])
                    rank1 += result.best is not None and result.best.identity_id == mate
                else:
                    missed += 1
        g, b = stats(genuine), stats(best_impostor)
        threshold = choose_threshold(float(g.get("min", 0.0)), float(b.get("max", 0.0)))
        report[str(count)] = {
            "genuine": g,
            "best_impostor": b,
            "impostor_candidates": stats(all_impostor),
            "rank1": rank1,
            "mates_not_shortlisted": missed,
            "threshold": threshold,
            "search_ms": round(timer.ms(f"search_{count}"), 2),
        }
        rows.append((count, g, b, rank1, missed, threshold))

    print(
        f"enrolled {args.enrolled}, unenrolled {args.unenrolled}, probes through "
        f"{'raw pixels' if args.no_wsq else 'WSQ'}; failures to enrol: {len(failures)} fingers; "
        f"draw {timer.ms('draw'):.1f} ms/finger; extract {timer.ms('extract'):.2f} ms/finger; "
        f"coder fit {coder_s:.1f} s"
    )
    print(
        f"{'fingers':>7} {'mates: min':>10} {'p1':>6} {'mean':>6} | "
        f"{'best non-mate: mean':>19} {'p99':>6} {'max':>6} | {'rank1':>5} {'lost':>4} | threshold"
    )
    for count, g, b, rank1, missed, threshold in rows:
        print(
            f"{count:>7} {g['min']:>10.3f} {g['p1']:>6.3f} {g['mean']:>6.3f} | "
            f"{b['mean']:>19.3f} {b['p99']:>6.3f} {b['max']:>6.3f} | {rank1:>5} {missed:>4} | "
            f"{threshold:.2f}"
        )
    report["draw_ms_per_finger"] = round(timer.ms("draw"), 3)
    report["extract_ms_per_finger"] = round(timer.ms("extract"), 3)
    report["wsq_ms_per_finger"] = round(timer.ms("wsq"), 3)
    report["failures_to_enrol"] = len(failures)
    report["enrolled"], report["unenrolled"] = args.enrolled, args.unenrolled
    measured = {count: row[-1] for count, *row in rows}
    report["thresholds"] = {str(n): t for n, t in thresholds_1_to_10(measured).items()}
    print(f"thresholds by probe fingers: {thresholds_1_to_10(measured)}")
    print(json.dumps(report, sort_keys=True))


if __name__ == "__main__":
    main()
