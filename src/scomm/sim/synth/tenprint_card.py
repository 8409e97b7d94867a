"""A synthetic person's tenprint card: ten rolled impressions and four plain ones.

The plain side follows the FBI card and NIST's reference tenprint (ANSI/NIST-ITL finger
positions, FGP): 11 right plain thumb, 12 left plain thumb, 13 right four-finger slap
(fingers 2-5 side by side in one image), 14 left four-finger slap (7-10).  Images are 500 ppi
grey uint8: rolled 448 x 576 px, plain thumbs 320 x 416, slaps 1600 x 1000 (3.2 x 2.0 in,
the card's box).  Each capture number gives new impressions of the same ten masters.

Public API:
    PLAIN_POSITIONS, TenprintCard
    rolled_impressions(seed, identity, capture=0) -> tuple of 10 uint8 arrays (FGP 1-10)
    tenprint_card(seed, identity, capture=0) -> TenprintCard
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from scomm.nist.tenprint import FingerImage
from scomm.sim.synth.impression_image import (
    PLAIN_IMAGE,
    ROLLED_IMAGE,
    impression,
    impression_ink,
    sensor_image,
)
from scomm.sim.synth.ridge_master import RidgeMaster, person_masters

__all__ = [
    "PLAIN_POSITIONS",
    "SLAP_FINGER",
    "SLAP_FRAME",
    "TenprintCard",
    "rolled_impressions",
    "slap_finger_left",
    "tenprint_card",
]

# FGP of the plain impressions: right thumb, left thumb, right slap, left slap.
PLAIN_POSITIONS: tuple[int, ...] = (11, 12, 13, 14)
SLAP_FRAME = (1600, 1000)
_SLAP_FINGERS = {13: (2, 3, 4, 5), 14: (10, 9, 8, 7)}  # left to right as the image shows them
# Fingertip height in a slap (px from the top): the middle finger reaches highest.
_SLAP_TOP = {2: 120, 3: 60, 4: 110, 5: 230, 7: 120, 8: 60, 9: 110, 10: 230}
_LIVE_SCAN_PLAIN, _LIVE_SCAN_ROLLED = 0, 1  # 14.003 IMP codes
# A finger of a slap is drawn in a larger frame than a plain thumb and placed more steadily
# (the hand rests on the platen), so the slap's four fingers are whole and apart.
SLAP_FINGER = dataclasses.replace(PLAIN_IMAGE, frame=(400, 520), shift_sd=12.0)


def slap_finger_left(k: int) -> int:
    """Left edge (px) of the frame of the k-th finger (0-3, left to right) in a slap."""
    return 40 + k * (SLAP_FRAME[0] - 80 - SLAP_FINGER.frame[0]) // 3


@dataclass(frozen=True, eq=False)
class TenprintCard:
    """One capture of a person's ten fingers: `rolled[i]` is FGP i + 1, `plain[j]` is FGP
    PLAIN_POSITIONS[j]."""

    seed: int
    identity: int
    capture: int
    rolled: tuple[np.ndarray, ...]
    plain: tuple[np.ndarray, ...]

    def finger_images(self) -> tuple[FingerImage, ...]:
        """The 14 images as Type-14 records carry them (IMP live-scan rolled / plain)."""
        rolled = (
            FingerImage(i, image, ppi=500, impression=_LIVE_SCAN_ROLLED)
            for i, image in enumerate(self.rolled, start=1)
        )
        plain = (
            FingerImage(p, image, ppi=500, impression=_LIVE_SCAN_PLAIN)
            for p, image in zip(PLAIN_POSITIONS, self.plain, strict=True)
        )
        return (*rolled, *plain)


def rolled_impressions(seed: int, identity: int, capture: int = 0) -> tuple[np.ndarray, ...]:
    """Ten rolled impressions (FGP 1-10, uint8 448 x 576 at 500 ppi) of `identity`, capture
    number `capture`: new skin distortion, pressure and noise each capture, same fingers."""
    return tuple(impression(m, capture, "rolled") for m in person_masters(seed, identity))


def _slap(masters: tuple[RidgeMaster, ...], position: int, capture: int) -> np.ndarray:
    """Four plain impressions side by side in one image, tilted like a hand on a platen."""
    width, height = SLAP_FRAME
    ink = np.zeros((height, width), np.float32)
    fingers = _SLAP_FINGERS[position]
    fw, fh = SLAP_FINGER.frame
    rng = None
    for k, finger in enumerate(fingers):
        finger_ink, stream = impression_ink(masters[finger - 1], capture, "plain", SLAP_FINGER)
        rng = rng or stream
        left, top = slap_finger_left(k), _SLAP_TOP[finger] - 50
        view = ink[top : top + fh, left : left + fw]
        np.maximum(view, finger_ink[: view.shape[0], : view.shape[1]], out=view)
    assert rng is not None
    return sensor_image(ink, PLAIN_IMAGE, rng)


def tenprint_card(seed: int, identity: int, capture: int = 0) -> TenprintCard:
    """The tenprint card of `identity` for capture number `capture` (a booking): 10 rolled,
    2 plain thumbs and 2 four-finger slaps.  Deterministic in (seed, identity, capture)."""
    if capture < 0:
        raise ValueError(f"capture must be >= 0, got {capture}")
    masters = person_masters(seed, identity)
    rolled = tuple(impression(m, capture, "rolled", ROLLED_IMAGE) for m in masters)
    thumbs = tuple(impression(masters[f - 1], capture, "plain", PLAIN_IMAGE) for f in (1, 6))
    slaps = tuple(_slap(masters, p, capture) for p in (13, 14))
    return TenprintCard(seed, identity, capture, rolled, (*thumbs, *slaps))
