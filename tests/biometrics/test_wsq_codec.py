"""WSQ through the Pillow plugin: quality, structural checks, and containment of the C decoder."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence

import numpy as np
import pytest

from scomm.biometrics import wsq_codec
from scomm.biometrics.images import ImageDecodeError, decode_image
from scomm.biometrics.wsq_codec import (
    DecodedImageCache,
    WsqError,
    WsqJob,
    check_wsq_stream,
    decode_wsq_images,
    describe_wsq_decoder_error,
    encode_wsq,
)

ImageMaker = Callable[..., np.ndarray]


@pytest.fixture
def stream(textured: ImageMaker) -> bytes:
    return encode_wsq(textured(96, 112))


def test_a_stream_is_decoded_once_and_reused_read_only(
    stream: bytes, textured: ImageMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    decoded_by_child: list[int] = []
    real = wsq_codec._decode_uncached

    def counting(jobs, timeout_s):  # type: ignore[no-untyped-def]
        decoded_by_child.append(len(jobs))
        return real(jobs, timeout_s)

    monkeypatch.setattr(wsq_codec, "_decode_uncached", counting)
    other = encode_wsq(textured(96, 112, seed=9))
    cache = DecodedImageCache()
    first = decode_wsq_images([WsqJob(stream, 112, 96)], cache=cache)
    again = decode_wsq_images([WsqJob(other, 112, 96), WsqJob(stream, 112, 96)], cache=cache)
    assert decoded_by_child == [1, 1]  # the second call decoded only the new stream
    assert again[1] is first[0] and not first[0].flags.writeable
    assert not np.array_equal(again[0], again[1])
    uncached = decode_wsq_images([WsqJob(stream, 112, 96)])  # no cache: decoded afresh
    assert decoded_by_child == [1, 1, 1] and uncached[0] is not first[0]
    if hasattr(os, "fork"):  # a decoder failure names the image's place in the caller's batch

        def crash(job: WsqJob) -> bytes:
            os.kill(os.getpid(), signal.SIGSEGV)
            raise AssertionError("unreachable")

        monkeypatch.setattr(wsq_codec, "_decode_pixels", crash)
        third = encode_wsq(textured(96, 112, seed=10))
        with pytest.raises(WsqError) as caught:
            decode_wsq_images([WsqJob(stream, 112, 96), WsqJob(third, 112, 96)], cache=cache)
        assert caught.value.index == 1 and "crashed" in caught.value.reason


def test_a_cache_keeps_the_most_recently_used_images(textured: ImageMaker) -> None:
    cache = DecodedImageCache(capacity=2)
    streams = [encode_wsq(textured(96, 112, seed=seed)) for seed in (1, 2, 3)]
    jobs = [WsqJob(data, 112, 96) for data in streams]
    first = decode_wsq_images(jobs[:2], cache=cache)
    decode_wsq_images(jobs[:1], cache=cache)  # the first is now the most recent
    decode_wsq_images(jobs[2:], cache=cache)  # so the second one goes
    assert len(cache) == 2
    keys = [DecodedImageCache.key(job) for job in jobs]
    found = cache.find(keys)
    assert sorted(found) == [0, 2] and found[0] is first[0]
    with pytest.raises(ValueError, match="capacity"):
        DecodedImageCache(capacity=-1)


def test_round_trip_quality(textured: ImageMaker) -> None:
    images = [textured(128, 128, seed=1), textured(200, 180, seed=2), textured(64, 300, seed=3)]
    jobs = [WsqJob(encode_wsq(a), a.shape[1], a.shape[0]) for a in images]
    for original, decoded in zip(images, decode_wsq_images(jobs), strict=True):
        assert decoded.shape == original.shape and decoded.dtype == np.uint8
        assert np.abs(decoded.astype(int) - original.astype(int)).mean() < 8.0


def test_in_process_decoding_gives_the_same_pixels(
    stream: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    isolated = decode_wsq_images([WsqJob(stream, 112, 96)])[0]
    monkeypatch.setattr(wsq_codec, "ISOLATE_DECODER", False)
    assert np.array_equal(decode_wsq_images([WsqJob(stream, 112, 96)])[0], isolated)


def test_encoder_refuses_images_too_small_for_wsq() -> None:
    with pytest.raises(WsqError):
        encode_wsq(np.zeros((63, 200), dtype=np.uint8))


def test_empty_batch() -> None:
    assert decode_wsq_images([]) == []


@pytest.mark.parametrize(
    ("damage", "words"),
    [
        (lambda s: s[:2], "truncated"),
        (lambda s: s[:4], "truncated inside a segment header"),
        (lambda s: s[:-10], "truncated inside coded data"),
        (lambda s: b"\x00" + s[1:], "not a WSQ stream"),
        (lambda s: s.replace(b"\xff\xa2\x00\x11", b"\xff\xa2\x00\x12", 1), "frame header"),
        (lambda s: s[:2] + b"\xff\x10" + s[4:], "unexpected bytes ff10"),
    ],
)
def test_structural_damage_is_named(
    stream: bytes, damage: Callable[[bytes], bytes], words: str
) -> None:
    with pytest.raises(WsqError) as caught:
        check_wsq_stream(damage(stream), 112, 96)
    assert words in caught.value.reason


def test_frame_size_must_match_the_record(stream: bytes) -> None:
    with pytest.raises(WsqError) as caught:
        decode_wsq_images([WsqJob(stream, 112, 96), WsqJob(stream, 96, 112)])
    assert caught.value.index == 1
    assert "112x96" in caught.value.reason


def test_huffman_table_id_out_of_range(stream: bytes) -> None:
    at = stream.index(b"\xff\xa6") + 4  # table id byte of the first DHT segment
    damaged = stream[:at] + bytes([200]) + stream[at + 1 :]
    with pytest.raises(WsqError) as caught:
        check_wsq_stream(damaged, 112, 96)
    assert "table id 200" in caught.value.reason


@pytest.mark.skipif(not hasattr(os, "fork"), reason="decoder isolation needs os.fork")
def test_a_crashing_decoder_becomes_an_error(
    stream: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    def crash(job: WsqJob) -> bytes:
        os.kill(os.getpid(), signal.SIGSEGV)
        raise AssertionError("unreachable")

    monkeypatch.setattr(wsq_codec, "_decode_pixels", crash)
    with pytest.raises(WsqError) as caught:
        decode_wsq_images([WsqJob(stream, 112, 96)])
    assert "crashed" in caught.value.reason


@pytest.mark.skipif(not hasattr(os, "fork"), reason="decoder isolation needs os.fork")
def test_a_hanging_decoder_is_stopped(stream: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    def hang(job: WsqJob) -> bytes:
        time.sleep(60)
        return b""

    monkeypatch.setattr(wsq_codec, "_decode_pixels", hang)
    started = time.monotonic()
    with pytest.raises(WsqError) as caught:
        decode_wsq_images([WsqJob(stream, 112, 96)], timeout_s=0.5)
    assert "timed out" in caught.value.reason
    assert time.monotonic() - started < 5


def test_single_byte_corruptions_never_escape(stream: bytes) -> None:
    """The C decoder segfaults on some of these; none may take the test process down."""
    rng = np.random.default_rng(7)
    positions = rng.choice(len(stream), size=60, replace=False)
    outcomes = {"decoded": 0, "rejected": 0}
    for position in positions:
        damaged = bytearray(stream)
        damaged[position] ^= int(rng.integers(1, 256))
        try:
            decode_wsq_images([WsqJob(bytes(damaged), 112, 96)])
            outcomes["decoded"] += 1
        except WsqError:
            outcomes["rejected"] += 1
    assert sum(outcomes.values()) == 60


def _decoder_failure(stream: bytes) -> tuple[bytes, WsqError]:
    """A damaged copy of `stream` whose marker structure stays intact (the Python checks
    pass) but which the native decoder refuses with an error code, and that refusal: the
    first byte of the first block's coded data, inverted, whose damage does that (the
    decoder reads through some damage and crashes on other damage)."""
    start = stream.index(b"\xff\xa3") + 5  # SOB marker, length u16, Huffman table id
    for at in range(start, start + 200):
        damaged = stream[:at] + bytes([stream[at] ^ 0xFF]) + stream[at + 1 :]
        try:
            check_wsq_stream(damaged, 112, 96)
            decode_wsq_images([WsqJob(damaged, 112, 96)])  # isolated: a crash is an error
        except WsqError as error:
            if "WSQ decoder error code" in error.reason:
                return damaged, error
    raise AssertionError("no single-byte damage made the native decoder fail")


@pytest.mark.skipif(not hasattr(os, "fork"), reason="decoder isolation needs os.fork")
def test_decoder_failures_are_said_in_words(stream: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    damaged, _ = _decoder_failure(stream)
    for isolate in (True, False):  # the same words from the child process and in-process
        monkeypatch.setattr(wsq_codec, "ISOLATE_DECODER", isolate)
        with pytest.raises(WsqError) as caught:
            decode_wsq_images([WsqJob(stream, 112, 96), WsqJob(damaged, 112, 96)])
        assert caught.value.index == 1
        reason = caught.value.reason
        assert reason.startswith("undecodable WSQ image: ")
        assert any(
            f"{words} (WSQ decoder error code {code})" in reason
            for code, words in wsq_codec.WSQ_DECODER_ERRORS.items()
        )
        assert "WSQ Error:" not in reason
        assert "Exception" not in reason
    with pytest.raises(ImageDecodeError) as image_error:
        decode_image(damaged)
    assert "(WSQ decoder error code -" in str(image_error.value)
    assert "WSQ Error:" not in str(image_error.value)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("Exception: WSQ Error: -51", "undefined Huffman table"),
        ("WSQ Error: -52", "invalid Huffman code (WSQ decoder error code -52)"),
        ("Exception: WSQ Error: -88", "does not start with the SOI marker (WSQ decoder error"),
        ("Exception: WSQ Error: -39", "stream ends early"),
        ("Exception: WSQ Error: -7", "unknown WSQ decoder error (code -7)"),
        ("Exception: WSQ Error: 12", "unknown WSQ decoder error (code 12)"),
        ("ValueError: buffer too small", "ValueError: buffer too small"),
    ],
)
def test_decoder_codes_become_words(text: str, words: str) -> None:
    described = describe_wsq_decoder_error(text)
    assert words in described
    assert "WSQ Error:" not in described


@pytest.mark.skipif(not hasattr(os, "fork"), reason="decoder isolation needs os.fork")
def test_the_decoder_forked_from_the_fork_server_is_as_isolated(
    stream: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`scomm serve` forks the decoder from multiprocessing's fork server, not from its own
    large heap: the same pixels; a decoder that dies (here: killed as it starts) or hangs is
    an ordinary error; the server lives on; after the block this process forks it again."""
    forked = decode_wsq_images([WsqJob(stream, 112, 96)])[0]

    class KilledAtOnce(wsq_codec._ServedDecoder):
        def __init__(self, jobs: Sequence[WsqJob]) -> None:
            super().__init__(jobs)
            assert self.process.pid is not None and self.process.pid != os.getpid()
            os.kill(self.process.pid, signal.SIGSEGV)

    def not_here(jobs: object) -> None:
        raise AssertionError("the decoder was forked from the test process")

    with monkeypatch.context() as patched, wsq_codec.decoding_from_fork_server():
        patched.setattr(wsq_codec, "_ForkedDecoder", not_here)
        assert np.array_equal(decode_wsq_images([WsqJob(stream, 112, 96)])[0], forked)
        with monkeypatch.context() as killing:
            killing.setattr(wsq_codec, "_ServedDecoder", KilledAtOnce)
            with pytest.raises(WsqError) as caught:
                decode_wsq_images([WsqJob(stream, 112, 96)])
        assert caught.value.index == 0
        assert caught.value.reason == "WSQ decoder crashed on this image (signal 11)"
        with pytest.raises(WsqError) as late:
            decode_wsq_images([WsqJob(stream, 112, 96)], timeout_s=1e-6)
        assert "timed out" in late.value.reason
        assert np.array_equal(decode_wsq_images([WsqJob(stream, 112, 96)])[0], forked)
    assert not wsq_codec._FROM_FORKSERVER
    forked_again: list[int] = []
    real = wsq_codec._ForkedDecoder

    def counted(jobs: Sequence[WsqJob]) -> object:
        forked_again.append(len(jobs))
        return real(jobs)

    monkeypatch.setattr(wsq_codec, "_ForkedDecoder", counted)
    assert np.array_equal(decode_wsq_images([WsqJob(stream, 112, 96)])[0], forked)
    assert forked_again == [1]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice is Linux's")
def test_the_served_decoder_is_as_nice_as_the_thread_that_asks(textured: ImageMaker) -> None:
    """The fork server was started by an ordinary thread; a decode that `scomm serve`'s
    nicer dispatcher thread asks for runs as nice as that thread, as its own fork did."""
    big = encode_wsq(textured(1200, 1200))  # 1.4 MB of pixels: more than a pipe holds, so
    seen: list[int] = []  # the child waits to write them while the test looks at it
    failed: list[BaseException] = []

    def niced_caller() -> None:
        try:
            look()
        except BaseException as error:  # seen by the test's thread, not lost in this one
            failed.append(error)

    def look() -> None:
        me = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, me, os.getpriority(os.PRIO_PROCESS, me) + 3)
        wanted = os.getpriority(os.PRIO_PROCESS, me)
        decoder = wsq_codec._ServedDecoder([WsqJob(big, 1200, 1200)])
        try:
            pid = decoder.process.pid
            assert pid is not None
            for _ in range(500):  # it sets its niceness first thing; 5 s at most
                if os.getpriority(os.PRIO_PROCESS, pid) == wanted:
                    break
                time.sleep(0.01)
            seen.extend([os.getpriority(os.PRIO_PROCESS, pid), wanted])
        finally:
            decoder.close()

    with wsq_codec.decoding_from_fork_server():
        caller = threading.Thread(target=niced_caller)
        caller.start()
        caller.join()
    if failed:
        raise failed[0]
    server_nice = os.getpriority(os.PRIO_PROCESS, 0)
    assert len(seen) == 2 and seen[0] == seen[1] == min(19, server_nice + 3)
