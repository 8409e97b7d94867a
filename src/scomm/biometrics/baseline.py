"""The baseline correlation engine: honest, fast and simple; a stand-in for a minutiae engine.

How it works, in one paragraph: every finger image is resampled to 250 ppi, band-passed
around the ridge frequency and contrast-normalised; a 32 x 32 patch (3.25 mm square) centred
on the foreground's centroid, weighted by foreground and an edge taper, is the template
(1,032 bytes).  Two templates score the maximum normalised cross-correlation over shifts of
up to +-8 samples (0.8 mm), computed with FFTs, in [-1, 1].  A gallery keeps the reference
spectra of each finger position stacked, so one probe finger costs one batched multiply and
inverse FFT against every identity; the fused score is the mean over the fingers present in
both probe and reference.  No rotation, no distortion model, no quality measure: real prints
with large displacement or rotation between captures will score poorly.
"""

from __future__ import annotations

from scomm.biometrics.correlation_extract import CorrelationExtractor
from scomm.biometrics.correlation_gallery import DEFAULT_THRESHOLD, CorrelationGallery
from scomm.biometrics.correlation_match import MAX_SHIFT, CorrelationMatcher
from scomm.biometrics.correlation_template import (
    FEATURE_PPI,
    GRID,
    TEMPLATE_BYTES,
    CorrelationCodec,
    CorrelationTemplate,
    TemplateDecodeError,
)
from scomm.biometrics.protocols import FailureToEnrol

__all__ = [
    "DEFAULT_THRESHOLD",
    "FEATURE_PPI",
    "GRID",
    "MAX_SHIFT",
    "TEMPLATE_BYTES",
    "CorrelationCodec",
    "CorrelationExtractor",
    "CorrelationGallery",
    "CorrelationMatcher",
    "CorrelationTemplate",
    "FailureToEnrol",
    "TemplateDecodeError",
]
