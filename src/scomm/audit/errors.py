"""AuditError: the family of errors the audit layer raises (see scomm.errors)."""

from scomm.errors import ScommError


class AuditError(ScommError):
    """An audit key or checkpoint log that cannot be used as given."""


class KeyFileError(AuditError):
    """A signing or public key that is missing, unreadable, or would be overwritten."""


class CheckpointLogError(AuditError):
    """A checkpoint log that is missing or holds a line that is no checkpoint."""
