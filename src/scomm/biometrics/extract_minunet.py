"""minunet minutiae: scomm's own small convolutional detector: fast, not accurate on real prints.

The network (`models/minunet-v1.onnx`, about 0.37 GMAC on a 400 x 400 print) was trained by
`tools/minunet` to find, in degraded captures, the minutiae that LEADER (`extract_leader`)
finds in the clean ones. Its training images are synthetic impressions of scomm's ridge-master
generator and real prints that are not FVC2002 (FVC2002 is what the engine is measured on);
`tools/minunet/README.md` gives the data's provenance and the commands that rebuild the model.

It costs about 8 ms of CPU per FVC2002 print (15 ms per rolled print) on one thread, against
LEADER's 362-583 ms, but it has not learnt real prints: on FVC2002 it finds most of LEADER's
minutiae and many that LEADER does not report, and the mean EER is 15.8% (LEADER: 0.86%).
So no engine uses it by default; profile `scomm-minunet-mcc-v1` measures it.

The image (grey, 500 ppi) is standardised (mean 0, standard deviation about 1), padded to a
multiple of 8 with its own background, and run through onnxruntime on one thread. Every
4 x 4 pixel cell of the output holds a score, the minutia's place in the cell, its direction
(cosine and sine) and its type; a cell is a minutia when its score is the largest of its
3 x 3 neighbourhood and reaches the threshold. Conventions are those of `Minutiae` (ISO/IEC
19794-2: x right, y down, angles counter-clockwise as seen, kinds by ISO code).
"""

from __future__ import annotations

import threading
from importlib import resources
from typing import Any

import numpy as np
import onnxruntime as ort

from scomm.biometrics.minutiae import Minutiae, MinutiaKind

MODEL = "minunet-v1.onnx"
STRIDE = 4  # px of one output cell
MULTIPLE = 8  # the network's input sides are multiples of this
MIN_SIDE = 32
DEFAULT_THRESHOLD = 0.5
# As LEADER's extractor: when fewer than MIN_KEPT_DETECTIONS cells reach the threshold, the
# best ones down to the floor are kept (a small or dry print), so a comparison has enough.
MIN_KEPT_DETECTIONS = 12
FLOOR_THRESHOLD = 0.25

_SESSIONS: dict[str, Any] = {}
_SESSION_LOCK = threading.Lock()


def _session(model: str) -> Any:
    """One onnxruntime session per model and process, one thread per call (the callers run
    several prints at once); sessions are safe to share between threads."""
    with _SESSION_LOCK:
        found = _SESSIONS.get(model)
        if found is None:
            options = ort.SessionOptions()
            options.intra_op_num_threads = 1
            options.inter_op_num_threads = 1
            if "/" in model:  # a model file being evaluated (tools/minunet)
                with open(model, "rb") as file:
                    data = file.read()
            else:
                data = resources.files("scomm.biometrics.models").joinpath(model).read_bytes()
            found = ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])
            _SESSIONS[model] = found
        return found


def network_input(image500: np.ndarray) -> np.ndarray:
    """The standardised image, padded (right and bottom) to multiples of 8, as 1x1xHxW."""
    grey = image500.astype(np.float32)
    height, width = grey.shape
    fill = float(np.percentile(grey[::4, ::4], 95))
    padded = np.pad(
        grey,
        ((0, -height % MULTIPLE), (0, -width % MULTIPLE)),
        constant_values=fill,
    )
    mean, std = float(grey.mean()), float(grey.std())
    standardised: np.ndarray = ((padded - mean) / (std + 1.0))[np.newaxis, np.newaxis]
    return standardised


def _sigmoid(values: np.ndarray) -> np.ndarray:
    result: np.ndarray = 1.0 / (1.0 + np.exp(-values))
    return result


def _local_maxima(score: np.ndarray) -> np.ndarray:
    """Cells whose score is the largest of their 3 x 3 neighbourhood (ties keep both)."""
    padded = np.pad(score, 1, constant_values=-1.0)
    rows, cols = score.shape
    best = score.copy()
    for dy in (0, 1, 2):
        for dx in (0, 1, 2):
            if dy != 1 or dx != 1:
                np.maximum(best, padded[dy : dy + rows, dx : dx + cols], out=best)
    return score >= best


class MinunetExtractor:
    """Minutiae of a 500 ppi grey image by the minunet network."""

    def __init__(
        self,
        threshold: float = DEFAULT_THRESHOLD,
        max_minutiae: int = 150,
        min_kept_detections: int = MIN_KEPT_DETECTIONS,
        floor_threshold: float = FLOOR_THRESHOLD,
        model: str = MODEL,
    ) -> None:
        self.threshold = threshold
        self.max_minutiae = max_minutiae
        self.min_kept_detections = min_kept_detections
        self.floor_threshold = floor_threshold
        self.model = model

    def cells(self, image500: np.ndarray) -> np.ndarray:
        """The network's raw output for the image, H/4 x W/4 x 6 (cropped to the image)."""
        grey = np.asarray(image500)
        if grey.ndim != 2 or min(grey.shape) < MIN_SIDE:
            raise ValueError(
                f"need a 2-D grey image at least {MIN_SIDE} px a side, got shape {grey.shape}"
            )
        out = _session(self.model).run(None, {"image": network_input(grey)})[0][0]
        height, width = grey.shape
        return np.transpose(out, (1, 2, 0))[: -(-height // STRIDE), : -(-width // STRIDE)]

    def minutiae(self, image500: np.ndarray) -> Minutiae:
        grey = np.asarray(image500)
        cells = self.cells(grey)
        score = _sigmoid(cells[..., 0])
        peaks = _local_maxima(score) & (score >= min(self.floor_threshold, self.threshold))
        rows, cols = np.nonzero(peaks)
        quality = score[rows, cols]
        order = np.argsort(-quality, kind="stable")
        confident = int((quality >= self.threshold).sum())
        keep = max(confident, min(self.min_kept_detections, len(order)))
        keep = min(keep, self.max_minutiae)
        chosen = np.sort(order[:keep])  # row-major order, as found
        rows, cols = rows[chosen], cols[chosen]
        c = cells[rows, cols]
        height, width = grey.shape
        x = np.clip((cols + _sigmoid(c[:, 1])) * STRIDE, 0, width - 1)
        y = np.clip((rows + _sigmoid(c[:, 2])) * STRIDE, 0, height - 1)
        theta = np.mod(np.arctan2(-c[:, 4], c[:, 3]), 2 * np.pi)
        kind = np.where(
            _sigmoid(c[:, 5]) >= 0.5, MinutiaKind.RIDGE_ENDING, MinutiaKind.BIFURCATION
        ).astype(np.uint8)
        q = np.clip(np.rint(score[rows, cols] * 100.0), 1, 100).astype(np.uint8)
        return Minutiae(x, y, theta, kind, q, width, height, 500)
