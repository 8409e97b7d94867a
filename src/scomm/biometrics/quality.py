"""Finger image quality: NFIQ 2 and the failure-to-enrol rule.

`Nfiq2Scorer` gives NIST's own NFIQ 2 (ISO/IEC 29794-4), run by nbis-py on a 500 ppi image
with an nbis-py extractor the scorer owns. nbis-py computes it together with a MINDTCT
extraction, so one score costs an extraction plus NFIQ 2: about 2-2.5x the time of
`MindtctExtractor.extract`. NFIQ 2 fails outright on some images (blank, noise, too small;
also on one real FVC2002 DB3 impression, 110_5): `score` raises `QualityError` then, and
`assess` reports `nfiq2=None`.

Failure to enrol (FTE). An image fails to enrol when its usable area, the foreground
`segmentation.foreground_mask` finds, is under MIN_USABLE_AREA_MM2 = 40 mm^2 (15,500 pixels
at 500 ppi, a 6.3 mm square). Why 40:

* it keeps every real impression of FVC2002 DB1-DB4 B (320 images). Their usable areas
  (mm^2; min / 1st percentile / median / max) are DB1 97 / 100 / 183 / 243, DB2 91 / 106 /
  196 / 312, DB3 51 / 79 / 134 / 192 (300x300 capacitive sensor, 232 mm^2 frame), DB4
  109 / 111 / 132 / 182. The smallest, DB3 108_1 at 51 mm^2, is a small but clear print;
  40 leaves it a 20% margin.
* below it a print holds too few minutiae to compare: at the 0.27-0.31 minutiae/mm^2 MINDTCT
  finds on these images (median 36-52 per image), 40 mm^2 carries about 12, the traditional
  twelve-point minimum of a minutiae comparison.
* blank, noise-only and uniformly shaded images have no foreground at all (0 mm^2).

NFIQ 2 is reported but does not decide enrolment: it is low on whole sensors' worth of good
prints (FVC2002 DB3 median 22, DB4 median 30) and fails on some real ones, so a threshold on
it would turn a sensor's character into failures to enrol. Callers who want one can apply it
to `QualityReport.nfiq2`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import nbis
import numpy as np

from scomm.biometrics.errors import BiometricsError
from scomm.biometrics.extract_nbis import NbisNative, as_image500
from scomm.biometrics.images import to_grey_uint8
from scomm.biometrics.protocols import FailureToEnrol
from scomm.biometrics.segmentation import foreground_mask, usable_area_mm2

MIN_USABLE_AREA_MM2 = 40.0
IMAGE_PPI = 500


class QualityError(BiometricsError, ValueError):
    """NFIQ 2 could not compute a score for this image."""


class Nfiq2Scorer:
    """NIST NFIQ 2 scores through an nbis-py extractor this scorer owns; it is made on the
    first score (about 0.5 s), so keep one scorer for many images."""

    def __init__(self) -> None:
        self._native = NbisNative(compute_nfiq2=True)

    def score(self, image500: np.ndarray) -> int:
        """NIST NFIQ 2 score (0-100, higher is better) of a 500 ppi grey image.

        Raises ValueError for an image NBIS cannot take (under 32 pixels a side) and
        QualityError when NFIQ 2 itself fails (it does on blank and non-fingerprint images).
        """
        grey = as_image500(image500)
        try:
            native = self._native.run(grey)
            score = int(native.quality().score)
        except nbis.NbisError as exc:
            raise QualityError(f"NFIQ 2 could not score the image: {exc!r}") from exc
        if not 0 <= score <= 100:
            raise QualityError(f"NFIQ 2 returned {score}, outside 0-100")
        return score


def nfiq2(image500: np.ndarray) -> int:
    """One image's NFIQ 2 score (`Nfiq2Scorer.score`) with a scorer made for it: for more
    than one image, keep a `Nfiq2Scorer`."""
    return Nfiq2Scorer().score(image500)


@dataclass(frozen=True)
class QualityReport:
    """Quality of one 500 ppi finger image and the enrolment decision.

    `nfiq2`: NFIQ 2 score, None when not computed or when NFIQ 2 failed. `usable_area_mm2`:
    the segmented foreground. `enrolable`: the usable area reaches the threshold.
    `reason`: the decision in words (and why `nfiq2` is None, when it is).
    """

    nfiq2: int | None
    usable_area_mm2: float
    enrolable: bool
    reason: str

    def require_enrolable(self) -> QualityReport:
        """This report; raises FailureToEnrol with the reason when not enrolable."""
        if not self.enrolable:
            raise FailureToEnrol(self.reason)
        return self


def assess(
    image500: np.ndarray,
    *,
    compute_nfiq2: bool = True,
    min_usable_area_mm2: float = MIN_USABLE_AREA_MM2,
    scorer: Nfiq2Scorer | None = None,
) -> QualityReport:
    """Quality report of a 500 ppi grey image: NFIQ 2 (by `scorer`, else one made for this
    image), usable area, enrolable or not."""
    grey = to_grey_uint8(image500)
    if grey.ndim != 2 or grey.size == 0:
        raise ValueError(f"expected a non-empty grey HxW image, got shape {grey.shape}")
    if not (math.isfinite(min_usable_area_mm2) and min_usable_area_mm2 >= 0):
        raise ValueError(f"min_usable_area_mm2 must be >= 0, got {min_usable_area_mm2!r}")
    area = usable_area_mm2(foreground_mask(grey), IMAGE_PPI)
    enrolable = area >= min_usable_area_mm2
    if enrolable:
        reason = f"usable area {area:.1f} mm^2 (at least {min_usable_area_mm2:g} mm^2 needed)"
    else:
        reason = (
            f"failure to enrol: usable fingerprint area {area:.1f} mm^2 is under the "
            f"{min_usable_area_mm2:g} mm^2 needed"
        )
    score: int | None = None
    if compute_nfiq2:
        try:
            score = (scorer or Nfiq2Scorer()).score(grey)
        except (QualityError, ValueError) as exc:
            reason += f"; NFIQ 2 not available ({exc})"
    return QualityReport(score, area, enrolable, reason)


def check_enrolable(
    image500: np.ndarray,
    *,
    compute_nfiq2: bool = True,
    min_usable_area_mm2: float = MIN_USABLE_AREA_MM2,
    scorer: Nfiq2Scorer | None = None,
) -> QualityReport:
    """`assess`, raising FailureToEnrol (with the reason) when the image is not enrolable."""
    return assess(
        image500,
        compute_nfiq2=compute_nfiq2,
        min_usable_area_mm2=min_usable_area_mm2,
        scorer=scorer,
    ).require_enrolable()
