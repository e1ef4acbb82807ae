"""Fuzzing the parsers that take bytes or text from outside: each gives a value or its own error.

- firmware-link frames: any chunking of a stream decodes the same; a frame
  altered in one byte is never taken for a frame; any payload decodes or
  raises `PayloadError`;
- SCPI blocks: a reader that waits for what `TruncatedBlock` says is missing
  gets the block without reading past it; altered blocks parse consistently
  or raise `BlockError`;
- fault specs: any text is a `Fault` or a `FaultSpecError`, and a fault
  written back as text parses to the same fault;
- protocol, needles and rig files: mutated files (and plans made from them)
  give a value or a `ProtocolError` / `RigError`, nothing else.
"""

from __future__ import annotations

import itertools
import math
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from drivers.link.frame import MAX_PAYLOAD, Frame, FrameDecoder, to_wire
from drivers.link.messages import PAYLOAD_CLASSES, Message, PayloadError, decode_payload
from drivers.scpi.block import Block, BlockError, TruncatedBlock, parse_block
from protocols import ProtocolError, load_needles, load_protocol, make_plan
from protocols.bundled import list_presets, resolve_needles, resolve_protocol
from pulsehost.rig import RigConfig, RigError, parse_rig
from simulator.faults import KINDS, Fault, FaultSpecError, parse_fault

pytestmark = pytest.mark.timeout(300)

FUZZ = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

# -- firmware-link frames -------------------------------------------------------------

frames = st.builds(
    Frame,
    msg_type=st.sampled_from(sorted(PAYLOAD_CLASSES)),
    session=st.integers(0, 0xFFFF),
    seq=st.integers(0, 0xFFFF),
    ref_seq=st.integers(0, 0xFFFF),
    payload=st.binary(max_size=64),
    flags=st.integers(0, 15),
)
stream_pieces = st.lists(
    st.one_of(frames.map(to_wire), st.binary(max_size=40), st.just(b"\x00")), max_size=12
)


def _decode_all(chunks: list[bytes]) -> tuple[list[Frame], dict[str, int]]:
    decoder = FrameDecoder()
    out = [frame for chunk in chunks for frame in decoder.feed(chunk)]
    return out, dict(decoder.rejected)


def _cut(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({min(c, len(data)) for c in cuts})
    edges = [0, *points, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(edges)]


@FUZZ
@given(pieces=stream_pieces, cuts=st.lists(st.integers(0, 2000), max_size=20))
def test_any_chunking_of_a_stream_decodes_the_same(pieces: list[bytes], cuts: list[int]) -> None:
    stream = b"".join(pieces)
    whole = _decode_all([stream])
    assert _decode_all(_cut(stream, cuts)) == whole
    assert _decode_all([bytes([b]) for b in stream]) == whole


@FUZZ
@given(frame=frames, data=st.data())
def test_a_frame_altered_in_one_byte_is_never_accepted(frame: Frame, data: st.DataObject) -> None:
    wire = bytearray(to_wire(frame))
    where = data.draw(st.integers(0, len(wire) - 2), label="byte")  # not the delimiter
    value = data.draw(st.integers(0, 255).filter(lambda v: v != wire[where]), label="value")
    wire[where] = value
    got, rejected = _decode_all([b"\x00", bytes(wire)])
    # CRC-32 over the decoded frame catches the change; a 0x00 splits it into pieces
    # that are each rejected. Either way nothing comes out, and the loss is counted.
    assert got == []
    assert sum(rejected.values()) >= 1


@FUZZ
@given(msg_type=st.sampled_from(sorted(PAYLOAD_CLASSES)), payload=st.binary(max_size=96))
def test_any_payload_decodes_or_raises_payload_error(msg_type: int, payload: bytes) -> None:
    try:
        message = decode_payload(msg_type, payload)
    except PayloadError:
        return
    assert isinstance(message, Message)
    assert message.pack() == payload  # what decodes is exactly what was sent


@FUZZ
@given(payload=st.binary(max_size=MAX_PAYLOAD))
def test_unknown_message_types_raise_key_error(payload: bytes) -> None:
    unknown = next(t for t in range(256) if t not in PAYLOAD_CLASSES)
    with pytest.raises(KeyError):
        decode_payload(unknown, payload)


# -- SCPI blocks ----------------------------------------------------------------------


@st.composite
def definite_blocks(draw: st.DrawFn) -> tuple[bytes, bytes]:
    data = draw(st.binary(max_size=300))
    width = draw(st.integers(len(str(len(data))), 9))
    return b"#%d%0*d" % (width, width, len(data)) + data + b"\n", data


@FUZZ
@given(block=definite_blocks(), sizes=st.lists(st.integers(1, 64), min_size=1, max_size=50))
def test_a_reader_waiting_for_the_missing_count_gets_the_block_and_no_more(
    block: tuple[bytes, bytes], sizes: list[int]
) -> None:
    reply, data = block
    received = b""
    reads = iter(sizes * (len(reply) + 1))
    while True:
        try:
            parsed = parse_block(received)
            break
        except TruncatedBlock as due:
            # Read what is said to be missing, or a chunk when that is not known yet.
            want = due.missing if due.missing is not None else next(reads)
            assert want >= 1
            assert len(received) + (due.missing or 0) <= len(reply)
            received += reply[len(received) : len(received) + want]
    assert parsed == Block(data=data, header_size=len(reply) - len(data) - 1)
    assert received == reply


@FUZZ
@given(block=definite_blocks(), data=st.data())
def test_an_altered_block_parses_consistently_or_raises_block_error(
    block: tuple[bytes, bytes], data: st.DataObject
) -> None:
    reply = bytearray(block[0])
    where = data.draw(st.integers(0, len(reply) - 1), label="at")
    how = data.draw(st.sampled_from(["flip", "insert", "delete"]), label="how")
    if how == "flip":
        reply[where] ^= data.draw(st.integers(1, 255), label="mask")
    elif how == "insert":
        reply.insert(where, data.draw(st.integers(0, 255), label="byte"))
    else:
        del reply[where]
    try:
        parsed = parse_block(bytes(reply))
    except BlockError:
        return
    assert parsed.header_size + len(parsed.data) + 1 == len(reply)
    assert bytes(reply[parsed.header_size : parsed.header_size + len(parsed.data)]) == parsed.data


# -- fault specs ----------------------------------------------------------------------

fault_texts = st.one_of(
    st.text(max_size=40),
    st.builds(
        lambda kind, sep, rest: kind + sep + rest,
        st.sampled_from(sorted(KINDS)),
        st.sampled_from(
            [
                "",
                "@",
                ":",
                "@3:",
                ":x=",
                "@0",
                "@-1",
                "@1.5",
                "@\u00b2",
                "@\u0661",
                ":rate=nan",
                ":ms=inf",
                ":us=1e400",
                ":ohm=-0",
                "@2:v=1,v=2",
                ": rate = 0.5 ",
            ]
        ),
        st.text(max_size=20),
    ),
)


@FUZZ
@given(text=fault_texts)
@example(text="open@\u00b2")  # a digit to isdigit() that int() cannot read
@example(text="link-drop:rate=nan")
def test_any_fault_text_is_a_fault_or_a_fault_spec_error(text: str) -> None:
    try:
        fault = parse_fault(text)
    except FaultSpecError as exc:
        assert str(exc)
        return
    assert fault.kind in KINDS
    assert fault.at is None or fault.at >= 1
    assert all(key in KINDS[fault.kind][1] for key in fault.params)
    assert all(math.isfinite(value) for value in fault.params.values())
    assert parse_fault(str(fault)) == fault


@st.composite
def valid_faults(draw: st.DrawFn) -> tuple[str, str, int | None, dict[str, float]]:
    kind = draw(st.sampled_from(sorted(KINDS)))
    at = draw(st.none() | st.integers(1, 10**6))
    accepted = sorted(KINDS[kind][1])
    keys = draw(st.lists(st.sampled_from(accepted), unique=True)) if accepted else []
    params = {k: draw(st.floats(allow_nan=False, allow_infinity=False)) for k in keys}
    text = kind + (f"@{at}" if at is not None else "")
    if params:
        text += ":" + ",".join(f"{k}={v!r}" for k, v in params.items())
    return text, kind, at, params


@FUZZ
@given(spec=valid_faults())
def test_a_well_formed_fault_spec_parses_to_what_it_says(
    spec: tuple[str, str, int | None, dict[str, float]],
) -> None:
    text, kind, at, params = spec
    fault = parse_fault(text)
    assert (fault.kind, fault.at, dict(fault.params)) == (kind, at, params)
    # Written back (as the rig and the journal record it), it is the same fault.
    assert parse_fault(str(fault)) == fault
    assert isinstance(parse_fault(str(fault)), Fault)


# -- protocol, needles and rig files ---------------------------------------------------

TOML_VALUES = st.one_of(
    st.integers(-(10**20), 10**20).map(str),
    st.floats().map(lambda f: "nan" if math.isnan(f) else repr(f)),
    st.sampled_from(
        ["true", "false", '""', '"x"', "[]", "[1, 2]", '["a", 1]', "{ a = 1 }", "[[1], [2]]",
         "1979-05-27T07:32:00Z", "07:32:00", "-0.0", "+inf", "-inf", "0x10", "1_000"]
    ),
    st.text(alphabet=st.characters(codec="utf-8", exclude_characters='"\\\n\r'), max_size=12)
    .map(lambda s: f'"{s}"'),
)  # fmt: skip


@st.composite
def mutated(draw: st.DrawFn, text: str) -> str:
    """The text with a few lines deleted, duplicated, re-valued, cut or garbled."""
    lines = text.splitlines()
    for _ in range(draw(st.integers(1, 4))):
        if not lines:
            break
        k = draw(st.integers(0, len(lines) - 1))
        op = draw(st.sampled_from(["delete", "duplicate", "value", "insert", "garble", "cut"]))
        if op == "delete":
            del lines[k]
        elif op == "duplicate":
            lines.insert(k, lines[k])
        elif op == "value" and "=" in lines[k]:
            lines[k] = lines[k].split("=", 1)[0] + "= " + draw(TOML_VALUES)
        elif op == "insert":
            lines.insert(k, draw(st.text(max_size=30)).replace("\r", ""))
        elif op == "garble" and lines[k]:
            at = draw(st.integers(0, len(lines[k]) - 1))
            lines[k] = lines[k][:at] + draw(st.characters()) + lines[k][at + 1 :]
        elif op == "cut":
            lines = lines[:k]
    return "\n".join(lines) + "\n"


PRESET_TEXTS = {p: resolve_protocol(p)[0].read_text(encoding="utf-8") for p in list_presets()}
NEEDLES_TEXT = resolve_needles("example-4-needles")[0].read_text(encoding="utf-8")
RIG_TEXT = """\
[rig]
name = "bench"
simulated = true

[generator]
kind = "firmware"
url = "/dev/ttyUSB0"
serial = "SIM-0001"
baudrate = 115200

[scope]
kind = "keysight-infiniivision"
resource = "TCPIP::192.168.1.20::INSTR"
voltage_channel = 1
current_channel = 2
hv_probe_v_per_v = 1000.0

[function_generator]
resource = "TCPIP::192.168.1.21::INSTR"
amplifier_gain = 300.0
trigger_source = "EXT"

[limits]
v_max_v = 3000.0
i_max_a = 50.0
"""


@pytest.fixture(scope="module")
def folder() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="pulsehost-fuzz-") as name:
        yield Path(name)


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@FUZZ
@given(data=st.data(), preset=st.sampled_from(sorted(PRESET_TEXTS)))
def test_a_mutated_protocol_loads_and_plans_or_raises_protocol_error(
    folder: Path, data: st.DataObject, preset: str
) -> None:
    path = _write(folder, "protocol.toml", data.draw(mutated(PRESET_TEXTS[preset])))
    try:
        protocol = load_protocol(path)
        needles = (
            load_needles("example-4-needles") if protocol.electrode.kind == "needles" else None
        )
        plan = make_plan(protocol, needles)
    except ProtocolError as exc:
        assert str(exc)
        return
    assert plan.total_pulses == sum(t.pulses for t in plan.trains)


@FUZZ
@given(text=st.text(max_size=300))
def test_arbitrary_text_as_a_protocol_raises_protocol_error(folder: Path, text: str) -> None:
    path = _write(folder, "noise.toml", text)
    with pytest.raises(ProtocolError):
        load_protocol(path)


@FUZZ
@given(data=st.data())
def test_a_mutated_needles_file_plans_or_raises_protocol_error(
    folder: Path, data: st.DataObject
) -> None:
    path = _write(folder, "needles.toml", data.draw(mutated(NEEDLES_TEXT)))
    try:
        plan = make_plan(load_protocol("long-needles"), load_needles(path))
    except ProtocolError as exc:
        assert str(exc)
        return
    assert all(t.a != t.b for t in plan.trains)


@FUZZ
@given(data=st.data())
def test_a_mutated_rig_file_is_a_rig_or_raises_rig_error(data: st.DataObject) -> None:
    text = data.draw(mutated(RIG_TEXT))
    try:
        config = parse_rig(text, "fuzzed-rig.toml")
    except RigError as exc:
        assert "fuzzed-rig.toml" in str(exc)
        return
    assert isinstance(config, RigConfig)
    assert config.limits.v_max.value > 0
