"""What the services share: settings, the fingerprint engine, the two repositories' galleries,
the rule catalogue."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from scomm.biometrics.protocols import Extractor, Gallery, TemplateCodec
from scomm.biometrics.wsq_codec import DecodedImageCache
from scomm.config import Settings
from scomm.domain.catalogue import RuleCatalogue


@dataclass
class ServiceContext:
    settings: Settings
    extractor: Extractor
    codec: TemplateCodec
    engine_name: str
    criminal_gallery: Gallery
    immigration_gallery: Gallery
    is_holiday: Callable[[date], bool]
    rules: RuleCatalogue  # NCIC table and rule sets: whoever builds the context loads them
    # WSQ images already decoded: SIB, CJIS and IDENT read the same booking's images
    decoded_images: DecodedImageCache = field(default_factory=DecodedImageCache)
