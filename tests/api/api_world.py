"""What the service tests share: small CARs of synthetic bookings, and `Served` (a test
client on the app, its system, the agencies' secrets)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

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
    state and the bureau of another state (OTHER_ORI's)."""
    from scomm.domain.agencies import AgencyKind
    from scomm.services import agencies

    for client_id, kind, value in (
        ("operator", AgencyKind.OPERATOR, None),
        ("bureau-own", AgencyKind.BUREAU, served.ori[:2]),
        ("bureau-other", AgencyKind.BUREAU, OTHER_ORI[:2]),
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
