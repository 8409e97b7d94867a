"""scomm's own 1:1 / 1:N minutiae matcher: Minutia Cylinder-Code with geometric consolidation.

    matcher.py          MccMatcher: prepare, compare, explain, pack, compare_many
    template.py         MatcherTemplate, the prepared form of a minutiae set, and its bytes
    packed.py           prepare_packed: many sets straight into the 1:N layout
    mcc_params.py       every parameter, with the papers' defaults and the repository's sets
    cylinders/          preparing a template (paper sec. 3), one stage a module
    comparison/         comparing two (paper sec. 4, then consolidation), one stage a module
    primitives/         numeric helpers the stages share

Modules of this package import each other by their full module path, never through this
file, which only gathers the public names.
"""

from scomm.biometrics.match.matcher import MatchExplanation, MccMatcher, PackedTemplates
from scomm.biometrics.match.mcc_params import (
    ConsolidationParams,
    CylinderParams,
    LssrParams,
    MccParams,
)
from scomm.biometrics.match.packed import prepare_packed
from scomm.biometrics.match.template import MatcherTemplate, MatcherTemplateError

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
