"""Decision thresholds for a target false-positive identification rate (FPIR).

A search of a non-mated probe against N identities is a false positive when any of the N
fused impostor scores reaches the threshold t: FPIR(t) = 1 - (1 - FMR(t))^N, about N FMR(t)
when small.  At a million identities and FPIR 0.1%, FMR(t) must be 1e-9: far beyond what
any sample of impostor scores can show directly.  So the upper tail is modelled: above the
sample's (1 - tail_fraction) quantile u, scores are taken as exponential (a generalised
Pareto tail with shape 0, the limit of light-tailed sums such as fused matcher scores) with
the rate fitted by maximum likelihood, and t solves N P(S >= t) = FPIR.  The fit is checked
on the sample itself (`Calibration.sample_fmr_at`), and the benchmark measures the FPIR the
threshold gives on non-mated searches.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

DEFAULT_FPIR = 1e-3


@dataclass(frozen=True)
class Calibration:
    """A threshold and the tail model it came from."""

    threshold: float
    fpir: float
    gallery_size: int
    samples: int
    tail_start: float
    tail_fraction: float
    tail_mean_excess: float

    def modelled_fmr(self, t: float) -> float:
        """P(one impostor fused score >= t) under the model."""
        if t <= self.tail_start:
            return self.tail_fraction  # conservative: the model only speaks of the tail
        return self.tail_fraction * math.exp(-(t - self.tail_start) / self.tail_mean_excess)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def calibrate(
    impostor_scores: np.ndarray,
    gallery_size: int,
    fpir: float = DEFAULT_FPIR,
    tail_fraction: float = 0.01,
) -> Calibration:
    """The threshold at which a search of `gallery_size` identities has false-positive
    rate `fpir`, from fused scores of non-mated (probe, identity) pairs."""
    scores = np.sort(np.asarray(impostor_scores, dtype=np.float64))
    if not 0 < fpir < 1:
        raise ValueError(f"fpir must be in (0, 1), got {fpir}")
    if gallery_size < 1:
        raise ValueError("gallery_size must be at least 1")
    tail_count = int(len(scores) * tail_fraction)
    if tail_count < 20:
        raise ValueError(
            f"{len(scores)} impostor scores give {tail_count} in the top {tail_fraction:.0%}; "
            "the tail fit needs at least 20"
        )
    u = float(scores[-tail_count - 1])
    excess = scores[-tail_count:] - u
    mean_excess = max(float(excess.mean()), 1e-12)
    # per-comparison FMR the gallery size allows: 1 - (1 - fpir)^(1/N)
    fmr = -math.expm1(math.log1p(-fpir) / gallery_size)
    tail_share = tail_count / len(scores)
    if fmr >= tail_share:
        threshold = float(np.quantile(scores, 1 - fmr))
    else:
        threshold = u + mean_excess * math.log(tail_share / fmr)
    return Calibration(threshold, fpir, gallery_size, len(scores), u, tail_share, mean_excess)


def sample_fmr_at(impostor_scores: np.ndarray, t: float) -> float:
    """Share of the sample at or above t (to set against `Calibration.modelled_fmr`)."""
    scores = np.asarray(impostor_scores)
    return float((scores >= t).mean()) if len(scores) else 0.0
