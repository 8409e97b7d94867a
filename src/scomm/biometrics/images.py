"""Bytes and Pillow images to the grey uint8 arrays every extractor takes."""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import wsq  # noqa: F401  (importing it registers the WSQ codec with Pillow)
from PIL import Image, UnidentifiedImageError

from scomm.biometrics.errors import BiometricsError
from scomm.biometrics.resample import MAX_PPI, MIN_PPI, TARGET_PPI, ResampleMethod, to_500_ppi
from scomm.biometrics.wsq_codec import WsqError, WsqJob, decode_wsq_images, wsq_frame_size


class ImageDecodeError(BiometricsError, ValueError):
    """The bytes are not an image this package can read."""


_SIXTEEN_BIT_MODES = frozenset({"I;16", "I;16L", "I;16B", "I;16N", "I"})
# Raster formats a fingerprint image arrives in.  A whitelist: Pillow would otherwise also try
# formats such as EPS, whose loader runs an external program (Ghostscript).
DECODABLE_FORMATS = ("WSQ", "PNG", "JPEG", "JPEG2000", "BMP", "TIFF", "GIF", "PPM")


def _luma(rgb: np.ndarray) -> np.ndarray:
    """ITU-R 601 luma of uint8 RGB, rounded exactly as Pillow's RGB->L conversion rounds it."""
    r, g, b = (rgb[..., i].astype(np.uint32) for i in range(3))
    return ((r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16).astype(np.uint8)


def _over_white(grey: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Composite uint8 grey with uint8 alpha onto white (transparent = no contact = light)."""
    g = grey.astype(np.uint32)
    a = alpha.astype(np.uint32)
    return ((g * a + 255 * (255 - a) + 127) // 255).astype(np.uint8)


def _channel_to_uint8(values: np.ndarray) -> np.ndarray:
    """One channel of any supported dtype to uint8, by the rules `to_grey_uint8` documents."""
    if values.dtype == np.uint8:
        return values
    if values.dtype == np.bool_:
        return values.astype(np.uint8) * np.uint8(255)
    if values.dtype == np.uint16:
        return ((values.astype(np.uint32) * 255 + 32767) // 65535).astype(np.uint8)
    if np.issubdtype(values.dtype, np.integer):
        if values.size and (values.min() < 0 or values.max() > 65535):
            raise ValueError("integer image values must lie in 0..65535")
        return _channel_to_uint8(values.astype(np.uint16))
    if np.issubdtype(values.dtype, np.floating):
        v = np.nan_to_num(values.astype(np.float64), nan=0.0, posinf=255.0, neginf=0.0)
        if v.size and v.min() >= 0.0 and v.max() <= 1.0:
            v = v * 255.0
        return np.clip(np.rint(v), 0, 255).astype(np.uint8)
    raise ValueError(f"unsupported image dtype {values.dtype}")


def _array_to_grey(array: np.ndarray) -> np.ndarray:
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim == 2:
        return np.ascontiguousarray(_channel_to_uint8(array))
    if array.ndim != 3 or array.shape[2] not in (2, 3, 4):
        raise ValueError(
            f"expected HxW, HxWx1 (L), HxWx2 (LA), HxWx3 (RGB) or HxWx4 (RGBA), got {array.shape}"
        )
    channels = _channel_to_uint8(array)
    if channels.shape[2] == 2:
        return _over_white(channels[:, :, 0], channels[:, :, 1])
    grey = _luma(channels)
    if channels.shape[2] == 4:
        grey = _over_white(grey, channels[:, :, 3])
    return grey


def _pil_to_grey(image: Image.Image) -> np.ndarray:
    mode = image.mode
    if mode in _SIXTEEN_BIT_MODES:
        values = np.asarray(image).astype(np.int64)
        return _channel_to_uint8(np.clip(values, 0, 65535).astype(np.uint16))
    if mode == "F":
        return _channel_to_uint8(np.asarray(image, dtype=np.float32))
    if mode in ("L", "LA", "RGB", "RGBA"):
        return _array_to_grey(np.asarray(image))
    has_alpha = "A" in image.getbands() or "transparency" in image.info
    return _array_to_grey(np.asarray(image.convert("RGBA" if has_alpha else "RGB")))


def to_grey_uint8(image: Image.Image | np.ndarray) -> np.ndarray:
    """A grey uint8 HxW array (a fresh, C-contiguous copy where conversion was needed).

    Colour becomes ITU-R 601 luma as Pillow computes it; alpha is composited onto white,
    since a transparent pixel is one the finger did not touch.  Sixteen-bit data ("I;16*",
    "I", uint16 arrays) scale linearly from 0..65535 to 0..255.  Float data ("F", float
    arrays) taken as 0..1 when every value lies in [0, 1], otherwise as 0..255 and clipped.
    Other Pillow modes (P, 1, CMYK, ...) go through Pillow's own RGB(A) conversion.
    """
    if isinstance(image, Image.Image):
        return _pil_to_grey(image)
    if isinstance(image, np.ndarray):
        return _array_to_grey(image)
    raise TypeError(f"expected a PIL image or a numpy array, got {type(image).__name__}")


def decode_image(data: bytes) -> np.ndarray:
    """Decode image file bytes to a grey uint8 HxW array (see `to_grey_uint8`).

    Reads the formats in DECODABLE_FORMATS (WSQ through `scomm.biometrics.wsq_codec`, which
    checks the stream and runs the C decoder in a child process, since corrupt WSQ can crash
    it; the rest are Pillow's, JPEG 2000 through OpenJPEG).  Multi-frame files give their
    first frame.  Raises `ImageDecodeError` for anything that is not a complete, readable
    image in one of those formats.
    """
    return _decode(data).pixels


@dataclass(frozen=True)
class _Decoded:
    pixels: np.ndarray
    format: str
    declared_ppi: tuple[float, float] | None  # as the file states it, plausible or not


def _decode(data: bytes) -> _Decoded:
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError(f"expected bytes, got {type(data).__name__}")
    if len(data) == 0:
        raise ImageDecodeError("cannot decode an image from empty data")
    if bytes(data[:2]) == WSQ_MAGIC:
        raw = bytes(data)
        ppi = wsq_declared_ppi(raw)
        return _Decoded(_decode_wsq(raw), "WSQ", None if ppi is None else (ppi, ppi))
    try:
        with Image.open(io.BytesIO(bytes(data)), formats=DECODABLE_FORMATS) as image:
            image.load()
            grey = to_grey_uint8(image)
            fmt = str(image.format)
            declared = _pillow_declared_ppi(image)
    except UnidentifiedImageError as exc:
        raise ImageDecodeError(
            f"not an image in a recognised format ({len(data)} bytes; "
            f"formats read: {', '.join(DECODABLE_FORMATS)})"
        ) from exc
    except Exception as exc:  # Pillow and codec plugins raise many types on corrupt input
        raise ImageDecodeError(
            f"corrupt or unsupported image data ({len(data)} bytes): {type(exc).__name__}: {exc}"
        ) from exc
    if grey.size == 0:
        raise ImageDecodeError("the image has no pixels")
    return _Decoded(grey, fmt, declared)


def _pillow_declared_ppi(image: Image.Image) -> tuple[float, float] | None:
    """The resolution Pillow read from the file (TIFF, PNG pHYs, BMP, JPEG JFIF/EXIF, JP2
    `resc`), in pixels per inch, or None."""
    dpi = image.info.get("dpi")
    if not isinstance(dpi, tuple) or len(dpi) != 2:
        return None
    try:
        x, y = float(dpi[0]), float(dpi[1])  # TIFF gives IFDRational values
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    if not (math.isfinite(x) and math.isfinite(y)):
        return None
    return (x, y)


WSQ_MAGIC = b"\xff\xa0"  # the SOI marker every WSQ stream starts with


def _decode_wsq(data: bytes) -> np.ndarray:
    try:
        width, height = wsq_frame_size(data)
        return decode_wsq_images([WsqJob(data, width, height)])[0]
    except WsqError as exc:
        raise ImageDecodeError(f"corrupt WSQ data ({len(data)} bytes): {exc.reason}") from exc


# --- WSQ resolution: the NIST_COM comment ---------------------------------------------

_WSQ_COM = 0xA8
_WSQ_SOB = 0xA3
_WSQ_EOI = 0xA1


def wsq_declared_ppi(data: bytes) -> float | None:
    """The PPI a WSQ stream declares in its NIST_COM comment, or None.

    The WSQ frame header carries no resolution; NIST's encoder (and most others) writes a
    comment segment "NIST_COM n" with a line "PPI <value>", -1 meaning unknown. Only the
    segments before the first coded block are read. Implausible values are returned as
    they are; `load_finger_image` decides what to believe.
    """
    pos, n = 2, len(data)
    while pos + 4 <= n and data[pos] == 0xFF:
        marker = data[pos + 1]
        if marker in (_WSQ_SOB, _WSQ_EOI):
            return None
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        if length < 2 or pos + 2 + length > n:
            return None
        if marker == _WSQ_COM:
            text = data[pos + 4 : pos + 2 + length].decode("latin-1")
            if text.startswith("NIST_COM"):
                return _nistcom_ppi(text)
        pos += 2 + length
    return None


def _nistcom_ppi(text: str) -> float | None:
    for line in text.replace("\r", "\n").split("\n"):
        key, _, value = line.strip().partition(" ")
        if key == "PPI":
            try:
                ppi = float(value.strip())
            except ValueError:
                return None
            return ppi if math.isfinite(ppi) and ppi > 0 else None
    return None


# --- finger images at 500 ppi ---------------------------------------------------------

# A resolution read from a file is believed only inside this range. Outside it the value is
# a software default, not a scanner's: FVC2002's TIFFs say 1 ppi, screen images 72 or 96,
# and four WSQ files of NIST's own ten-print card say "PPI 255" (presumably -1, "unknown",
# gone through an unsigned byte) for what are 500 ppi impressions. Fingerprint scanners
# work at 500-1000 ppi (FBI Appendix F, ISO/IEC 19794-4), small sensors down to about 360.
PLAUSIBLE_PPI = (300.0, 4000.0)
# Resolutions within this fraction of 500 or 1000 ppi are taken as exactly that: the
# ANSI/NIST 19.69 px/mm is 500.1 ppi, 197 px/cm in a TIFF is 500.4 ppi, and scanner
# certification allows +-1%.
NOMINAL_PPI_TOLERANCE = 0.005
_NOMINAL_PPI = (500.0, 1000.0)

PpiOrigin = Literal["argument", "metadata", "assumed"]


def normalise_ppi(ppi: float) -> float:
    """Snap a resolution to 500 or 1000 when within NOMINAL_PPI_TOLERANCE of it, else to the
    nearest whole ppi when within 0.05 (what integer pixels-per-metre fields cost), else as is."""
    value = float(ppi)
    for nominal in _NOMINAL_PPI:
        if abs(value - nominal) <= NOMINAL_PPI_TOLERANCE * nominal:
            return nominal
    if abs(value - round(value)) <= 0.05:
        return float(round(value))
    return value


@dataclass(frozen=True, eq=False)
class FingerImage500:
    """A decoded finger image resampled to 500 ppi, and where its resolution came from.

    `pixels`: grey uint8 HxW at 500 ppi. `source_ppi` / `source_ppi_y`: the resolution of the
    image as it arrived (horizontal / vertical), as used for resampling. `ppi_origin`:
    "argument" (the caller said so), "metadata" (the file declared it) or "assumed" (nothing
    believable was declared, so 500 was assumed and the image kept as it was; `note` says
    why). `source_width` / `source_height`: the decoded size; `format`: "WSQ", "PNG", ...
    """

    pixels: np.ndarray
    source_ppi: float
    source_ppi_y: float
    ppi_origin: PpiOrigin
    source_width: int
    source_height: int
    format: str
    note: str = ""

    ppi = TARGET_PPI

    @property
    def ppi_assumed(self) -> bool:
        return self.ppi_origin == "assumed"

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])


def load_finger_image(
    data: bytes, ppi: float | None = None, *, method: ResampleMethod = "lanczos"
) -> FingerImage500:
    """Decode a finger image (any format `decode_image` reads) and resample it to 500 ppi.

    The source resolution is `ppi` when given (the caller knows best: an ANSI/NIST record's
    resolution fields, a sensor's data sheet); else what the file declares (TIFF, PNG, BMP,
    JPEG and JPEG 2000 resolution fields, WSQ's NIST_COM "PPI"), if inside PLAUSIBLE_PPI;
    else 500 is assumed and said so in `ppi_origin` and `note`. Resolutions are snapped by
    `normalise_ppi`. Raises `ImageDecodeError` for undecodable data and ValueError for a `ppi`
    outside 100..10000.
    """
    decoded = _decode(data)
    height, width = decoded.pixels.shape
    note = ""
    origin: PpiOrigin
    if ppi is not None:
        value = float(ppi)
        if not (math.isfinite(value) and MIN_PPI <= value <= MAX_PPI):
            raise ValueError(f"ppi must lie in {MIN_PPI:g}..{MAX_PPI:g}, got {ppi!r}")
        x_ppi = y_ppi = normalise_ppi(value)
        origin = "argument"
    elif decoded.declared_ppi is not None and all(
        PLAUSIBLE_PPI[0] <= v <= PLAUSIBLE_PPI[1] for v in decoded.declared_ppi
    ):
        x_ppi, y_ppi = (normalise_ppi(v) for v in decoded.declared_ppi)
        origin = "metadata"
    else:
        x_ppi = y_ppi = float(TARGET_PPI)
        origin = "assumed"
        if decoded.declared_ppi is None:
            note = f"the {decoded.format} file declares no resolution; 500 ppi assumed"
        else:
            declared = "x".join(f"{v:g}" for v in decoded.declared_ppi)
            note = (
                f"the {decoded.format} file declares {declared} ppi, outside "
                f"{PLAUSIBLE_PPI[0]:g}..{PLAUSIBLE_PPI[1]:g}; 500 ppi assumed"
            )
    pixels = to_500_ppi(decoded.pixels, x_ppi, ppi_y=y_ppi, method=method)
    return FingerImage500(pixels, x_ppi, y_ppi, origin, width, height, decoded.format, note)
