"""Parameters of the synthetic minutiae-set generator: master fingers and their impressions.

Lengths are pixels at 500 ppi, angles degrees (converted to radians for the kernels), rates
fractions.  The defaults are calibrated (bench/synth_minutiae_calibration.py) so that plain
impressions scored by scomm's default matcher look like LEADER minutiae of FVC2002 DB1-3:
minutiae counts, spacing and extent, the genuine and the impostor score distributions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

PIXELS_PER_MM = 500.0 / 25.4

# Pattern classes in the order of `MasterParams.pattern_frequencies` rows.
PATTERN_CLASS_NAMES = ("arch", "tented_arch", "left_loop", "right_loop", "whorl")

# Shares of (arch, tented arch, left loop, right loop, whorl) by finger position 1-10
# (ANSI/NIST: 1 right thumb ... 5 right little, 6 left thumb ... 10 left little).  Loops
# open towards the little finger (ulnar) on most fingers, which on a print is a right loop
# on the right hand and a left loop on the left; index fingers hold most arches, tented
# arches and radial loops, thumbs and ring fingers most whorls.  Over ten fingers this
# gives about 4 / 3 / 32 / 32 / 29 %, the shares reported for large ten-print files.
_HAND = (
    (0.03, 0.02, 0.02, 0.55, 0.38),  # thumb: arch, tented, radial loop, ulnar loop, whorl
    (0.09, 0.09, 0.18, 0.31, 0.33),  # index
    (0.05, 0.03, 0.03, 0.70, 0.19),  # middle
    (0.02, 0.01, 0.02, 0.57, 0.38),  # ring
    (0.02, 0.01, 0.01, 0.81, 0.15),  # little
)
DEFAULT_PATTERN_FREQUENCIES: tuple[tuple[float, ...], ...] = tuple(
    (a, t, radial, ulnar, w)
    for a, t, radial, ulnar, w in _HAND  # right hand: ulnar = right
) + tuple((a, t, ulnar, radial, w) for a, t, radial, ulnar, w in _HAND)

# Finger width relative to the hand's middle finger, by position 1-10.
DEFAULT_FINGER_SIZES = (1.10, 0.98, 1.0, 0.96, 0.86) * 2


@dataclass(frozen=True)
class MasterParams:
    """The master finger: its area, pattern, orientation field and minutiae.

    frame_width, frame_height: the frame masters are drawn in (416 x 560, the default frame of
    `MinutiaeBatch`); finger areas stay `edge_margin` (8) inside it.
    finger_width: mean, min, max of the finger area's width (350, 300, 400): the width of a
    rolled print of a middle finger of a mean hand, and its limits.  finger_aspect:
    height / width range (1.25, 1.45).  finger_sizes: width factor by finger position.
    hand_size_sd, finger_size_sd: log-sd of a person's size factor (shared by the ten
    fingers) and of each finger's own (0.06, 0.04).
    pattern_frequencies: shares of arch, tented arch, left loop, right loop, whorl for
    finger positions 1-10 (see DEFAULT_PATTERN_FREQUENCIES).
    density: minutiae per mm^2 of finger area, as an extractor reports them (0.25; LEADER
    finds fewer than the 0.5-0.6 of hand-marked ground truth); density_sd: its log-sd
    between fingers (0.35).  core_density_gain, core_density_radius: around each core and
    delta the density is higher by gain times a Gaussian of this radius (0.5, 80 px).
    min_distance: no two minutiae closer than this (10 px, Poisson-disc placement).
    ending_fraction: share of ridge endings (0.73; with the captures' 5% kind flips, 0.71,
    LEADER's share on FVC2002 DB1-3 being 0.70; hand-marked ground truth is nearer 0.55).
    direction_sd: deviation of a minutia's direction from the local ridge orientation (9 deg).
    direction_coherence: a minutia points one way or the other along its ridge; where ridges
    diverge, new ridges begin and split facing one way, so neighbours tend to agree.  A slow
    random wave s = clip(2 sin(k.p + phase), -1, 1) over the finger sets the chance of the
    "forward" way to (1 + direction_coherence * s) / 2 (1.0; 0 makes the ways independent).
    paired_share, paired_length: share of minutiae placed with a partner facing them along
    the ridge, this far behind them (0.4; 10-24 px): the two ends of a short ridge or of an
    island, or the two sides of a break.  On FVC2002, LEADER minutiae closer than 20 px face
    each other more often than not, those 20-80 px apart agree more often than not; these
    two parameters reproduce both, and with them the upper tail of impostor scores.
    field_perturbation: amplitude of a random wave (wavelength 150-350 px) added to the
    Sherlock-Monro field (12 deg), so fingers of one class differ in more than their
    singular points.
    top_curvature: range of how much ridges above the core bend to follow the fingertip
    (15, 40 deg at the sides).
    quality_max, quality_span: minutia quality is quality_max - quality_span * u ** 3, u
    uniform (96, 36: median 91, 5th percentile 65, as LEADER reports on FVC2002).
    max_minutiae: cap on a master's minutiae (320).
    """

    frame_width: int = 416
    frame_height: int = 560
    edge_margin: float = 8.0
    finger_width: tuple[float, float, float] = (350.0, 300.0, 400.0)
    finger_aspect: tuple[float, float] = (1.25, 1.45)
    finger_sizes: tuple[float, ...] = DEFAULT_FINGER_SIZES
    hand_size_sd: float = 0.06
    finger_size_sd: float = 0.04
    pattern_frequencies: tuple[tuple[float, ...], ...] = DEFAULT_PATTERN_FREQUENCIES
    density: float = 0.25
    density_sd: float = 0.35
    core_density_gain: float = 0.5
    core_density_radius: float = 80.0
    min_distance: float = 10.0
    ending_fraction: float = 0.73
    direction_sd: float = 9.0
    direction_coherence: float = 1.0
    paired_share: float = 0.4
    paired_length: tuple[float, float] = (10.0, 24.0)
    field_perturbation: float = 12.0
    top_curvature: tuple[float, float] = (15.0, 40.0)
    quality_max: float = 96.0
    quality_span: float = 36.0
    max_minutiae: int = 320

    def __post_init__(self) -> None:
        if len(self.finger_sizes) != 10 or len(self.pattern_frequencies) != 10:
            raise ValueError("finger_sizes and pattern_frequencies need one entry per finger")
        for row in self.pattern_frequencies:
            if len(row) != 5 or min(row) < 0 or not math.isclose(sum(row), 1.0, abs_tol=1e-6):
                raise ValueError(f"pattern frequencies {row} are not 5 shares summing to 1")
        lo, hi = self.finger_width[1], self.finger_width[2]
        if not 0 < lo <= self.finger_width[0] <= hi:
            raise ValueError(f"finger_width {self.finger_width} is not (mean, min, max)")
        if self.min_distance <= 0 or self.density <= 0 or self.max_minutiae < 1:
            raise ValueError("min_distance, density and max_minutiae must be positive")

    def vector(self) -> np.ndarray:
        """The parameters as the float64 vector the kernels read (see `MASTER_SLOTS`)."""
        values: dict[str, float] = {
            "frame_width": self.frame_width,
            "frame_height": self.frame_height,
            "edge_margin": self.edge_margin,
            "width_mean": self.finger_width[0],
            "width_min": self.finger_width[1],
            "width_max": self.finger_width[2],
            "aspect_min": self.finger_aspect[0],
            "aspect_max": self.finger_aspect[1],
            "hand_size_sd": self.hand_size_sd,
            "finger_size_sd": self.finger_size_sd,
            "density_px": self.density / PIXELS_PER_MM**2,
            "density_sd": self.density_sd,
            "core_gain": self.core_density_gain,
            "core_radius": self.core_density_radius,
            "min_distance": self.min_distance,
            "ending_fraction": self.ending_fraction,
            "direction_sd": math.radians(self.direction_sd),
            "direction_coherence": self.direction_coherence,
            "paired_share": self.paired_share,
            "paired_min": self.paired_length[0],
            "paired_max": self.paired_length[1],
            "perturbation": math.radians(self.field_perturbation),
            "curvature_min": math.radians(self.top_curvature[0]),
            "curvature_max": math.radians(self.top_curvature[1]),
            "quality_max": self.quality_max,
            "quality_span": self.quality_span,
            "max_minutiae": self.max_minutiae,
        }
        head = [float(values[name]) for name in MASTER_SLOTS]
        cumulative = np.cumsum(np.asarray(self.pattern_frequencies, dtype=np.float64), axis=1)
        cumulative[:, -1] = 1.0
        return np.concatenate([head, np.asarray(self.finger_sizes, np.float64), cumulative.ravel()])


MASTER_SLOTS = (
    "frame_width",
    "frame_height",
    "edge_margin",
    "width_mean",
    "width_min",
    "width_max",
    "aspect_min",
    "aspect_max",
    "hand_size_sd",
    "finger_size_sd",
    "density_px",
    "density_sd",
    "core_gain",
    "core_radius",
    "min_distance",
    "ending_fraction",
    "direction_sd",
    "direction_coherence",
    "paired_share",
    "paired_min",
    "paired_max",
    "perturbation",
    "curvature_min",
    "curvature_max",
    "quality_max",
    "quality_span",
    "max_minutiae",
)
# The master vector: MASTER_SLOTS, then 10 finger sizes, then 10 x 5 cumulative class shares.
MASTER_SIZES_AT = len(MASTER_SLOTS)
MASTER_CLASSES_AT = MASTER_SIZES_AT + 10


@dataclass(frozen=True)
class ImpressionParams:
    """One capture of a master: contact area, placement, skin distortion, extraction noise.

    frame_width, frame_height: the image frame of the impression.
    contact_width, contact_height: range of the contact area's semi-axes as fractions of the
    finger's (uniform).  contact_shift_x_sd: sd of its centre's sideways offset (fraction of
    the finger's half-width); contact_shift_y: mean and sd of its centre's offset towards
    the fingertip (fraction of the finger's half-height).  border_margin: minutiae this
    close to the contact border are not found (extractors mask the border; px).
    rotation_sd: sd of the finger's rotation (deg); rotation_tail, rotation_tail_sd: share of
    captures drawn from a wider rotation distribution and its sd; rotation_max: clip (deg).
    translation_sd: sd of the contact centre's offset from the frame centre (px, per axis).
    distortion_rotation_sd, distortion_translation_sd: the skin's lateral twist and shift
    under pressure (deg, px), applied outside a close-contact core whose normalised radius
    is `close_contact` (Cappelli, Maio, Maltoni, "Modelling plastic distortion in
    fingerprint images", ICAPR 2001: no distortion in the close-contact region, the full
    displacement at the border, a smooth brake between).
    missing, spurious: ranges of the share of the visible master minutiae the extractor
    misses and of spurious minutiae it adds (relative to the minutiae kept); spurious
    minutiae follow the ridge orientation like real ones.
    position_sd, angle_sd: extraction jitter of a good capture (px per axis, deg).
    min_distance: the extractor reports no two minutiae closer than this (px); of a close
    pair the first found stays, the master's before the spurious (9).
    condition_power, poor_jitter: each capture draws a condition c = u ** condition_power
    (u uniform; 0 a clean capture, 1 the worst, a dry or wet finger): the miss and spurious
    rates are min + c (max - min) and the jitter grows by a factor 1 + c (poor_jitter - 1).
    kind_flip: share of minutiae reported with the other kind.  quality_sd: quality noise
    between captures.
    """

    frame_width: int
    frame_height: int
    contact_width: tuple[float, float]
    contact_height: tuple[float, float]
    contact_shift_x_sd: float
    contact_shift_y: tuple[float, float]
    border_margin: float
    rotation_sd: float
    rotation_tail: float
    rotation_tail_sd: float
    rotation_max: float
    translation_sd: float
    distortion_rotation_sd: float
    distortion_translation_sd: float
    close_contact: float
    missing: tuple[float, float]
    spurious: tuple[float, float]
    position_sd: float
    angle_sd: float
    min_distance: float = 9.0
    condition_power: float = 1.0
    poor_jitter: float = 1.0
    kind_flip: float = 0.1
    quality_sd: float = 4.0

    def vector(self) -> np.ndarray:
        """The parameters as the float64 vector the kernels read (see `IMPRESSION_SLOTS`)."""
        values: dict[str, float] = {
            "frame_width": self.frame_width,
            "frame_height": self.frame_height,
            "contact_w_min": self.contact_width[0],
            "contact_w_max": self.contact_width[1],
            "contact_h_min": self.contact_height[0],
            "contact_h_max": self.contact_height[1],
            "shift_x_sd": self.contact_shift_x_sd,
            "shift_y_mean": self.contact_shift_y[0],
            "shift_y_sd": self.contact_shift_y[1],
            "border_margin": self.border_margin,
            "rotation_sd": math.radians(self.rotation_sd),
            "rotation_tail": self.rotation_tail,
            "rotation_tail_sd": math.radians(self.rotation_tail_sd),
            "rotation_max": math.radians(self.rotation_max),
            "translation_sd": self.translation_sd,
            "twist_sd": math.radians(self.distortion_rotation_sd),
            "shift_sd": self.distortion_translation_sd,
            "close_contact": self.close_contact,
            "missing_min": self.missing[0],
            "missing_max": self.missing[1],
            "spurious_min": self.spurious[0],
            "spurious_max": self.spurious[1],
            "position_sd": self.position_sd,
            "angle_sd": math.radians(self.angle_sd),
            "min_distance": self.min_distance,
            "condition_power": self.condition_power,
            "poor_jitter": self.poor_jitter,
            "kind_flip": self.kind_flip,
            "quality_sd": self.quality_sd,
        }
        return np.array([float(values[name]) for name in IMPRESSION_SLOTS], dtype=np.float64)


IMPRESSION_SLOTS = (
    "frame_width",
    "frame_height",
    "contact_w_min",
    "contact_w_max",
    "contact_h_min",
    "contact_h_max",
    "shift_x_sd",
    "shift_y_mean",
    "shift_y_sd",
    "border_margin",
    "rotation_sd",
    "rotation_tail",
    "rotation_tail_sd",
    "rotation_max",
    "translation_sd",
    "twist_sd",
    "shift_sd",
    "close_contact",
    "missing_min",
    "missing_max",
    "spurious_min",
    "spurious_max",
    "position_sd",
    "angle_sd",
    "min_distance",
    "condition_power",
    "poor_jitter",
    "kind_flip",
    "quality_sd",
)

# A flat (plain) capture on a single-finger sensor, FVC2002-like: the finger pressed, not
# rolled, so a central part of the pad, cropped by a 320 x 420 window; FVC volunteers were
# asked to vary position and rotation, hence the wide translation and the rotation tail.
# Calibrated on LEADER minutiae of FVC2002 DB1-3 (bench/synth_minutiae_calibration.py):
# between two impressions of a finger, 92% (median) of the minutiae in the common area
# match within 15 px and 30 deg, residuals after the best rigid fit are 3.8 px and 2.6 deg
# (medians) and relative rotations 4 deg (median, 32 at the 90th percentile).  So the
# extractor is more repeatable than hand-marking studies suggest: with condition_power 4
# the miss rate is 2% in the median capture and 6% on average (spurious: 1% and 4%), the
# worst captures reaching 30% and 20%; the low scores of real genuine pairs come from small
# minutiae sets (small contact areas, few minutiae) more than from noise.
PLAIN = ImpressionParams(
    frame_width=320,
    frame_height=420,
    contact_width=(0.60, 0.85),
    contact_height=(0.60, 0.85),
    contact_shift_x_sd=0.10,
    contact_shift_y=(0.10, 0.10),
    border_margin=12.0,
    rotation_sd=3.5,
    rotation_tail=0.2,
    rotation_tail_sd=20.0,
    rotation_max=45.0,
    translation_sd=25.0,
    distortion_rotation_sd=2.0,
    distortion_translation_sd=4.0,
    close_contact=0.35,
    missing=(0.0, 0.30),
    spurious=(0.0, 0.20),
    position_sd=0.8,
    angle_sd=2.0,
    condition_power=4.0,
    poor_jitter=2.0,
    kind_flip=0.05,
)

# A rolled capture on a ten-print card or live-scan: nail to nail, taken with care, the
# skin dragged a little more than when pressed.  No real rolled reference was at hand to
# calibrate against, so the extractor's noise is the plain capture's (LEADER on FVC2002).
ROLLED = ImpressionParams(
    frame_width=416,
    frame_height=560,
    contact_width=(0.88, 1.0),
    contact_height=(0.85, 1.0),
    contact_shift_x_sd=0.03,
    contact_shift_y=(0.0, 0.03),
    border_margin=12.0,
    rotation_sd=3.5,
    rotation_tail=0.05,
    rotation_tail_sd=15.0,
    rotation_max=30.0,
    translation_sd=8.0,
    distortion_rotation_sd=3.0,
    distortion_translation_sd=6.0,
    close_contact=0.35,
    missing=PLAIN.missing,
    spurious=PLAIN.spurious,
    position_sd=PLAIN.position_sd,
    angle_sd=PLAIN.angle_sd,
    condition_power=PLAIN.condition_power,
    poor_jitter=PLAIN.poor_jitter,
    kind_flip=PLAIN.kind_flip,
)


@dataclass(frozen=True)
class MinutiaeSetParams:
    """Everything the generator draws from: masters, plain and rolled captures."""

    master: MasterParams = field(default_factory=MasterParams)
    plain: ImpressionParams = PLAIN
    rolled: ImpressionParams = ROLLED

    def capture(self, kind: str) -> ImpressionParams:
        """The capture parameters of `kind` ("plain" or "rolled")."""
        if kind not in ("plain", "rolled"):
            raise ValueError(f"impression kind must be 'plain' or 'rolled', got {kind!r}")
        return self.plain if kind == "plain" else self.rolled


def slot(slots: tuple[str, ...], name: str) -> int:
    """Index of `name` in a kernel vector layout (for the kernels' constants)."""
    return slots.index(name)
