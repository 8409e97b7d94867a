"""Synthetic booking transactions: EBTS CAR files of synthetic people and their tenprint cards.

Each transaction is a criminal tenprint submission (TOT CAR) as a jail's live-scan sends it
to its State Identification Bureau: Type-1 (header), Type-2 with the EBTS CAR fields
(DOMAIN.md 6.1: RET, NAM, POB, DOB, SEX, RAC, HGT, WGT, EYE, HAI, DOA, ASL with dates of
offense and free-text arrest offense literals, CRI; and OCA, CTZ), and the 14 images of a
synthetic tenprint card (`tenprint_card`) as Type-14 records compressed with WSQ (or as
legacy Type-4 records), written by `scomm.nist.encode_tenprint` through nistitl and wsq.

The biographic data are drawn from small built-in lists and have no meaning beyond looking
like a booking; the synthetic population of a world (`scomm.sim.synth.population`) is a
different, richer model.  Everything is a pure function of (seed, number).

Public API:
    synthetic_booking(seed, number, capture=0) -> TenprintSubmission
    booking_transaction(seed, number, compression="WSQ20", finger_record_type=14) -> bytes
"""

from __future__ import annotations

import datetime

import numpy as np

from scomm.nist.car import encode_tenprint
from scomm.nist.tenprint import ArrestCharge, TenprintSubmission
from scomm.sim.synth.tenprint_card import tenprint_card

__all__ = ["booking_transaction", "synthetic_booking"]

_BOOKING_DOMAIN = 0xB00C
ROUTINE_CRIMINAL_PRIORITY = 4  # 1.006 PRY

_LAST = ("GARCIA", "SMITH", "NGUYEN", "JOHNSON", "MARTINEZ", "BROWN", "LOPEZ", "WILLIAMS",
         "HERNANDEZ", "JONES", "O'NEIL", "DAVIS", "RODRIGUEZ", "MILLER", "KIM")  # fmt: skip
_FIRST = ("JOSE", "MARIA", "JAMES", "LINDA", "DAVID", "ANA", "MICHAEL", "SARAH", "LUIS",
          "JENNIFER", "ROBERT", "PATRICIA", "JUAN", "ELIZABETH", "THANH", "MIN")  # fmt: skip
_MIDDLE = ("A", "B", "C", "D", "E", "J", "L", "M", "R", "T")
_STATES = ("TX", "CA", "AZ", "NM", "FL", "NY", "IL", "GA", "NC", "VA", "WA", "NV")
# Countries of birth as two-letter codes (NCIC-style); the US-born take a state code.
_COUNTRIES = ("MX", "GT", "HO", "ES", "CB", "PI", "VN", "IN", "DR", "EC")
_LITERALS = (
    "DRIVING WHILE INTOXICATED",
    "POSSESSION OF MARIJUANA UNDER 2 OZ",
    "ASSAULT CAUSING BODILY INJURY - FAMILY MEMBER",
    "THEFT OF PROPERTY >= $100 < $750",
    "DRIVING WHILE LICENSE INVALID",
    "BURGLARY OF A HABITATION",
    "POSSESSION OF CONTROLLED SUBSTANCE PG 1 < 1G",
    "PUBLIC INTOXICATION",
    "CRIMINAL TRESPASS",
    "FAILURE TO APPEAR",
    "AGGRAVATED ASSAULT WITH A DEADLY WEAPON",
    "EVADING ARREST DETENTION",
    "NO DRIVER LICENSE",
    "ROBBERY",
)
_EYES = ("BRO", "BRO", "BRO", "BLK", "HAZ", "BLU", "GRN")
_HAIR = ("BLK", "BLK", "BRO", "BRO", "BLN", "GRY", "RED")
_RACES = ("W", "W", "W", "B", "B", "A", "I", "U")
_START = datetime.date(2009, 1, 1)


def _rng(seed: int, number: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([_BOOKING_DOMAIN, seed, number]))


def _pick(rng: np.random.Generator, options: tuple[str, ...]) -> str:
    return options[int(rng.integers(len(options)))]


def _ori(rng: np.random.Generator, state: str, kind: str) -> str:
    """A 9-character ORI: state, three-digit county, two digits, agency kind letter."""
    return f"{state}{int(rng.integers(1, 255)):03d}{int(rng.integers(0, 100)):02d}{kind}0"[:9]


def synthetic_booking(
    seed: int, number: int, capture: int = 0, with_images: bool = True
) -> TenprintSubmission:
    """Booking `number`: a synthetic person (identity `number`), capture `capture` of their
    tenprint card (none with `with_images=False`), and a Type-2 drawn from the built-in
    lists (the same with or without images)."""
    if number < 0:
        raise ValueError(f"booking number must be >= 0, got {number}")
    rng = _rng(seed, number)
    state = _pick(rng, _STATES)
    jail = _ori(rng, state, "S")
    sib = f"{state}SIB0000"
    arrest = _START + datetime.timedelta(days=int(rng.integers(0, 6 * 365)))
    dob = arrest - datetime.timedelta(days=int(rng.integers(18 * 365, 70 * 365)))
    foreign = rng.random() < 0.3
    pob = _pick(rng, _COUNTRIES) if foreign else _pick(rng, _STATES)
    citizenship = None if foreign and rng.random() < 0.5 else ("US" if not foreign else pob)
    sex = "M" if rng.random() < 0.8 else "F"
    name = f"{_pick(rng, _LAST)},{_pick(rng, _FIRST)} {_pick(rng, _MIDDLE)}"
    charges = tuple(
        ArrestCharge(
            arrest - datetime.timedelta(days=int(rng.integers(0, 3))), _pick(rng, _LITERALS)
        )
        for _ in range(1 + int(rng.poisson(0.5)))
    )
    feet, inches = divmod(int(rng.normal(68.0 if sex == "M" else 64.0, 3.0)), 12)
    fingers = tenprint_card(seed, number, capture).finger_images() if with_images else ()
    return TenprintSubmission(
        tot="CAR",
        tcn=f"{jail}{arrest:%Y%m%d}{number:08d}",
        ori=jail,
        dai=sib,
        transaction_date=arrest,
        priority=ROUTINE_CRIMINAL_PRIORITY,
        cri=jail,
        retain=True,
        name=name,
        dob=dob,
        pob=pob,
        sex=sex,
        race=_pick(rng, _RACES),
        height=f"{feet}{inches:02d}",
        weight=f"{int(np.clip(rng.normal(180 if sex == 'M' else 150, 30), 95, 350)):03d}",
        eye=_pick(rng, _EYES),
        hair=_pick(rng, _HAIR),
        date_of_arrest=arrest,
        charges=charges,
        fingers=fingers,
        oca=f"{arrest:%y}-{int(rng.integers(0, 1_000_000)):06d}",
        citizenship=citizenship,
    )


def booking_transaction(
    seed: int, number: int, compression: str = "WSQ20", finger_record_type: int = 14
) -> bytes:
    """The ANSI/NIST-ITL bytes of booking `number` (`synthetic_booking`): Type-14 images
    (or Type-4 with `finger_record_type=4`), WSQ-compressed unless `compression` says
    "NONE" (or "PNG", Type-14 only)."""
    return encode_tenprint(
        synthetic_booking(seed, number),
        compression=compression,
        finger_record_type=finger_record_type,
    )
