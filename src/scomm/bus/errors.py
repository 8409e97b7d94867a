"""BusError: the family of errors the message bus raises (see scomm.errors)."""

from scomm.errors import ScommError


class BusError(ScommError):
    """A message the bus cannot record, deliver or replay."""
