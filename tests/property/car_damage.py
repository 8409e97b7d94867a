"""Hypothesis strategies that damage a valid CAR the ways lines, scanners and people do."""

from __future__ import annotations

import re

from hypothesis import strategies as st

SEPARATORS = frozenset(b"\x1c\x1d\x1e\x1f:")
_LEN = re.compile(rb"(\d{1,3})\.0{0,2}1:(\d+)\x1d")
# Text fields whose value the strategies replace (keeping every record length right, so
# that the field's own check is what answers).
FIELDS = (
    b"1.008",
    b"1.009",
    b"2.018",
    b"2.020",
    b"2.022",
    b"2.024",
    b"2.027",
    b"2.045",
    b"2.047",
    b"2.073",
    b"14.006",
    b"14.007",
    b"14.011",
    b"14.013",
)


def record_spans(raw: bytes) -> list[tuple[int, int, int, int]]:
    """(start, end, LEN digits start, LEN digits end) of each record of a well-formed CAR."""
    spans = []
    offset = 0
    while offset < len(raw):
        found = _LEN.match(raw, offset)
        assert found, f"not a record start at {offset}"
        length = int(found.group(2))
        spans.append((offset, offset + length, found.start(2), found.end(2)))
        offset += length
    return spans


def replace_field(raw: bytes, tag: bytes, value: bytes) -> bytes:
    """`raw` with field `tag`'s value replaced by `value` and its record's LEN corrected."""
    for start, end, len_start, len_end in record_spans(raw):
        record = raw[start:end]
        at = record.find(b"\x1d" + tag + b":")
        if at < 0:
            continue
        value_start = at + 1 + len(tag) + 1
        value_end = value_start
        while record[value_end] not in (0x1C, 0x1D):
            value_end += 1
        body = record[:value_start] + value + record[value_end:]
        digits = len_end - len_start
        rest = len(body) - digits
        length = rest + len(str(rest + digits))
        length = rest + len(str(length))
        local = len_start - start
        body = body[:local] + str(length).encode() + body[local + digits :]
        assert len(body) == length
        return raw[:start] + body + raw[end:]
    raise KeyError(tag)


def set_record_length(raw: bytes, index: int, length: int) -> bytes:
    spans = record_spans(raw)
    _, _, len_start, len_end = spans[index % len(spans)]
    return raw[:len_start] + str(length).encode() + raw[len_end:]


@st.composite
def damaged(draw: st.DrawFn, valid: bytes) -> tuple[str, bytes]:
    """A damaged copy of `valid`, with the name of the kind of damage."""
    kind = draw(
        st.sampled_from(
            [
                "random",
                "truncated_at_boundary",
                "truncated",
                "bytes_changed",
                "huge_field",
                "non_ascii_field",
                "field_value",
                "wrong_record_length",
                "charges",
                "record_dropped",
                "record_repeated",
                "trailing_bytes",
            ]
        )
    )
    if kind == "random":
        return kind, draw(st.binary(max_size=3000))
    if kind == "truncated_at_boundary":
        cuts = [i for i, b in enumerate(valid) if b in SEPARATORS]
        cut = draw(st.sampled_from(cuts)) + draw(st.integers(-1, 1))
        return kind, valid[: max(cut, 0)]
    if kind == "truncated":
        return kind, valid[: draw(st.integers(0, len(valid) - 1))]
    if kind == "bytes_changed":
        data = bytearray(valid)
        for _ in range(draw(st.integers(1, 6))):
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
        return kind, bytes(data)
    tag = draw(st.sampled_from(FIELDS))
    if kind == "huge_field":
        size = draw(st.sampled_from([301, 1_000, 65_536, 1_000_000]))
        return kind, replace_field(valid, tag, draw(st.sampled_from([b"A", b"9", b" "])) * size)
    if kind == "non_ascii_field":
        text = draw(st.text(st.characters(min_codepoint=0x80, max_codepoint=0x2FFF), min_size=1))
        value = text.encode(draw(st.sampled_from(["utf-8", "utf-16-le", "latin-1"])), "replace")
        return kind, replace_field(valid, tag, value.replace(b"\x1c", b"?").replace(b"\x1d", b"?"))
    if kind == "field_value":
        value = draw(st.binary(max_size=40)).replace(b"\x1c", b"").replace(b"\x1d", b"")
        return kind, replace_field(valid, tag, value)
    if kind == "wrong_record_length":
        index = draw(st.integers(0, 10))
        length = draw(
            st.one_of(st.integers(0, 12), st.integers(0, 2 * len(valid)), st.integers(0, 10**12))
        )
        return kind, set_record_length(valid, index, length)
    if kind == "charges":
        count = draw(st.integers(0, 120))
        literal = draw(st.sampled_from([b"DUI", b"", b"X" * 301, b"THEFT\x1fEXTRA"]))
        value = b"\x1e".join(b"20100501\x1f" + literal for _ in range(count))
        return kind, replace_field(valid, b"2.047", value)
    spans = record_spans(valid)
    index = draw(st.integers(1, len(spans) - 1))
    start, end, _, _ = spans[index]
    if kind == "record_dropped":
        return kind, valid[:start] + valid[end:]
    if kind == "record_repeated":
        return kind, valid[:end] + valid[start:end] + valid[end:]
    return kind, valid + draw(st.binary(min_size=1, max_size=500))
