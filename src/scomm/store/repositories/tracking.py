"""Mutable records read through a session: remembered, and written back before a query or
a commit (the unit of work's identity map for domain objects)."""

from __future__ import annotations

from typing import Generic, TypeVar

from sqlalchemy.orm import Session

from scomm.store.models import Base

R = TypeVar("R")  # the domain record
Row = TypeVar("Row", bound=Base)


class Tracked(Generic[R, Row]):
    """Keeps each record handed out with its row, so that a change made to the record
    reaches the database: `sync` copies the records into their rows."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._seen: dict[str, tuple[R, Row]] = {}

    def _key(self, row: Row) -> str:
        raise NotImplementedError

    def _record(self, row: Row) -> R:
        raise NotImplementedError

    def _write(self, record: R, row: Row) -> None:
        raise NotImplementedError

    def _track(self, row: Row) -> R:
        key = self._key(row)
        if key not in self._seen:
            self._seen[key] = (self._record(row), row)
        return self._seen[key][0]

    def _add(self, record: R, row: Row) -> None:
        self._session.add(row)
        self._seen[self._key(row)] = (record, row)

    def sync(self) -> None:
        for record, row in self._seen.values():
            self._write(record, row)
