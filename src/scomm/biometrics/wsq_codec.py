"""WSQ finger images through the `wsq` Pillow plugin, with the native decoder kept at arm's length.

The plugin wraps NIST's C WSQ codec. On malformed input that C code can read or
write out of bounds: a single corrupted byte in a table or in the entropy-coded
data is enough to kill the whole Python process with SIGSEGV (or spin forever).
A transaction arriving from outside must not be able to do that, so decoding
(1) walks the WSQ marker structure in Python first, rejecting what the C code is
known to mishandle (frame size disagreeing with the record, Huffman tables with
impossible ids or code counts, blocks referring to undefined tables, truncation),
and (2) where `os.fork` exists, runs the C decoder in a short-lived child process
with a deadline, so a crash or a hang becomes an ordinary error. The child also
swallows the C library's chatter on stderr.

Each hop of a booking (SIB, CJIS, IDENT) reads the same images, so a caller may hand
`decode_wsq_images` a `DecodedImageCache`: it keeps the last images decoded through it,
keyed by a digest of their bytes and frame size, so a stream decoded once is not decoded
again (the arrays are read-only).  The cache is an object its owner creates (the system
creates one and shares it among its actors), never module state.
"""

from __future__ import annotations

import contextlib
import faulthandler
import hashlib
import io
import multiprocessing
import os
import re
import select
import signal
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection

import numpy as np
import numpy.typing as npt
import wsq  # noqa: F401  (registers the WSQ format with Pillow)
from PIL import Image

from scomm.biometrics.errors import BiometricsError

PixelArray = npt.NDArray[np.uint8]

# The bundled encoder produces garbage (or fails) for images smaller than this on a side.
WSQ_MIN_SIDE = 64
# Total time allowed for the isolated decoder to decode all images of one transaction.
WSQ_DECODE_TIMEOUT_S = 30.0
# Run the native decoder in a child process (POSIX only).
ISOLATE_DECODER: bool = hasattr(os, "fork")
# Where that child is forked from: this process (the default), or, while
# `decoding_from_fork_server` is in force, multiprocessing's fork server, a small process that
# imported only this module and the caller's `__main__`. A long-running service with a large
# heap (`scomm serve`) runs under it: its own fork held the GIL for about 13 ms and then made
# every page its threads wrote, while the child decoded, a copy-on-write fault (issue 15 item
# 6: a CAR's acceptance that held the write lock at that moment took 40-55 ms instead of 8).
_FROM_FORKSERVER = False
# Decoded images a cache keeps by default (a 448 x 576 rolled print is 258 kB: about 16 MB).
DECODED_CACHE_IMAGES = 64
# Whole decoded transactions it keeps by default (their images are held by the same arrays).
DECODED_TRANSACTIONS = 16

_CacheKey = tuple[bytes, int, int]

_SOI = 0xA0
_EOI = 0xA1
_SOF = 0xA2
_SOB = 0xA3
_DTT = 0xA4
_DQT = 0xA5
_DHT = 0xA6
_DRT = 0xA7
_COM = 0xA8
_MAX_HUFFMAN_TABLES = 8
_DQT_SEGMENT_LENGTH = 389  # 2 (length) + 3 (bin centre) + 64 subbands x 6
_SOF_SEGMENT_LENGTH = 17
_SOB_SEGMENT_LENGTH = 3
_STANDARD_FILTER_TAPS = frozenset({7, 9})


# What the NBIS WSQ decoder (wrapped by the `wsq` package, which reports a failure as
# "WSQ Error: <code>") means by its return codes, read from NBIS's decoder sources
# (decoder.c, tableio.c, huff.c, dataio.c, util.c). Some codes are reused by two routines
# of the decode path; their words name both causes.
WSQ_DECODER_ERRORS: dict[int, str] = {
    -1: "Huffman table holds an all-ones code, which the WSQ specification forbids",
    -2: "Huffman table is empty or defines a table id a second time",
    -3: "decoder ran out of memory reading a Huffman table",
    -4: "Huffman table declares more code values than the decoder allows",
    -5: "decoder ran out of memory reading Huffman table values",
    -20: "decoder ran out of memory for the image",
    -39: "stream ends early (a byte is missing)",
    -40: "stream ends early (a run of bytes is missing)",
    -41: "coded data has a 0xFF byte without its stuffed zero",
    -51: "a coded block refers to an undefined Huffman table: its coded data or block header "
    "is damaged",
    -52: "coded data holds an invalid Huffman code",
    -88: "stream does not start with the SOI marker",
    -89: "expected a frame header, table or comment marker",
    -90: "expected a block header, table or comment marker",
    -91: "no marker where one was expected (or out of memory while dequantising)",
    -92: "marker not allowed at this place (or quantization table not defined)",
    -93: "invalid marker or table (or an invalid quantized coefficient)",
    -94: "decoder ran out of memory reading the transform table",
    -95: "decoder ran out of memory, or the low-pass filter is not defined",
    -96: "decoder ran out of memory, or the high-pass filter is not defined",
    -97: "decoder ran out of memory reconstructing the image",
}

_DECODER_CODE = re.compile(r"(?:Exception: )?WSQ Error: (-?\d+)")


def describe_wsq_decoder_error(text: str) -> str:
    """`text` with each bare "WSQ Error: N" of the native decoder replaced by words, the code
    kept in parentheses ("unknown WSQ decoder error (code N)" for a code not in the table)."""

    def words(match: re.Match[str]) -> str:
        code = int(match.group(1))
        known = WSQ_DECODER_ERRORS.get(code)
        if known is None:
            return f"unknown WSQ decoder error (code {code})"
        return f"{known} (WSQ decoder error code {code})"

    return _DECODER_CODE.sub(words, text)


class WsqError(BiometricsError, ValueError):
    """WSQ data that cannot be encoded or decoded; `index` is the image's place in its batch."""

    def __init__(self, reason: str, index: int = 0) -> None:
        super().__init__(reason)
        self.reason = reason
        self.index = index


@dataclass(frozen=True)
class WsqJob:
    """One WSQ stream to decode and the frame size its Type-14 record declares."""

    data: bytes
    width: int
    height: int


class DecodedImageCache:
    """The last `capacity` images decoded through it, least recently used dropped first;
    safe to share between threads. It also keeps the last `transactions` whole
    transactions decoded through it (`scomm.nist.car.decode_tenprint`: an immutable
    decoded value by the digest of the bytes), so that the actors that read the same bytes
    (CJIS, then IDENT) parse them once."""

    def __init__(
        self, capacity: int = DECODED_CACHE_IMAGES, transactions: int = DECODED_TRANSACTIONS
    ) -> None:
        if capacity < 0:
            raise ValueError(f"capacity must be >= 0, got {capacity}")
        self.capacity = capacity
        self.transaction_capacity = max(0, transactions)
        self._images: OrderedDict[_CacheKey, PixelArray] = OrderedDict()
        self._transactions: OrderedDict[bytes, object] = OrderedDict()
        self._lock = threading.Lock()

    def transaction(self, digest: bytes) -> object | None:
        """The decoded transaction kept under `digest`, or None."""
        with self._lock:
            found = self._transactions.get(digest)
            if found is not None:
                self._transactions.move_to_end(digest)
            return found

    def keep_transaction(self, digest: bytes, decoded: object) -> None:
        with self._lock:
            self._transactions[digest] = decoded
            self._transactions.move_to_end(digest)
            while len(self._transactions) > self.transaction_capacity:
                self._transactions.popitem(last=False)

    def __len__(self) -> int:
        return len(self._images)

    @staticmethod
    def key(job: WsqJob) -> _CacheKey:
        return hashlib.blake2b(job.data, digest_size=16).digest(), job.width, job.height

    def find(self, keys: Sequence[_CacheKey]) -> dict[int, PixelArray]:
        """The cached image of each key found, by the key's index in `keys`."""
        found: dict[int, PixelArray] = {}
        with self._lock:
            for index, key in enumerate(keys):
                hit = self._images.get(key)
                if hit is not None:
                    self._images.move_to_end(key)
                    found[index] = hit
        return found

    def keep(self, key: _CacheKey, pixels: PixelArray) -> None:
        with self._lock:
            self._images[key] = pixels
            self._images.move_to_end(key)
            while len(self._images) > self.capacity:
                self._images.popitem(last=False)


def encode_wsq(pixels: PixelArray) -> bytes:
    """Compress an 8-bit grey image (HxW, both sides >= 64) to a WSQ stream."""
    height, width = pixels.shape
    if height < WSQ_MIN_SIDE or width < WSQ_MIN_SIDE:
        raise WsqError(
            f"WSQ needs an image of at least {WSQ_MIN_SIDE}x{WSQ_MIN_SIDE} pixels, "
            f"got {width}x{height} (use compression NONE or PNG)"
        )
    out = io.BytesIO()
    try:
        Image.fromarray(np.ascontiguousarray(pixels, dtype=np.uint8)).save(out, format="WSQ")
    except Exception as exc:  # the plugin raises bare Exception("WSQ Error: -33")
        raise WsqError(f"WSQ encoder failed: {exc}") from exc
    return out.getvalue()


def wsq_frame_size(data: bytes) -> tuple[int, int]:
    """(width, height) from a WSQ stream's frame header, for streams that arrive without a
    record around them; WsqError when there is no readable frame header."""
    n = len(data)
    if n < 2 or data[0] != 0xFF or data[1] != _SOI:
        raise WsqError("not a WSQ stream (missing SOI marker FFA0)")
    pos = 2
    while pos + 4 <= n and data[pos] == 0xFF:
        marker = data[pos + 1]
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        if marker == _SOF:
            if length != _SOF_SEGMENT_LENGTH or pos + 2 + length > n:
                raise WsqError("WSQ frame header is damaged")
            segment = data[pos + 4 : pos + 2 + length]
            return int.from_bytes(segment[4:6], "big"), int.from_bytes(segment[2:4], "big")
        if marker in (_SOB, _EOI) or length < 2:
            break
        pos += 2 + length
    raise WsqError("WSQ stream has no frame header before its image data")


def check_wsq_stream(data: bytes, width: int, height: int) -> None:
    """Walk the WSQ markers; raise WsqError unless the stream is well formed and width x height."""
    n = len(data)
    if n < 2 or data[0] != 0xFF or data[1] != _SOI:
        raise WsqError("not a WSQ stream (missing SOI marker FFA0)")
    pos = 2
    frame_seen = False
    transform_seen = False
    quantization_seen = False
    huffman_ids: set[int] = set()
    blocks = 0
    while True:
        if pos + 2 > n:
            raise WsqError("WSQ stream truncated (no EOI marker FFA1)")
        if data[pos] != 0xFF or not _SOI < data[pos + 1] <= _COM:
            raise WsqError(f"unexpected bytes {data[pos : pos + 2].hex()} at WSQ offset {pos}")
        marker = data[pos + 1]
        pos += 2
        if marker == _EOI:
            break
        if pos + 2 > n:
            raise WsqError("WSQ stream truncated inside a segment header")
        length = int.from_bytes(data[pos : pos + 2], "big")
        if length < 2 or pos + length > n:
            raise WsqError(f"WSQ segment FF{marker:02X} at offset {pos - 2} overruns the stream")
        segment = data[pos + 2 : pos + length]
        pos += length
        if marker == _SOF:
            if frame_seen:
                raise WsqError("WSQ stream has two frame headers")
            _check_frame(length, segment, width, height)
            frame_seen = True
        elif marker == _DTT:
            _check_transform_table(length, segment)
            transform_seen = True
        elif marker == _DQT:
            if length != _DQT_SEGMENT_LENGTH:
                raise WsqError(f"WSQ quantization table has length {length}")
            quantization_seen = True
        elif marker == _DHT:
            huffman_ids.update(_check_huffman_tables(segment))
        elif marker == _SOB:
            if not (frame_seen and transform_seen and quantization_seen):
                raise WsqError("WSQ block before its frame header and tables")
            if length != _SOB_SEGMENT_LENGTH:
                raise WsqError(f"WSQ block header has length {length}")
            if segment[0] not in huffman_ids:
                raise WsqError(f"WSQ block uses undefined Huffman table {segment[0]}")
            blocks += 1
            pos = _skip_entropy_coded_data(data, pos)
        # DRT and COM segments carry nothing the decoder depends on.
    if not frame_seen or blocks == 0:
        raise WsqError("WSQ stream has no frame header or no coded block")


def _check_frame(length: int, segment: bytes, width: int, height: int) -> None:
    if length != _SOF_SEGMENT_LENGTH:
        raise WsqError(f"WSQ frame header has length {length}")
    frame_height = int.from_bytes(segment[2:4], "big")
    frame_width = int.from_bytes(segment[4:6], "big")
    if (frame_width, frame_height) != (width, height):
        raise WsqError(
            f"WSQ frame is {frame_width}x{frame_height} but the record declares {width}x{height}"
        )


def _check_transform_table(length: int, segment: bytes) -> None:
    if len(segment) < 2:
        raise WsqError("WSQ transform table too short")
    taps_a, taps_b = segment[0], segment[1]
    if taps_a not in _STANDARD_FILTER_TAPS or taps_b not in _STANDARD_FILTER_TAPS:
        raise WsqError(f"WSQ transform table has non-standard filter lengths {taps_a}/{taps_b}")
    expected = 4 + 6 * ((taps_a + 1) // 2 + (taps_b + 1) // 2)
    if length != expected:
        raise WsqError(f"WSQ transform table has length {length}, expected {expected}")


def _check_huffman_tables(segment: bytes) -> set[int]:
    ids: set[int] = set()
    off = 0
    if not segment:
        raise WsqError("empty WSQ Huffman table segment")
    while off < len(segment):
        if off + 17 > len(segment):
            raise WsqError("WSQ Huffman table truncated")
        table_id = segment[off]
        counts = segment[off + 1 : off + 17]
        total = sum(counts)
        if table_id >= _MAX_HUFFMAN_TABLES:
            raise WsqError(f"WSQ Huffman table id {table_id} out of range")
        if not 0 < total <= 256:
            raise WsqError(f"WSQ Huffman table {table_id} declares {total} codes")
        # Kraft inequality: the code lengths must describe a prefix code.
        kraft = sum(count << (16 - bits) for bits, count in enumerate(counts, start=1))
        if kraft > 1 << 16:
            raise WsqError(f"WSQ Huffman table {table_id} is not a valid prefix code")
        off += 17 + total
        if off > len(segment):
            raise WsqError(f"WSQ Huffman table {table_id} truncated")
        ids.add(table_id)
    return ids


def _skip_entropy_coded_data(data: bytes, pos: int) -> int:
    """Offset of the marker after the entropy-coded data at `pos` (FF00 is a stuffed FF)."""
    while True:
        ff = data.find(b"\xff", pos)
        if ff < 0 or ff + 1 >= len(data):
            raise WsqError("WSQ stream truncated inside coded data")
        if data[ff + 1] != 0x00:
            return ff
        pos = ff + 2


def decode_wsq_images(
    jobs: Sequence[WsqJob],
    timeout_s: float = WSQ_DECODE_TIMEOUT_S,
    cache: DecodedImageCache | None = None,
) -> list[PixelArray]:
    """Decode WSQ streams to HxW uint8 arrays (read-only); WsqError (with `index`) for the
    first bad one.  With a `cache`, streams it holds are not decoded again."""
    for index, job in enumerate(jobs):
        try:
            check_wsq_stream(job.data, job.width, job.height)
        except WsqError as exc:
            raise WsqError(exc.reason, index) from exc
    if not jobs:
        return []
    keys = [DecodedImageCache.key(job) for job in jobs] if cache is not None else []
    found = cache.find(keys) if cache is not None else {}
    missing = [index for index in range(len(jobs)) if index not in found]
    try:
        decoded = _decode_uncached([jobs[index] for index in missing], timeout_s)
    except WsqError as exc:
        raise WsqError(exc.reason, missing[exc.index]) from exc
    for index, pixels in zip(missing, decoded, strict=True):
        pixels.flags.writeable = False
        found[index] = pixels
        if cache is not None:
            cache.keep(keys[index], pixels)
    return [found[index] for index in range(len(jobs))]


def _decode_uncached(jobs: Sequence[WsqJob], timeout_s: float) -> list[PixelArray]:
    if not jobs:
        return []
    if ISOLATE_DECODER:
        return _decode_in_child(jobs, timeout_s)
    results: list[PixelArray] = []
    for index, job in enumerate(jobs):
        try:
            raw = _decode_pixels(job)
        except Exception as exc:
            reason = describe_wsq_decoder_error(f"{type(exc).__name__}: {exc}")
            raise WsqError(f"undecodable WSQ image: {reason}", index) from exc
        results.append(_as_array(raw, job))
    return results


def _decode_pixels(job: WsqJob) -> bytes:
    with Image.open(io.BytesIO(job.data), formats=["WSQ"]) as image:
        if image.size != (job.width, job.height):
            raise WsqError(f"WSQ frame is {image.size[0]}x{image.size[1]}")
        image.load()
        if image.mode != "L":
            raise WsqError(f"WSQ decoded to mode {image.mode}")
        raw = image.tobytes()
    if len(raw) != job.width * job.height:
        raise WsqError(f"WSQ decoded to {len(raw)} bytes")
    return raw


def _as_array(raw: bytes, job: WsqJob) -> PixelArray:
    return np.frombuffer(raw, dtype=np.uint8).reshape(job.height, job.width)


# --- isolated decoding -------------------------------------------------------------

_OK = 0
_FAILED = 1
_HEAD = 9  # status byte + 8-byte payload length


@contextlib.contextmanager
def decoding_from_fork_server() -> Iterator[None]:
    """Until the block ends, fork the isolated decoder from multiprocessing's fork server
    (started here, with this module imported, so the first decode does not wait for it),
    not from this process. For a process whose heap is large and whose other threads must
    not stall while a decode runs; the isolation is the same (a crash or a hang of the
    native code is an ordinary `WsqError`)."""
    global _FROM_FORKSERVER
    from multiprocessing import forkserver

    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["__main__", __name__])  # __main__: imported once, there
    forkserver.ensure_running()
    previous, _FROM_FORKSERVER = _FROM_FORKSERVER, True
    try:
        yield
    finally:
        _FROM_FORKSERVER = previous


class _ForkedDecoder:
    """The decoding child forked from this process; `fd`: the pipe it writes to."""

    def __init__(self, jobs: Sequence[WsqJob]) -> None:
        self.fd, write_fd = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:  # child: decode, stream results, never return into the caller's code
            try:
                os.close(self.fd)
                _child_main(jobs, write_fd)
            finally:
                os._exit(0)
        os.close(write_fd)

    def failure(self) -> str:
        return _child_failure(self.pid)

    def close(self) -> None:
        os.close(self.fd)
        _reap(self.pid)


class _ServedDecoder:
    """The decoding child forked from multiprocessing's fork server
    (`decoding_from_fork_server`); `fd`: the pipe it writes to. It runs as nice as the
    thread that asks for it, as a child forked from that thread would: `scomm serve`'s
    dispatcher thread is nicer than its requests' threads, and so are its decodes."""

    def __init__(self, jobs: Sequence[WsqJob]) -> None:
        context = multiprocessing.get_context("forkserver")
        self.reader, writer = context.Pipe(duplex=False)
        self.process = context.Process(
            target=_served_child_main, args=(jobs, writer, _thread_niceness())
        )
        self.process.daemon = True
        try:
            self.process.start()
        finally:
            writer.close()
        self.fd = self.reader.fileno()

    def failure(self) -> str:
        self.process.join()
        code = self.process.exitcode
        return _failure_words(-code if code is not None and code < 0 else None)

    def close(self) -> None:
        self.reader.close()
        if self.process.is_alive():
            self.process.kill()
        self.process.join()
        self.process.close()


def _thread_niceness() -> int:
    """The calling thread's nice value (Linux keeps one per thread); 0 elsewhere, or
    where it cannot be read."""
    if not sys.platform.startswith("linux"):  # a thread id is no process id elsewhere
        return 0
    try:
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    except (AttributeError, OSError):
        return 0


def _served_child_main(jobs: Sequence[WsqJob], connection: Connection, niceness: int) -> None:
    try:
        with contextlib.suppress(AttributeError, OSError):  # only ever nicer than the server
            if niceness > os.getpriority(os.PRIO_PROCESS, 0):
                os.setpriority(os.PRIO_PROCESS, 0, niceness)
        _child_main(jobs, connection.fileno())
    finally:
        os._exit(0)


def _decode_in_child(jobs: Sequence[WsqJob], timeout_s: float) -> list[PixelArray]:
    child = _ServedDecoder(jobs) if _FROM_FORKSERVER else _ForkedDecoder(jobs)
    read_fd = child.fd
    deadline = time.monotonic() + timeout_s
    try:
        results: list[PixelArray] = []
        for index, job in enumerate(jobs):
            head = _read_exact(read_fd, _HEAD, deadline)
            if head is None:
                raise WsqError(child.failure(), index)
            status, size = head[0], int.from_bytes(head[1:], "big")
            expected = job.width * job.height if status == _OK else 4096
            if size > expected:
                raise WsqError(f"WSQ decoder returned {size} bytes", index)
            payload = _read_exact(read_fd, size, deadline)
            if payload is None:
                raise WsqError(child.failure(), index)
            if status != _OK:
                reason = describe_wsq_decoder_error(payload.decode("utf-8", "replace"))
                raise WsqError(f"undecodable WSQ image: {reason}", index)
            if size != expected:
                raise WsqError(f"WSQ decoder returned {size} bytes, expected {expected}", index)
            results.append(_as_array(payload, job))
        return results
    except TimeoutError as exc:
        raise WsqError("WSQ decoder timed out", len(results)) from exc
    finally:
        child.close()


def _child_main(jobs: Sequence[WsqJob], write_fd: int) -> None:
    faulthandler.disable()  # a crash here is expected and reported by the parent
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # no core files from expected crashes
    except (ImportError, ValueError, OSError):
        pass
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)  # the C codec prints "ERROR : ..." lines for every bad stream
    for job in jobs:
        try:
            raw = _decode_pixels(job)
        except BaseException as exc:  # report and stop: the parent raises on the first failure
            text = f"{type(exc).__name__}: {exc}".encode("utf-8", "replace")[:4096]
            _write_all(write_fd, bytes([_FAILED]) + len(text).to_bytes(8, "big") + text)
            return
        _write_all(write_fd, bytes([_OK]) + len(raw).to_bytes(8, "big"))
        _write_all(write_fd, raw)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _read_exact(fd: int, size: int, deadline: float) -> bytes | None:
    """Read `size` bytes; None at end of file; TimeoutError past `deadline`."""
    chunks: list[bytes] = []
    remaining = size
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLHUP | select.POLLERR)
    while remaining > 0:
        wait_s = deadline - time.monotonic()
        if wait_s <= 0 or not poller.poll(wait_s * 1000.0):
            raise TimeoutError
        chunk = os.read(fd, min(remaining, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def _child_failure(pid: int) -> str:
    try:
        done, status = os.waitpid(pid, 0)
    except ChildProcessError:
        return _failure_words(None)
    return _failure_words(os.WTERMSIG(status) if done and os.WIFSIGNALED(status) else None)


def _failure_words(signal_number: int | None) -> str:
    """Why the decoding child gave no answer: the signal that killed it, if one did."""
    if signal_number is not None:
        return f"WSQ decoder crashed on this image (signal {signal_number})"
    return "WSQ decoder stopped unexpectedly"


def _reap(pid: int) -> None:
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == 0:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
    except ChildProcessError:
        pass  # already reaped by _child_failure
