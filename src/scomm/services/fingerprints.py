"""From a booking transaction's finger images to templates, and search results to evidence."""

from __future__ import annotations

from scomm.biometrics.protocols import CandidateList, FailureToEnrol, Template
from scomm.domain.messages import CandidateEvidence
from scomm.nist.tenprint import TenprintSubmission
from scomm.services.context import ServiceContext
from scomm.services.errors import ServiceError


class NoUsableFingers(ServiceError):
    """No finger image in the transaction could be enrolled."""


def tenprint_templates(ctx: ServiceContext, submission: TenprintSubmission) -> dict[int, Template]:
    """Templates of the rolled fingers 1-10; fingers that fail to enrol are left out."""
    templates: dict[int, Template] = {}
    failures = []
    for image in submission.fingers:
        if not 1 <= image.position <= 10 or image.position in templates:
            continue
        try:
            templates[image.position] = ctx.extractor.extract(
                image.pixels, image.ppi, image.position
            )
        except FailureToEnrol:
            failures.append(image.position)
    if not templates:
        raise NoUsableFingers(f"no usable finger image (failed: {failures or 'none present'})")
    return templates


def evidence(candidates: CandidateList, limit: int = 3) -> tuple[CandidateEvidence, ...]:
    return tuple(
        CandidateEvidence(
            identity_id=c.identity_id,
            fused_score=round(float(c.fused_score), 4),
            finger_scores={int(f): round(float(s), 4) for f, s in c.finger_scores.items()},
            rank=c.rank,
        )
        for c in candidates.candidates[:limit]
    )
