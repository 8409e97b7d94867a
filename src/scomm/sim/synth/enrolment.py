"""Loads a synthetic world into a running system: jurisdictions, switches, both repositories."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from scomm.biometrics.protocols import Template
from scomm.bus.unit_of_work import AbstractUnitOfWork
from scomm.domain.immigration import BenefitKind, BenefitRecord, RecordedStatus
from scomm.domain.records import Encounter, EncounterKind, Repository, Subject
from scomm.sim.flow_system import FlowSystem
from scomm.sim.synth.citizenship import CitizenshipPath
from scomm.sim.synth.population import Person
from scomm.sim.synth.world import World
from scomm.sim.synth.world_prints import EnrolmentTemplates, parallel_map

Progress = Callable[[int], None]
T = TypeVar("T")


def load_jurisdictions(system: FlowSystem, world: World) -> None:
    """The world's jurisdictions (the ORI directory), then their switch settings."""
    with system.unit_of_work() as uow:
        for plan in world.jurisdictions:
            uow.jurisdictions.add(plan.jurisdiction)
        uow.commit()
    for plan in world.jurisdictions:
        for setting in plan.settings:
            system.set_switch(setting)


# People whose templates are made in one parallel batch before their records are written.
ENROL_BATCH = 64


def enrol_repositories(
    system: FlowSystem,
    world: World,
    progress: Progress | None = None,
    also: Callable[[Person], T] | None = None,
    templates: EnrolmentTemplates | None = None,
) -> dict[str, T]:
    """Each person with a record is enrolled from an earlier capture of their fingers
    (`world_prints.ENROLMENT_CAPTURE`, the same templates in both repositories).

    `also(person)`, when given, runs for every person in the same parallel pass, right
    after their templates are made (their ridge masters are then still cached: the
    simulation draws the person's booking transactions there, so each person's masters
    are grown once); the results are returned by person id.

    `templates` extracts the enrolment templates (with `system`'s engine) and keeps them:
    pass one to share them between several loads of the same people; by default they are
    made for this call alone."""
    source = templates or EnrolmentTemplates(system.ctx.extractor)
    people = list(world.people.values())

    def work(person: Person) -> tuple[dict[int, Template] | None, T | None]:
        recorded = person.criminal is not None or person.immigration is not None
        made = source.templates(person.finger_seed) if recorded else None
        return made, also(person) if also is not None else None

    extra: dict[str, T] = {}
    for start in range(0, len(people), ENROL_BATCH):
        batch = people[start : start + ENROL_BATCH]
        for person, (made, result) in zip(batch, parallel_map(work, batch), strict=True):
            if made is not None:
                enrol_person(system, person, made)
            if also is not None:
                extra[person.person_id] = result  # type: ignore[assignment]
            if progress:
                progress(1)
    return extra


def enrol_person(system: FlowSystem, person: Person, templates: dict[int, Template]) -> None:
    """A person's records, encounters and benefit in one unit of work, through the
    repositories the actors use."""
    with system.unit_of_work() as uow:
        if person.criminal is not None:
            criminal = person.criminal
            _enrol(system, uow, Repository.CRIMINAL, criminal.fbi_number, person, templates)
            history = [(EncounterKind.PRIOR_ARREST, o) for o in criminal.prior_arrests]
            history += [(EncounterKind.CONVICTION, o) for o in criminal.convictions]
            for kind, offense in history:
                uow.identities(Repository.CRIMINAL).add_encounter(
                    Encounter(
                        Repository.CRIMINAL,
                        criminal.fbi_number,
                        criminal.first_arrest,
                        kind,
                        offense.literal,
                    )
                )
        if person.immigration is not None:
            record = person.immigration
            _enrol(
                system,
                uow,
                Repository.IMMIGRATION,
                record.ident_id,
                person,
                templates,
                a_number=record.a_number,
                status=record.recorded_status,
            )
            uow.identities(Repository.IMMIGRATION).add_encounter(
                Encounter(
                    Repository.IMMIGRATION,
                    record.ident_id,
                    record.first_encounter,
                    EncounterKind.IMMIGRATION_ENCOUNTER,
                    record.recorded_status.value,
                )
            )
            _benefit(uow, person)
        uow.commit()


def _benefit(uow: AbstractUnitOfWork, person: Person) -> None:
    """The USCIS record of a naturalization, derived citizenship or adjustment of status,
    keyed by A-number: it exists whether or not IDENT's record learned of it (a stale
    record is the case where it did not)."""
    record = person.immigration
    if record is None or record.a_number is None:
        return
    if person.citizenship_since is not None:
        kind = (
            BenefitKind.NATURALIZATION
            if person.path is CitizenshipPath.NATURALIZED
            else BenefitKind.DERIVED_CITIZENSHIP
        )
        granted = person.citizenship_since
    elif person.status_change == "adjustment" and person.status_changed_at is not None:
        kind, granted = BenefitKind.ADJUSTMENT_OF_STATUS, person.status_changed_at
    else:
        return
    uow.benefits.add(BenefitRecord(record.a_number, kind, granted, f"USCIS-{person.person_id}"))


def _enrol(
    system: FlowSystem,
    uow: AbstractUnitOfWork,
    repository: Repository,
    identity_id: str,
    person: Person,
    templates: dict[int, Template],
    a_number: str | None = None,
    status: RecordedStatus | None = None,
) -> None:
    ctx = system.ctx
    templates = dict(templates)  # each repository's gallery gets its own mapping
    subject = Subject(
        repository=repository,
        identity_id=identity_id,
        name=person.name,
        dob=person.dob,
        sex=person.sex,
        pob=person.pob,
        enrolled_at=system.clock.now(),
        a_number=a_number,
        recorded_status=status,
    )
    uow.identities(repository).enrol(subject, templates, ctx.engine_name)
    if not templates:  # no finger to search by: the record stays, unreachable by prints
        return
    gallery = ctx.criminal_gallery if repository is Repository.CRIMINAL else ctx.immigration_gallery
    uow.after_commit(lambda: gallery.enrol(identity_id, templates))
