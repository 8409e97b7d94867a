"""Decoding image bytes and converting Pillow images / arrays to grey uint8."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from scomm.biometrics.images import ImageDecodeError, decode_image, to_grey_uint8
from scomm.synth.fingers import master_finger


def _encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def finger() -> np.ndarray:
    return master_finger(11)


@pytest.mark.parametrize("fmt", ["PNG", "BMP", "TIFF"])
def test_lossless_round_trip(finger: np.ndarray, fmt: str) -> None:
    decoded = decode_image(_encode(Image.fromarray(finger), fmt))
    assert decoded.dtype == np.uint8
    assert np.array_equal(decoded, finger)


def test_jpeg_round_trip_is_close(finger: np.ndarray) -> None:
    decoded = decode_image(_encode(Image.fromarray(finger), "JPEG", quality=95))
    assert decoded.shape == finger.shape
    assert np.abs(decoded.astype(int) - finger.astype(int)).mean() < 3


def test_rgb_png_becomes_pillow_luma() -> None:
    rgb = np.random.default_rng(0).integers(0, 256, size=(20, 30, 3), dtype=np.uint8)
    image = Image.fromarray(rgb)
    expected = np.asarray(image.convert("L"))
    assert np.array_equal(decode_image(_encode(image, "PNG")), expected)
    assert np.array_equal(to_grey_uint8(rgb), expected)  # the array path agrees


def test_rgba_transparency_is_white(finger: np.ndarray) -> None:
    rgba = np.dstack([finger] * 3 + [np.full_like(finger, 255)])
    rgba[:10, :, 3] = 0
    grey = decode_image(_encode(Image.fromarray(rgba), "PNG"))
    assert np.all(grey[:10] == 255)
    assert np.array_equal(grey[10:], finger[10:])


def test_sixteen_bit_and_float_scale_to_eight_bit(finger: np.ndarray) -> None:
    wide = finger.astype(np.uint16) * 257
    assert np.array_equal(decode_image(_encode(Image.fromarray(wide), "PNG")), finger)
    assert np.array_equal(to_grey_uint8(Image.fromarray(wide)), finger)
    unit = Image.fromarray(finger.astype(np.float32) / 255.0)
    assert unit.mode == "F"
    assert np.array_equal(to_grey_uint8(unit), finger)
    assert np.array_equal(to_grey_uint8(finger.astype(np.float32)), finger)


def test_palette_and_bilevel_modes(finger: np.ndarray) -> None:
    palette = Image.fromarray(finger).convert("P")
    assert to_grey_uint8(palette).shape == finger.shape
    bilevel = Image.fromarray(finger).convert("1")
    assert set(np.unique(to_grey_uint8(bilevel))) <= {0, 255}


def test_to_grey_rejects_what_it_cannot_read() -> None:
    with pytest.raises(TypeError):
        to_grey_uint8([[1, 2], [3, 4]])  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        to_grey_uint8(np.zeros((4, 4, 5), dtype=np.uint8))


@pytest.mark.parametrize(
    "data",
    [b"", b"not an image at all", b"\x89PNG\r\n\x1a\n" + b"\0" * 40, b"BM" + b"\xff" * 60],
)
def test_garbage_raises_image_decode_error(data: bytes) -> None:
    with pytest.raises(ImageDecodeError):
        decode_image(data)


def test_formats_outside_the_whitelist_are_refused() -> None:
    pcx = _encode(Image.new("L", (16, 16), 128), "PCX")
    eps = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n"  # would need Ghostscript
    for data in (pcx, eps):
        with pytest.raises(ImageDecodeError, match="recognised format"):
            decode_image(data)


def test_wsq_round_trip(finger: np.ndarray) -> None:
    decoded = decode_image(_encode(Image.fromarray(finger), "WSQ"))
    assert decoded.shape == finger.shape
    # WSQ at the plugin's 12:1 ratio is lossy: compare shape, not values.
    assert np.corrcoef(decoded.ravel(), finger.ravel())[0, 1] > 0.95


def test_truncated_png_raises_image_decode_error(finger: np.ndarray) -> None:
    data = _encode(Image.fromarray(finger), "PNG")
    with pytest.raises(ImageDecodeError, match="bytes"):
        decode_image(data[: len(data) // 2])


def test_image_decode_error_is_a_value_error() -> None:
    assert issubclass(ImageDecodeError, ValueError)


_PREFIXES = [
    b"",
    b"\xff\xa0",
    b"\x89PNG\r\n\x1a\n",
    b"BM",
    b"\xff\xd8\xff",
    b"II*\x00",
    b"MM\x00*",
    b"GIF89a",
]


@pytest.mark.filterwarnings("ignore::UserWarning")  # Pillow warns about corrupt EXIF and such
@settings(max_examples=50, deadline=None)
@given(prefix=st.sampled_from(_PREFIXES), tail=st.binary(max_size=400))
def test_random_bytes_only_ever_raise_image_decode_error(prefix: bytes, tail: bytes) -> None:
    try:
        image = decode_image(prefix + tail)
    except ImageDecodeError:
        return
    assert image.dtype == np.uint8 and image.ndim == 2  # rare, but a valid tiny image is fine


def test_real_format_variants_decode_to_the_same_grey(data_dir: Path) -> None:
    folder = data_dir / "images" / "format-variants"
    if not folder.is_dir():
        pytest.skip(f"{folder} not found")
    png = decode_image((folder / "probe.png").read_bytes())  # RGBA
    bmp = decode_image((folder / "probe.bmp").read_bytes())  # RGB
    jpeg = decode_image((folder / "probe.jpeg").read_bytes())
    assert png.shape == (374, 388) and png.dtype == np.uint8
    assert np.array_equal(png, bmp)
    assert np.abs(jpeg.astype(int) - png.astype(int)).mean() < 3


def test_real_wsq_decodes_like_its_reference_png(data_dir: Path) -> None:
    folder = data_dir / "wsq" / "nist-tpcard" / "sample"
    if not folder.is_dir():
        pytest.skip(f"{folder} not found")
    wsq = decode_image((folder / "sample.wsq").read_bytes())
    assert np.array_equal(wsq, decode_image((folder / "sample.png").read_bytes()))


_SEGFAULT_SCRIPT = """
import sys
from scomm.biometrics.images import ImageDecodeError, decode_image
data = bytearray(open(sys.argv[1], "rb").read())
data[10939] = 205  # one corrupted byte inside the first block's entropy-coded data
try:
    decode_image(bytes(data))
except ImageDecodeError as error:
    print("rejected:", error)
"""


def test_corrupt_wsq_does_not_crash_the_process(data_dir: Path) -> None:
    sample = data_dir / "wsq" / "nist-tpcard" / "sample" / "sample.wsq"
    if not sample.is_file():
        pytest.skip(f"{sample} not found")
    result = subprocess.run(
        [sys.executable, "-c", _SEGFAULT_SCRIPT, str(sample)],
        capture_output=True,
        timeout=60,
    )
    # The wsq 0.9 C decoder segfaults on this byte; decode_image must contain that.
    assert result.returncode == 0, f"decoder process died with {result.returncode}"
    assert b"rejected:" in result.stdout
