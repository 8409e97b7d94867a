"""The demo engine's fitting job: skeleton minutiae of synthetic prints, two-stage MCC search.

The demo's repositories search with scomm's 1:N engine (`biometrics.index.IndexedGallery`:
pair-code shortlist, MCC re-ranking, fused score = sum of the per-finger matcher scores);
the minutiae come from `extract_skeleton`, which is fast and accurate on these clean
synthetic textures and nothing else.  Two things are fitted on synthetic people that no
world holds (person seeds from `OUTSIDE_PERSON_SEED` up; worlds draw theirs below 2**31):
the pair coder's population mean (`fit_pair_coder`) and the decision thresholds
(`THRESHOLDS`, measured with `bench/demo_engine_calibration.py`).  `demo_profile` puts
them in the engine profile `skeleton-mcc-v1` that ships with the product
(`scomm.biometrics.profiles`; written by `bench/write_engine_profiles.py`); the system
loads that file and fits nothing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from scomm.biometrics.extract_skeleton import SkeletonExtractor, SkeletonParams
from scomm.biometrics.index.gallery import IndexedGallery
from scomm.biometrics.index.pair_code import PairCodeParams, PairCoder
from scomm.biometrics.match import MccMatcher
from scomm.biometrics.match.mcc_params import GALLERY_MATCHER_PARAMS
from scomm.biometrics.minutiae import MIN_COMPARABLE_MINUTIAE, Minutiae
from scomm.biometrics.minutiae_batch import MinutiaeBatch
from scomm.biometrics.profiles import (
    DEMO_ENGINE,
    Engine,
    EngineProfile,
    ExtractorSpec,
    PairCodeFit,
    build_engine,
    load_profile,
)
from scomm.biometrics.profiles.factory import skeleton_extractor
from scomm.biometrics.protocols import Extractor, Gallery
from scomm.sim.synth.world_prints import ENROLMENT_CAPTURE, capture_images, parallel_map

ENGINE_NAME = DEMO_ENGINE  # stored with every template the demo's repositories hold
PROFILE_VERSION = 1  # count up when a refit or recalibration changes the profile

# Skeleton minutiae of these prints are clean, so the LEADER settings (8x4 cylinders, a
# consolidation gate at LSS-R 0.08) fit them.
MATCHER_PARAMS = GALLERY_MATCHER_PARAMS

# A tenprint's mate is first on the pair-code scan in every calibration search; a short
# shortlist keeps the re-ranking (prepare + compare of shortlist x fingers) cheap.
SHORTLIST = 20

OUTSIDE_PERSON_SEED = 2**31  # worlds draw person finger seeds in [1, 2**31 - 1)
CODER_PEOPLE = 8  # 80 rolled fingers for the pair coder's mean (about 6 s of one core)
CALIBRATION_PERSON_SEED = OUTSIDE_PERSON_SEED + 1_000_000  # far from the coder's people

# Fused-score thresholds (sum of per-finger MCC scores) by number of probe fingers: the
# midpoint between the highest non-mate and the lowest mate, to 0.01.  Measured with
# `taskset -c 1 .venv/bin/python bench/demo_engine_calibration.py` (seed 0, 2026-11-29, 22
# min on one core): 300 people enrolled from their enrolment capture (raw rolled
# impressions of the SFinGe-style generator), another capture (through WSQ) of them and of
# 300 never-enrolled people searched, the best non-mate of each of the 600 searches kept;
# 5 of 9,000 fingers failed to enrol:
#   fingers          mates (n=300): min   mean | best non-mate: mean   max | threshold
#     10                           3.860  5.059 |                0.144  0.533 | 2.20
#      9 (FGP 1-9)                 3.496  4.559 |                0.133  0.533 | 2.01
#      5 (FGP 1-5)                 1.636  2.529 |                0.108  0.359 | 1.00
#      2 (FGP 2, 7)                0.333  0.998 |                0.047  0.217 | 0.28
#      1 (FGP 2)                   0.000  0.504 |                0.036  0.217 | 0.25
# Every mate of 2 or more fingers ranked first.  One finger overlaps: 3 mates not shortlisted
# (one had no usable FGP 2), 1% of the rest under 0.14; the threshold is the highest
# non-mate rounded up to 0.05 (the bench's rule adds 0.05 more, 0.30, which would stand above
# the two-finger threshold), so one finger alone misses a few searches in a hundred.  Counts
# 3, 4, 6, 7 and 8 are interpolated between their measured neighbours.  Tenprints, all the
# demo searches, have a margin of more than 1.6 points of fused score on either side.
THRESHOLDS: Mapping[int, float] = {
    1: 0.25,
    2: 0.28,
    3: 0.52,
    4: 0.76,
    5: 1.00,
    6: 1.25,
    7: 1.50,
    8: 1.76,
    9: 2.01,
    10: 2.20,
}


def outside_people(first: int, count: int) -> range:
    """Person seeds no world uses (for fitting and calibrating the engine)."""
    if first < OUTSIDE_PERSON_SEED:
        raise ValueError(f"person seed {first} may belong to a world")
    return range(first, first + count)


def fit_pair_coder(people: int = CODER_PEOPLE) -> PairCoder:
    """The pair coder centred on skeleton minutiae of one rolled capture of each finger of
    `people` synthetic people outside every world (deterministic: the same people give the
    same float32 mean, bit for bit)."""
    extractor = SkeletonExtractor()

    def minutiae(person: int) -> list[Minutiae]:
        images = capture_images(person, ENROLMENT_CAPTURE)
        return [extractor.minutiae(image.pixels) for image in images]

    people_sets = parallel_map(minutiae, list(outside_people(OUTSIDE_PERSON_SEED, people)))
    sets = [s for person in people_sets for s in person]
    return PairCoder.fit(MinutiaeBatch.from_minutiae(sets), PairCodeParams())


def demo_profile(
    people: int = CODER_PEOPLE, thresholds: Mapping[int, float] | None = None
) -> EngineProfile:
    """The profile of the demo's engine: the pair coder fitted on `people` outside people,
    the calibrated `thresholds` (by default those measured above)."""
    coder = fit_pair_coder(people)
    last = OUTSIDE_PERSON_SEED + people - 1
    settings = {**dataclasses.asdict(SkeletonParams()), "min_minutiae": MIN_COMPARABLE_MINUTIAE}
    return EngineProfile(
        name=ENGINE_NAME,
        version=PROFILE_VERSION,
        description=(
            "The demo's engine: skeleton minutiae (clean synthetic prints only), pair-code "
            "shortlist, MCC re-ranking; fitted and calibrated on synthetic people outside "
            "every world."
        ),
        produced_by="scomm.sim.synth.demo_engine.demo_profile (bench/write_engine_profiles.py)",
        extractor=ExtractorSpec("skeleton", settings),
        matcher="mcc",
        matcher_params=MATCHER_PARAMS,
        search="indexed",
        pair_code=PairCodeFit(
            coder.params,
            coder.mean,
            f"skeleton minutiae of enrolment capture {ENROLMENT_CAPTURE} of the 10 rolled "
            f"fingers of synthetic people {OUTSIDE_PERSON_SEED}..{last}",
        ),
        shortlist=SHORTLIST,
        thresholds=dict(THRESHOLDS if thresholds is None else thresholds),
    )


def gallery_for(coder: PairCoder, thresholds: Mapping[int, float]) -> IndexedGallery:
    """A gallery of the demo's engine around `coder` (for calibrating before a profile)."""
    return IndexedGallery(
        coder, MccMatcher(MATCHER_PARAMS), thresholds=thresholds, shortlist=SHORTLIST
    )


def demo_engine() -> Engine:
    """The demo's engine as the product loads it: from its shipped profile."""
    return build_engine(load_profile(ENGINE_NAME))


def demo_extractor() -> Extractor:
    """The demo engine's extractor, from its shipped profile (no pair coder built)."""
    return skeleton_extractor(load_profile(ENGINE_NAME))


def demo_gallery(thresholds: Mapping[int, float] | None = None) -> Gallery:
    """An empty repository gallery of the demo's engine (its shipped profile)."""
    return demo_engine().new_gallery(thresholds)
