"""Scores of the correlation engine: maximum normalised cross-correlation over small shifts."""

from __future__ import annotations

import numpy as np

from scomm.biometrics.correlation_template import GRID, CorrelationTemplate
from scomm.biometrics.protocols import Template

MAX_SHIFT = 8  # samples at FEATURE_PPI (0.8 mm): residual misplacement after centring
_WINDOW = 2 * MAX_SHIFT + 1
SPECTRUM_SHAPE = (GRID // 2 + 1, GRID)  # rfft2 output transposed: (x frequency, y frequency)
_CHUNK = 256  # references per batch, to keep the working set in cache


def probe_spectrum(features: np.ndarray) -> np.ndarray:
    """Real 2-D spectrum of the unit-norm features, transposed (complex64, SPECTRUM_SHAPE).

    Transposed so that the first inverse transform of a search runs along contiguous memory.
    """
    values = features.astype(np.float32)
    spectrum = np.fft.rfft2(values / np.float32(np.linalg.norm(values)))
    return np.ascontiguousarray(spectrum.T)


def reference_spectrum(features: np.ndarray) -> np.ndarray:
    """Like `probe_spectrum`, of the features rolled by MAX_SHIFT on both axes, so that the
    shifts -MAX_SHIFT..MAX_SHIFT land in the first `2 MAX_SHIFT + 1` rows and columns of
    the circular cross-correlation."""
    return probe_spectrum(np.roll(features, (MAX_SHIFT, MAX_SHIFT), axis=(0, 1)))


def batch_scores(probe: np.ndarray, references: np.ndarray) -> np.ndarray:
    """Score of one probe spectrum against a stack (B, *SPECTRUM_SHAPE) of reference spectra.

    score = max over shifts |dy|, |dx| <= MAX_SHIFT of the circular cross-correlation of the
    two unit-norm feature patches, so it lies in [-1, 1].  The inverse FFT is pruned: the
    y transform keeps only the window's rows before the x transform.  Returns float32 (B,).
    """
    conj = np.conj(probe)
    scores = np.empty(len(references), dtype=np.float32)
    for start in range(0, len(references), _CHUNK):
        product = references[start : start + _CHUNK] * conj
        rows = np.fft.ifft(product, axis=-1)[:, :, :_WINDOW]  # (b, x frequency, y shift)
        surface = np.fft.irfft(rows, n=GRID, axis=-2)[:, :_WINDOW, :]  # (b, x shift, y shift)
        scores[start : start + len(product)] = surface.reshape(len(product), -1).max(axis=1)
    return scores


def features_of(template: Template) -> np.ndarray:
    """The int8 feature patch of a correlation template; TypeError for other engines' templates."""
    if not isinstance(template, CorrelationTemplate):
        raise TypeError(f"expected a CorrelationTemplate, got {type(template).__name__}")
    return template.features


class CorrelationMatcher:
    """1:1 comparison; the same score the gallery reports per finger. Symmetric, in [-1, 1]."""

    def compare(self, probe: Template, reference: Template) -> float:
        spectrum = reference_spectrum(features_of(reference))[None]
        return float(batch_scores(probe_spectrum(features_of(probe)), spectrum)[0])
