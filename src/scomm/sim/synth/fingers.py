"""Small fingerprint-like test textures: a band-passed "labyrinth" per seed and noisy captures.

Not the demo's prints (those are `world_prints`, from the SFinGe-style generator in
`ridge_master` and `impression_image`): these 256 x 256 textures cost a few milliseconds
each and serve as quick, clean inputs for unit tests and benchmarks of the image engines
(the correlation baseline, the skeleton extractor, the CAR codec's property tests).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

RIDGE_PERIOD_PX = 8.0  # ridge-to-ridge distance at the nominal 500 ppi
# Side of a master print in pixels (13 mm at 500 ppi): room for about 40 minutiae that a
# skeleton extractor finds again in every capture (at 128 px there were about 15).
MASTER_SIZE = 256
BACKGROUND = 232.0  # grey level of the sensor where nothing touches it
RIDGE_DEPTH = 190.0  # how much darker a ridge centre is than the background
MAX_DROPOUT_FRACTION = 0.15  # partial-contact region, as a fraction of the image area (< 20%)
_FINGER_DOMAIN = 0x5C0FF1  # separates finger seeds from other uses of a person seed


def _band_pass(field: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Filter `field` with the real-FFT-domain `weight` and return it at unit standard deviation."""
    # forward in float64, back in float32: the faster of numpy's transforms each way
    return _from_spectrum(np.fft.rfft2(field.astype(np.float64)) * weight, field.shape)


def _from_spectrum(spectrum: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """The real field (float32, unit standard deviation) of a real-FFT-domain spectrum."""
    out = np.fft.irfft2(spectrum.astype(np.complex64), s=shape)
    return out / (out.std() + np.float32(1e-12))


def _band_passed_noise(size: int, weight: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """White noise band-passed with `weight`: drawn straight in the frequency domain (the
    transform of white noise is white complex noise), which saves a forward transform."""
    parts = rng.standard_normal((2, *weight.shape), dtype=np.float32)
    return _from_spectrum((parts[0] + 1j * parts[1]) * weight, (size, size))


@lru_cache(maxsize=4)
def _frequency_grids(size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For a size x size real FFT: the ridge-frequency annulus, cos and sin of twice the
    frequency's angle (float32; the same for every finger of that size)."""
    fy = np.fft.fftfreq(size).astype(np.float32)[:, None]
    fx = np.fft.rfftfreq(size).astype(np.float32)[None, :]
    radius = np.hypot(fy, fx)
    f0 = 1.0 / RIDGE_PERIOD_PX
    annulus = np.exp(-0.5 * ((radius - f0) / (0.18 * f0)) ** 2)
    theta = np.arctan2(fy, fx)
    grids = (annulus, np.cos(2.0 * theta), np.sin(2.0 * theta))
    for grid in grids:
        grid.flags.writeable = False
    return grids


def _ridge_filter(size: int, rng: np.random.Generator) -> np.ndarray:
    """An annulus around the ridge frequency with a soft bias towards one random orientation."""
    annulus, cos2, sin2 = _frequency_grids(size)
    # Orientation bias: von Mises weight on the doubled angle, so ridges lean one way;
    # cos(2 (theta - phi)) expanded, so that only one exp is computed per finger.
    phi = rng.uniform(0.0, np.pi)
    kappa = rng.uniform(0.3, 1.2)
    doubled = cos2 * np.float32(np.cos(2.0 * phi)) + sin2 * np.float32(np.sin(2.0 * phi))
    bias = np.exp(np.float32(kappa) * (doubled - np.float32(1.0)))
    return annulus * bias


def _contact_mask(size: int, rng: np.random.Generator) -> np.ndarray:
    """A soft-edged upright ellipse, the finger's contact area, in [0, 1]."""
    yy, xx = np.ogrid[0:size, 0:size]
    cy = size / 2.0 + rng.uniform(-0.03, 0.03) * size
    cx = size / 2.0 + rng.uniform(-0.03, 0.03) * size
    ry = size * rng.uniform(0.40, 0.45)
    rx = size * rng.uniform(0.31, 0.36)
    dist = np.sqrt(((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2, dtype=np.float32)
    edge_px = 3.0
    return np.clip((1.0 - dist) * min(rx, ry) / edge_px, 0.0, 1.0)


def master_finger(seed: int, size: int = MASTER_SIZE) -> np.ndarray:
    """The ideal print (uint8, size x size) of the finger named by `seed`: dark ridges on light.

    White noise is band-passed around the ridge frequency (period `RIDGE_PERIOD_PX`), pushed
    through tanh and band-passed again (which evens out the ridge contrast into a labyrinth),
    then shaped with tanh and laid inside an elliptic contact area on a light background.
    """
    if size < 32:
        raise ValueError(f"size must be at least 32 px, got {size}")
    rng = np.random.default_rng(seed)
    weight = _ridge_filter(size, rng)
    texture = _band_passed_noise(size, weight, rng)
    texture = _band_pass(np.tanh(1.5 * texture), weight)
    ink = 0.5 * (1.0 + np.tanh(2.0 * texture))  # 1 on a ridge, 0 in a valley
    image = BACKGROUND - RIDGE_DEPTH * ink * _contact_mask(size, rng)
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)


def _shift(image: np.ndarray, dy: int, dx: int, fill: float) -> np.ndarray:
    """`image` moved by (dy, dx) whole pixels, uncovered pixels set to `fill` (float32)."""
    h, w = image.shape
    out = np.full((h, w), fill, dtype=np.float32)
    src_y = slice(max(0, -dy), min(h, h - dy))
    dst_y = slice(max(0, dy), min(h, h + dy))
    src_x = slice(max(0, -dx), min(w, w - dx))
    dst_x = slice(max(0, dx), min(w, w + dx))
    out[dst_y, dst_x] = image[src_y, src_x]
    return out


def _dropout_mask(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """Where the finger did not touch: a soft band or ellipse (<= 15% of the area), in [0, 1]."""
    h, w = shape
    fraction = rng.uniform(0.05, MAX_DROPOUT_FRACTION)
    yy, xx = np.ogrid[0:h, 0:w]
    if rng.random() < 0.5:
        # A straight band across the image, at a random angle, through a random point.
        angle = rng.uniform(0.0, np.pi)
        # Width fraction * min(h, w) / sqrt(2): even along the diagonal the area stays <= fraction.
        half_width = 0.5 * fraction * min(h, w) / np.sqrt(2.0)
        cy, cx = rng.uniform(0.25, 0.75) * h, rng.uniform(0.25, 0.75) * w
        dist = np.abs((yy - cy) * np.cos(angle) - (xx - cx) * np.sin(angle))
        return np.clip(half_width - dist, 0.0, 1.0)
    # An ellipse of area fraction * h * w around a random point of the central region.
    aspect = rng.uniform(0.6, 1.6)
    ry = np.sqrt(fraction * h * w / np.pi * aspect)
    rx = np.sqrt(fraction * h * w / np.pi / aspect)
    cy, cx = rng.uniform(0.2, 0.8) * h, rng.uniform(0.2, 0.8) * w
    dist = np.sqrt(((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2)
    return np.clip((1.0 - dist) * min(rx, ry), 0.0, 1.0)


def impression(
    master: np.ndarray,
    rng: np.random.Generator,
    *,
    max_shift: int = 6,
    noise: float = 0.04,
    dropout: float = 0.25,
) -> np.ndarray:
    """One new capture (uint8, same shape) of the finger whose ideal print is `master`.

    The finger lands up to `max_shift` whole pixels off in each direction, the capture has
    its own contrast and brightness, gaussian sensor noise of standard deviation
    `noise` x 255 grey levels, and with probability `dropout` a partial-contact region
    (a band or an ellipse covering at most 15% of the image) shows only background.
    """
    if master.ndim != 2:
        raise ValueError(f"master must be a 2-D grey image, got shape {master.shape}")
    if max_shift < 0 or noise < 0 or not 0.0 <= dropout <= 1.0:
        raise ValueError("need max_shift >= 0, noise >= 0 and 0 <= dropout <= 1")
    dy, dx = (int(v) for v in rng.integers(-max_shift, max_shift + 1, size=2))
    image = _shift(master, dy, dx, BACKGROUND)
    if rng.random() < dropout:
        lift = _dropout_mask(image.shape, rng).astype(np.float32)
        image += (np.float32(BACKGROUND) - image) * lift
    contrast = np.float32(rng.uniform(0.7, 1.15))
    brightness = np.float32(rng.uniform(-20.0, 15.0))
    image = (image - np.float32(BACKGROUND)) * contrast + np.float32(BACKGROUND) + brightness
    if noise > 0:  # float32 draws: half the cost of float64 ones, and as good for pixels
        image += rng.standard_normal(image.shape, dtype=np.float32) * np.float32(noise * 255.0)
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)


def tenprint_seeds(person_seed: int) -> tuple[int, ...]:
    """Ten distinct finger seeds (FGP 1..10 in order) for the person named by `person_seed`."""
    if person_seed < 0:
        raise ValueError(f"person_seed must be non-negative, got {person_seed}")
    sequence = np.random.SeedSequence([_FINGER_DOMAIN, person_seed])
    seeds: list[int] = []
    draws = 10
    while len(seeds) < 10:  # a repeat among 64-bit draws is astronomically rare, but stay exact
        seeds = list(dict.fromkeys(int(v) for v in sequence.generate_state(draws, np.uint64)))[:10]
        draws += 1
    return tuple(seeds)
