"""An engine profile: everything that makes an engine, as values (what a profile file holds).

A profile names its extractor and that extractor's settings, the matcher and its
parameters, the search (a pair-code first stage fitted on a population sample, the
shortlist the matcher re-ranks), the decision thresholds by number of probe fingers, and
the FPIR model the thresholds came from when they came from one (`index.calibration`).
Profiles are read from and written to files by `profiles.files` and turned into working
objects by `profiles.factory`; nothing here computes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

from scomm.biometrics.errors import BiometricsError
from scomm.biometrics.index.calibration import Calibration
from scomm.biometrics.index.pair_code import PairCodeParams
from scomm.biometrics.match import MccParams

ExtractorKind = Literal["skeleton", "leader", "mindtct", "minunet", "correlation"]
MatcherKind = Literal["mcc", "correlation"]
SearchKind = Literal["indexed", "correlation", "none"]

EXTRACTOR_KINDS: tuple[ExtractorKind, ...] = (
    "skeleton",
    "leader",
    "mindtct",
    "minunet",
    "correlation",
)
MATCHER_KINDS: tuple[MatcherKind, ...] = ("mcc", "correlation")
SEARCH_KINDS: tuple[SearchKind, ...] = ("indexed", "correlation", "none")

Setting = int | float | str | bool


class EngineProfileError(BiometricsError, ValueError):
    """A profile that is missing, unknown, unreadable or inconsistent; says which and why."""


class UnknownEngine(EngineProfileError):
    """No profile of that name ships with scomm."""


@dataclass(frozen=True)
class ExtractorSpec:
    """Which extractor, and its settings by name (the extractor's own parameter names)."""

    kind: ExtractorKind
    settings: Mapping[str, Setting] = field(default_factory=dict)


@dataclass(frozen=True, eq=False)
class PairCodeFit:
    """The first stage's coder: its parameters and the population mean histogram it is
    centred on (float32, `params.dims` long), and what that mean was fitted on."""

    params: PairCodeParams
    mean: npt.NDArray[np.float32]
    fitted_on: str

    def __post_init__(self) -> None:
        if self.mean.dtype != np.float32 or self.mean.shape != (self.params.dims,):
            raise EngineProfileError(
                f"pair-code mean must be float32 of shape ({self.params.dims},), "
                f"got {self.mean.dtype} {self.mean.shape}"
            )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PairCodeFit):
            return NotImplemented
        return (
            self.params == other.params
            and self.fitted_on == other.fitted_on
            and np.array_equal(self.mean, other.mean)
        )

    __hash__ = None  # type: ignore[assignment]


@dataclass(frozen=True)
class EngineProfile:
    """One engine, versioned: `name` is what every stored template is labelled with;
    `version` counts revisions of the profile (a refit, a recalibration)."""

    name: str
    version: int
    description: str
    produced_by: str
    extractor: ExtractorSpec
    matcher: MatcherKind
    matcher_params: MccParams | None = None
    search: SearchKind = "none"
    pair_code: PairCodeFit | None = None
    shortlist: int = 0
    thresholds: Mapping[int, float] = field(default_factory=dict)
    fpir_model: Mapping[int, Calibration] = field(default_factory=dict)

    def __post_init__(self) -> None:
        where = f"engine profile {self.name!r}"
        if self.extractor.kind not in EXTRACTOR_KINDS:
            raise EngineProfileError(f"{where}: unknown extractor {self.extractor.kind!r}")
        if self.matcher not in MATCHER_KINDS:
            raise EngineProfileError(f"{where}: unknown matcher {self.matcher!r}")
        if self.search not in SEARCH_KINDS:
            raise EngineProfileError(f"{where}: unknown search {self.search!r}")
        if (self.matcher == "mcc") != (self.matcher_params is not None):
            raise EngineProfileError(f"{where}: the MCC matcher, and only it, has parameters")
        if self.search == "indexed":
            if self.pair_code is None or self.matcher != "mcc":
                raise EngineProfileError(
                    f"{where}: an indexed search needs a pair-code fit and the MCC matcher"
                )
            if self.shortlist < 1:
                raise EngineProfileError(f"{where}: shortlist must be at least 1")
        for count, threshold in self.thresholds.items():
            if not 1 <= count <= 10:
                raise EngineProfileError(f"{where}: threshold for {count} fingers (1..10 only)")
            if not np.isfinite(threshold):
                raise EngineProfileError(f"{where}: threshold for {count} fingers is not finite")
        if self.search != "none" and not self.thresholds:
            raise EngineProfileError(f"{where}: a search needs thresholds")
