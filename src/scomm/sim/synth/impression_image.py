"""Impressions of a master fingerprint: what a live-scan or an ink card would capture.

In the manner of SFinGe (Cappelli, Maio, Maltoni), each impression of a `RidgeMaster` is
drawn from its own random stream (seed, identity, finger, impression number, kind) and
applies, in order:

1. contact: a plain impression touches an ellipse 0.48-0.6 in wide, displaced from the
   core (partial contact); a rolled one the whole finger from the tip to the first crease;
2. placement: rotation and displacement of the finger on the sensor;
3. skin distortion: the plastic distortion model of R. Cappelli, D. Maio, D. Maltoni,
   "Modelling plastic distortion in fingerprint images", ICAPR 2001 -- a close-contact
   region that follows the finger rigidly, a transition region where a second small
   rotation and shift take hold as 1 - exp(-d / k), and the outer skin that lags fully;
4. pressure and dryness: the ridge profile is cut at a threshold (thin ridges where the
   finger is dry or pressed lightly, thick where it is wet or pressed hard -- on a smooth
   ridge field that is morphological erosion or dilation) that varies over the finger;
5. sensor: background grey, ridge contrast, Gaussian noise and the optics' blur.

The ridges are read from the master's 250 ppi grid with Catmull-Rom interpolation, so an
impression is rendered straight at 500 ppi in one pass (a few milliseconds).

Public API:
    ImpressionImageParams, PLAIN_IMAGE, ROLLED_IMAGE
    impression(master, number, kind="plain", params=None) -> uint8 image at 500 ppi
    master_image(master) -> uint8 image of the whole master
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from scomm.biometrics.extract_skeleton import smooth_image
from scomm.sim.synth import minutiae_kernels as mk
from scomm.sim.synth import ridge_kernels as rk
from scomm.sim.synth.ridge_master import RidgeMaster

__all__ = [
    "PLAIN_IMAGE",
    "ROLLED_IMAGE",
    "ImpressionImageParams",
    "impression",
    "impression_ink",
    "master_image",
    "sensor_image",
]

_IMPRESSION_DOMAIN = 0x1A9E55
_KINDS = {"plain": 1, "rolled": 2}


@dataclass(frozen=True)
class ImpressionImageParams:
    """One kind of capture (lengths px at 500 ppi, angles degrees, ranges uniform).

    frame: (width, height) of the image.  contact_width: range of the contact ellipse's
    full width (plain; a rolled print touches the whole finger: None).  contact_aspect:
    its height / width.  contact_shift: sd of its centre's offset from the core (x, y).
    crease: a rolled print stops this far below the finger's centre (fraction of the
    finger's half-height).  rotation_sd, shift_sd: the finger's placement.  close_contact:
    the close-contact region's size as a share of the contact's; distortion_k: the
    transition's length scale; distortion_rotation_sd, distortion_shift_sd: how far the
    outer skin lags.  threshold: the ridge profile's cut (negative: thick ridges);
    skin_sd: its variation over the finger (cells of `skin_cell` px); sharpness: the
    profile's steepness.  background, depth: grey of the empty sensor and how much darker
    a ridge is; noise: sd of the sensor noise (grey levels); blur: the optics' sigma (px).
    """

    frame: tuple[int, int] = (320, 416)
    contact_width: tuple[float, float] | None = (240.0, 300.0)
    contact_aspect: tuple[float, float] = (1.25, 1.5)
    contact_shift: tuple[float, float] = (30.0, 35.0)
    crease: tuple[float, float] = (0.55, 0.8)
    rotation_sd: float = 10.0
    shift_sd: float = 20.0
    close_contact: tuple[float, float] = (0.35, 0.6)
    distortion_k: float = 50.0
    distortion_rotation_sd: float = 4.0
    distortion_shift_sd: float = 9.0
    threshold: tuple[float, float] = (-0.2, 0.2)
    skin_sd: float = 0.4
    skin_cell: float = 24.0
    sharpness: tuple[float, float] = (3.0, 6.0)
    background: tuple[float, float] = (205.0, 250.0)
    depth: tuple[float, float] = (120.0, 200.0)
    noise: tuple[float, float] = (2.0, 8.0)
    blur: tuple[float, float] = (0.5, 0.7)


# Calibrated with `scomm synth realism` against FVC2002 DB1-3 (see the README's synth
# section): placement, distortion, pressure and noise ranges chosen so that genuine and
# impostor scores of plain impressions follow the real ones with LEADER minutiae, the
# default engine (KS 0.07 / 0.00 on 10 fingers); MINDTCT finds these clean impressions
# easier to match than real ones (genuine KS 0.25, impostor 0.04).
PLAIN_IMAGE = ImpressionImageParams()
ROLLED_IMAGE = ImpressionImageParams(
    frame=(448, 576),
    contact_width=None,
    contact_shift=(0.0, 0.0),
    rotation_sd=3.0,
    shift_sd=8.0,
    close_contact=(0.3, 0.5),
    distortion_rotation_sd=4.0,
    distortion_shift_sd=10.0,
)


def _stream(master: RidgeMaster, number: int, kind: str) -> np.random.Generator:
    key = [_IMPRESSION_DOMAIN, master.seed, master.identity, master.finger, number, _KINDS[kind]]
    return np.random.default_rng(np.random.SeedSequence(key))


def _core(master: RidgeMaster) -> tuple[float, float]:
    g = master.geometry
    return float(g[mk.F_CX] + g[mk.F_CORES]), float(g[mk.F_CY] - g[mk.F_CORES + 1])


def _contact(
    master: RidgeMaster, params: ImpressionImageParams, rng: np.random.Generator
) -> np.ndarray:
    """Contact ellipse (centre x, y, semi-axes a, b), edge softness, lower cut."""
    g = master.geometry
    if params.contact_width is None:  # rolled: the whole finger down to the crease
        cx, cy, a, b = g[mk.F_CX], g[mk.F_CY], g[mk.F_A] * 1.2, g[mk.F_B] * 1.2
        cut = g[mk.F_CY] + g[mk.F_B] * rng.uniform(*params.crease)
        return np.array([cx, cy, a, b, 10.0, cut])
    a = 0.5 * rng.uniform(*params.contact_width)
    b = a * rng.uniform(*params.contact_aspect)
    core_x, core_y = _core(master)
    cx = core_x + params.contact_shift[0] * rng.standard_normal()
    cy = core_y + params.contact_shift[1] * rng.standard_normal()
    return np.array([cx, cy, a, b, 8.0, 1e9])


def _transform(
    contact: np.ndarray, params: ImpressionImageParams, rng: np.random.Generator
) -> np.ndarray:
    """The placement, distortion and ridge-profile vector `render_impression` reads."""
    fw, fh = params.frame
    lo, hi = params.close_contact
    share = rng.uniform(lo, hi)
    return np.array(
        [
            0.5 * fw,  # image point the contact centre lands on
            0.5 * fh,
            contact[0],  # contact centre in the master
            contact[1],
            math.radians(params.rotation_sd) * rng.standard_normal(),
            params.shift_sd * rng.standard_normal(),
            params.shift_sd * rng.standard_normal(),
            contact[0],  # distortion centre
            contact[1],
            contact[2] * share,  # close-contact semi-axes
            contact[3] * share,
            params.distortion_k,
            math.radians(params.distortion_rotation_sd) * rng.standard_normal(),
            params.distortion_shift_sd * rng.standard_normal(),
            params.distortion_shift_sd * rng.standard_normal(),
            rng.uniform(*params.threshold),
            rng.uniform(*params.sharpness),
        ]
    )


def _skin_map(
    master: RidgeMaster, params: ImpressionImageParams, rng: np.random.Generator
) -> np.ndarray:
    w, h = master.frame
    cells = (int(h / params.skin_cell) + 2, int(w / params.skin_cell) + 2)
    return (params.skin_sd * rng.standard_normal(cells)).astype(np.float64)


def _ink(
    master: RidgeMaster,
    frame: tuple[int, int],
    transform: np.ndarray,
    contact: np.ndarray,
    skin: np.ndarray,
    skin_cell: float,
) -> np.ndarray:
    out = np.empty((frame[1], frame[0]), np.float32)
    rk.render_impression(
        master.ridges, master.scale, master.geometry, transform, contact, skin, skin_cell, out
    )
    return out


def _check_kind(kind: str, number: int) -> None:
    if kind not in _KINDS:
        raise ValueError(f"kind must be 'plain' or 'rolled', got {kind!r}")
    if number < 0:
        raise ValueError(f"impression number must be >= 0, got {number}")


def impression_ink(
    master: RidgeMaster,
    number: int,
    kind: str = "plain",
    params: ImpressionImageParams | None = None,
) -> tuple[np.ndarray, np.random.Generator]:
    """Stages 1-4 of an impression: its ink (float32, 1 = ridge pressed on the sensor, 0 =
    nothing) in params.frame, and the random stream, ready for the sensor stage."""
    _check_kind(kind, number)
    p = params or (PLAIN_IMAGE if kind == "plain" else ROLLED_IMAGE)
    rng = _stream(master, number, kind)
    contact = _contact(master, p, rng)
    transform = _transform(contact, p, rng)
    skin = _skin_map(master, p, rng)
    return _ink(master, p.frame, transform, contact, skin, p.skin_cell), rng


def sensor_image(
    ink: np.ndarray, params: ImpressionImageParams, rng: np.random.Generator
) -> np.ndarray:
    """Stage 5: ink seen by the sensor -- background, ridge contrast, noise, blur (uint8)."""
    background = np.float32(rng.uniform(*params.background))
    depth = np.float32(rng.uniform(*params.depth))
    noise = np.float32(rng.uniform(*params.noise))
    grey = background - depth * ink
    grey += noise * rng.standard_normal(grey.shape, dtype=np.float32)
    # the optics' blur (smooth_image's separable kernel takes float32 as well as uint8)
    grey = smooth_image(grey, rng.uniform(*params.blur))  # type: ignore[arg-type]
    return np.clip(np.rint(grey), 0, 255).astype(np.uint8)


def impression(
    master: RidgeMaster,
    number: int,
    kind: str = "plain",
    params: ImpressionImageParams | None = None,
) -> np.ndarray:
    """Impression `number` (>= 0) of `master`, of `kind` "plain" (a flat touch) or "rolled"
    (nail to nail): a uint8 image at 500 ppi (params.frame), dark ridges on a light
    background.  A pure function of the master and (number, kind)."""
    _check_kind(kind, number)
    p = params or (PLAIN_IMAGE if kind == "plain" else ROLLED_IMAGE)
    ink, rng = impression_ink(master, number, kind, p)
    return sensor_image(ink, p, rng)


def master_image(master: RidgeMaster) -> np.ndarray:
    """The whole master at 500 ppi (uint8, frame size): dark ridges on white, no placement,
    distortion, noise or other capture effects."""
    w, h = master.frame
    g = master.geometry
    contact = np.array([g[mk.F_CX], g[mk.F_CY], g[mk.F_A] * 2, g[mk.F_B] * 2, 4.0, 1e9])
    transform = np.zeros(17)
    transform[0:4] = (0.0, 0.0, 0.0, 0.0)
    transform[9:12] = (1e9, 1e9, 1.0)  # no distortion
    transform[16] = 6.0
    ink = _ink(master, (w, h), transform, contact, np.zeros((2, 2)), 1e9)
    return np.clip(np.rint(250.0 - 200.0 * ink), 0, 255).astype(np.uint8)
