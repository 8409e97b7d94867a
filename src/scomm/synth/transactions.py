"""Booking transactions: a planned booking and its person's fingers as an EBTS CAR file."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from scomm.domain.records import Booking
from scomm.nist.car import encode_tenprint
from scomm.nist.tenprint import ArrestCharge, FingerImage, TenprintSubmission
from scomm.synth.fingers import impression, master_finger, tenprint_seeds
from scomm.synth.population import Person

ROUTINE_CRIMINAL_PRIORITY = 4


@lru_cache(maxsize=8192)
def finger_master(seed: int) -> np.ndarray:
    master = master_finger(seed)
    master.flags.writeable = False
    return master


def person_fingers(person: Person) -> tuple[np.ndarray, ...]:
    return tuple(finger_master(s) for s in tenprint_seeds(person.finger_seed))


def capture(person: Person, rng: np.random.Generator) -> tuple[FingerImage, ...]:
    """A live-scan capture: a new rolled impression of each of the ten fingers."""
    return tuple(
        FingerImage(position=i, pixels=impression(master, rng), ppi=500, impression=1)
        for i, master in enumerate(person_fingers(person), start=1)
    )


def submission(
    booking: Booking, person: Person, rng: np.random.Generator, sib_ori: str
) -> TenprintSubmission:
    """The jail's CAR, addressed to its state's SIB (which re-addresses it to the FBI)."""
    return TenprintSubmission(
        tot="CAR",
        tcn=booking.tcn,
        ori=booking.ori,
        dai=sib_ori,
        transaction_date=booking.booked_at.date(),
        priority=ROUTINE_CRIMINAL_PRIORITY,
        cri=booking.ori,
        retain=True,
        name=booking.name,
        dob=booking.dob,
        pob=booking.pob,
        sex=booking.sex,
        race="U",
        height="510",
        weight="180",
        eye="BRO",
        hair="BLK",
        date_of_arrest=booking.booked_at.date(),
        charges=tuple(ArrestCharge(c.offense_date, c.literal) for c in booking.charges),
        fingers=capture(person, rng),
    )


def damage(raw: bytes, defect: str) -> bytes:
    """A transaction as a faulty line or live-scan might deliver it."""
    if defect == "truncated":
        return raw[: len(raw) * 2 // 3]
    if defect == "bad_dob":
        start = raw.index(b"2.022:") + len(b"2.022:")
        return raw[:start] + b"19991399" + raw[start + 8 :]
    raise ValueError(f"unknown defect {defect!r}")


def transaction_bytes(
    booking: Booking,
    person: Person,
    rng: np.random.Generator,
    sib_ori: str,
    defect: str | None = None,
) -> bytes:
    raw = encode_tenprint(submission(booking, person, rng, sib_ori))
    return damage(raw, defect) if defect else raw
