"""IEEE 488.2 block parsing: any bytes give a block or a specific exception."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.errors import InstrumentError
from drivers.scpi.block import MalformedBlock, TruncatedBlock, parse_block
from tests.drivers.conversation import block


@given(st.binary(max_size=300))
def test_definite_block_round_trips(data: bytes) -> None:
    parsed = parse_block(block(data))
    assert parsed.data == data


@given(st.binary(max_size=64), st.sampled_from([b"\n", b""]))
def test_any_bytes_parse_or_raise_a_specific_error(raw: bytes, terminator: bytes) -> None:
    try:
        parsed = parse_block(raw, terminator)
    except (TruncatedBlock, MalformedBlock):
        return
    assert raw.startswith(b"#")
    assert raw.endswith(terminator)
    assert parsed.data in raw


@given(st.binary(min_size=1, max_size=200), st.data())
def test_every_proper_prefix_is_truncated_with_the_missing_count(data: bytes, draw) -> None:
    whole = block(data)
    cut = draw.draw(st.integers(min_value=0, max_value=len(whole) - 1))
    with pytest.raises(TruncatedBlock) as caught:
        parse_block(whole[:cut])
    missing = caught.value.missing
    if missing is not None:
        assert missing == len(whole) - cut
        assert caught.value.declared == len(data)


@given(st.binary(min_size=1, max_size=40), st.binary(min_size=1, max_size=8))
def test_bytes_after_the_terminator_are_malformed(data: bytes, extra: bytes) -> None:
    with pytest.raises(MalformedBlock):
        parse_block(block(data) + extra)


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        (b"", TruncatedBlock),
        (b"#", TruncatedBlock),
        (b"#4", TruncatedBlock),
        (b"#400", TruncatedBlock),
        (b"#3010abc", TruncatedBlock),
        (b"1.0\n", MalformedBlock),
        (b"#A123", MalformedBlock),
        (b"#30x1abc\n", MalformedBlock),
        (b"#0abc", TruncatedBlock),
        (b"#3003abcX", MalformedBlock),
    ],
)
def test_named_failures(raw: bytes, kind: type[Exception]) -> None:
    with pytest.raises(kind):
        parse_block(raw)


def test_truncated_block_reports_declared_received_and_missing() -> None:
    with pytest.raises(TruncatedBlock) as caught:
        parse_block(b"#210abcd")
    assert (caught.value.declared, caught.value.received, caught.value.missing) == (10, 4, 7)
    assert isinstance(caught.value, InstrumentError)


def test_complete_payload_without_terminator_is_still_due_one_byte() -> None:
    with pytest.raises(TruncatedBlock) as caught:
        parse_block(b"#13abc")
    assert caught.value.missing == 1
    assert parse_block(b"#13abc", terminator=b"").data == b"abc"


def test_indefinite_block_runs_to_the_terminator() -> None:
    parsed = parse_block(b"#0a\nbc\n")
    assert parsed.data == b"a\nbc"
    assert parsed.header_size == 2


def test_newline_inside_the_data_is_data() -> None:
    assert parse_block(b"#15\n\n\n\n\n\n").data == b"\n" * 5
