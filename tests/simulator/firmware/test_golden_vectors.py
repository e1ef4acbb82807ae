"""The golden vectors' host frames, pushed as their exact wire bytes, get the right replies.

The vectors fix the session id (0x5EC1) and the arm token (0xC0FFEE01), so the
firmware draws its ids from a fixed source here; everything else is the
production firmware behind a real pty or TCP port. Expected replies come from
the vector file (hand-reviewed, generated independently of the codec), not
from the code under test. Firmware seq numbers and times depend on when
STATUS frames fall, so those are the only fields not compared.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from drivers.link.frame import FLAG_ACK_REQ, FLAG_RESP, Frame, from_wire
from drivers.link.messages import FwState, HelloAck, MsgType, TrainDone, WaveChunk
from tests.simulator.firmware.conftest import BOTH_TRANSPORTS, MakeRig
from tests.simulator.firmware.firmware_link_client import LinkClient

VECTORS = json.loads((Path(__file__).parents[2] / "vectors" / "firmware_link_v1.json").read_text())
BY_NAME: dict[str, dict[str, Any]] = {v["name"]: v for v in VECTORS["vectors"]}
NEGATIVE_DROPS = {
    "bad_crc": "crc_errors",
    "truncated_wire": "dropped",
    "truncated_frame": "dropped",
    "too_short": "dropped",
    "oversize_wire": "dropped",
    "oversize_len": "dropped",
    "oversize_run": "dropped",
    "wrong_version": "dropped",
    "wrong_session": "dropped",
}


class VectorIds:
    """The ids the vectors were written with."""

    def session_id(self) -> int:
        return int(VECTORS["session"])

    def token(self) -> int:
        return int(BY_NAME["arm_challenge"]["fields"]["token"])


def wire(name: str) -> bytes:
    return bytes.fromhex(BY_NAME[name]["wire_hex"])


def expected(name: str) -> Frame:
    """The vector's frame, decoded from its wire bytes."""
    return from_wire(wire(name)[:-1])


def push(client: LinkClient, name: str) -> Frame:
    """Write a host vector's wire bytes; return its decoded frame."""
    client.write(wire(name))
    return expected(name)


def reply(client: LinkClient, request: Frame, start: int) -> Frame:
    return client.wait_for(
        lambda f: f.is_response and f.ref_seq == request.seq and f.session == request.session,
        start=start,
    )


def assert_same_reply(got: Frame, name: str) -> None:
    """Type, flags, session, ref_seq and payload as in the vector (seq is the firmware's own)."""
    want = expected(name)
    assert (got.msg_type, got.flags, got.session, got.ref_seq) == (
        want.msg_type,
        want.flags,
        want.session,
        want.ref_seq,
    ), name
    assert got.payload.hex() == want.payload.hex(), name


def no_reply_to(client: LinkClient, request: Frame, start: int, wait_s: float = 0.2) -> bool:
    time.sleep(wait_s)
    return not any(
        f.is_response and f.ref_seq == request.seq and f.session == request.session
        for f in client.frames(start)
    )


@pytest.mark.timeout(60)
@BOTH_TRANSPORTS
def test_every_host_vector_gets_its_reply(make_rig: MakeRig) -> None:
    rig = make_rig(ids=VectorIds())
    client, fw = rig.client, rig.firmware

    # HELLO -> HELLO_ACK: everything but the firmware clock as in the vector.
    start = client.mark()
    push(client, "hello")
    got = client.wait_for(lambda f: f.msg_type == MsgType.HELLO_ACK, start=start)
    want = expected("hello_ack")
    assert (got.msg_type, got.flags, got.session, got.seq, got.ref_seq) == (
        want.msg_type,
        want.flags,
        want.session,
        want.seq,
        want.ref_seq,
    )
    got_ack, want_ack = HelloAck.unpack(got.payload), HelloAck.unpack(want.payload)
    assert got_ack.serial_text == "SIM-0001"
    assert {**vars(got_ack), "fw_time_us": 0} == {**vars(want_ack), "fw_time_us": 0}
    client.session = got.session
    client.seq = 100  # the client's own frames (heartbeats, event ACKs) stay out of the way
    client.start_heartbeat()

    # HEARTBEAT gets no reply.
    start = client.mark()
    beat = push(client, "heartbeat")
    assert no_reply_to(client, beat, start)

    for name, answer in (
        ("set_params", "ack_set_params"),
        ("arm_request", "arm_challenge"),
        ("arm_confirm", "ack_arm_confirm"),
    ):
        start = client.mark()
        assert_same_reply(reply(client, push(client, name), start), answer)

    client.wait_status(lambda s: s.state == FwState.ARMED)
    start = client.mark()
    fire_reply = reply(client, push(client, "fire"), start)
    assert_same_reply(fire_reply, "ack_fire")

    # The retried FIRE is answered from the cache, byte for byte, and not run again.
    start = client.mark()
    again = reply(client, push(client, "retx_duplicate_fire"), start)
    assert again == fire_reply
    assert fw.fire_executions == 1

    client.wait_for(lambda f: f.msg_type == MsgType.TRAIN_DONE and not f.is_response)
    # The vector's event ACK names a firmware seq of its own run: taken quietly, no reply.
    start = client.mark()
    ack = push(client, "ack_pulse_summary")
    assert ack.flags & FLAG_RESP
    assert no_reply_to(client, ack, start)
    client.wait_status(lambda s: s.state == FwState.IDLE)

    start = client.mark()
    chunk_frame = reply(client, push(client, "get_wave"), start)
    want_chunk = WaveChunk.unpack(expected("wave_chunk").payload)
    chunk = WaveChunk.unpack(chunk_frame.payload)
    assert chunk_frame.msg_type == MsgType.WAVE_CHUNK
    assert (chunk.train_id, chunk.pulse_idx, chunk.channel, chunk.format, chunk.offset) == (
        want_chunk.train_id,
        want_chunk.pulse_idx,
        want_chunk.channel,
        want_chunk.format,
        want_chunk.offset,
    )
    assert chunk.dt_ns == want_chunk.dt_ns and chunk.lsb == want_chunk.lsb
    assert len(chunk.samples) == min(498, chunk.total)

    start = client.mark()
    done_frame = reply(client, push(client, "get_train"), start)
    want_done = expected("train_done_reply")
    assert (done_frame.msg_type, done_frame.flags, done_frame.ref_seq) == (
        want_done.msg_type,
        want_done.flags,
        want_done.ref_seq,
    )
    assert not done_frame.flags & FLAG_ACK_REQ
    got_done, want_fields = (
        TrainDone.unpack(done_frame.payload),
        TrainDone.unpack(want_done.payload),
    )
    assert {**vars(got_done), "t_end_us": 0} == {**vars(want_fields), "t_end_us": 0}

    for name, answer in (
        ("get_train_unknown", "nak_bad_param"),
        ("clear_fault", "ack_clear_fault"),
        ("fire_bad_state", "nak_bad_state"),
        ("abort", "ack_abort"),
    ):
        start = client.mark()
        assert_same_reply(reply(client, push(client, name), start), answer)

    # ABORT under another session id is honoured and answered to that session.
    start = client.mark()
    stray = push(client, "abort_wrong_session")
    stray_reply = reply(client, stray, start)
    assert stray_reply.msg_type == MsgType.ACK and stray_reply.session == stray.session


@pytest.mark.timeout(30)
@pytest.mark.parametrize("name", sorted(NEGATIVE_DROPS))
def test_negative_vectors_are_dropped_and_counted(make_rig: MakeRig, name: str) -> None:
    rig = make_rig(ids=VectorIds())
    client, fw = rig.client, rig.firmware
    client.hello()
    client.start_heartbeat()
    counter = NEGATIVE_DROPS[name]
    before = fw.link_stats
    start = client.mark()
    client.write(wire(name))
    client.heartbeat()  # a good frame right after: the firmware resynchronises on it
    status = client.wait_status(lambda s: getattr(s, counter) > before[counter])
    assert getattr(status, counter) == before[counter] + 1
    assert not [f for f in client.frames(start) if f.is_response]
    # And the link still works.
    answer = client.command(MsgType.GET_TRAIN, (0).to_bytes(4, "little"))
    assert answer.msg_type == MsgType.NAK  # no train yet, but an answer
