"""Master fingerprints as ridge images, grown by contextual Gabor filtering (SFinGe).

In the manner of SFinGe (R. Cappelli, D. Maio, D. Maltoni, "Synthetic fingerprint-database
generation", ICPR 2002; Maltoni et al., Handbook of Fingerprint Recognition, 2nd ed., ch. 8),
one stage per step of `make_master`:

1. finger area, pattern class, singular points and orientation field: those of the
   template generator (`minutiae_kernels.finger_geometry` and `ridge_orientation`: the
   Sherlock-Monro zero-pole field of the class's cores and deltas, a fingertip bend and a
   slow random wave, here a stronger one), so a master image and the synthetic minutiae
   set of the same (seed, identity, finger) share class, area and singular points;
   classes come at the frequencies of `MasterParams.pattern_frequencies` per finger;
2. ridge-frequency map: a period per finger (`period_range`), a little wider towards the
   fingertip and the base, with a slow wave;
3. ridge pattern: random seeds (a Poisson process, about `seed_spacing` apart) grown by
   iterative contextual filtering -- each pixel filtered by the even Gabor filter of its
   own orientation and period bin, then squashed -- until the ridges fill the finger area.
   Where fronts from different seeds meet out of phase, the pattern settles into ridge
   endings and bifurcations, which is where the master's minutiae come from: the seed
   spacing sets their density (calibrated with `scomm synth realism`).

Cost: the growth runs on a grid of half the 500 ppi resolution (250 ppi: 3.5 or more
samples per ridge period), where a 9 x 9 filter spans a ridge period and a half, so a
master takes a few tens of milliseconds on one core; impressions read the master back at
500 ppi with Catmull-Rom interpolation (`impression_image`).

Public API:
    RidgeParams, DEFAULT_RIDGE_PARAMS
    RidgeMaster: the coarse ridge field, its scale, the finger geometry and class.
    make_master(seed, identity, finger, ridge=..., master=...) -> RidgeMaster
    person_masters(seed, identity) -> tuple of 10 RidgeMaster (cached)
    cached_master(seed, identity, finger) -> RidgeMaster (the same cache)
    (`impression_image.master_image(master)` draws a whole master at 500 ppi.)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from scomm.sim.synth import minutiae_kernels as mk
from scomm.sim.synth import ridge_kernels as rk
from scomm.sim.synth.minutiae_params import PATTERN_CLASS_NAMES, MasterParams

__all__ = [
    "DEFAULT_RIDGE_PARAMS",
    "RidgeMaster",
    "RidgeParams",
    "cached_master",
    "make_master",
    "person_masters",
]

_RIDGE_DOMAIN = 0x51D6E  # separates the ridge streams from other uses of a seed
FINGERS: tuple[int, ...] = tuple(range(1, 11))


@dataclass(frozen=True)
class RidgeParams:
    """Ridge-frequency map and growth of a master (lengths in px at 500 ppi).

    period_range: the finger's mean ridge period is uniform in this range (8.5, 10.5 px:
    0.43-0.53 mm, adult ridge spacing).  tip_gain, base_gain: the period is this much
    wider (relative) at the fingertip and at the base than around the core (0.08, 0.06).
    period_wave: amplitude of a slow relative variation (0.04).
    seed_spacing: growth seeds, one per square this wide on average (70 px), placed at
    random; seed_spacing_sd: log-sd of each finger's own spacing (0: all alike).
    scale: the growth grid's resolution relative to 500 ppi (0.5).
    orientations: orientation bins of the filter bank (24, 7.5 degrees each).
    periods: the bank's periods (px at 500 ppi); each pixel takes the nearest.
    sigma_along, sigma_across: the filters' Gaussian envelope, as fractions of the period,
    along and across the ridges (0.55, 0.42: smooth along the ridge, one period across).
    radius: the filters' radius on the growth grid (4 px: 9 x 9 taps).
    iterations: passes of contextual filtering (14); gain: the squashing tanh's (3.0).
    margin: the field is grown this far (fraction of the finger size) beyond the outline,
    so an impression's soft edge has ridges under it (0.06).
    """

    period_range: tuple[float, float] = (8.5, 10.5)
    tip_gain: float = 0.08
    base_gain: float = 0.06
    period_wave: float = 0.04
    seed_spacing: float = 70.0
    seed_spacing_sd: float = 0.0
    scale: float = 0.5
    orientations: int = 24
    periods: tuple[float, ...] = (7.5, 8.25, 9.0, 9.75, 10.5, 11.25, 12.0)
    sigma_along: float = 0.55
    sigma_across: float = 0.42
    radius: int = 4
    iterations: int = 14
    gain: float = 3.0
    margin: float = 0.06

    def __post_init__(self) -> None:
        lo, hi = self.period_range
        if not 0 < lo <= hi or self.seed_spacing <= 0 or not 0 < self.scale <= 1:
            raise ValueError("need 0 < period_range[0] <= [1], seed_spacing > 0, 0 < scale <= 1")
        if self.iterations < 1 or self.radius < 1 or self.orientations < 4:
            raise ValueError("need iterations >= 1, radius >= 1 and orientations >= 4")


DEFAULT_RIDGE_PARAMS = RidgeParams()
# The template generator's masters, with a stronger random wave on the orientation field
# (30 degrees, not 12): with 12, impostor pairs of image masters scored higher than FVC2002
# impostors (KS 0.23 with MINDTCT), as one class's fields were too much alike; with 30 the
# KS is 0.04-0.06 (`scomm synth realism`; the README's synth section gives the figures).
# Class, area and singular points stay those of the same (seed, identity, finger).
DEFAULT_MASTER_PARAMS = MasterParams(field_perturbation=30.0)


@dataclass(frozen=True, eq=False)
class RidgeMaster:
    """One finger's master: the ridge field on the growth grid and what made it.

    ridges: float32 on a grid `scale` times 500 ppi, positive on ridges (about +-1), 0
    outside the grown area.  geometry: the `minutiae_kernels` geometry vector (finger
    area, class, singular points, field).  frequency: the ridge-frequency map's vector.
    frame: (width, height) of the 500 ppi frame the master lives in.
    """

    seed: int
    identity: int
    finger: int
    ridges: np.ndarray
    scale: float
    geometry: np.ndarray
    frequency: np.ndarray
    frame: tuple[int, int]
    orientation: np.ndarray = field(repr=False)

    @property
    def pattern_class(self) -> str:
        """arch, tented_arch, left_loop, right_loop or whorl."""
        return PATTERN_CLASS_NAMES[int(self.geometry[mk.F_CLASS]) - 1]

    @property
    def singular_points(self) -> list[tuple[str, float, float]]:
        """("core" | "delta", x, y) in the 500 ppi frame."""
        g = self.geometry
        points = []
        for kind, count_at, at in (
            ("core", mk.F_NCORE, mk.F_CORES),
            ("delta", mk.F_NDELTA, mk.F_DELTAS),
        ):
            for k in range(int(g[count_at])):
                points.append((kind, g[mk.F_CX] + g[at + 2 * k], g[mk.F_CY] - g[at + 2 * k + 1]))
        return points


def _rng(seed: int, identity: int, finger: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([_RIDGE_DOMAIN, seed, identity, finger]))


def _check(seed: int, identity: int, finger: int) -> None:
    if not 0 <= seed < 2**63 or not 0 <= identity < 2**63:
        raise ValueError(f"seed and identity must be in [0, 2**63), got {seed}, {identity}")
    if finger not in FINGERS:
        raise ValueError(f"finger position must be 1..10, got {finger}")


@lru_cache(maxsize=8)
def _bank(params: RidgeParams) -> tuple[np.ndarray, np.ndarray]:
    periods = np.asarray(params.periods, np.float64) * params.scale
    bank = rk.gabor_bank(
        params.orientations, periods, params.sigma_along, params.sigma_across, params.radius
    )
    bank.flags.writeable = False
    return bank, np.asarray(params.periods, np.float64)


def frequency_map(rng: np.random.Generator, params: RidgeParams) -> np.ndarray:
    """The ridge-frequency vector of one finger (see `ridge_kernels.ridge_period`)."""
    rp = np.zeros(rk.R_SIZE)
    rp[rk.R_PERIOD] = rng.uniform(*params.period_range)
    rp[rk.R_TIP_GAIN] = params.tip_gain
    rp[rk.R_BASE_GAIN] = params.base_gain
    rp[rk.R_WAVE_A] = params.period_wave * rng.uniform(0.5, 1.0)
    wavelength, heading = rng.uniform(150.0, 350.0), rng.uniform(0.0, np.pi)
    rp[rk.R_WAVE_KX] = 2 * np.pi / wavelength * np.cos(heading)
    rp[rk.R_WAVE_KY] = 2 * np.pi / wavelength * np.sin(heading)
    rp[rk.R_WAVE_PH] = rng.uniform(0.0, 2 * np.pi)
    return rp


def growth_seeds(rng: np.random.Generator, bins: np.ndarray, spacing: float) -> np.ndarray:
    """The starting field: +-1 seeds at uniformly random points (a Poisson process, one
    seed per `spacing` x `spacing` grid px on average) of the area to grow.

    Random rather than jittered-grid points: a lattice of seeds grows a lattice of the
    places where ridges meet out of phase, so every finger's minutiae would share one
    spacing, and impostor comparisons would find more alike neighbourhoods than real
    fingers have."""
    h, w = bins.shape
    field = np.zeros((h, w), np.float32)
    count = int(rng.poisson(h * w / (spacing * spacing)))
    py = rng.integers(0, h, count)
    px = rng.integers(0, w, count)
    signs = np.where(rng.random(count) < 0.5, -1.0, 1.0).astype(np.float32)
    inside = bins[py, px] >= 0
    field[py[inside], px[inside]] = signs[inside]
    return field


def make_master(
    seed: int,
    identity: int,
    finger: int,
    ridge: RidgeParams = DEFAULT_RIDGE_PARAMS,
    master: MasterParams = DEFAULT_MASTER_PARAMS,
) -> RidgeMaster:
    """The master of finger position `finger` (1-10) of `identity`: a pure function of its
    arguments.  Ten fingers of one identity are ten distinct masters (own class draw, area,
    field and seeds) sharing the person's hand size."""
    _check(seed, identity, finger)
    geometry = mk.finger_geometry(np.uint64(seed), np.uint64(identity), finger, master.vector())
    rng = _rng(seed, identity, finger)
    rp = frequency_map(rng, ridge)
    width, height = master.frame_width, master.frame_height
    gh, gw = round(height * ridge.scale), round(width * ridge.scale)
    bank, periods = _bank(ridge)
    bins = np.empty((gh, gw), np.int32)
    orient = np.empty((gh, gw), np.float32)
    rk.filter_bins(
        geometry, rp, ridge.scale, gh, gw, ridge.orientations, periods, ridge.margin, bins, orient
    )
    spacing = ridge.seed_spacing * np.exp(ridge.seed_spacing_sd * rng.standard_normal())
    start = growth_seeds(rng, bins, spacing * ridge.scale)
    ridges = rk.grow_ridges(start, bins, bank, ridge.iterations, ridge.gain)
    peak = float(np.percentile(np.abs(ridges[bins >= 0]), 95)) if (bins >= 0).any() else 1.0
    ridges /= np.float32(max(peak, 1e-6))
    for array in (ridges, orient, geometry, rp):
        array.flags.writeable = False
    return RidgeMaster(
        seed, identity, finger, ridges, ridge.scale, geometry, rp, (width, height), orient
    )


@lru_cache(maxsize=256)
def _cached_master(seed: int, identity: int, finger: int) -> RidgeMaster:
    return make_master(seed, identity, finger)


def cached_master(seed: int, identity: int, finger: int) -> RidgeMaster:
    """`make_master` with the default parameters, from the cache of the last 256 fingers."""
    return _cached_master(seed, identity, finger)


def person_masters(seed: int, identity: int) -> tuple[RidgeMaster, ...]:
    """The ten masters (FGP 1-10) of `identity` with the default parameters; the last 256
    fingers made are kept, so further captures of a person skip the growth."""
    return tuple(_cached_master(seed, identity, f) for f in FINGERS)
