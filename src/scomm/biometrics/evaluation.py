"""Verification accuracy figures (FVC protocol): comparison pairs, EER, FNMR at a fixed FMR.

Pure numpy, no I/O.  Conventions, the same throughout:

* scores are similarities: higher means more alike; a comparison *matches* at threshold
  ``t`` when ``score >= t``;
* ``FMR(t)``  = fraction of impostor scores ``>= t`` (false matches);
* ``FNMR(t)`` = fraction of genuine scores ``< t`` (false non-matches);
* ties: a threshold cannot separate equal scores, so every figure is computed only at the
  thresholds a system can actually realise (each distinct score, plus ``+inf`` where
  nothing matches); a genuine and an impostor score that are equal always go the same way.

A comparison that could not be made (a failure to enrol) should be given the score
``-inf`` (`LOWEST_SCORE`): it is then a false non-match at every threshold above ``-inf``
for a genuine pair and never a false match for an impostor pair, and it stays in every
denominator.  NaN and +inf scores are rejected.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from typing import TypeVar

import numpy as np
import numpy.typing as npt

LOWEST_SCORE = float("-inf")  # the score of a comparison involving a failure to enrol

F = TypeVar("F", bound=Hashable)  # a finger id
M = TypeVar("M", bound=Hashable)  # an impression id
Pair = tuple[tuple[F, M], tuple[F, M]]


def fvc_pairs(
    fingers: Sequence[F], impressions: Sequence[M] | Mapping[F, Sequence[M]]
) -> tuple[list[Pair[F, M]], list[Pair[F, M]]]:
    """The FVC verification protocol's comparisons, as ``(genuine, impostor)`` pair lists.

    Each pair is ``((finger, impression), (finger, impression))``.
    Genuine: every unordered pair of impressions of the same finger (FVC2002 B: 10 fingers x
    C(8, 2) = 280).  Impostor: every impression of a finger against every impression of each
    other finger, each unordered pair of fingers once (10 x 9 / 2 x 8 x 8 = 2,880).  No pair
    is compared in both orders and nothing is compared with itself.

    `impressions` is either one sequence, shared by every finger, or a mapping from finger
    to that finger's impressions (for incomplete sets).  Order follows the inputs.
    """
    fingers = list(fingers)
    if len(set(fingers)) != len(fingers):
        raise ValueError("fingers must be distinct")

    def of(finger: F) -> list[M]:
        seq = impressions[finger] if isinstance(impressions, Mapping) else impressions
        out = list(seq)
        if len(set(out)) != len(out):
            raise ValueError(f"impressions of finger {finger!r} must be distinct")
        return out

    samples = {f: of(f) for f in fingers}
    genuine: list[Pair[F, M]] = [
        ((f, a), (f, b))
        for f in fingers
        for k, a in enumerate(samples[f])
        for b in samples[f][k + 1 :]
    ]
    impostor: list[Pair[F, M]] = [
        ((f, a), (g, b))
        for k, f in enumerate(fingers)
        for g in fingers[k + 1 :]
        for a in samples[f]
        for b in samples[g]
    ]
    return genuine, impostor


def _scores(values: npt.ArrayLike, name: str) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64).ravel()
    if array.size == 0:
        raise ValueError(f"no {name} scores")
    if np.isnan(array).any() or (array == np.inf).any():
        raise ValueError(f"{name} scores must be numbers below +inf (NaN or +inf found)")
    return np.sort(array)


def _counts(
    genuine: npt.ArrayLike, impostor: npt.ArrayLike
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, int]:
    """(thresholds, false non-match counts, false match counts, n genuine, n impostor).

    Thresholds: every distinct score, ascending, then +inf.  Between two consecutive
    thresholds (and below the lowest) the error counts are constant and equal to those
    at the upper one, so these are all the operating points there are.
    """
    g = _scores(genuine, "genuine")
    i = _scores(impostor, "impostor")
    thresholds = np.append(np.unique(np.concatenate([g, i])), np.inf)
    false_non_matches = np.searchsorted(g, thresholds, side="left")  # genuine < t
    false_matches = i.size - np.searchsorted(i, thresholds, side="left")  # impostor >= t
    return thresholds, false_non_matches, false_matches, g.size, i.size


def error_rates(
    genuine: npt.ArrayLike, impostor: npt.ArrayLike
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(thresholds, fmr, fnmr)``: the error rates at every realisable threshold, ascending.

    FMR is non-increasing and FNMR non-decreasing along the thresholds; the last threshold
    is ``+inf`` (FMR 0, FNMR 1 unless a genuine score is ``+inf``).
    """
    thresholds, fnm, fm, ng, ni = _counts(genuine, impostor)
    return thresholds, fm / ni, fnm / ng


def eer_interval(genuine: npt.ArrayLike, impostor: npt.ArrayLike) -> tuple[float, float]:
    """``(EER_low, EER_high)`` of the FVC definition (Maio et al., FVC2000, IEEE PAMI 2002).

    With ``t1 = max{t : FNMR(t) <= FMR(t)}`` and ``t2 = min{t : FNMR(t) >= FMR(t)}``, the
    two operating points on either side of the crossing of the FMR and FNMR curves:
    ``[FNMR(t1), FMR(t1)]`` if ``FNMR(t1) + FMR(t1) <= FMR(t2) + FNMR(t2)``, else
    ``[FMR(t2), FNMR(t2)]``.  Where the curves meet exactly both ends are that rate.
    """
    _, fnm, fm, ng, ni = _counts(genuine, impostor)
    # Compare the rates exactly, as integers: fnm/ng <= fm/ni  <=>  fnm*ni <= fm*ng.
    left = fnm * ni <= fm * ng  # FNMR <= FMR; true at the lowest threshold (FNMR 0)
    right = fnm * ni >= fm * ng  # FNMR >= FMR; true at +inf (FMR 0)
    t1 = int(np.flatnonzero(left)[-1])
    t2 = int(np.flatnonzero(right)[0])
    fmr1, fnmr1 = fm[t1] / ni, fnm[t1] / ng
    fmr2, fnmr2 = fm[t2] / ni, fnm[t2] / ng
    if fnm[t1] * ni + fm[t1] * ng <= fm[t2] * ng + fnm[t2] * ni:
        return float(fnmr1), float(fmr1)
    return float(fmr2), float(fnmr2)


def eer(genuine_scores: npt.ArrayLike, impostor_scores: npt.ArrayLike) -> float:
    """Equal error rate, the FVC way: where FMR(t) and FNMR(t) cross.

    The error curves are step functions, so they rarely meet exactly at a threshold; the
    crossing is interpolated as FVC does: the midpoint of ``eer_interval`` -- the operating
    point next to the crossing whose rates sum lower, and the mean of its FNMR and FMR
    (``(EER_low + EER_high) / 2``).  Where the curves meet exactly, it is that common rate.
    Perfectly separated scores give 0; identical distributions give 0.5.
    """
    low, high = eer_interval(genuine_scores, impostor_scores)
    return (low + high) / 2.0


def fnmr_at_fmr(genuine: npt.ArrayLike, impostor: npt.ArrayLike, fmr: float) -> float:
    """The lowest FNMR over the thresholds whose FMR is at most `fmr` (e.g. FMR100: 1e-2).

    FNMR grows with the threshold, so this is the FNMR at the lowest threshold with
    ``FMR(t) <= fmr``; ties cannot be split (a threshold takes all equal impostor scores or
    none).  `fmr` is read with a relative tolerance of 1e-9, so that 0.29 of 100 impostor
    comparisons allows 29 false matches despite binary rounding.
    """
    if not 0.0 <= fmr <= 1.0:  # also rejects NaN
        raise ValueError(f"fmr must be in [0, 1], got {fmr}")
    _, fnm, fm, ng, ni = _counts(genuine, impostor)
    allowed = math.floor(fmr * ni * (1.0 + 1e-9))
    index = int(np.flatnonzero(fm <= allowed)[0])  # fm is non-increasing; +inf gives 0
    return float(fnm[index] / ng)
