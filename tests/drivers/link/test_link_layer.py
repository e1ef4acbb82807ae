"""The host link layer against a scripted firmware on a pseudo-terminal."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import serial

from drivers.errors import LinkLost, ProtocolViolation
from drivers.link.frame import FLAG_ACK_REQ, FLAG_RESP, FLAG_RETX, Frame, to_wire
from drivers.link.link import FirmwareLink
from drivers.link.messages import (
    Abort,
    FwState,
    MsgType,
    PulseSummary,
    Result,
    SetParams,
    TrainDone,
    decode_payload,
)
from tests.drivers.link.firmware_peer import SESSION, ScriptedPeer, ack, hello_ack, nak, status

pytestmark = pytest.mark.timeout(20)

PARAMS = SetParams(1_000_000, 100_000, 8, 0, 1_000_000, 20_000, 100)
NONCE = 0x0BADCAFE


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def peer() -> Iterator[ScriptedPeer]:
    with ScriptedPeer() as p:
        yield p


def open_link(peer: ScriptedPeer, **kw: object) -> FirmwareLink:
    link = FirmwareLink.open(peer.url, **kw)  # type: ignore[arg-type]
    return link


def connected(peer: ScriptedPeer, **kw: object) -> FirmwareLink:
    link = open_link(peer, **kw)
    peer.expect_hello()
    link.hello(NONCE, timeout_s=2.0)
    return link


def pulse(train_id: int = 1, idx: int = 0) -> PulseSummary:
    return PulseSummary(
        train_id, idx, 0, 5_000_000 + idx, 100_000, 1_000_000, 990_000, 4000, 3900, 390, 390
    )


def test_hello_opens_the_session(peer: ScriptedPeer) -> None:
    link = open_link(peer)
    try:
        peer.expect_hello()
        got = link.hello(NONCE, timeout_s=2.0)
        assert link.session == SESSION
        assert got.message == hello_ack(NONCE)
        hello = peer.frames_of(MsgType.HELLO)[0]
        assert (hello.session, hello.seq, hello.flags) == (0, 0, FLAG_ACK_REQ)
        fit = link.time_fit()
        assert fit is not None and fit.pairs == 1
        peer.verify()
    finally:
        link.close()


def test_hello_ignores_a_foreign_nonce_and_retries(peer: ScriptedPeer) -> None:
    link = open_link(peer)
    try:
        peer.expect(MsgType.HELLO, lambda f: [peer.reply_wire(f, hello_ack(NONCE + 1), seq=0)])
        peer.expect_hello()
        link.hello(NONCE, timeout_s=2.0)
        retry = peer.frames_of(MsgType.HELLO)[1]
        assert retry.flags == FLAG_ACK_REQ | FLAG_RETX and retry.seq == 0
        assert link.stats()["nonce_mismatch"] == 1
        peer.verify()
    finally:
        link.close()


def test_hello_refused_as_unsupported_is_a_version_mismatch(peer: ScriptedPeer) -> None:
    link = open_link(peer)
    try:
        refusal = peer.frame(nak(Result.UNSUPPORTED), flags=FLAG_RESP, seq=0, session=0)
        peer.expect(MsgType.HELLO, lambda f: [to_wire(refusal)])
        with pytest.raises(ProtocolViolation, match=r"UNSUPPORTED.*another protocol version"):
            link.hello(NONCE, timeout_s=2.0)
        assert link.session is None
        peer.verify()
    finally:
        link.close()


def test_hello_without_answer_is_link_lost(peer: ScriptedPeer) -> None:
    link = open_link(peer)
    try:
        with pytest.raises(LinkLost, match="no HELLO_ACK"):
            link.hello(NONCE, timeout_s=0.3)
        assert link.session is None
        assert len(peer.frames_of(MsgType.HELLO)) >= 2
        assert all(f.is_retransmission for f in peer.frames_of(MsgType.HELLO)[1:])
    finally:
        link.close()


def test_request_gets_its_reply_and_sequence_counts_up(peer: ScriptedPeer) -> None:
    link = connected(peer)
    try:
        peer.expect(MsgType.SET_PARAMS, ack(FwState.IDLE, PARAMS.param_hash))
        peer.expect(MsgType.ABORT, ack(FwState.DONE))
        first = link.request(PARAMS)
        second = link.request(Abort(0))
        assert first.message == ack(FwState.IDLE, PARAMS.param_hash)
        assert second.message == ack(FwState.DONE)
        sent = [f for f in peer.received if f.msg_type != MsgType.HELLO]
        assert [f.seq for f in sent] == [1, 2]
        assert all(f.session == SESSION and f.flags == FLAG_ACK_REQ for f in sent)
        assert decode_payload(sent[0].msg_type, sent[0].payload) == PARAMS
        peer.verify()
    finally:
        link.close()


def test_lost_reply_is_resent_with_same_seq_and_retx(peer: ScriptedPeer) -> None:
    link = connected(peer)
    try:
        peer.expect(MsgType.SET_PARAMS, None)
        peer.expect(MsgType.SET_PARAMS, None)
        peer.expect(MsgType.SET_PARAMS, ack(FwState.IDLE, PARAMS.param_hash))
        got = link.request(PARAMS)
        assert got.frame.ref_seq == 1
        sends = peer.frames_of(MsgType.SET_PARAMS)
        assert [f.seq for f in sends] == [1, 1, 1]
        assert [f.is_retransmission for f in sends] == [False, True, True]
        assert sends[1].payload == sends[0].payload
        assert link.stats()["retries"] == 2
        peer.verify()
    finally:
        link.close()


def test_four_sends_without_reply_lose_the_link(peer: ScriptedPeer) -> None:
    link = connected(peer)
    try:
        for _ in range(4):
            peer.expect(MsgType.SET_PARAMS, None)
        with pytest.raises(LinkLost, match="after 4 sends"):
            link.request(PARAMS)
        assert link.lost
        # Later commands fail at once, without touching the wire.
        with pytest.raises(LinkLost):
            link.request(PARAMS)
        assert len(peer.frames_of(MsgType.SET_PARAMS)) == 4
        # ABORT is still tried.
        peer.expect(MsgType.ABORT, ack(FwState.DONE))
        assert link.request(Abort(3), overtake=True).message == ack(FwState.DONE)
        peer.verify()
    finally:
        link.close()


def test_reply_to_another_seq_is_dropped_as_stale(peer: ScriptedPeer) -> None:
    link = connected(peer)
    try:

        def respond(frame: Frame) -> list[bytes]:
            stale = peer.frame(ack(FwState.IDLE, 7), flags=FLAG_RESP, ref_seq=frame.seq + 5)
            good = peer.frame(ack(FwState.IDLE, 8), flags=FLAG_RESP, ref_seq=frame.seq)
            return [to_wire(stale), to_wire(good)]

        peer.expect(MsgType.SET_PARAMS, respond)
        assert link.request(PARAMS).message == ack(FwState.IDLE, 8)
        assert link.stats()["stale"] == 1
        peer.verify()
    finally:
        link.close()


def test_wrong_session_is_dropped_and_counted(peer: ScriptedPeer) -> None:
    link = connected(peer)
    try:
        stray = peer.frame(pulse(), session=SESSION + 1)
        peer.expect_ack_of(good := peer.frame(pulse(idx=1)))
        peer.send_frame(stray)
        peer.send_frame(good)
        got = link.next_event(2.0)
        assert got is not None and got.message == pulse(idx=1)
        assert link.next_event(0.05) is None
        peer.wait_steps()
        assert link.stats()["wrong_session"] == 1
        peer.verify()
    finally:
        link.close()


def test_duplicate_event_is_acked_again_but_delivered_once(peer: ScriptedPeer) -> None:
    link = connected(peer)
    try:
        event = peer.frame(pulse())
        peer.expect_ack_of(event)
        peer.expect_ack_of(event)
        peer.send_frame(event)
        peer.send_frame(event.with_flags(FLAG_ACK_REQ | FLAG_RETX))
        peer.wait_steps()
        got = link.next_event(1.0)
        assert got is not None and got.message == pulse()
        assert link.next_event(0.05) is None
        stats = link.stats()
        assert stats["duplicate"] == 1 and stats["acks_sent"] == 2 and stats["events"] == 1
        peer.verify()
    finally:
        link.close()


def test_older_status_is_stale(peer: ScriptedPeer) -> None:
    link = connected(peer)
    try:
        peer.send(status(fw_time_us=3_000_000), flags=0, seq=10)
        peer.send(status(fw_time_us=2_000_000), flags=0, seq=9)
        peer.wait_until(lambda: link.stats().get("stale", 0) == 1)
        assert link.status_count == 1
        assert link.last_status is not None and link.last_status.frame.seq == 10
        peer.verify()
    finally:
        link.close()


def test_event_far_behind_is_stale(peer: ScriptedPeer) -> None:
    link = connected(peer)
    try:
        newer = peer.frame(pulse(idx=0), seq=1000)
        peer.expect_ack_of(newer)
        peer.send_frame(newer)
        peer.send(pulse(idx=1), seq=500)
        peer.wait_steps()
        assert link.next_event(1.0) is not None
        peer.wait_until(lambda: link.stats().get("stale", 0) == 1)
        assert link.next_event(0.0) is None
        peer.verify()
    finally:
        link.close()


def test_retried_event_behind_a_newer_status_is_taken(peer: ScriptedPeer) -> None:
    # The first copy of event 10 was lost on the line; STATUS 11 went out before the retry.
    link = connected(peer)
    try:
        retry = peer.frame(pulse(), seq=10, flags=FLAG_ACK_REQ | FLAG_RETX)
        peer.expect_ack_of(retry)
        peer.send(status(), flags=0, seq=11)
        peer.send_frame(retry)
        got = link.next_event(2.0)
        assert got is not None and got.message == pulse()
        assert link.last_fw_seq == 11
        peer.verify()
    finally:
        link.close()


def test_heartbeat_only_when_due() -> None:
    clock = FakeClock()
    with ScriptedPeer() as peer:
        link = connected(peer, clock=clock)
        try:
            link.service(FwState.IDLE)
            link.service(FwState.IDLE)
            clock.now += 0.099
            link.service(FwState.IDLE)
            clock.now += 0.002
            link.service(FwState.ARMED)
            peer.expect(MsgType.ABORT, ack(FwState.IDLE))
            link.request(Abort(0))  # a reply proves the heartbeats before it arrived
            beats = [decode_payload(f.msg_type, f.payload) for f in peer.heartbeats]
            assert [b.host_view for b in beats] == [FwState.IDLE, FwState.ARMED]  # type: ignore[union-attr]
            assert beats[0].host_mono_us == int(100.0 * 1e6)  # type: ignore[union-attr]
            assert not any(f.flags & FLAG_ACK_REQ for f in peer.heartbeats)
            peer.verify()
        finally:
            link.close()


def test_heartbeat_carries_last_firmware_seq(peer: ScriptedPeer) -> None:
    link = connected(peer)
    try:
        event = peer.frame(pulse(), seq=41)
        peer.expect_ack_of(event)
        peer.send_frame(event)
        assert link.next_event(1.0) is not None
        link.heartbeat(FwState.FIRING)
        peer.expect(MsgType.ABORT, ack(FwState.DONE))
        link.request(Abort(0))
        beat = decode_payload(MsgType.HEARTBEAT, peer.heartbeats[-1].payload)
        assert beat.last_fw_seq == 41  # type: ignore[union-attr]
        peer.verify()
    finally:
        link.close()


def test_silent_firmware_loses_the_link() -> None:
    clock = FakeClock()
    with ScriptedPeer() as peer:
        link = connected(peer, clock=clock)
        try:
            link.service(FwState.IDLE)
            clock.now += 0.5
            with pytest.raises(LinkLost, match="no valid frame"):
                link.service(FwState.IDLE)
            assert link.lost
        finally:
            link.close()


def test_status_frames_feed_the_time_fit(peer: ScriptedPeer) -> None:
    link = connected(peer)
    try:
        for k in range(3):
            peer.send(status(fw_time_us=3_000_000 + 100_000 * k), flags=0)
        for _ in range(200):
            if link.status_count == 3:
                break
            link.next_event(0.01)
        assert link.status_count == 3
        assert link.last_status is not None
        assert link.last_status.message == status(fw_time_us=3_200_000)
        fit = link.time_fit()
        assert fit is not None and fit.pairs == 4
        assert link.next_event(0.0) is None  # STATUS is not queued as an event
        peer.verify()
    finally:
        link.close()


def test_traffic_log_sees_every_frame_both_ways(peer: ScriptedPeer) -> None:
    log: list[tuple[str, bytes, float]] = []
    link = connected(peer, traffic_log=lambda d, w, t: log.append((d, w, t)))
    try:
        peer.expect(MsgType.SET_PARAMS, ack(FwState.IDLE, PARAMS.param_hash))
        link.request(PARAMS)
        tx = b"".join(w for d, w, _ in log if d == "tx")
        rx = b"".join(w for d, w, _ in log if d == "rx")
        assert tx == bytes(peer.wire_in)
        assert rx == bytes(peer.wire_out)
        assert all(w.endswith(b"\x00") and w.count(0) == 1 for _, w, _ in log)
        peer.verify()
    finally:
        link.close()


def test_failing_traffic_log_does_not_stop_the_link(peer: ScriptedPeer) -> None:
    def broken(direction: str, wire: bytes, at: float) -> None:
        raise OSError("disk full")

    link = connected(peer, traffic_log=broken)
    try:
        peer.expect(MsgType.SET_PARAMS, ack(FwState.IDLE, PARAMS.param_hash))
        assert link.request(PARAMS).message == ack(FwState.IDLE, PARAMS.param_hash)
        assert link.stats()["traffic_log_errors"] >= 4
        peer.verify()
    finally:
        link.close()


def test_abort_overtakes_a_command_in_flight(peer: ScriptedPeer) -> None:
    link = connected(peer, reply_deadline_s=2.0)
    try:
        held: list[Frame] = []

        def hold(frame: Frame) -> None:
            held.append(frame)

        def answer_both(frame: Frame) -> list[bytes]:
            return [
                peer.reply_wire(frame, ack(FwState.DONE)),
                peer.reply_wire(held[0], ack(FwState.IDLE, PARAMS.param_hash)),
            ]

        configure = peer.expect(MsgType.SET_PARAMS, hold)
        peer.expect(MsgType.ABORT, answer_both)
        results: dict[str, object] = {}
        worker = threading.Thread(target=lambda: results.update(cmd=link.request(PARAMS)))
        worker.start()
        assert configure.done.wait(2.0)
        aborted = link.request(Abort(0), overtake=True)
        worker.join(3.0)
        assert aborted.message == ack(FwState.DONE)
        assert results["cmd"].message == ack(FwState.IDLE, PARAMS.param_hash)  # type: ignore[attr-defined]
        assert aborted.frame.ref_seq == 2 and held[0].seq == 1
        peer.verify()
    finally:
        link.close()


def test_acked_event_ack_reports_the_host_view(peer: ScriptedPeer) -> None:
    link = connected(peer)
    try:
        link.service(FwState.FIRING)
        done = TrainDone(1, 8, 8, 0, 0, 0, 0, 8, 9_000_000)
        event = peer.frame(done)
        step = peer.expect_ack_of(event)
        peer.send_frame(event)
        peer.wait_steps()
        assert step.seen is not None
        assert decode_payload(MsgType.ACK, step.seen.payload).state == FwState.FIRING  # type: ignore[union-attr]
        peer.verify()
    finally:
        link.close()


def test_vanished_port_on_read_is_link_lost(peer: ScriptedPeer, mocker) -> None:  # type: ignore[no-untyped-def]
    link = connected(peer)
    try:
        mocker.patch.object(
            link._port, "read", side_effect=serial.SerialException("device disconnected")
        )
        for _ in range(200):
            if link.lost:
                break
            link.next_event(0.01)
        with pytest.raises(LinkLost, match="stopped working: device disconnected"):
            link.request(PARAMS)
        with pytest.raises(LinkLost):
            link.service(FwState.IDLE)
    finally:
        link.close()


def test_vanished_port_on_write_is_link_lost(peer: ScriptedPeer, mocker) -> None:  # type: ignore[no-untyped-def]
    link = connected(peer)
    try:
        mocker.patch.object(link._port, "write", side_effect=serial.SerialException("gone"))
        with pytest.raises(LinkLost, match=r"writing to the generator port .* failed: gone"):
            link.request(PARAMS)
        assert link.lost
    finally:
        link.close()


def test_unopenable_port_names_the_port() -> None:
    with pytest.raises(LinkLost, match="/dev/does-not-exist"):
        FirmwareLink.open("/dev/does-not-exist")


def test_request_before_hello_is_refused(peer: ScriptedPeer) -> None:
    link = open_link(peer)
    try:
        with pytest.raises(LinkLost, match="HELLO"):
            link.request(PARAMS)
        assert peer.received == []
    finally:
        link.close()


def test_sequence_skips_zero_after_wrapping(peer: ScriptedPeer) -> None:
    link = open_link(peer)
    try:
        link._seq = 0xFFFE
        assert [link._next_seq() for _ in range(3)] == [0xFFFF, 1, 2]
    finally:
        link.close()


def test_loop_url_opens_and_reads_its_own_frames() -> None:
    # loop:// echoes our HELLO: not a HELLO_ACK, so it is counted and ignored.
    link = FirmwareLink.open("loop://")
    try:
        with pytest.raises(LinkLost):
            link.hello(NONCE, timeout_s=0.2)
        assert link.stats()["before_session"] >= 1
    finally:
        link.close()


def test_link_level_vectors(peer: ScriptedPeer) -> None:
    # The golden negatives that pass the codec and must be handled by the link layer.
    vectors_file = Path(__file__).resolve().parents[2] / "vectors" / "firmware_link_v1.json"
    vectors = {v["name"]: v for v in json.loads(vectors_file.read_text())["vectors"]}
    assert vectors["pulse_summary"]["header"]["session"] == SESSION
    link = connected(peer)
    try:
        acks = [peer.expect(MsgType.ACK), peer.expect(MsgType.ACK)]
        for name in ("pulse_summary", "retx_duplicate_event", "stale_reply", "wrong_session"):
            peer.write(bytes.fromhex(vectors[name]["wire_hex"]))
        peer.wait_steps()
        got = link.next_event(1.0)
        assert got is not None and got.frame.seq == vectors["pulse_summary"]["header"]["seq"]
        peer.wait_until(lambda: link.stats().get("wrong_session", 0) == 1)
        assert link.next_event(0.05) is None
        stats = link.stats()
        assert (stats["duplicate"], stats["stale"], stats["events"]) == (1, 1, 1)
        assert [a.seen.ref_seq for a in acks if a.seen] == [6, 6]
        peer.verify()
    finally:
        link.close()
