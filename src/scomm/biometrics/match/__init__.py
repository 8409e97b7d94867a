"""scomm's own 1:1 / 1:N minutiae matcher: Minutia Cylinder-Code with geometric consolidation."""

from scomm.biometrics.match.mcc_batch import prepare_packed
from scomm.biometrics.match.mcc_matcher import MatchExplanation, MccMatcher, PackedTemplates
from scomm.biometrics.match.mcc_params import (
    ConsolidationParams,
    CylinderParams,
    LssrParams,
    MccParams,
)
from scomm.biometrics.match.mcc_template import MatcherTemplate, MatcherTemplateError

__all__ = [
    "ConsolidationParams",
    "CylinderParams",
    "LssrParams",
    "MatchExplanation",
    "MatcherTemplate",
    "MatcherTemplateError",
    "MccMatcher",
    "MccParams",
    "PackedTemplates",
    "prepare_packed",
]
