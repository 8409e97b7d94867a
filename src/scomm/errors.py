"""ScommError, the root of every exception scomm raises on purpose, and its families per layer.

Every exception class scomm defines derives from `ScommError`, through exactly one family:
the family of the layer that defines it. An edge (the command line today, the HTTP API and
the ERRT response tomorrow) catches `ScommError` once and maps it by family and `code`;
anything else that escapes is a bug or a library's error that the edge maps itself.

    ScommError                              scomm.errors (imports nothing of scomm)
    ├── DomainError                         scomm.domain.errors
    │     InvalidTransition, UnknownMessageType, SwitchPermissionError,
    │     NoRuleSetInForce (also LookupError), RuleFileError (also ValueError)
    ├── BiometricsError                     scomm.biometrics.errors
    │     FailureToEnrol, ImageDecodeError, WsqError, QualityError, TemplateDecodeError,
    │     CompactTemplateError, MatcherTemplateError, MinutiaeRecordError, SnapshotError,
    │     EngineProfileError, UnknownEngine (each also ValueError), MindtctError (also
    │     RuntimeError)
    ├── NistError                           scomm.nist.errors
    │     TransactionError (a rejected ANSI/NIST-ITL transaction, naming the field),
    │     NletsFormatError (also ValueError)
    ├── FormError                           scomm.forms.errors
    │     NoDetainerForm (also LookupError), FormConditionNotMet (also ValueError)
    ├── StoreError                          scomm.store.errors
    │     DatabaseNotFound, SchemaNotCurrent, RecordNotFound (also LookupError),
    │     WriteLockError
    ├── AuditError                          scomm.audit.errors
    │     KeyFileError, CheckpointLogError
    ├── BusError                            scomm.bus.errors
    │     NothingToReplay
    ├── ServiceError                        scomm.services.errors
    │     UnknownCase, BookingRefused (TcnAlreadyUsed), MissingOfficerDecision, NoUsableFingers,
    │     UnknownJurisdiction, UnknownBooking (also ValueError), AlreadyReported
    ├── ApiError                            scomm.api.errors
    │     Problem (an RFC 9457 answer), InvalidToken, ApiKeyError, AcceptorStartError
    ├── SimulatorError                      scomm.sim.errors
    │     RunRefused, ScenarioError, RealismError, BenchError
    └── CliError                            scomm.cli.errors
          BadInput, CheckFailed

A class keeps a second, built-in base where callers catch it by that base (an
`ImageDecodeError` is still a `ValueError`). `scomm.bus.dispatcher.SimulatedCrash` is a
`BaseException` on purpose (it stands for a killed process) and is no error of this tree.

`code` is a short, stable name an edge can map to a problem type (RFC 9457) or an exit
status: by default the class name in kebab case (`ImageDecodeError` -> "image-decode-error"),
so renaming a class changes its code; a class may set its own `code` instead.
"""

from __future__ import annotations

import re
from typing import ClassVar

_WORD_START = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


class ScommError(Exception):
    """Something scomm refuses or cannot do, said in words a user can act on."""

    code: ClassVar[str] = "scomm-error"

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if "code" not in cls.__dict__:
            cls.code = _WORD_START.sub("-", cls.__name__).lower()

    @property
    def message(self) -> str:
        """The error in one line: what went wrong, for the person who can fix it."""
        return " ".join(str(self).split()) or self.code
