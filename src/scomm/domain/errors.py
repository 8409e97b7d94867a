"""DomainError: the family of errors the domain raises (see scomm.errors)."""

from scomm.errors import ScommError


class DomainError(ScommError):
    """A fact or a request the domain's rules do not allow."""
