"""BiometricsError: the family of errors the fingerprint engine raises (see scomm.errors)."""

from scomm.errors import ScommError


class BiometricsError(ScommError):
    """An image, template or record the engine cannot read, or a finger it cannot enrol."""
