"""scomm's biometrics in a handful of names: decode, extract, compare (and explain), search,
and read or write ISO/ANSI minutiae records.

    image = decode_image(data)                      # WSQ, PNG, TIFF, ... resampled to 500 ppi
    template = FingerprintExtractor().extract(image, finger=2)
    matcher = FingerprintMatcher(template)          # the probe, prepared once
    score = matcher.compare(other)                  # higher = more alike
    why = matcher.explain(other)                    # pairs, transform, matched minutiae
    gallery = FingerprintGallery(); gallery.enrol("P1", {2: other}); gallery.search({2: template})
    FingerprintTemplate.from_record(template.to_record())    # ISO/IEC 19794-2, INCITS 378

Each class takes an engine by name (a profile shipped in `scomm.biometrics.profiles`); the
defaults are LEADER minutiae with the MCC matcher for extraction and comparison, and the
demo engine's two-stage search for galleries (its pair coder and thresholds are fitted on
synthetic prints: rankings hold on real prints, its hit decisions are not calibrated there).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from scomm.biometrics import compact_minutiae
from scomm.biometrics.engine import FingerprintEngine
from scomm.biometrics.images import FingerImage500, load_finger_image
from scomm.biometrics.match import MatcherTemplate, MatchExplanation, MccMatcher
from scomm.biometrics.minutiae import Minutiae
from scomm.biometrics.minutiae_records import (
    INCITS378_2004,
    ISO19794_2_2005,
    FingerView,
    MinutiaeRecord,
    read_record,
    write_incits378,
    write_iso19794_2,
)
from scomm.biometrics.profiles import (
    DEMO_ENGINE,
    LEADER_ENGINE,
    EngineProfileError,
    build_engine,
    fingerprint_engine,
    load_profile,
)
from scomm.biometrics.protocols import CandidateList, Gallery

EXTRACTION_ENGINE = LEADER_ENGINE
SEARCH_ENGINE = DEMO_ENGINE


def decode_image(data: bytes, ppi: float | None = None) -> FingerImage500:
    """A finger image from its file bytes (WSQ, PNG, JPEG, JPEG 2000, BMP, TIFF, GIF, PPM),
    resampled to 500 ppi; `ppi` overrides what the file declares (see `load_finger_image`)."""
    return load_finger_image(data, ppi)


@dataclass(frozen=True, eq=False)
class FingerprintTemplate:
    """One finger's minutiae (at the resolution of their image) and its position (FGP 1-10,
    0 unknown): what every engine here extracts, compares, searches and stores."""

    finger: int
    minutiae: Minutiae

    def to_bytes(self) -> bytes:
        """scomm's compact form (about 6 bytes a minutia)."""
        return compact_minutiae.encode(self.minutiae)

    @classmethod
    def from_bytes(cls, data: bytes, finger: int = 0) -> FingerprintTemplate:
        return cls(finger, compact_minutiae.decode(data))

    def to_record(self, standard: str = ISO19794_2_2005) -> bytes:
        """An ISO/IEC 19794-2:2005 (default) or INCITS 378-2004 finger-minutiae record
        (`standard`: `minutiae_records.ISO19794_2_2005` or `INCITS378_2004`)."""
        m = self.minutiae
        view = FingerView(self.finger, 0, 0, 0, m)
        record = MinutiaeRecord(standard, m.width, m.height, m.ppi, (view,))
        if standard == INCITS378_2004:
            return write_incits378(record)
        if standard == ISO19794_2_2005:
            return write_iso19794_2(record)
        raise ValueError(
            f"scomm writes {ISO19794_2_2005!r} or {INCITS378_2004!r}, not {standard!r}"
        )

    @classmethod
    def from_record(cls, data: bytes, view: int = 0) -> FingerprintTemplate:
        """View `view` of an ISO/IEC 19794-2 or INCITS 378 record (the standard is detected;
        `MinutiaeRecordError` says what is wrong with a bad one)."""
        found = read_record(data).views[view]
        return cls(found.finger_position, found.minutiae)


class FingerprintExtractor:
    """Finger images to templates, with the extractor of engine profile `engine`."""

    def __init__(self, engine: str = EXTRACTION_ENGINE) -> None:
        self._engine: FingerprintEngine = fingerprint_engine(load_profile(engine))

    def extract(
        self, image: FingerImage500 | np.ndarray, finger: int = 0, ppi: int = 500
    ) -> FingerprintTemplate:
        """The template of a decoded image (or a grey uint8 array at `ppi`);
        `FailureToEnrol` says why there is none."""
        if isinstance(image, FingerImage500):
            pixels, ppi = image.pixels, image.ppi
        else:
            pixels = image
        return FingerprintTemplate(finger, self._engine.extract(pixels, ppi, finger).minutiae)


class FingerprintMatcher:
    """1:1 comparison of one probe with any number of candidates (the probe is prepared
    once), with the matcher parameters of engine profile `engine`."""

    def __init__(self, probe: FingerprintTemplate, engine: str = EXTRACTION_ENGINE) -> None:
        params = load_profile(engine).matcher_params
        if params is None:
            raise EngineProfileError(f"engine {engine!r} has no minutiae matcher")
        self._matcher = MccMatcher(params)
        self._probe = self._matcher.prepare(probe.minutiae)

    def _prepare(self, candidate: FingerprintTemplate) -> MatcherTemplate:
        return self._matcher.prepare(candidate.minutiae)

    def compare(self, candidate: FingerprintTemplate) -> float:
        """Similarity in [0, 1]; higher means more alike."""
        return self._matcher.compare(self._probe, self._prepare(candidate))

    def explain(self, candidate: FingerprintTemplate) -> MatchExplanation:
        """The score and why: minutia pairs, the rigid transform, the minutiae that agree."""
        return self._matcher.explain(self._probe, self._prepare(candidate))


class FingerprintGallery:
    """1:N: identities with up to ten fingers each, searched with the search stage of engine
    profile `engine` (pair-code shortlist, then the matcher; fused score = sum of fingers)."""

    def __init__(self, engine: str = SEARCH_ENGINE) -> None:
        self._gallery: Gallery = build_engine(load_profile(engine)).new_gallery()

    def __len__(self) -> int:
        return len(self._gallery)

    def enrol(self, identity_id: str, fingers: Mapping[int, FingerprintTemplate]) -> None:
        """Enrol (or replace) an identity: templates by finger position (FGP 1-10)."""
        self._gallery.enrol(identity_id, fingers)

    def search(
        self, probe: Mapping[int, FingerprintTemplate], max_candidates: int = 10
    ) -> CandidateList:
        """Candidates, best first, with per-finger scores; `is_hit` at the engine's threshold
        for that many fingers."""
        return self._gallery.search(probe, max_candidates)
