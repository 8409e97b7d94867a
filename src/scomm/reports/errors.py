"""The errors of the published statistics and releases."""

from __future__ import annotations

from scomm.errors import ScommError


class ReportError(ScommError):
    """A statistics release, case table or page that cannot be made as asked."""


class ReleaseInputError(ReportError):
    """A release folder (or a what-if file) that is not what a release writes."""


class PublicationRefused(ReportError):
    """Disclosure control could not protect a release: nothing of it is published."""
