"""The codec against the golden vectors (tests/vectors/firmware_link_v1.json).

The expected bytes come from an independent generator kept beside the file;
here the production encoder must produce them and the decoder must read them.
"""

from __future__ import annotations

import json
import subprocess
import sys
import zlib
from pathlib import Path
from typing import Any

import pytest

from drivers.link.cobs import cobs_decode, cobs_encode
from drivers.link.frame import Frame, FrameDecoder, decode_frame, encode_frame, from_wire, to_wire
from drivers.link.messages import (
    PAYLOAD_CLASSES,
    ArmChallenge,
    HelloAck,
    MsgType,
    SetParams,
    WaveChunk,
    decode_payload,
)

VECTORS_DIR = Path(__file__).resolve().parents[2] / "vectors"
VECTORS = json.loads((VECTORS_DIR / "firmware_link_v1.json").read_text(encoding="utf-8"))
ENTRIES: list[dict[str, Any]] = VECTORS["vectors"]
FRAMES = [e for e in ENTRIES if e["type"] in MsgType.__members__]
NEGATIVES = [e for e in ENTRIES if e["type"] == "NEGATIVE"]
BY_NAME = {e["name"]: e for e in ENTRIES}


def ids(entries: list[dict[str, Any]]) -> list[str]:
    return [e["name"] for e in entries]


def message_from_fields(type_name: str, fields: dict[str, Any]) -> object:
    """Build the production dataclass from the vector's decoded fields."""
    cls = PAYLOAD_CLASSES[MsgType[type_name]]
    if cls is HelloAck:
        return HelloAck(**{**fields, "serial": fields["serial"].encode("ascii").ljust(16, b"\0")})
    if cls is ArmChallenge:
        return ArmChallenge(**{**fields, "params": SetParams(**fields["params"])})
    if cls is WaveChunk:
        return WaveChunk(**{**fields, "samples": tuple(fields["samples"])})
    return cls(**fields)


def frame_of(entry: dict[str, Any]) -> Frame:
    header = entry["header"]
    message = message_from_fields(entry["type"], entry["fields"])
    return Frame(
        msg_type=header["msg_type"],
        session=header["session"],
        seq=header["seq"],
        ref_seq=header["ref_seq"],
        payload=message.pack(),  # type: ignore[attr-defined]
        flags=header["ver_flags"] & 0x0F,
        version=header["ver_flags"] >> 4,
    )


def test_file_is_what_its_generator_produces() -> None:
    done = subprocess.run(
        [sys.executable, str(VECTORS_DIR / "make_firmware_link_v1.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr


def test_first_vector_is_the_spec_example() -> None:
    first = ENTRIES[0]
    assert first["name"] == "hello"
    assert bytes.fromhex(first["frame_hex"]) == bytes.fromhex(
        "12 01 00 00 00 00 00 00 08 00 01 00 00 04 78 56 34 12 F1 8D 1E 6F"
    )
    assert bytes.fromhex(first["wire_hex"]) == bytes.fromhex(
        "03 12 01 01 01 01 01 01 02 08 02 01 01 0A 04 78 56 34 12 F1 8D 1E 6F 00"
    )


def test_every_message_type_is_covered() -> None:
    covered = {MsgType[e["type"]] for e in FRAMES}
    assert covered == set(MsgType)


def test_crc_check_string() -> None:
    entry = BY_NAME["crc_check"]
    assert entry["crc"] == "CBF43926"
    assert zlib.crc32(entry["data_ascii"].encode("ascii")) == int(entry["crc"], 16)


def test_cobs_of_a_254_byte_run() -> None:
    entry = BY_NAME["cobs_254_run"]
    data = bytes.fromhex(entry["data_hex"])
    wire = bytes.fromhex(entry["wire_hex"])
    assert len(data) == 254 and 0 not in data
    assert cobs_encode(data) + b"\x00" == wire
    assert cobs_decode(wire[:-1]) == data


@pytest.mark.parametrize("entry", FRAMES, ids=ids(FRAMES))
def test_encoder_produces_the_vector(entry: dict[str, Any]) -> None:
    frame = frame_of(entry)
    assert encode_frame(frame) == bytes.fromhex(entry["frame_hex"])
    assert to_wire(frame) == bytes.fromhex(entry["wire_hex"])


@pytest.mark.parametrize("entry", FRAMES, ids=ids(FRAMES))
def test_decoder_reads_the_vector(entry: dict[str, Any]) -> None:
    wire = bytes.fromhex(entry["wire_hex"])
    frame = from_wire(wire[:-1])
    assert frame == decode_frame(bytes.fromhex(entry["frame_hex"]))
    header = entry["header"]
    assert (frame.msg_type, frame.session, frame.seq, frame.ref_seq) == (
        header["msg_type"],
        header["session"],
        header["seq"],
        header["ref_seq"],
    )
    assert len(frame.payload) == header["len"]
    assert frame.flags == header["ver_flags"] & 0x0F
    assert decode_payload(frame.msg_type, frame.payload) == message_from_fields(
        entry["type"], entry["fields"]
    )


def test_param_hash_covers_all_28_bytes() -> None:
    entry = BY_NAME["set_params"]
    params = SetParams(**entry["fields"])
    assert len(params.pack()) == 28 == entry["header"]["len"]
    ack = BY_NAME["ack_set_params"]["fields"]
    assert params.param_hash == ack["detail"]
    assert BY_NAME["arm_challenge"]["header"]["len"] == 12 + 28


def test_a_stream_of_all_vectors_decodes_in_order() -> None:
    stream = b"".join(bytes.fromhex(e["wire_hex"]) for e in FRAMES)
    decoder = FrameDecoder()
    # Odd slices, so frames straddle the reads as they do on a serial port.
    frames = [f for i in range(0, len(stream), 7) for f in decoder.feed(stream[i : i + 7])]
    assert [encode_frame(f) for f in frames] == [bytes.fromhex(e["frame_hex"]) for e in FRAMES]
    assert decoder.rejected == {}


@pytest.mark.parametrize(
    "entry", [e for e in NEGATIVES if "reject" in e["expect"]], ids=lambda e: e["name"]
)
def test_decoder_rejects_and_counts(entry: dict[str, Any]) -> None:
    decoder = FrameDecoder()
    good = bytes.fromhex(BY_NAME["heartbeat"]["wire_hex"])
    # A good frame on each side shows the bad one costs exactly itself.
    frames = list(decoder.feed(good + bytes.fromhex(entry["wire_hex"]) + good))
    assert len(frames) == 2
    assert decoder.rejected == {entry["expect"]["reject"]: 1}


@pytest.mark.parametrize(
    "entry", [e for e in NEGATIVES if "reject" not in e["expect"]], ids=lambda e: e["name"]
)
def test_link_level_negatives_are_valid_frames(entry: dict[str, Any]) -> None:
    # Wrong session, stale and duplicate frames pass the codec; the link layer drops them.
    frame = from_wire(bytes.fromhex(entry["wire_hex"])[:-1])
    assert encode_frame(frame) == bytes.fromhex(entry["frame_hex"])
    if "duplicate_of" in entry["expect"]:
        original = from_wire(
            bytes.fromhex(BY_NAME[entry["expect"]["duplicate_of"]]["wire_hex"])[:-1]
        )
        assert frame.is_retransmission and not original.is_retransmission
        assert (frame.seq, frame.payload) == (original.seq, original.payload)
