"""How well minunet finds LEADER's minutiae on images it was not trained on, and how fast.

    .venv/bin/python tools/minunet/evaluate.py --data data.npz --model minunet.onnx

Held-out images are those train.py holds out (index a multiple of --holdout-every): synthetic
impressions of fingers it never saw and real non-FVC prints. A detection matches a LEADER
minutia (quality >= 0.55, LEADER's own threshold) within 8 px, one to one, nearest first;
the direction error is measured on matched pairs. Reported per threshold, to choose the
extractor's: precision, recall, F1, median direction error, type agreement, and the CPU time
of the network and of the whole extraction per image (one thread).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from scomm.biometrics.extract_minunet import MinunetExtractor

LEADER_THRESHOLD = 0.55
TOLERANCE = 8.0


def load(path: Path):
    d = np.load(path)  # each d[name] reads (and decompresses) that array again: once here
    pixels, labels = d["pixels"], d["labels"]
    at = lat = 0
    for (h, w), n, source in zip(d["shapes"], d["counts"], d["sources"], strict=True):
        yield str(source), pixels[at : at + h * w].reshape(h, w), labels[lat : lat + n]
        at, lat = at + h * w, lat + n


def match(found, truth):
    if len(found) == 0 or len(truth) == 0:
        return []
    d = np.hypot(found[:, None, 0] - truth[None, :, 0], found[:, None, 1] - truth[None, :, 1])
    pairs, used_f, used_t = [], set(), set()
    for flat in np.argsort(d, axis=None):
        i, j = divmod(int(flat), d.shape[1])
        if d[i, j] > TOLERANCE:
            break
        if i not in used_f and j not in used_t:
            used_f.add(i)
            used_t.add(j)
            pairs.append((i, j))
    return pairs


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--holdout-every", type=int, default=10)
    ap.add_argument("--thresholds", default="0.3,0.4,0.5,0.6,0.7")
    args = ap.parse_args()
    thresholds = [float(t) for t in args.thresholds.split(",")]
    stats = {t: {"tp": 0, "fp": 0, "fn": 0, "dir": [], "type": []} for t in thresholds}
    cpu, kinds = [], {"syn": 0, "real": 0}
    for k, (source, image, labels) in enumerate(load(args.data)):
        if k % args.holdout_every:
            continue
        kinds["syn" if source.startswith("syn:") else "real"] += 1
        truth = labels[labels[:, 4] >= LEADER_THRESHOLD]
        for t in thresholds:
            extractor = MinunetExtractor(threshold=t, min_kept_detections=0, model=args.model)
            start = time.thread_time()
            m = extractor.minutiae(image)
            if t == thresholds[0]:
                cpu.append((time.thread_time() - start) * 1000)
            found = np.column_stack([m.x, m.y, m.angle, m.kind])
            pairs = match(found, truth)
            s = stats[t]
            s["tp"] += len(pairs)
            s["fp"] += len(found) - len(pairs)
            s["fn"] += len(truth) - len(pairs)
            for i, j in pairs:
                e = abs((found[i, 2] - truth[j, 2] + np.pi) % (2 * np.pi) - np.pi)
                s["dir"].append(np.degrees(e))
                s["type"].append((found[i, 3] == 1) == (truth[j, 3] == 0))
    print(
        f"held-out images: {kinds}; extraction CPU ms median {np.median(cpu):.1f}, "
        f"max {max(cpu):.1f}"
    )
    for t, s in stats.items():
        p = s["tp"] / max(1, s["tp"] + s["fp"])
        r = s["tp"] / max(1, s["tp"] + s["fn"])
        f1 = 2 * p * r / max(1e-9, p + r)
        print(
            f"threshold {t:.2f}: precision {p:.3f} recall {r:.3f} F1 {f1:.3f} "
            f"direction error median {np.median(s['dir']):.1f} deg, "
            f"type agreement {np.mean(s['type']):.3f}"
        )


if __name__ == "__main__":
    main()
