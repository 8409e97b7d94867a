"""scomm's fingerprint engine: image to template, and template against template.

The stages, in order (each in its own module):
  resample to 500 ppi (`resample`) -> usable-area check, failure to enrol (`quality`,
  `segmentation`) -> minutiae -> Minutia Cylinder-Code template and comparison (`match`,
  written here: our edge).

Three minutiae extractors: "leader" (the default: `extract_leader`, a neural detector, 0.36
to 0.58 s of CPU per FVC2002 print on one thread, the accurate one), "mindtct"
(`extract_nbis`, NIST MINDTCT, about 0.1 s) and "minunet" (`extract_minunet`, scomm's own
small network, 8 ms, but not accurate on real prints). Measured on FVC2002 with `scomm bench
verify` (see the README).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np

from scomm.biometrics import compact_minutiae
from scomm.biometrics.extract_leader import LeaderExtractor
from scomm.biometrics.extract_minunet import MinunetExtractor
from scomm.biometrics.extract_nbis import MindtctError, MindtctExtractor
from scomm.biometrics.match import (
    ConsolidationParams,
    CylinderParams,
    LssrParams,
    MatcherTemplate,
    MatchExplanation,
    MccMatcher,
    MccParams,
    PackedTemplates,
)
from scomm.biometrics.match.mcc_params import LEADER_MATCHER_PARAMS
from scomm.biometrics.minutiae import MIN_COMPARABLE_MINUTIAE, Minutiae
from scomm.biometrics.protocols import FailureToEnrol
from scomm.biometrics.quality import MIN_USABLE_AREA_MM2, assess
from scomm.biometrics.resample import to_500_ppi

ExtractorName = Literal["leader", "minunet", "mindtct"]
DEFAULT_EXTRACTOR: ExtractorName = "leader"


@dataclass(frozen=True)
class FingerTemplate:
    """One finger's template: position (FGP 1-10, 0 unknown) and the matcher's form."""

    finger: int
    features: MatcherTemplate

    def to_bytes(self) -> bytes:
        """The compact form (`compact_minutiae`, about 250 bytes); `decode` rebuilds the rest."""
        return compact_minutiae.encode(self.minutiae)

    @property
    def minutiae(self) -> Minutiae:
        f = self.features
        return Minutiae(f.x, f.y, f.theta, f.kind, f.quality, f.width, f.height, f.ppi)

    @property
    def minutiae_count(self) -> int:
        return len(self.features.x)


class MinutiaeExtractor(Protocol):
    def minutiae(self, image500: np.ndarray) -> Minutiae: ...


EXTRACTORS: dict[str, type[MinutiaeExtractor]] = {
    "leader": LeaderExtractor,
    "minunet": MinunetExtractor,
    "mindtct": MindtctExtractor,
}

# The matcher's defaults are tuned for LEADER minutiae (8x4 cylinders, 3 hypotheses).
# MINDTCT's noisier minutiae need the larger cylinders and more hypotheses of the first
# tuning (FVC2002 mean EER 2.3% against 3.3% with the LEADER settings; see
# bench/fvc_minutiae_eval.py and the closing note of issue 3).
MATCHER_PARAMS: dict[str, MccParams] = {
    "leader": LEADER_MATCHER_PARAMS,  # with a consolidation gate: see mcc_params
    "minunet": LEADER_MATCHER_PARAMS,  # trained to find LEADER's minutiae
    "mindtct": MccParams(
        cylinder=CylinderParams(ns=16, nd=6),
        lssr=LssrParams(max_nr=30, n_rel=5),
        consolidation=ConsolidationParams(hypotheses=8),
    ),
}


class FingerprintEngine:
    """Extractor, codec and matcher in one (it satisfies those protocols)."""

    def __init__(
        self,
        extractor: ExtractorName = DEFAULT_EXTRACTOR,
        matcher: MccMatcher | None = None,
        min_usable_area_mm2: float = MIN_USABLE_AREA_MM2,
        minutiae_extractor: MinutiaeExtractor | None = None,
        min_minutiae: int = MIN_COMPARABLE_MINUTIAE,
        name: str | None = None,
    ) -> None:
        """`extractor` names the minutiae extractor (`minutiae_extractor`, when given, is that
        one with its own settings); fewer than `min_minutiae` minutiae fail to enrol."""
        self.name = name or f"scomm-{extractor}-mcc-v1"
        self.matcher = matcher or MccMatcher(MATCHER_PARAMS[extractor])
        self.min_usable_area_mm2 = min_usable_area_mm2
        self.min_minutiae = min_minutiae
        self._extractor = minutiae_extractor or EXTRACTORS[extractor]()

    def extract(self, image: np.ndarray, ppi: int, finger: int = 0) -> FingerTemplate:
        """Template of a grey uint8 image at `ppi`; FailureToEnrol says why it cannot be."""
        return self.extract_timed(image, ppi, finger)[0]

    def extract_timed(
        self, image: np.ndarray, ppi: int, finger: int = 0
    ) -> tuple[FingerTemplate, float]:
        """`extract`, and the CPU seconds of this thread that its usable-area check took (the
        verification benchmark reports the quality check apart from the extraction)."""
        image500 = to_500_ppi(image, ppi)
        start = time.thread_time()
        report = assess(image500, compute_nfiq2=False, min_usable_area_mm2=self.min_usable_area_mm2)
        quality_s = time.thread_time() - start
        report.require_enrolable()
        try:
            minutiae = self._extractor.minutiae(image500)
        except (MindtctError, ValueError) as error:
            raise FailureToEnrol(f"minutiae extraction failed: {error}") from error
        return self.from_minutiae(minutiae, finger), quality_s

    def from_minutiae(self, minutiae: Minutiae, finger: int = 0) -> FingerTemplate:
        if len(minutiae) < self.min_minutiae:
            raise FailureToEnrol(f"only {len(minutiae)} minutiae (need {self.min_minutiae})")
        return FingerTemplate(finger, self.matcher.prepare(minutiae))

    def decode(self, data: bytes, finger: int) -> FingerTemplate:
        """A template from its compact bytes (`FingerTemplate.to_bytes`)."""
        return FingerTemplate(finger, self.matcher.prepare(compact_minutiae.decode(data)))

    def compare(self, probe: FingerTemplate, reference: FingerTemplate) -> float:
        return self.matcher.compare(probe.features, reference.features)

    def compare_many(
        self, probe: FingerTemplate, references: Sequence[FingerTemplate]
    ) -> np.ndarray:
        """`compare(probe, r)` for each reference, in one pass (the 1:N path)."""
        return self.matcher.compare_many(probe.features, [r.features for r in references])

    def pack(self, references: Sequence[FingerTemplate]) -> PackedTemplates:
        """References in the matcher's search layout (once per gallery or shortlist)."""
        return self.matcher.pack([r.features for r in references])

    def compare_packed(
        self, probe: FingerTemplate, packed: PackedTemplates, select: np.ndarray
    ) -> np.ndarray:
        """`compare(probe, references[i])` for each i in `select` of a packed gallery."""
        return self.matcher.compare_many(probe.features, packed, select)

    def explain(self, probe: FingerTemplate, reference: FingerTemplate) -> MatchExplanation:
        return self.matcher.explain(probe.features, reference.features)
