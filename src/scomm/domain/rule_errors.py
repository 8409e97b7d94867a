"""The error a malformed rule-set data file raises: it names the file, the entry and the fault."""

from __future__ import annotations

from scomm.domain.errors import DomainError


class RuleFileError(DomainError, ValueError):
    def __init__(self, source: str, where: str, reason: str) -> None:
        self.source = source
        self.where = where
        self.reason = reason
        place = f"{source}: {where}" if where else source
        super().__init__(f"{place}: {reason}")
