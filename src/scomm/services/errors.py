"""ServiceError: the family of errors the actors' handlers raise (see scomm.errors)."""

from scomm.errors import ScommError


class ServiceError(ScommError):
    """A message an actor cannot handle: an unknown case, a refused booking, a missing decision."""


class UnknownBooking(ServiceError, ValueError):
    """A court disposition (or other news) for a TCN no jail booked."""


class AlreadyReported(ServiceError):
    """A booking's court disposition, or its release, reported a second time."""
