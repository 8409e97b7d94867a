"""The demo's fingerprint engine: skeleton minutiae of synthetic prints, two-stage MCC search.

The repositories search with scomm's 1:N engine (`biometrics.index.IndexedGallery`: pair-code
shortlist, MCC re-ranking, fused score = sum of the per-finger matcher scores); the
minutiae come from `extract_skeleton`, which is fast and accurate on these clean synthetic
textures and nothing else.  Two things are fitted on synthetic people that no world holds
(person seeds from `OUTSIDE_PERSON_SEED` up; worlds draw theirs below 2**31): the pair
coder's population mean (`demo_pair_coder`) and the decision thresholds (`THRESHOLDS`,
measured with `bench/demo_engine_calibration.py`).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache

from scomm.biometrics.extract_skeleton import SkeletonExtractor, SkeletonTemplateExtractor
from scomm.biometrics.index.gallery import IndexedGallery
from scomm.biometrics.index.pair_code import PairCodeParams, PairCoder
from scomm.biometrics.match import MccMatcher
from scomm.biometrics.match.mcc_params import GALLERY_MATCHER_PARAMS
from scomm.biometrics.minutiae import Minutiae
from scomm.biometrics.minutiae_batch import MinutiaeBatch
from scomm.synth.world_prints import ENROLMENT_CAPTURE, capture_images, parallel_map

ENGINE_NAME = "skeleton-mcc-v1"  # stored with every template the demo's repositories hold

# Skeleton minutiae of these prints are clean, so the LEADER settings (8x4 cylinders, a
# consolidation gate at LSS-R 0.08) fit them: on single fingers (60 fingers, two captures
# each, 3,540 impostor pairs) mates score min 0.20 / 5th percentile 0.52 / mean 0.72 and
# non-mates mean 0.01 / max 0.24; the MINDTCT settings give 0.13 / 0.41 / 0.72 and
# 0.07 / 0.16 at twice the comparison cost.
MATCHER_PARAMS = GALLERY_MATCHER_PARAMS

# A tenprint's mate is first on the pair-code scan in every calibration search; a short
# shortlist keeps the re-ranking (prepare + compare of shortlist x fingers) cheap.
SHORTLIST = 20

OUTSIDE_PERSON_SEED = 2**31  # worlds draw person finger seeds in [1, 2**31 - 1)
CODER_PEOPLE = 8  # 80 rolled fingers for the pair coder's mean (about 6 s of one core)
CALIBRATION_PERSON_SEED = OUTSIDE_PERSON_SEED + 1_000_000  # far from the coder's people

# Fused-score thresholds (sum of per-finger MCC scores) by number of probe fingers: the
# midpoint between the highest non-mate and the lowest mate, to 0.01.  Measured with
# `.venv/bin/python bench/demo_engine_calibration.py` (seed 0): 300 people enrolled from one
# raw capture, fresh captures (through WSQ) of them and of 300 never-enrolled people searched,
# the best non-mate of each of the 600 searches kept:
#   fingers          mates (n=300): min   mean | best non-mate: mean   max | threshold
#     10                           5.483  6.488 |                0.463  0.947 | 3.21
#      9 (FGP 1-9)                 4.828  5.841 |                0.438  0.889 | 2.86
#      5 (FGP 1-5)                 2.209  3.242 |                0.313  0.718 | 1.46
#      2 (FGP 2, 7)                0.793  1.300 |                0.209  0.427 | 0.61
#      1 (FGP 2)                   0.211  0.660 |                0.154  0.290 | 0.35
# Two fingers: 2 of the 300 mates not shortlisted (misses whatever the threshold).  One
# finger overlaps: the threshold is the highest non-mate rounded up to 0.05, plus 0.05
# (no false match favoured over no miss); 15 mates not shortlisted and 1% of the rest
# under 0.356, so one finger alone misses about one search in fifteen here.  Counts 3, 4, 6,
# 7 and 8 are interpolated between their measured neighbours.  Tenprints, all the demo
# searches, have a margin of more than two points of fused score on either side.
THRESHOLDS: dict[int, float] = {
    1: 0.35,
    2: 0.61,
    3: 0.89,
    4: 1.18,
    5: 1.46,
    6: 1.81,
    7: 2.16,
    8: 2.51,
    9: 2.86,
    10: 3.21,
}


def outside_people(first: int, count: int) -> range:
    """Person seeds no world uses (for fitting and calibrating the engine)."""
    if first < OUTSIDE_PERSON_SEED:
        raise ValueError(f"person seed {first} may belong to a world")
    return range(first, first + count)


@lru_cache(maxsize=2)
def demo_pair_coder(people: int = CODER_PEOPLE) -> PairCoder:
    """The pair coder centred on skeleton minutiae of one rolled capture of each finger of
    `people` synthetic people outside every world (deterministic; fitted once per process)."""
    extractor = SkeletonExtractor()

    def minutiae(person: int) -> list[Minutiae]:
        images = capture_images(person, ENROLMENT_CAPTURE)
        return [extractor.minutiae(image.pixels) for image in images]

    people_sets = parallel_map(minutiae, list(outside_people(OUTSIDE_PERSON_SEED, people)))
    sets = [s for person in people_sets for s in person]
    return PairCoder.fit(MinutiaeBatch.from_minutiae(sets), PairCodeParams())


def demo_extractor() -> SkeletonTemplateExtractor:
    return SkeletonTemplateExtractor()


def demo_gallery(thresholds: Mapping[int, float] | None = None) -> IndexedGallery:
    """An empty repository gallery of the demo's engine."""
    return IndexedGallery(
        demo_pair_coder(),
        MccMatcher(MATCHER_PARAMS),
        thresholds=THRESHOLDS if thresholds is None else thresholds,
        shortlist=SHORTLIST,
    )
