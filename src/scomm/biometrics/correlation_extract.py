"""Feature extraction for the correlation engine: a normalised ridge-texture patch."""

from __future__ import annotations

import numpy as np
from PIL import Image

from scomm.biometrics.correlation_template import FEATURE_PPI, GRID, CorrelationTemplate
from scomm.biometrics.images import to_grey_uint8
from scomm.biometrics.protocols import FailureToEnrol

RIDGE_FREQUENCY = 0.25  # cycles per sample at FEATURE_PPI: a 0.4 mm ridge period
RIDGE_BANDWIDTH = 0.08  # gaussian sigma of the band-pass, cycles per sample
ENERGY_SIGMA = 3.0  # samples; smoothing of the local ridge energy
MIN_RIDGE_RMS = 5.0  # grey levels; below this the image has no usable ridge contrast
FOREGROUND_RATIO = 0.3  # foreground = local ridge RMS above this fraction of its 95th percentile
MIN_FOREGROUND_FRACTION = 0.35  # of the GRID x GRID patch
TAPER = 4  # samples of raised-cosine roll-off at each edge of the patch
_PAD = 8  # samples of reflected border before filtering


def _resample(image: np.ndarray, ppi: int) -> np.ndarray:
    """The image at FEATURE_PPI as float32 (Pillow's antialiased bilinear resampling)."""
    scale = FEATURE_PPI / ppi
    h, w = image.shape
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    resized = Image.fromarray(image.astype(np.float32)).resize(size, Image.Resampling.BILINEAR)
    return np.asarray(resized, dtype=np.float32)


def _filters(shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Real-FFT-domain ridge band-pass and energy low-pass for an image of `shape`."""
    fy = np.fft.fftfreq(shape[0]).astype(np.float32)[:, None]
    fx = np.fft.rfftfreq(shape[1]).astype(np.float32)[None, :]
    radius = np.hypot(fy, fx)
    band = np.exp(-0.5 * ((radius - RIDGE_FREQUENCY) / RIDGE_BANDWIDTH) ** 2)
    low = np.exp(-2.0 * (np.pi * ENERGY_SIGMA * radius) ** 2)
    return band, low


def _ridges_and_rms(
    spectrum: np.ndarray, low: np.ndarray, shape: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """Band-passed image from its filtered spectrum, and its local RMS (smoothed energy)."""
    ridges = np.fft.irfft2(spectrum, s=shape)
    energy = np.fft.irfft2(np.fft.rfft2(ridges * ridges) * low, s=shape)
    return ridges, np.sqrt(np.maximum(energy, 0.0))


def _weight(rms: np.ndarray, threshold: float, h: int, w: int) -> np.ndarray:
    """Soft foreground: 0 below `threshold` RMS, 1 above twice it; 0 in the padding."""
    weight = np.clip((rms - threshold) / threshold, 0.0, 1.0).astype(np.float32)
    weight[:_PAD] = 0.0
    weight[_PAD + h :] = 0.0
    weight[:, :_PAD] = 0.0
    weight[:, _PAD + w :] = 0.0
    return weight


def _taper() -> np.ndarray:
    """GRID x GRID window, 1 inside and a raised-cosine roll-off over TAPER samples at the edges."""
    ramp = np.ones(GRID, dtype=np.float32)
    edge = np.sin(0.5 * np.pi * (np.arange(TAPER, dtype=np.float32) + 0.5) / TAPER) ** 2
    ramp[:TAPER] = edge
    ramp[-TAPER:] = edge[::-1]
    return np.outer(ramp, ramp)


def _crop(array: np.ndarray, top: int, left: int) -> np.ndarray:
    """GRID x GRID window of `array` at (top, left), zero where it falls outside."""
    out = np.zeros((GRID, GRID), dtype=np.float32)
    h, w = array.shape
    y0, y1 = max(top, 0), min(top + GRID, h)
    x0, x1 = max(left, 0), min(left + GRID, w)
    if y0 < y1 and x0 < x1:
        out[y0 - top : y1 - top, x0 - left : x1 - left] = array[y0:y1, x0:x1]
    return out


class CorrelationExtractor:
    """Grey image -> `CorrelationTemplate`.

    1. resample to FEATURE_PPI; 2. band-pass around the ridge frequency (FFT);
    3. local ridge RMS -> soft foreground weight, and divide the texture by it (contrast
    normalisation); 4. take the GRID x GRID patch centred on the foreground's centroid;
    5. weight by foreground and an edge taper, make it zero-mean and scale to int8.
    Raises `protocols.FailureToEnrol` when the image has too little ridge contrast or
    foreground, ValueError for a ppi outside 100..4000.
    """

    def extract(self, image: np.ndarray, ppi: int, finger: int) -> CorrelationTemplate:
        if not 100 <= ppi <= 4000:
            raise ValueError(f"ppi must be in 100..4000, got {ppi}")
        plain = isinstance(image, np.ndarray) and image.dtype == np.uint8 and image.ndim == 2
        grey = image if plain else to_grey_uint8(image)
        if min(grey.shape) < 8:
            raise FailureToEnrol(f"image of {grey.shape[1]}x{grey.shape[0]} px is too small")
        pixels = _resample(grey, ppi)
        h, w = pixels.shape
        padded = np.pad(pixels - pixels.mean(), _PAD, mode="reflect")
        band, low = _filters(padded.shape)
        spectrum = np.fft.rfft2(padded) * band
        ridges, rms = _ridges_and_rms(spectrum, low, padded.shape)

        level = float(np.percentile(rms[_PAD : _PAD + h, _PAD : _PAD + w], 95))
        if level < MIN_RIDGE_RMS:
            raise FailureToEnrol(
                f"no ridge contrast: ridge-band RMS {level:.1f} < {MIN_RIDGE_RMS} grey levels"
            )
        threshold = FOREGROUND_RATIO * level
        weight = _weight(rms, threshold, h, w)
        total = float(weight.sum())
        cy = float((weight.sum(axis=1) * np.arange(padded.shape[0])).sum()) / total
        cx = float((weight.sum(axis=0) * np.arange(padded.shape[1])).sum()) / total
        # Move the texture by the sub-sample part of the centroid (a Fourier phase ramp), so
        # that every capture puts its centroid exactly on the same sample of the patch.
        dy, dx = cy - round(cy), cx - round(cx)
        fy = np.fft.fftfreq(padded.shape[0]).astype(np.float32)[:, None]
        fx = np.fft.rfftfreq(padded.shape[1]).astype(np.float32)[None, :]
        spectrum = spectrum * np.exp(2j * np.pi * (fy * dy + fx * dx)).astype(np.complex64)
        ridges, rms = _ridges_and_rms(spectrum, low, padded.shape)
        weight = _weight(rms, threshold, h, w)
        texture = (ridges / (rms + 0.1 * level)).astype(np.float32)
        top, left = round(cy) - GRID // 2, round(cx) - GRID // 2
        patch_weight = _crop(weight, top, left)
        fraction = float(patch_weight.mean())
        if fraction < MIN_FOREGROUND_FRACTION:
            raise FailureToEnrol(
                f"too little foreground: {fraction:.0%} of the central patch "
                f"(need {MIN_FOREGROUND_FRACTION:.0%})"
            )
        patch = _crop(texture, top, left)
        wt = patch_weight * _taper()
        features = (patch - float((patch * wt).sum() / wt.sum())) * wt
        peak = float(np.abs(features).max())
        if peak == 0.0:
            raise FailureToEnrol("the ridge texture is flat after normalisation")
        quantised = np.rint(features * (127.0 / peak)).astype(np.int8)
        return CorrelationTemplate(finger=finger, features=quantised)
