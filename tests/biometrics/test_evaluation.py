"""Verification figures: FVC pairs, EER, FNMR at FMR -- hand-computed cases and properties."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scomm.biometrics.evaluation import (
    LOWEST_SCORE,
    eer,
    eer_interval,
    error_rates,
    fnmr_at_fmr,
    fvc_pairs,
)

# --- pairs ----------------------------------------------------------------------------------


def test_fvc_pairs_counts_match_the_fvc2002_protocol() -> None:
    genuine, impostor = fvc_pairs(range(101, 111), range(1, 9))
    assert len(genuine) == 280 and len(impostor) == 2880
    assert len(set(genuine)) == 280 and len(set(impostor)) == 2880
    assert all(a[0] == b[0] and a[1] < b[1] for a, b in genuine)
    assert all(a[0] < b[0] for a, b in impostor)
    # no pair also appears the other way round
    assert not {(b, a) for a, b in impostor} & set(impostor)


def test_fvc_pairs_small_case_in_order() -> None:
    genuine, impostor = fvc_pairs(["a", "b"], [1, 2])
    assert genuine == [(("a", 1), ("a", 2)), (("b", 1), ("b", 2))]
    assert impostor == [
        (("a", 1), ("b", 1)),
        (("a", 1), ("b", 2)),
        (("a", 2), ("b", 1)),
        (("a", 2), ("b", 2)),
    ]


def test_fvc_pairs_accepts_incomplete_sets() -> None:
    genuine, impostor = fvc_pairs([1, 2, 3], {1: [1, 2, 3], 2: [1], 3: [2, 5]})
    assert len(genuine) == 3 + 0 + 1
    assert len(impostor) == 3 * 1 + 3 * 2 + 1 * 2


def test_fvc_pairs_rejects_repeats() -> None:
    with pytest.raises(ValueError):
        fvc_pairs([1, 1], [1, 2])
    with pytest.raises(ValueError):
        fvc_pairs([1, 2], [1, 1])


# --- hand-computed figures ------------------------------------------------------------------


def test_perfect_separation_gives_zero() -> None:
    assert eer([3, 4], [1, 2]) == 0.0
    assert fnmr_at_fmr([3, 4], [1, 2], 0.0) == 0.0
    assert fnmr_at_fmr([0.9, 0.8, 0.95], [0.1, 0.2, 0.3, 0.79], 1e-3) == 0.0


@pytest.mark.parametrize(
    "scores", [[5.0], [1.0, 2.0, 3.0], [1.0, 2.0, 3.0, 4.0], [0.0, 0.0, 1.0, 1.0]]
)
def test_identical_distributions_give_one_half(scores: list[float]) -> None:
    assert eer(scores, scores) == pytest.approx(0.5)


def test_total_inversion_gives_one() -> None:
    assert eer([1, 2], [3, 4]) == 1.0
    assert fnmr_at_fmr([1, 2], [3, 4], 0.01) == 1.0


def test_small_case_by_hand() -> None:
    # genuine .2 .6 .8 .9 (4), impostor .1 .3 .4 .5 .7 (5)
    # t    : .1   .2   .3   .4   .5   .6   .7   .8   .9   inf
    # FMR  : 1    .8   .8   .6   .4   .2   .2   0    0    0
    # FNMR : 0    0    .25  .25  .25  .25  .5   .5   .75  1
    # t1 = .5 (last FNMR <= FMR: .25, .4), t2 = .6 (first FNMR >= FMR: .25, .2);
    # sums .65 > .45, so the interval is [FMR(t2), FNMR(t2)] = [.2, .25], EER .225.
    genuine, impostor = [0.8, 0.2, 0.9, 0.6], [0.5, 0.1, 0.7, 0.3, 0.4]
    assert eer_interval(genuine, impostor) == pytest.approx((0.2, 0.25))
    assert eer(genuine, impostor) == pytest.approx(0.225)
    assert fnmr_at_fmr(genuine, impostor, 0.2) == pytest.approx(0.25)
    assert fnmr_at_fmr(genuine, impostor, 0.19) == pytest.approx(0.5)
    assert fnmr_at_fmr(genuine, impostor, 0.0) == pytest.approx(0.5)
    assert fnmr_at_fmr(genuine, impostor, 0.4) == pytest.approx(0.25)
    assert fnmr_at_fmr(genuine, impostor, 1.0) == 0.0
    thresholds, fmr, fnmr = error_rates(genuine, impostor)
    assert thresholds.tolist() == [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, math.inf]
    assert fmr.tolist() == pytest.approx([1, 0.8, 0.8, 0.6, 0.4, 0.2, 0.2, 0, 0, 0])
    assert fnmr.tolist() == pytest.approx([0, 0, 0.25, 0.25, 0.25, 0.25, 0.5, 0.5, 0.75, 1])


def test_ties_between_genuine_and_impostor_cannot_be_split() -> None:
    # genuine 1 1 2, impostor 0 1 1: at t = 1 both tied 1s match (FMR 2/3, FNMR 0); at t = 2
    # neither does (FMR 0, FNMR 2/3).  Sums equal: interval [FNMR(t1), FMR(t1)] = [0, 2/3].
    genuine, impostor = [1, 1, 2], [0, 1, 1]
    assert eer_interval(genuine, impostor) == pytest.approx((0.0, 2 / 3))
    assert eer(genuine, impostor) == pytest.approx(1 / 3)
    assert fnmr_at_fmr(genuine, impostor, 0.5) == pytest.approx(2 / 3)
    assert fnmr_at_fmr(genuine, impostor, 2 / 3) == 0.0


def test_curves_meeting_exactly_give_that_rate() -> None:
    # at t = 4: FNMR = 1/4 (the genuine 3) and FMR = 1/4 (the impostor 4)
    genuine, impostor = [3, 5, 6, 7], [1, 2, 3, 4]
    assert eer_interval(genuine, impostor) == (0.25, 0.25)
    assert eer(genuine, impostor) == 0.25


def test_failures_to_enrol_count_as_errors() -> None:
    # genuine -inf 5 6, impostor 1 2 (+ one impostor with a failed template: -inf)
    # FNMR 1/3 at every useful threshold, the failed impostor never matches above -inf.
    genuine, impostor = [LOWEST_SCORE, 5, 6], [1, 2, LOWEST_SCORE]
    assert fnmr_at_fmr(genuine, impostor, 0.0) == pytest.approx(1 / 3)
    assert fnmr_at_fmr(genuine, impostor, 1e-3) == pytest.approx(1 / 3)
    # t1 = 2 (FNMR 1/3, FMR 1/3) meets exactly: EER 1/3
    assert eer(genuine, impostor) == pytest.approx(1 / 3)
    thresholds, fmr, _ = error_rates(genuine, impostor)
    assert fmr[thresholds > LOWEST_SCORE].max() == pytest.approx(2 / 3)


def test_fmr_target_tolerates_binary_rounding() -> None:
    # 0.29 * 100 is 28.999999999999996 in binary: 29 false matches must still be allowed.
    impostor = np.arange(100, dtype=float)  # FMR(t = 71) = 29/100
    genuine = np.full(4, 71.0)
    assert fnmr_at_fmr(genuine, impostor, 0.29) == 0.0
    assert fnmr_at_fmr(genuine, impostor, 0.28) == 1.0


@pytest.mark.parametrize(
    "genuine, impostor",
    [([], [1.0]), ([1.0], []), ([math.nan], [1.0]), ([1.0], [math.inf])],
)
def test_bad_scores_are_rejected(genuine: list[float], impostor: list[float]) -> None:
    with pytest.raises(ValueError):
        eer(genuine, impostor)
    with pytest.raises(ValueError):
        fnmr_at_fmr(genuine, impostor, 0.01)


@pytest.mark.parametrize("fmr", [-0.1, 1.5, math.nan])
def test_bad_fmr_target_is_rejected(fmr: float) -> None:
    with pytest.raises(ValueError):
        fnmr_at_fmr([1.0], [0.0], fmr)


# --- properties -----------------------------------------------------------------------------

scores = st.lists(
    st.one_of(st.integers(-5, 5).map(float), st.just(LOWEST_SCORE)), min_size=1, max_size=40
)


@settings(max_examples=200, deadline=None)
@given(genuine=scores, impostor=scores)
def test_error_curves_are_monotonic_and_eer_bounded(
    genuine: list[float], impostor: list[float]
) -> None:
    thresholds, fmr, fnmr = error_rates(genuine, impostor)
    assert np.all(np.diff(thresholds) > 0)
    assert np.all(np.diff(fmr) <= 0) and np.all(np.diff(fnmr) >= 0)
    assert fnmr[0] == 0.0 and fmr[-1] == 0.0
    low, high = eer_interval(genuine, impostor)
    assert 0.0 <= low <= high <= 1.0
    assert low <= eer(genuine, impostor) <= high
    # the FVC interval lies between FNMR and FMR at its operating point: it brackets a
    # crossing, so the EER is within reach of min over thresholds of max(FMR, FNMR)
    assert eer(genuine, impostor) <= float(np.min(np.maximum(fmr, fnmr))) + 1e-12


@settings(max_examples=200, deadline=None)
@given(genuine=scores, impostor=scores)
def test_fnmr_at_fmr_is_non_increasing_in_the_target(
    genuine: list[float], impostor: list[float]
) -> None:
    targets = [0.0, 1e-3, 0.01, 0.1, 0.25, 0.5, 0.9, 1.0]
    values = [fnmr_at_fmr(genuine, impostor, t) for t in targets]
    assert all(a >= b for a, b in zip(values, values[1:], strict=False))
    thresholds, fmr, fnmr = error_rates(genuine, impostor)
    for target, value in zip(targets, values, strict=True):
        # it is the best FNMR among operating points meeting the target
        assert value == pytest.approx(float(fnmr[fmr <= target + 1e-12].min()))


@settings(max_examples=100, deadline=None)
@given(genuine=scores, impostor=scores)
def test_figures_ignore_strictly_increasing_rescaling(
    genuine: list[float], impostor: list[float]
) -> None:
    def rescale(values: list[float]) -> np.ndarray:
        return np.exp(np.asarray(values) / 3.0) * 7.0 - 2.0  # -inf -> -2: still the lowest

    assert eer(rescale(genuine), rescale(impostor)) == pytest.approx(eer(genuine, impostor))
    assert fnmr_at_fmr(rescale(genuine), rescale(impostor), 0.1) == pytest.approx(
        fnmr_at_fmr(genuine, impostor, 0.1)
    )


def test_better_separation_lowers_the_eer() -> None:
    rng = np.random.default_rng(0)
    impostor = rng.normal(0.0, 1.0, 2000)
    previous = 1.0
    for shift in (0.0, 1.0, 2.0, 4.0, 8.0):
        value = eer(rng.normal(shift, 1.0, 500), impostor)
        assert value < previous or shift == 0.0
        previous = value
    assert previous < 0.001
