"""scomm: an open, auditable implementation of the Secure Communities interoperability flow."""

__version__ = "0.1.0"
