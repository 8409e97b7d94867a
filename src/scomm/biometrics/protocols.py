"""The small interfaces every fingerprint engine in scomm implements."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np

from scomm.biometrics.errors import BiometricsError

# Finger positions follow ANSI/NIST-ITL FGP codes: 1 right thumb .. 10 left little.
FINGER_POSITIONS: tuple[int, ...] = tuple(range(1, 11))


@runtime_checkable
class Template(Protocol):
    """Features of one finger impression, comparable by a matching `Matcher`."""

    @property
    def finger(self) -> int:
        """The finger position (FGP 1-10, 0 unknown); read-only, so frozen templates fit."""
        ...

    def to_bytes(self) -> bytes: ...


class Extractor(Protocol):
    """Turns a grey image (uint8, HxW) of one finger into a template."""

    def extract(self, image: np.ndarray, ppi: int, finger: int) -> Template: ...


class TemplateCodec(Protocol):
    """Reads back the bytes a template wrote (for the database, the source of truth)."""

    def decode(self, data: bytes, finger: int) -> Template: ...


class Matcher(Protocol):
    """1:1 comparison: a similarity score, higher means more alike."""

    def compare(self, probe: Template, reference: Template) -> float: ...


@dataclass(frozen=True)
class Candidate:
    """One identity on a candidate list, with the evidence for its place."""

    identity_id: str
    fused_score: float
    finger_scores: Mapping[int, float] = field(default_factory=dict)
    rank: int = 0


@dataclass(frozen=True)
class CandidateList:
    """The answer of a 1:N search: ranked candidates and the decision at the operating point."""

    candidates: tuple[Candidate, ...]
    threshold: float
    fingers_searched: tuple[int, ...] = ()

    @property
    def best(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None

    @property
    def is_hit(self) -> bool:
        best = self.best
        return best is not None and best.fused_score >= self.threshold


class Gallery(Protocol):
    """A searchable set of enrolled identities, each with up to ten finger templates."""

    def enrol(self, identity_id: str, templates: Mapping[int, Template]) -> None: ...

    def delete(self, identity_id: str) -> None: ...

    def search(self, probe: Mapping[int, Template], max_candidates: int = 10) -> CandidateList: ...

    def __len__(self) -> int: ...

    def __contains__(self, identity_id: object) -> bool: ...


class FailureToEnrol(BiometricsError):
    """The image holds too little usable fingerprint to make a template."""
