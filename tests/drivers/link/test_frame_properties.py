"""Property tests: whatever arrives, the codec yields frames, counted rejections or FrameError."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drivers.link.cobs import CobsError, cobs_decode, cobs_encode
from drivers.link.frame import (
    MAX_PAYLOAD,
    MAX_WIRE,
    Frame,
    FrameDecoder,
    FrameError,
    decode_frame,
    encode_frame,
    from_wire,
    to_wire,
)
from drivers.link.messages import PAYLOAD_CLASSES, ArmChallenge, PayloadError, WaveChunk

pytestmark = pytest.mark.timeout(120)
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

frames = st.builds(
    Frame,
    msg_type=st.integers(0, 255),
    session=st.integers(0, 0xFFFF),
    seq=st.integers(0, 0xFFFF),
    ref_seq=st.integers(0, 0xFFFF),
    payload=st.binary(max_size=MAX_PAYLOAD),
    flags=st.integers(0, 15),
)

# Streams mixing real frames, noise and delimiters, cut at arbitrary points.
pieces = st.one_of(
    frames.map(to_wire),
    st.binary(max_size=64),
    st.just(b"\x00"),
    st.binary(min_size=MAX_WIRE - 4, max_size=MAX_WIRE + 40).map(lambda b: b.replace(b"\0", b"\1")),
)


@FAST
@given(frame=frames)
def test_round_trip(frame: Frame) -> None:
    wire = to_wire(frame)
    assert len(wire) <= MAX_WIRE
    assert wire.index(0) == len(wire) - 1
    assert from_wire(wire[:-1]) == frame
    assert decode_frame(encode_frame(frame)) == frame


@FAST
@given(data=st.binary(max_size=2000))
def test_cobs_round_trip(data: bytes) -> None:
    encoded = cobs_encode(data)
    assert 0 not in encoded
    assert len(encoded) <= len(data) + 1 + len(data) // 254
    assert cobs_decode(encoded) == data


@FAST
@given(chunk=st.binary(max_size=1200))
def test_cobs_decode_of_noise_raises_only_cobs_error(chunk: bytes) -> None:
    try:
        data = cobs_decode(chunk)
    except CobsError:
        return
    assert len(data) <= len(chunk)


@FAST
@given(chunk=st.binary(max_size=1200))
def test_from_wire_of_noise_raises_only_frame_error(chunk: bytes) -> None:
    try:
        frame = from_wire(chunk)
    except FrameError as exc:
        assert exc.reason in {"bad_cobs", "bad_length", "bad_crc", "bad_version", "oversize"}
    else:
        assert len(frame.payload) <= MAX_PAYLOAD


@FAST
@given(parts=st.lists(pieces, max_size=12), cuts=st.lists(st.integers(1, 300), max_size=40))
def test_decoder_never_fails_and_stays_bounded(parts: list[bytes], cuts: list[int]) -> None:
    stream = b"".join(parts)
    decoder = FrameDecoder()
    got: list[Frame] = []
    pos = 0
    for cut in [*cuts, len(stream)]:
        got += decoder.feed(stream[pos : pos + cut])
        pos += cut
        assert len(decoder._buffer) < MAX_WIRE
    got += decoder.feed(stream[pos:])
    # Every delimited chunk is either a frame or exactly one counted rejection.
    chunks = [c for c in stream.split(b"\x00")[:-1] if c]
    assert len(got) + decoder.rejected_total == len(chunks)


@FAST
@given(parts=st.lists(frames, min_size=1, max_size=6), noise=st.binary(max_size=80))
def test_frames_after_noise_survive(parts: list[Frame], noise: bytes) -> None:
    # Noise then a delimiter costs at most the noise: every real frame after it decodes.
    decoder = FrameDecoder()
    out = list(decoder.feed(noise + b"\x00" + b"".join(to_wire(f) for f in parts)))
    assert out[-len(parts) :] == parts


@FAST
@given(msg_type=st.sampled_from(sorted(PAYLOAD_CLASSES)), payload=st.binary(max_size=1100))
def test_payload_decoding_raises_only_payload_error(msg_type: int, payload: bytes) -> None:
    cls = PAYLOAD_CLASSES[msg_type]
    try:
        message = cls.unpack(payload)
    except PayloadError:
        return
    assert message.pack() == payload or cls is WaveChunk  # WAVE_CHUNK zeroes its rsv field


@FAST
@given(data=st.data())
def test_fixed_payloads_round_trip(data: st.DataObject) -> None:
    cls = data.draw(st.sampled_from(sorted(PAYLOAD_CLASSES.values(), key=lambda c: c.TYPE)))
    if cls is WaveChunk:
        n = data.draw(st.integers(0, 498))
        payload = data.draw(st.binary(min_size=24, max_size=24))
        payload += (
            n.to_bytes(2, "little") + b"\0\0" + data.draw(st.binary(min_size=2 * n, max_size=2 * n))
        )
    elif cls is ArmChallenge:
        payload = data.draw(st.binary(min_size=40, max_size=40))
    else:
        size = cls.FORMAT.size  # type: ignore[union-attr]
        payload = data.draw(st.binary(min_size=size, max_size=size))
    assert cls.unpack(payload).pack() == payload
