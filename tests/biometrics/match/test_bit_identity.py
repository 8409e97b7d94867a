"""Bit-identity pins of the MCC matcher: every score, cylinder and explanation, by SHA-256.

The digests were recorded with the matcher before it was split into one module per stage
(commit "bit-identity pins before the split"); a refactoring that keeps them keeps every
comparison the same to the last bit.  A change meant to alter scores must update them and
say why in its commit.

Synthetic part (no data): seeded minutiae sets, half of them moved and jittered copies of
the others, a few degenerate ones; every pair scored 1:1 (`compare`), 1:N (`compare_many`
on templates packed by `pack` and by `prepare_packed`), under the parameter sets the
repository uses (default, `GALLERY_MATCHER_PARAMS`, `LEADER_MATCHER_PARAMS`) and two that
take the kernels' other paths (16 x 16 x 6 cylinders: several words per plane; unmasked).

Real-data part: every FVC2002 DB1-4_B protocol pair (genuine and impostor, as
`scomm.biometrics.evaluation.fvc_pairs` forms them for `scomm bench verify`) scored from
the ISO/IEC 19794-2 templates in $SCOMM_DATA_DIR/iso-templates/secugen/fvc2002 (about
1.5 s a parameter set; `bench/mcc_pins.py` prints the same digests with timings).
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

import numpy as np
import pytest

from scomm.biometrics.evaluation import fvc_pairs
from scomm.biometrics.match import (
    CylinderParams,
    LssrParams,
    MatchExplanation,
    MccMatcher,
    MccParams,
    prepare_packed,
)
from scomm.biometrics.match.mcc_params import GALLERY_MATCHER_PARAMS, LEADER_MATCHER_PARAMS
from scomm.biometrics.minutiae import Minutiae
from scomm.biometrics.minutiae_batch import MinutiaeBatch

PARAMS = {
    "default": MccParams(),
    "gallery": GALLERY_MATCHER_PARAMS,
    "leader": LEADER_MATCHER_PARAMS,
    "wide": MccParams(cylinder=CylinderParams(ns=16, nd=6)),
    "unmasked": MccParams(lssr=LssrParams(masked=False)),
}

# SHA-256 of the templates' bytes (`MatcherTemplate.to_bytes`, in order) and of the scores
# of every pair i < j (float64, little-endian, row-major), per parameter set.
SYNTHETIC_TEMPLATES = {
    "default": "7fbc3f751048cda698abaaf61136bfafcb13ba835d921518ce0a0a3cad772c5e",
    "gallery": "7fbc3f751048cda698abaaf61136bfafcb13ba835d921518ce0a0a3cad772c5e",
    "leader": "5a96b571c474f478648e9c3d4e06e4abcaea5872fa67cd834be5dc75e8d9c389",
    "wide": "db199e404e1b06d900ce988ecf5349b39ca546dbdb0b5a8b0bf6f57de0da9448",
    "unmasked": "7fbc3f751048cda698abaaf61136bfafcb13ba835d921518ce0a0a3cad772c5e",
}
SYNTHETIC_SCORES = {
    "default": "9243fb875d9cfad715c0ebb5dd0a00be3c5a6a1392c7093b28d46c51a48b8ecf",
    "gallery": "1f82e65234d7472282a190e71bcdcdd075d33dcb6d792ae766abc24a3244d568",
    "leader": "c4b9f3173ded88109ec33e6d326c0adbeed5c78aecc6b1d0febdc34a9b771cc9",
    "wide": "4bd3eb7e684a6022876c4940441d198b5b97b5772c525a849bdbc2d965a20235",
    "unmasked": "16c899bc2674be221d07f48a3ef864e6e8843776642c23ca6b6eebb1cef4b969",
}
# a few scores written out (float.hex): (parameter set, i, j) -> score
SYNTHETIC_EXACT = {
    ("default", 0, 15): "0x1.64eda6e3b767dp-1",
    ("default", 1, 2): "0x1.a6108e8738f6dp-6",
    ("gallery", 3, 18): "0x1.46b95a437e131p-1",
    ("leader", 3, 18): "0x1.26ce114c41177p-1",
    ("wide", 0, 15): "0x1.47d7a620d2ba6p-1",
    ("wide", 1, 2): "0x1.3bd68954d82c4p-5",
    ("unmasked", 1, 2): "0x1.a3745e43fee2dp-6",
}
EXPLAIN_DIGEST = "7593061ecc58b8415ab63f290f7c40d2c3e0a975f65e167f0042b353cc8ad262"
FVC_SCORES = {
    "leader": "b2e21eb530bc4cfa2a1ab515bcacdae65c6729221990f00fdc2d7f2dd730aab7",
    "gallery": "d767285bda2b1e95870eb277006595e3ebfa87703d8d0c4e8fb41c174834a020",
    "default": "e677a36970c8cd0a2386effd256a0f1a14a9349a5e210f1a52ef7ee024f5ec4c",
}
FVC_PAIRS = 12_640  # genuine + impostor pairs over DB1-4_B


# one frame for every set: `prepare_packed` takes a batch's frame, which enters the keys
FRAME = (416, 560)


def _digest(*arrays: np.ndarray | bytes) -> str:
    h = hashlib.sha256()
    for a in arrays:
        h.update(a if isinstance(a, bytes) else np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def _scores_digest(scores: np.ndarray) -> str:
    return _digest(np.asarray(scores, dtype="<f8"))


def _print_like(rng: np.random.Generator, n: int, width: int, height: int) -> Minutiae:
    """Minutiae spread over a width x height ellipse centred in the frame, directions
    following a smooth flow field."""
    cx, cy = FRAME[0] / 2, FRAME[1] / 2
    pts: list[tuple[float, float]] = []
    while len(pts) < n:
        x, y = cx + rng.uniform(-0.5, 0.5) * width, cy + rng.uniform(-0.5, 0.5) * height
        if ((x - cx) / (0.45 * width)) ** 2 + ((y - cy) / (0.47 * height)) ** 2 > 1:
            continue
        if all((x - px) ** 2 + (y - py) ** 2 > 12**2 for px, py in pts):
            pts.append((x, y))
    xy = np.array(pts)
    bend = rng.uniform(-60, 60)
    flow = np.arctan2(xy[:, 1] - cy + bend, xy[:, 0] - cx) + np.pi / 2
    angle = np.mod(flow + np.pi * rng.integers(0, 2, n) + rng.normal(0, 0.15, n), 2 * np.pi)
    quality = rng.integers(20, 101, n)
    return Minutiae(xy[:, 0], xy[:, 1], angle, rng.integers(1, 3, n), quality, *FRAME, 500)


def _moved(m: Minutiae, rng: np.random.Generator) -> Minutiae:
    """Rotated, shifted, jittered copy; some minutiae lost, a few spurious ones added."""
    rot = rng.normal(0, 0.5)
    tx, ty = rng.normal(0, 25, 2)
    cx, cy = m.width / 2, m.height / 2
    c, s = math.cos(rot), math.sin(rot)
    dx, dy = m.x - cx, m.y - cy
    n = len(m)
    x = cx + c * dx + s * dy + tx + rng.normal(0, 2.0, n)
    y = cy - s * dx + c * dy + ty + rng.normal(0, 2.0, n)
    angle = np.mod(m.angle + rot + rng.normal(0, 0.08, n), 2 * np.pi)
    keep = (x >= 0) & (x < m.width) & (y >= 0) & (y < m.height) & (rng.uniform(0, 1, n) > 0.15)
    extra = int(rng.integers(0, 6))
    return Minutiae(
        np.concatenate([x[keep], rng.uniform(20, m.width - 20, extra)]),
        np.concatenate([y[keep], rng.uniform(20, m.height - 20, extra)]),
        np.concatenate([angle[keep], rng.uniform(0, 2 * np.pi, extra)]),
        np.concatenate([m.kind[keep], np.ones(extra, np.uint8)]),
        np.concatenate([m.quality[keep], np.full(extra, 30, np.uint8)]),
        m.width,
        m.height,
        m.ppi,
    )


def synthetic_sets() -> list[Minutiae]:
    """15 print-like sets of 12..70 minutiae, a moved copy of each, and degenerate sets
    (empty, one minutia, two, a repeated point, collinear points): 35 sets, 595 pairs."""
    rng = np.random.default_rng(20261207)
    bases = []
    for _ in range(15):
        width, height = int(rng.integers(280, 420)), int(rng.integers(300, 560))
        bases.append(_print_like(rng, int(rng.integers(12, 71)), width, height))
    moved = [_moved(m, rng) for m in bases]
    line = np.arange(10, dtype=np.float64)

    def plain(x: list[float] | np.ndarray, y: list[float] | np.ndarray, t: list[float]) -> Minutiae:
        k = len(x)
        return Minutiae(
            np.asarray(x, float), np.asarray(y, float), np.asarray(t, float),
            np.ones(k), np.full(k, 50), *FRAME, 500,
        )  # fmt: skip

    odd = [
        Minutiae.empty(*FRAME),
        plain([150.0], [160.0], [1.0]),
        plain([150.0, 190.0], [160.0, 170.0], [1.0, 4.0]),
        plain([150.0] * 4, [160.0] * 4, [0.5, 0.5, 2.0, 6.0]),
        plain(100 + 15 * line, 80 + 10 * line, list(rng.uniform(0, 2 * np.pi, 10))),
    ]
    return bases + moved + odd


def _pairs(n: int) -> list[tuple[int, int]]:
    return [(i, j) for i in range(n) for j in range(i + 1, n)]


@pytest.fixture(scope="module")
def sets() -> list[Minutiae]:
    return synthetic_sets()


@pytest.mark.parametrize("name", list(PARAMS))
def test_synthetic_scores_are_pinned(name: str, sets: list[Minutiae]) -> None:
    matcher = MccMatcher(PARAMS[name])
    templates = [matcher.prepare(m) for m in sets]
    assert _digest(*[t.to_bytes() for t in templates]) == SYNTHETIC_TEMPLATES[name]
    pairs = _pairs(len(templates))
    one = np.array([matcher.compare(templates[i], templates[j]) for i, j in pairs])
    assert _scores_digest(one) == SYNTHETIC_SCORES[name]
    for (p, i, j), value in SYNTHETIC_EXACT.items():
        if p == name:
            assert one[pairs.index((i, j))].hex() == value
    # the 1:N paths: packed from templates and prepared straight into the packed layout
    packed = matcher.pack(templates)
    straight = prepare_packed(matcher, MinutiaeBatch.from_minutiae(sets))
    assert np.array_equal(straight.keys, packed.keys)
    assert np.array_equal(straight.bits, packed.bits)
    many = np.concatenate(
        [matcher.compare_many(templates[i], packed, np.arange(i + 1, len(templates))) for i in
         range(len(templates))]
    )  # fmt: skip
    assert _scores_digest(many) == SYNTHETIC_SCORES[name]
    many2 = np.concatenate(
        [matcher.compare_many(templates[i], straight)[i + 1 :] for i in range(len(templates))]
    )
    assert _scores_digest(many2) == SYNTHETIC_SCORES[name]


def explanation_digest(e: MatchExplanation) -> str:
    scalars = np.array(
        [e.score, e.lssr_score, e.consolidation_score, e.matched_count, e.overlap_a,
         e.overlap_b, e.rotation, e.tx, e.ty],
        dtype="<f8",
    )  # fmt: skip
    return _digest(
        scalars,
        np.asarray(e.pairs, "<i8"),
        np.asarray(e.local_similarity, "<f8"),
        np.asarray(e.relaxed, "<f8"),
        np.asarray(e.matched, "<i8"),
    )


def test_explanations_are_pinned(sets: list[Minutiae]) -> None:
    """Explain (paired minutiae, relaxed values, transform, score parts) of each base set
    against its moved copy and against the next base, both ways round, default and LEADER."""
    digests = []
    for name in ("default", "leader"):
        matcher = MccMatcher(PARAMS[name])
        t = [matcher.prepare(m) for m in sets]
        for i in range(15):
            for a, b in ((i, 15 + i), (15 + i, i), (i, (i + 1) % 15)):
                e = matcher.explain(t[a], t[b])
                assert e.score == matcher.compare(t[a], t[b])
                digests.append(explanation_digest(e))
    assert _digest("".join(digests).encode()) == EXPLAIN_DIGEST


def fvc_templates(root: Path) -> dict[str, dict[tuple[int, int], Minutiae]]:
    """{database: {(finger, impression): minutiae}} of the ISO templates under root."""
    from scomm.biometrics.minutiae_records import read_record

    out: dict[str, dict[tuple[int, int], Minutiae]] = {}
    for db in sorted(p for p in root.iterdir() if p.is_dir()):
        found = {}
        for path in sorted(db.glob("*_*.iso")):
            finger, impression = (int(v) for v in path.stem.split("_"))
            found[(finger, impression)] = read_record(path.read_bytes()).views[0].minutiae
        out[db.name] = found
    return out


def fvc_scores(matcher: MccMatcher, data: dict[str, dict[tuple[int, int], Minutiae]]) -> list:  # type: ignore[type-arg]
    """Scores of every protocol pair, database by database, genuine then impostor."""
    scores = []
    for by_key in data.values():
        fingers = sorted({f for f, _ in by_key})
        impressions = {f: sorted(i for g, i in by_key if g == f) for f in fingers}
        genuine, impostor = fvc_pairs(fingers, impressions)
        prepared = {k: matcher.prepare(m) for k, m in by_key.items()}
        scores += [matcher.compare(prepared[a], prepared[b]) for a, b in genuine + impostor]
    return scores


@pytest.mark.parametrize("name", list(FVC_SCORES))
def test_fvc2002_iso_template_scores_are_pinned(name: str, data_dir: Path) -> None:
    root = data_dir / "iso-templates" / "secugen" / "fvc2002"
    if not root.is_dir():
        pytest.skip(f"{root} not found: the FVC2002 ISO templates are needed for this pin")
    scores = np.array(fvc_scores(MccMatcher(PARAMS[name]), fvc_templates(root)))
    assert len(scores) == FVC_PAIRS
    assert _scores_digest(scores) == FVC_SCORES[name]
