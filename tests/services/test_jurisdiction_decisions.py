"""A jurisdiction's decisions on fakes: a detainer-policy change is kept and audited once,
an opt-out request is audited with its answer; and an identity enrolled without templates
leaves the repository's gallery as it was."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from fakes import ORI, FakeUnitOfWork, jurisdiction

from scomm.bus.unit_of_work import UnitOfWork
from scomm.domain.clock import ScenarioClock
from scomm.domain.policies import DetainerPolicy
from scomm.domain.records import Repository, Subject
from scomm.domain.switches import Switch
from scomm.services.jurisdictions import (
    OPT_OUT_AUDIT,
    POLICY_AUDIT,
    record_opt_out_request,
    set_detainer_policy,
)
from scomm.store.db import Database
from scomm.store.models import GalleryGenerationRow

AT = datetime(2011, 3, 1)


def test_a_policy_change_is_kept_and_audited() -> None:
    uow = FakeUnitOfWork()
    uow.jurisdictions.add(jurisdiction(policy=DetainerPolicy.HONOR_ALL))
    assert set_detainer_policy(uow, ORI, DetainerPolicy.TRUST_ACT, "state law", AT)
    assert uow.jurisdictions.get(ORI) == jurisdiction(policy=DetainerPolicy.TRUST_ACT)
    [entry] = uow.audit
    assert (entry.kind, entry.name, entry.actor, entry.case_id) == (
        "policy",
        POLICY_AUDIT,
        "jurisdiction",
        "",
    )
    assert entry.payload == {
        "ori": ORI,
        "from": "honor_all",
        "to": "trust_act",
        "reason": "state law",
        "effective_at": "2011-03-01T00:00:00",
    }


def test_the_policy_in_force_or_an_unknown_ori_changes_nothing() -> None:
    uow = FakeUnitOfWork()
    uow.jurisdictions.add(jurisdiction(policy=DetainerPolicy.HONOR_NONE))
    assert not set_detainer_policy(uow, ORI, DetainerPolicy.HONOR_NONE, "again", AT)
    assert not set_detainer_policy(uow, "NV0010000", DetainerPolicy.TRUST_ACT, "none", AT)
    assert uow.audit == []
    assert uow.jurisdictions.get(ORI) == jurisdiction(policy=DetainerPolicy.HONOR_NONE)


def test_an_opt_out_request_is_audited_with_its_answer() -> None:
    uow = FakeUnitOfWork()
    record_opt_out_request(uow, ORI, Switch.B_FORWARD_TO_IDENT, False, AT, "board vote")
    [entry] = uow.audit
    assert (entry.kind, entry.name, entry.actor) == (
        "switch_request",
        OPT_OUT_AUDIT,
        "jurisdiction",
    )
    assert entry.payload == {
        "ori": ORI,
        "switch": Switch.B_FORWARD_TO_IDENT.value,
        "granted": False,
        "requested_at": "2011-03-01T00:00:00",
        "reason": "board vote",
    }


def test_an_identity_without_templates_leaves_the_gallery_generation(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'scomm.db'}")
    db.migrate()
    subject = Subject(
        Repository.IMMIGRATION, "IDENT-1", "DOE,JOHN", date(1980, 1, 1), "M", "MM", AT
    )
    try:
        with UnitOfWork(db, ScenarioClock(AT)) as uow:
            uow.identities(Repository.IMMIGRATION).enrol(subject, {}, "engine")
            uow.commit()
        with UnitOfWork(db, ScenarioClock(AT)) as uow:
            assert uow.identities(Repository.IMMIGRATION).subject("IDENT-1") == subject
            assert uow.session.get(GalleryGenerationRow, Repository.IMMIGRATION.value) is None
    finally:
        db.dispose()
