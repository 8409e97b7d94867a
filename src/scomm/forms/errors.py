"""FormError: the family of errors the detainer forms raise (see scomm.errors)."""

from scomm.errors import ScommError


class FormError(ScommError):
    """A form that does not exist or whose conditions a case does not meet."""
