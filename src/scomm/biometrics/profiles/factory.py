"""From a profile to working objects: the extractor, the template codec, empty galleries.

Building an engine reads nothing but its profile and fits nothing: the pair coder is the
profile's fitted mean with the projection its seed regenerates.  Extractors that need
heavy imports (LEADER's network, NBIS) are imported only when a profile names them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from scomm.biometrics.extract_skeleton import SkeletonParams, SkeletonTemplateExtractor
from scomm.biometrics.index.gallery import IndexedGallery, MinutiaeCodec
from scomm.biometrics.index.pair_code import PairCoder
from scomm.biometrics.match import MccMatcher
from scomm.biometrics.minutiae import MIN_COMPARABLE_MINUTIAE
from scomm.biometrics.profiles.model import EngineProfile, EngineProfileError, Setting
from scomm.biometrics.protocols import Extractor, Gallery, TemplateCodec

if TYPE_CHECKING:
    from scomm.biometrics.engine import FingerprintEngine

# The settings each extractor kind reads from its profile, beyond its own parameter object.
LEADER_SETTINGS = ("quality_threshold", "max_minutiae", "min_kept_detections", "floor_threshold")
MINUNET_SETTINGS = ("threshold", "max_minutiae", "min_kept_detections", "floor_threshold")
OWN_SETTINGS: Mapping[str, tuple[str, ...]] = {
    "leader": LEADER_SETTINGS,
    "minunet": MINUNET_SETTINGS,
}
ENGINE_SETTINGS = ("min_minutiae", "min_usable_area_mm2")


@dataclass(frozen=True)
class Engine:
    """An engine built from its profile: what a system needs to enrol and search."""

    profile: EngineProfile
    extractor: Extractor
    codec: TemplateCodec
    coder: PairCoder | None

    @property
    def name(self) -> str:
        return self.profile.name

    def new_gallery(self, thresholds: Mapping[int, float] | None = None) -> Gallery:
        """An empty gallery of this engine (`thresholds` replaces the profile's, as a
        calibration run does with none)."""
        profile = self.profile
        chosen = dict(profile.thresholds if thresholds is None else thresholds)
        if profile.search == "indexed":
            assert self.coder is not None and profile.matcher_params is not None  # the model checks
            return IndexedGallery(
                self.coder,
                MccMatcher(profile.matcher_params),
                thresholds=chosen,
                shortlist=profile.shortlist,
            )
        if profile.search == "correlation":
            from scomm.biometrics.correlation_gallery import CorrelationGallery  # noqa: PLC0415

            levels = set(chosen.values())
            if len(levels) != 1:
                raise EngineProfileError(
                    f"engine {profile.name!r}: the correlation gallery has one threshold for "
                    f"every number of fingers, the profile gives {sorted(levels)}"
                )
            return CorrelationGallery(threshold=levels.pop())
        raise EngineProfileError(f"engine {profile.name!r} has no search stage (1:1 only)")


def build_engine(profile: EngineProfile) -> Engine:
    """The extractor, codec and pair coder `profile` describes."""
    if profile.extractor.kind == "correlation":
        from scomm.biometrics.baseline import CorrelationCodec, CorrelationExtractor  # noqa: PLC0415

        _settings(profile, ())
        return Engine(profile, CorrelationExtractor(), CorrelationCodec(), None)
    extractor: Extractor
    if profile.extractor.kind == "skeleton":
        extractor = skeleton_extractor(profile)
    else:
        extractor = fingerprint_engine(profile)
    fit = profile.pair_code
    coder = PairCoder(fit.params, fit.mean) if fit is not None else None
    return Engine(profile, extractor, MinutiaeCodec(), coder)


def skeleton_extractor(profile: EngineProfile) -> SkeletonTemplateExtractor:
    names = tuple(f.name for f in dataclasses.fields(SkeletonParams))
    settings = _settings(profile, (*names, "min_minutiae"))
    params = SkeletonParams(**{k: v for k, v in settings.items() if k in names})  # type: ignore[arg-type]
    floor = int(settings.get("min_minutiae", MIN_COMPARABLE_MINUTIAE))
    return SkeletonTemplateExtractor(params, min_minutiae=floor)


def fingerprint_engine(profile: EngineProfile) -> FingerprintEngine:
    """The image-to-template engine of a LEADER, minunet or MINDTCT profile (what `scomm
    bench verify` measures), with the profile's matcher parameters."""
    from scomm.biometrics.engine import FingerprintEngine  # noqa: PLC0415

    kind = profile.extractor.kind
    if kind not in ("leader", "minunet", "mindtct") or profile.matcher_params is None:
        raise EngineProfileError(
            f"engine {profile.name!r}: a fingerprint engine needs LEADER, minunet or MINDTCT "
            f"minutiae and the MCC matcher (profile: {kind}, {profile.matcher})"
        )
    own = OWN_SETTINGS.get(kind, ())
    settings = _settings(profile, (*own, *ENGINE_SETTINGS))
    minutiae_extractor: Any
    if kind == "leader":
        from scomm.biometrics.extract_leader import LeaderExtractor  # noqa: PLC0415

        minutiae_extractor = LeaderExtractor(**{k: settings[k] for k in own if k in settings})  # type: ignore[arg-type]
    elif kind == "minunet":
        from scomm.biometrics.extract_minunet import MinunetExtractor  # noqa: PLC0415

        minutiae_extractor = MinunetExtractor(**{k: settings[k] for k in own if k in settings})  # type: ignore[arg-type]
    else:
        from scomm.biometrics.extract_nbis import MindtctExtractor  # noqa: PLC0415

        minutiae_extractor = MindtctExtractor()
    engine_settings: dict[str, Any] = {k: settings[k] for k in ENGINE_SETTINGS if k in settings}
    return FingerprintEngine(
        kind,
        MccMatcher(profile.matcher_params),
        minutiae_extractor=minutiae_extractor,
        name=profile.name,
        **engine_settings,
    )


def _settings(profile: EngineProfile, allowed: tuple[str, ...]) -> dict[str, Setting]:
    settings = dict(profile.extractor.settings)
    if unknown := set(settings) - set(allowed):
        raise EngineProfileError(
            f"engine {profile.name!r}: the {profile.extractor.kind} extractor has no setting "
            f"{', '.join(sorted(unknown))} (it reads {', '.join(allowed) or 'none'})"
        )
    return settings
