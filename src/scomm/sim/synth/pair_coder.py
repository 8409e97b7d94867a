"""The first-stage pair coder centred on a synthetic population.

A `PairCoder` needs the population's mean pair histogram.  scomm has no real population to
take it from, so it is estimated on rolled impressions of synthetic people whose identity
numbers no gallery uses; the estimate is deterministic for a seed and settles within a few
thousand fingers.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from scomm.biometrics.index.pair_code import PairCodeParams, PairCoder
from scomm.sim.synth import minutiae_sets

FIT_IDENTITY = 900_000_000  # far from the identity numbers galleries and probes use


@lru_cache(maxsize=4)
def synthetic_pair_coder(seed: int = 0, fingers: int = 4_000) -> PairCoder:
    """A coder fitted on `fingers` rolled impressions of synthetic people (ten per person)."""
    people = np.arange(FIT_IDENTITY, FIT_IDENTITY + max(1, fingers // 10))
    sample = minutiae_sets.generate_impressions(seed, people, kind="rolled")
    return PairCoder.fit(sample, PairCodeParams())
