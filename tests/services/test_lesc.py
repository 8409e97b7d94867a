"""LESC's research: the criminal history before this booking decides the level."""

from __future__ import annotations

import json
from datetime import date, datetime

from sqlalchemy import select

from scomm.domain.messages import Actor, ImmigrationAlienQuery
from scomm.store.models import CriminalSubmissionRow, EncounterRow, OutboxRow, SubjectRow
from scomm.system import System


def test_an_earlier_booking_counts_and_this_one_does_not(system: System) -> None:
    first, now = datetime(2010, 3, 1), datetime(2011, 5, 1)
    with system.unit_of_work(cause="test") as uow:
        uow.session.add(
            SubjectRow(
                repository="immigration",
                identity_id="ID-1",
                name="DOE,J",
                dob=date(1980, 1, 1),
                sex="M",
                pob="MM",
                a_number=None,
                recorded_status="visa_overstay",
                enrolled_at=first,
            )
        )
        for at, literal in ((first, "BURGLARY"), (now, "TRAFFIC OFFENSE")):
            uow.session.add(
                EncounterRow(
                    repository="criminal",
                    identity_id="FBI-1",
                    at=at,
                    kind="arrest",
                    detail=literal,
                    ori="CA0010000",
                )
            )
        uow.session.add(
            CriminalSubmissionRow(
                tcn="T-2",
                case_id="case-2",
                booking_ori="CA0010000",
                received_at=now,
                name="DOE,J",
                dob=date(1980, 1, 1),
                sex="M",
                pob="MM",
                offense_code="5499",
                offense_confidence=1.0,
                fbi_number="FBI-1",
                identified=True,
            )
        )
        query = ImmigrationAlienQuery(
            message_id="iaq-1",
            case_id="case-2",
            tcn="T-2",
            sender=Actor.CJIS,
            recipient=Actor.LESC,
            booking_ori="CA0010000",
            name="DOE,J",
            dob=date(1980, 1, 1),
            sex="M",
            pob="MM",
            in_custody=True,
            offense_code="5499",
            fbi_number="FBI-1",
            ident_id="ID-1",
        )
        system.dispatcher.handlers[Actor.LESC].handle(query, uow)
        uow.commit()
    with system.db.sessions() as session:
        row = session.scalar(select(OutboxRow).where(OutboxRow.type == "IAR"))
    assert row is not None
    iar = json.loads(row.payload)
    assert iar["criminal_history"] == ["BURGLARY"]
    assert iar["level"] == 2  # burglary (level 2) outranks the traffic charge (level 3)
    assert iar["removability"] == "removable"
