"""The fingerprint engine: pure computation on numpy arrays, no I/O beyond decoding bytes.

The public API is a handful of names (`scomm.biometrics.api`, importable from here):
`decode_image`, `FingerprintExtractor`, `FingerprintTemplate` (with ISO/IEC 19794-2 and
INCITS 378 records), `FingerprintMatcher` (compare, explain), `FingerprintGallery` (search),
and `FailureToEnrol`.  They load lazily, so importing one stage module stays cheap.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scomm.biometrics.api import (
        FingerprintExtractor,
        FingerprintGallery,
        FingerprintMatcher,
        FingerprintTemplate,
        decode_image,
    )
    from scomm.biometrics.protocols import FailureToEnrol

_PUBLIC = {
    "decode_image": "scomm.biometrics.api",
    "FingerprintExtractor": "scomm.biometrics.api",
    "FingerprintGallery": "scomm.biometrics.api",
    "FingerprintMatcher": "scomm.biometrics.api",
    "FingerprintTemplate": "scomm.biometrics.api",
    "FailureToEnrol": "scomm.biometrics.protocols",
}

__all__ = [
    "FailureToEnrol",
    "FingerprintExtractor",
    "FingerprintGallery",
    "FingerprintMatcher",
    "FingerprintTemplate",
    "decode_image",
]


def __getattr__(name: str) -> Any:
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'scomm.biometrics' has no attribute {name!r}")
    return getattr(import_module(module), name)
