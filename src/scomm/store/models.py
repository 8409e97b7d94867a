"""SQLAlchemy 2 table models: the database is the source of truth for every actor's state."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from scomm.domain.messages import DeliveryStatus


class Base(DeclarativeBase):
    pass


class JurisdictionRow(Base):
    __tablename__ = "jurisdictions"
    ori: Mapped[str] = mapped_column(String(9), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(2))
    sib_ori: Mapped[str] = mapped_column(String(9))
    detainer_policy: Mapped[str] = mapped_column(String(30))
    activation_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class SwitchSettingRow(Base):
    __tablename__ = "switch_settings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ori: Mapped[str] = mapped_column(String(9), index=True)
    switch: Mapped[str] = mapped_column(String(1))
    enabled: Mapped[bool] = mapped_column(Boolean)
    effective_from: Mapped[datetime] = mapped_column(DateTime)
    effective_to: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    changed_by: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(DateTime)
    # the seq of the audit entry that records this setting: the flow honours a setting
    # only when that entry exists and agrees with the row (None: no entry, never honoured)
    audit_seq: Mapped[int | None] = mapped_column(Integer, nullable=True)


class BookingRow(Base):
    __tablename__ = "bookings"
    booking_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    tcn: Mapped[str] = mapped_column(String(64), unique=True)
    case_id: Mapped[str] = mapped_column(String(64), unique=True)
    ori: Mapped[str] = mapped_column(String(9), index=True)
    booked_at: Mapped[datetime] = mapped_column(DateTime)
    release_due_at: Mapped[datetime] = mapped_column(DateTime)
    name: Mapped[str] = mapped_column(String(60))
    dob: Mapped[date] = mapped_column(Date)
    sex: Mapped[str] = mapped_column(String(1))
    pob: Mapped[str] = mapped_column(String(2))


class ChargeRow(Base):
    __tablename__ = "charges"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    booking_id: Mapped[str] = mapped_column(ForeignKey("bookings.booking_id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    literal: Mapped[str] = mapped_column(String(100))
    offense_date: Mapped[date] = mapped_column(Date)


class CaseRow(Base):
    __tablename__ = "cases"
    case_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    tcn: Mapped[str] = mapped_column(String(64), unique=True)
    ori: Mapped[str] = mapped_column(String(9), index=True)
    state: Mapped[str] = mapped_column(String(30))
    custody: Mapped[str] = mapped_column(String(30))
    opened_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    fbi_number: Mapped[str | None] = mapped_column(String(64), nullable=True)
    ident_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    level: Mapped[int | None] = mapped_column(Integer, nullable=True)
    rule_set: Mapped[str | None] = mapped_column(String(40), nullable=True)
    removability: Mapped[str | None] = mapped_column(String(30), nullable=True)
    notify_on_release: Mapped[bool] = mapped_column(Boolean, default=False)


class CriminalSubmissionRow(Base):
    """What CJIS kept of a CAR it accepted (the IAQ is built from it)."""

    __tablename__ = "criminal_submissions"
    tcn: Mapped[str] = mapped_column(String(64), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(64), index=True)
    booking_ori: Mapped[str] = mapped_column(String(9))
    received_at: Mapped[datetime] = mapped_column(DateTime)
    name: Mapped[str] = mapped_column(String(60))
    dob: Mapped[date] = mapped_column(Date)
    sex: Mapped[str] = mapped_column(String(1))
    pob: Mapped[str] = mapped_column(String(2))
    offense_code: Mapped[str] = mapped_column(String(4))
    offense_confidence: Mapped[float] = mapped_column(Float)
    fbi_number: Mapped[str] = mapped_column(String(64))
    identified: Mapped[bool] = mapped_column(Boolean)


class SubjectRow(Base):
    """An identity in the criminal or the immigration repository."""

    __tablename__ = "subjects"
    repository: Mapped[str] = mapped_column(String(12), primary_key=True)
    identity_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(60))
    dob: Mapped[date] = mapped_column(Date)
    sex: Mapped[str] = mapped_column(String(1))
    pob: Mapped[str] = mapped_column(String(2))
    a_number: Mapped[str | None] = mapped_column(String(9), nullable=True)
    recorded_status: Mapped[str | None] = mapped_column(String(40), nullable=True)
    enrolled_at: Mapped[datetime] = mapped_column(DateTime)


class EncounterRow(Base):
    __tablename__ = "encounters"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    repository: Mapped[str] = mapped_column(String(12))
    identity_id: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime)
    kind: Mapped[str] = mapped_column(String(30))  # an EncounterKind
    detail: Mapped[str] = mapped_column(Text)
    ori: Mapped[str] = mapped_column(String(9), default="")
    __table_args__ = (Index("ix_encounters_identity", "repository", "identity_id"),)


class FingerTemplateRow(Base):
    __tablename__ = "finger_templates"
    repository: Mapped[str] = mapped_column(String(12), primary_key=True)
    identity_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    finger: Mapped[int] = mapped_column(Integer, primary_key=True)
    engine: Mapped[str] = mapped_column(String(40))
    data: Mapped[bytes] = mapped_column(LargeBinary)


class GalleryGenerationRow(Base):
    """Counts the template writes of a repository: a gallery snapshot taken at generation g
    is current while the count is still g."""

    __tablename__ = "gallery_generations"
    repository: Mapped[str] = mapped_column(String(12), primary_key=True)
    generation: Mapped[int] = mapped_column(Integer)


class DetainerRow(Base):
    __tablename__ = "detainers"
    detainer_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(64), index=True)
    form: Mapped[str] = mapped_column(String(10))
    lodged_at: Mapped[datetime] = mapped_column(DateTime)
    decided_by: Mapped[str] = mapped_column(String(60))
    status: Mapped[str] = mapped_column(String(20))  # a DetainerStatus
    honoured: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    hold_deadline: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    rule_set: Mapped[str | None] = mapped_column(String(40), nullable=True)
    decision_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class OfficerDecisionRow(Base):
    __tablename__ = "officer_decisions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(String(64), unique=True)
    decided_at: Mapped[datetime] = mapped_column(DateTime)
    action: Mapped[str] = mapped_column(String(30))
    reason: Mapped[str] = mapped_column(Text)
    decided_by: Mapped[str] = mapped_column(String(60))
    decision_id: Mapped[str | None] = mapped_column(String(64), nullable=True)


class BenefitRecordRow(Base):
    """USCIS benefit records (naturalization, derived citizenship, adjustment of status) by
    A-number: what LESC's status-currency check queries (safeguard a)."""

    __tablename__ = "uscis_benefits"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    a_number: Mapped[str] = mapped_column(String(10), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    granted_at: Mapped[datetime] = mapped_column(DateTime)
    receipt: Mapped[str] = mapped_column(String(20), default="")


class OutboxRow(Base):
    """A message waiting for delivery, written in the transaction that caused it."""

    __tablename__ = "outbox"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(String(64), unique=True)
    type: Mapped[str] = mapped_column(String(30))
    sender: Mapped[str] = mapped_column(String(10))
    recipient: Mapped[str] = mapped_column(String(10))
    case_id: Mapped[str] = mapped_column(String(64), index=True)
    tcn: Mapped[str] = mapped_column(String(64))
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    available_at: Mapped[datetime] = mapped_column(DateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(12), default=DeliveryStatus.PENDING.value)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    # the audit entry that records this message (its payload's sha256 is in it); None only
    # for rows queued before migration 0004
    audit_seq: Mapped[int | None] = mapped_column(Integer, nullable=True)
    __table_args__ = (Index("ix_outbox_pending", "status", "available_at"),)


class ProcessedMessageRow(Base):
    """Idempotency: a consumer handles a message id once."""

    __tablename__ = "processed_messages"
    consumer: Mapped[str] = mapped_column(String(10), primary_key=True)
    message_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    processed_at: Mapped[datetime] = mapped_column(DateTime)


class AuditEntryRow(Base):
    __tablename__ = "audit_log"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    recorded_at: Mapped[datetime] = mapped_column(DateTime)
    # indexed: the flow reads the switch settings from their entries (kind "switch")
    kind: Mapped[str] = mapped_column(String(20), index=True)
    name: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(20))
    case_id: Mapped[str] = mapped_column(String(64), index=True)
    payload: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64))


class AuditHeadRow(Base):
    """The chain's head: a deleted last entry shows as a head that points past the end."""

    __tablename__ = "audit_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    entry_hash: Mapped[str] = mapped_column(String(64))


class AgencyRow(Base):
    """A client of the service (scomm.domain.agencies): its secret only as an argon2 hash."""

    __tablename__ = "agencies"
    client_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(100))
    # the ORI of a jail, the state of a bureau, the area of responsibility of an ERO office
    scope_value: Mapped[str | None] = mapped_column(String(10), nullable=True, index=True)
    scopes: Mapped[str] = mapped_column(Text)  # space-separated, as OAuth2 writes them
    secret_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    locked_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    first_failure_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class AgencyCallbackRow(Base):
    """An agency's callback (scomm.domain.callbacks): its URL, the hosts it may name (and
    those allowed private addresses), space-separated, and its signing secret, kept as it
    is: HMAC needs the key on the server's side too."""

    __tablename__ = "agency_callbacks"
    client_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("agencies.client_id"), primary_key=True
    )
    url: Mapped[str | None] = mapped_column(Text, nullable=True)
    allowed_hosts: Mapped[str] = mapped_column(Text)
    private_hosts: Mapped[str] = mapped_column(Text)
    secret: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class AgencyTaskRow(Base):
    """A task an agency submitted over the service: the booking's case (the task id), its
    TCN and the agency, whose callback gets the response."""

    __tablename__ = "agency_tasks"
    task_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    tcn: Mapped[str] = mapped_column(String(64))
    client_id: Mapped[str] = mapped_column(String(40), index=True)
    submitted_at: Mapped[datetime] = mapped_column(DateTime)
