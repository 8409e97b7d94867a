"""What the service tests share: small CARs of synthetic bookings, and `Served` (a test
client on the app, its system, the agencies' secrets)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import numpy as np
from fastapi.testclient import TestClient

from scomm.api.common import Service
from scomm.nist.car import encode_tenprint
from scomm.nist.tenprint import FingerImage
from scomm.sim.synth.booking_transactions import synthetic_booking
from scomm.system import System

START = datetime(2026, 12, 7, 9, 0)
OTHER_ORI = "TX0040000"


def ridges(seed: int, size: int = 96) -> np.ndarray:
    """A ridge-like uint8 image (a bent sinusoid) that differs per `seed`."""
    y, x = np.mgrid[0:size, 0:size].astype(np.float64)
    angle = 0.5 + 0.3 * seed
    phase = 2 * np.pi * (x * np.cos(angle) + y * np.sin(angle)) / 9.0 + 3 * np.sin(x / 23.0)
    return np.clip(127 + 90 * np.sin(phase), 0, 255).astype(np.uint8)


def car(number: int = 0, **changes: object) -> tuple[bytes, str, str]:
    """A small CAR (10 uncompressed textured fingers) of synthetic booking `number`: its
    bytes, TCN and jail ORI."""
    sub = synthetic_booking(1, number, with_images=False)
    fingers = tuple(FingerImage(pixels=ridges(p), position=p, ppi=500) for p in range(1, 11))
    sub = replace(sub, fingers=fingers, **changes)  # type: ignore[arg-type]
    return encode_tenprint(sub, compression="NONE"), sub.tcn, sub.cri


@dataclass
class Served:
    client: TestClient
    system: System
    service: Service
    ori: str
    secrets: dict[str, str]

    def token(self, client_id: str) -> str:
        answer = self.client.post(
            "/v1/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": client_id,
                "client_secret": self.secrets[client_id],
            },
        )
        assert answer.status_code == 200, answer.text
        return str(answer.json()["access_token"])

    def headers(self, client_id: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(client_id)}"}


def add_principals(served: Served) -> None:
    """Beside the fixture's jails and auditor: an operator, the bureau of the served jail's
    state and the bureau of another state (OTHER_ORI's); LESC, the ERO field office whose
    area holds the served jail and the one whose area holds OTHER_ORI."""
    from scomm.domain.agencies import AgencyKind
    from scomm.domain.field_offices import area_of_state
    from scomm.services import agencies

    for client_id, kind, value in (
        ("operator", AgencyKind.OPERATOR, None),
        ("bureau-own", AgencyKind.BUREAU, served.ori[:2]),
        ("bureau-other", AgencyKind.BUREAU, OTHER_ORI[:2]),
        ("lesc", AgencyKind.LESC, None),
        ("ero-own", AgencyKind.ERO, area_of_state(served.ori[:2])),
        ("ero-other", AgencyKind.ERO, area_of_state(OTHER_ORI[:2])),
    ):
        made = agencies.add_agency(
            served.system.db, START, client_id=client_id, kind=kind, name=client_id,
            scope_value=value,
        )  # fmt: skip
        served.secrets[client_id] = made.secret


def allow_callbacks(served: Served, url: str = "http://127.0.0.1:9/callback") -> str:
    """jail-a's callback: host 127.0.0.1 allowed (private addresses too) and `url` set (by
    default a closed port: every delivery fails); its signing secret."""
    from scomm.services import callbacks

    made = callbacks.set_callback(
        served.system.db, START, "jail-a", hosts=(), private_hosts=("127.0.0.1",), url=url
    )
    return made.new_secret


def expect_a_match(
    served: Served, number: int = 0, status: str = "previously_removed",
    conviction: str | None = None,
) -> tuple[bytes, str]:  # fmt: skip
    """Make synthetic booking `number`'s CAR match in IDENT once submitted: its subject
    enrolled in the immigration repository from the CAR's own prints (recorded status
    `status`, an A-number), and switch B on for the served jail. With `conviction`, the
    subject is also on file at the FBI with that conviction (so that the IAR's priority can
    allow a hold). Returns the CAR and TCN."""
    from scomm.domain.immigration import RecordedStatus
    from scomm.domain.records import Encounter, EncounterKind, Repository, Subject
    from scomm.domain.switches import Switch, SwitchOwner, SwitchSetting
    from scomm.nist.car import decode_tenprint
    from scomm.services.fingerprints import tenprint_templates

    raw, tcn, ori = car(number)
    system = served.system
    ctx = system.ctx
    templates = tenprint_templates(ctx, decode_tenprint(raw, ctx.decoded_images))
    sub = decode_tenprint(raw, ctx.decoded_images)
    ident_id = f"IDENT-{number:04d}"
    with system.unit_of_work() as uow:
        uow.identities(Repository.IMMIGRATION).enrol(
            Subject(
                repository=Repository.IMMIGRATION, identity_id=ident_id, name=sub.name,
                dob=sub.dob, sex=sub.sex, pob=sub.pob, enrolled_at=START - timedelta(days=900),
                a_number=f"A{20000000 + number}", recorded_status=RecordedStatus(status),
            ),
            templates, ctx.engine_name,
        )  # fmt: skip
        uow.after_commit(lambda: ctx.immigration_gallery.enrol(ident_id, templates))
        if conviction is not None:
            fbi_number = f"FBI-{number:04d}"
            criminal = uow.identities(Repository.CRIMINAL)
            criminal.enrol(
                Subject(
                    repository=Repository.CRIMINAL, identity_id=fbi_number, name=sub.name,
                    dob=sub.dob, sex=sub.sex, pob=sub.pob,
                    enrolled_at=START - timedelta(days=2000),
                ),
                templates, ctx.engine_name,
            )  # fmt: skip
            criminal.add_encounter(
                Encounter(
                    Repository.CRIMINAL,
                    fbi_number,
                    START - timedelta(days=1500),
                    EncounterKind.CONVICTION,
                    conviction,
                )  # fmt: skip
            )
            uow.after_commit(lambda: ctx.criminal_gallery.enrol(fbi_number, templates))
        uow.commit()
    system.set_switch(
        SwitchSetting(
            ori,
            Switch.B_FORWARD_TO_IDENT,
            True,
            START - timedelta(days=1),
            SwitchOwner.FEDERAL,
            "IDENT interoperability activated",
        )  # fmt: skip
    )
    return raw, tcn


class CountingLock:
    """A lock that counts how often it was taken, and says whether it is held."""

    def __init__(self) -> None:
        self.inner = threading.Lock()
        self.taken = 0

    def locked(self) -> bool:
        return self.inner.locked()

    def __enter__(self) -> CountingLock:
        self.inner.acquire()
        self.taken += 1
        return self

    def __exit__(self, *_: object) -> None:
        self.inner.release()
