"""Bytes and Pillow images to the grey uint8 arrays every extractor takes."""

from __future__ import annotations

import io

import numpy as np
import wsq  # noqa: F401  (importing it registers the WSQ codec with Pillow)
from PIL import Image, UnidentifiedImageError

from scomm.biometrics.wsq_codec import WsqError, WsqJob, decode_wsq_images, wsq_frame_size


class ImageDecodeError(ValueError):
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
    it; the rest are Pillow's).  Multi-frame files give their first frame.  Raises
    `ImageDecodeError` for anything that is not a complete, readable image in one of those
    formats.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError(f"expected bytes, got {type(data).__name__}")
    if len(data) == 0:
        raise ImageDecodeError("cannot decode an image from empty data")
    if bytes(data[:2]) == WSQ_MAGIC:
        return _decode_wsq(bytes(data))
    try:
        with Image.open(io.BytesIO(bytes(data)), formats=DECODABLE_FORMATS) as image:
            image.load()
            grey = to_grey_uint8(image)
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
    return grey


WSQ_MAGIC = b"\xff\xa0"  # the SOI marker every WSQ stream starts with


def _decode_wsq(data: bytes) -> np.ndarray:
    try:
        width, height = wsq_frame_size(data)
        return decode_wsq_images([WsqJob(data, width, height)])[0]
    except WsqError as exc:
        raise ImageDecodeError(f"corrupt WSQ data ({len(data)} bytes): {exc.reason}") from exc
