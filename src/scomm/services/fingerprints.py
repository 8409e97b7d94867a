"""From a booking transaction's finger images to templates, and search results to evidence."""

from __future__ import annotations

import numpy as np

from scomm.biometrics.memo import extract_each
from scomm.biometrics.protocols import CandidateList, FailureToEnrol, Template
from scomm.domain.messages import CandidateEvidence
from scomm.nist.tenprint import TenprintSubmission
from scomm.services.context import ServiceContext
from scomm.services.errors import ServiceError


class NoUsableFingers(ServiceError):
    """No finger image in the transaction could be enrolled."""


def tenprint_templates(ctx: ServiceContext, submission: TenprintSubmission) -> dict[int, Template]:
    """Templates of the rolled fingers 1-10: of each position the first of its images that
    enrols; fingers none of whose images enrol are left out.  Each round extracts one image
    of every position still without a template, side by side (`memo.extract_each`)."""
    candidates: dict[int, list[tuple[np.ndarray, int]]] = {}
    for image in submission.fingers:
        if 1 <= image.position <= 10:
            candidates.setdefault(image.position, []).append((image.pixels, image.ppi))
    templates: dict[int, Template] = {}
    failures = []
    while candidates:
        jobs = [(queue[0][0], queue[0][1], position) for position, queue in candidates.items()]
        for (_, _, position), made in zip(jobs, extract_each(ctx.extractor, jobs), strict=True):
            candidates[position].pop(0)
            if isinstance(made, FailureToEnrol):
                failures.append(position)
            else:
                templates[position] = made
                del candidates[position]
        candidates = {position: queue for position, queue in candidates.items() if queue}
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
