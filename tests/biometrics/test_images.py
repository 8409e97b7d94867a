"""Decoding image bytes and converting Pillow images / arrays to grey uint8."""

from __future__ import annotations

import io
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from scomm.biometrics.images import (
    PLAUSIBLE_PPI,
    FingerImage500,
    ImageDecodeError,
    decode_image,
    load_finger_image,
    normalise_ppi,
    to_grey_uint8,
    wsq_declared_ppi,
)
from scomm.sim.synth.fingers import master_finger


def _encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def finger() -> np.ndarray:
    return master_finger(11, size=128)


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


# --- JPEG 2000 ---------------------------------------------------------------------


def test_pillow_has_openjpeg() -> None:
    from PIL import features

    assert features.check("jpg_2000"), "this Pillow build lacks OpenJPEG (JPEG 2000)"


@pytest.mark.parametrize("options", [{}, {"no_jp2": True}], ids=["jp2", "j2k-codestream"])
def test_jpeg2000_lossless_round_trip(finger: np.ndarray, options: dict[str, object]) -> None:
    data = _encode(Image.fromarray(finger), "JPEG2000", **options)  # reversible 5/3 wavelet
    assert data[:12] == b"\x00\x00\x00\x0cjP  \r\n\x87\n" or data[:4] == b"\xffO\xffQ"
    decoded = decode_image(data)
    assert decoded.dtype == np.uint8
    assert np.array_equal(decoded, finger)


def test_jpeg2000_lossy_is_close(finger: np.ndarray) -> None:
    data = _encode(
        Image.fromarray(finger),
        "JPEG2000",
        quality_mode="rates",
        quality_layers=[10],
        irreversible=True,
    )
    decoded = decode_image(data)
    assert decoded.shape == finger.shape
    assert np.abs(decoded.astype(int) - finger.astype(int)).mean() < 8


def test_corrupt_jpeg2000_raises_image_decode_error(finger: np.ndarray) -> None:
    data = _encode(Image.fromarray(finger), "JPEG2000")
    with pytest.raises(ImageDecodeError):
        decode_image(data[: len(data) // 2])
    with pytest.raises(ImageDecodeError):
        decode_image(data[:60] + b"\x00" * 200)


def _jp2_with_resolution(jp2: bytes, pixels_per_metre: int) -> bytes:
    """A JP2 file with a 'res '/'resc' (capture resolution) box appended to its header box."""
    resc_fields = struct.pack(">HHHHbb", pixels_per_metre, 1, pixels_per_metre, 1, 0, 0)
    resc = struct.pack(">I4s", 8 + len(resc_fields), b"resc") + resc_fields
    res = struct.pack(">I4s", 8 + len(resc), b"res ") + resc
    pos = 0
    while pos < len(jp2):
        length, kind = struct.unpack(">I4s", jp2[pos : pos + 8])
        if kind == b"jp2h":
            header = struct.pack(">I4s", length + len(res), b"jp2h")
            return jp2[:pos] + header + jp2[pos + 8 : pos + length] + res + jp2[pos + length :]
        pos += length
    raise AssertionError("no jp2h box")


def test_jpeg2000_resolution_box_gives_the_ppi(finger: np.ndarray) -> None:
    data = _jp2_with_resolution(_encode(Image.fromarray(finger), "JPEG2000"), 39370)
    loaded = load_finger_image(data)
    assert loaded.format == "JPEG2000"
    assert loaded.ppi_origin == "metadata" and loaded.source_ppi == 1000.0
    assert loaded.pixels.shape == (finger.shape[0] // 2, finger.shape[1] // 2)


# --- every WSQ of NIST's ten-print card --------------------------------------------


def test_every_tpcard_wsq_decodes_like_its_reference_png(data_dir: Path) -> None:
    folder = data_dir / "wsq" / "nist-tpcard" / "tpcard"
    if not folder.is_dir():
        pytest.skip(f"{folder} not found")
    streams = sorted(folder.glob("fp-*.wsq"))
    assert len(streams) == 14
    for wsq_path in streams:
        decoded = decode_image(wsq_path.read_bytes())
        reference = decode_image(wsq_path.with_suffix(".png").read_bytes())  # grey RGB -> L
        assert decoded.shape == reference.shape, wsq_path.name
        assert np.array_equal(decoded, reference), f"{wsq_path.name} differs from its PNG"


# --- resolution and load_finger_image -----------------------------------------------


def _wsq_with_ppi(finger: np.ndarray, ppi_text: bytes) -> bytes:
    data = _encode(Image.fromarray(finger), "WSQ")
    assert b"PPI 500\n" in data and len(ppi_text) == 3
    return data.replace(b"PPI 500\n", b"PPI " + ppi_text + b"\n", 1)


def test_wsq_declared_ppi_reads_the_nist_comment(finger: np.ndarray) -> None:
    assert wsq_declared_ppi(_encode(Image.fromarray(finger), "WSQ")) == 500.0
    assert wsq_declared_ppi(_wsq_with_ppi(finger, b"569")) == 569.0
    assert wsq_declared_ppi(_wsq_with_ppi(finger, b" -1")) is None
    assert wsq_declared_ppi(b"\xff\xa0") is None
    assert wsq_declared_ppi(b"\xff\xa0\xff\xa8\xff\xff") is None  # overrunning segment


def test_load_finger_image_uses_the_wsq_ppi(finger: np.ndarray) -> None:
    loaded = load_finger_image(_wsq_with_ppi(finger, b"569"))
    assert isinstance(loaded, FingerImage500)
    assert (loaded.format, loaded.source_ppi, loaded.ppi_origin) == ("WSQ", 569.0, "metadata")
    assert (loaded.source_width, loaded.source_height) == (finger.shape[1], finger.shape[0])
    assert loaded.pixels.shape == (round(128 * 500 / 569), round(128 * 500 / 569))
    assert loaded.ppi == 500 and not loaded.ppi_assumed


def test_implausible_declared_ppi_is_not_believed(finger: np.ndarray) -> None:
    loaded = load_finger_image(_wsq_with_ppi(finger, b"255"))
    assert loaded.ppi_origin == "assumed" and loaded.ppi_assumed
    assert loaded.source_ppi == 500.0 and "255" in loaded.note
    assert loaded.pixels.shape == finger.shape
    tiff = _encode(Image.fromarray(finger), "TIFF", dpi=(1, 1))  # as FVC2002's TIFFs say
    assert load_finger_image(tiff).ppi_origin == "assumed"
    bmp = _encode(Image.fromarray(finger), "BMP")  # Pillow writes its 96 dpi default
    assert load_finger_image(bmp).ppi_origin == "assumed"
    assert PLAUSIBLE_PPI[0] > 255


def test_no_declared_ppi_assumes_500_and_says_so(finger: np.ndarray) -> None:
    loaded = load_finger_image(_encode(Image.fromarray(finger), "PNG"))
    assert loaded.ppi_origin == "assumed"
    assert "declares no resolution" in loaded.note
    assert np.array_equal(loaded.pixels, finger)


def test_declared_png_and_tiff_ppi(finger: np.ndarray) -> None:
    png = load_finger_image(_encode(Image.fromarray(finger), "PNG", dpi=(1000, 1000)))
    assert (png.ppi_origin, png.source_ppi) == ("metadata", 1000.0)  # 39370 px/m: 999.998
    assert png.pixels.shape == (64, 64)
    tiff = load_finger_image(_encode(Image.fromarray(finger), "TIFF", dpi=(569, 569)))
    assert (tiff.ppi_origin, tiff.source_ppi) == ("metadata", 569.0)
    anisotropic = load_finger_image(_encode(Image.fromarray(finger), "TIFF", dpi=(1000, 500)))
    assert (anisotropic.source_ppi, anisotropic.source_ppi_y) == (1000.0, 500.0)
    assert anisotropic.pixels.shape == (128, 64)


def test_the_ppi_argument_wins(finger: np.ndarray) -> None:
    data = _encode(Image.fromarray(finger), "PNG", dpi=(1000, 1000))
    loaded = load_finger_image(data, ppi=500)
    assert (loaded.ppi_origin, loaded.source_ppi) == ("argument", 500.0)
    assert np.array_equal(loaded.pixels, finger)
    for bad in (0, -500, float("nan"), 50, 20_000):
        with pytest.raises(ValueError):
            load_finger_image(data, ppi=bad)
    with pytest.raises(ImageDecodeError):
        load_finger_image(b"not an image", ppi=500)


def test_normalise_ppi() -> None:
    assert normalise_ppi(19.69 * 25.4) == 500.0  # ANSI/NIST 19.69 px/mm
    assert normalise_ppi(197 * 2.54) == 500.0  # 197 px/cm
    assert normalise_ppi(999.9974600013716) == 1000.0  # BMP's integer px/m
    assert normalise_ppi(568.98) == 569.0
    assert normalise_ppi(569.4) == 569.4
    assert normalise_ppi(490.0) == 490.0


def test_real_files_resolution(data_dir: Path) -> None:
    tpcard = data_dir / "wsq" / "nist-tpcard" / "tpcard"
    rolled = data_dir / "nist-sd-samples" / "rolled-1000ppi" / "card0001_01.bmp"
    db2 = data_dir / "fvc2002" / "DB2_B" / "101_1.tif"
    for path in (tpcard / "fp-1.wsq", tpcard / "fp-11.wsq", rolled, db2):
        if not path.is_file():
            pytest.skip(f"{path} not found")
    ten_print = load_finger_image((tpcard / "fp-1.wsq").read_bytes())
    assert (ten_print.ppi_origin, ten_print.source_ppi) == ("metadata", 500.0)
    assert ten_print.pixels.shape == (752, 804)
    plain = load_finger_image((tpcard / "fp-11.wsq").read_bytes())  # "PPI 255" in NIST_COM
    assert plain.ppi_origin == "assumed" and plain.pixels.shape == (1000, 392)
    card = load_finger_image(rolled.read_bytes())  # BMP header: 1000 ppi
    assert (card.ppi_origin, card.source_ppi) == ("metadata", 1000.0)
    assert card.pixels.shape == (498, 545)  # 995x1090 halved
    fvc = load_finger_image(db2.read_bytes())  # the TIFF says 1 ppi: the caller must know
    assert fvc.ppi_origin == "assumed"
    fvc = load_finger_image(db2.read_bytes(), ppi=569)
    assert fvc.pixels.shape == (492, 260)
