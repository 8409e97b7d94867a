"""Booking transactions: a planned booking and its person's fingers as an EBTS CAR file."""

from __future__ import annotations

from scomm.domain.records import Booking
from scomm.nist.car import encode_tenprint
from scomm.nist.tenprint import ArrestCharge, FingerImage, TenprintSubmission
from scomm.sim.synth.population import Person
from scomm.sim.synth.ridge_master import FINGERS
from scomm.sim.synth.world import World
from scomm.sim.synth.world_prints import booking_capture, capture_images

ROUTINE_CRIMINAL_PRIORITY = 4


def submission(
    booking: Booking,
    person: Person,
    capture: int,
    sib_ori: str,
    fingers: tuple[FingerImage, ...] | None = None,
) -> TenprintSubmission:
    """The jail's CAR, addressed to its state's SIB (which re-addresses it to the FBI), with
    capture number `capture` of the person's ten rolled fingers (`world_prints`), or the
    images `fingers` instead when given."""
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
        fingers=capture_images(person.finger_seed, capture) if fingers is None else fingers,
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
    capture: int,
    sib_ori: str,
    defect: str | None = None,
) -> bytes:
    """The CAR's bytes (Type-14 WSQ images), damaged as `defect` says."""
    raw = encode_tenprint(submission(booking, person, capture, sib_ori))
    return damage(raw, defect) if defect else raw


def booking_transaction(
    world: World, index: int, compression: str = "WSQ20", fingers: int = 10
) -> bytes:
    """The CAR of the world's booking number `index` (with its planned defect, if any):
    capture `booking_capture(index)` of the person's fingers 1..`fingers`, so that a
    resumed run makes only the ones still to book, the same as the first run would have.
    With the defaults it is `transaction_bytes` of that capture."""
    planned = world.bookings[index]
    person = world.people[planned.person_id]
    images = capture_images(person.finger_seed, booking_capture(index), FINGERS[:fingers])
    sub = submission(planned.booking, person, 0, world.sib_ori(planned.booking.ori), images)
    raw = encode_tenprint(sub, compression=compression)
    return damage(raw, planned.defect) if planned.defect else raw
