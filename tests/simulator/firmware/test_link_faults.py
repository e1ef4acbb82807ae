"""Each injected link fault leaves its own signature on the wire."""

from __future__ import annotations

import time

import numpy as np
import pytest

from drivers.link.messages import FaultCode, FwState, GetTrain, MsgType
from simulator.faults import parse_faults
from simulator.firmware.link_faults import LinkFaults, LinkFaultSpec
from tests.simulator.firmware.conftest import MakeRig
from tests.simulator.firmware.firmware_link_client import LinkClient, arm, params

pytestmark = pytest.mark.timeout(60)


def command_with_retries(client: LinkClient, payload: bytes, sends: int = 8) -> int:
    """GET_TRAIN with a host's retry policy (same seq, RETX); returns how many sends it took."""
    frame = client.send(MsgType.GET_TRAIN, payload)
    for n in range(1, sends + 1):
        try:
            client.reply_to(frame.seq, timeout=0.1)
            return n
        except TimeoutError:
            client.resend(frame)
    raise AssertionError(f"no reply to seq {frame.seq} after {sends} sends")


def test_link_drop_loses_host_frames_and_the_firmware_sees_retries(make_rig: MakeRig) -> None:
    rig = make_rig(faults=("link-drop@2:rate=0.5",))
    client, fw = rig.client, rig.firmware
    client.hello()  # host frame 1 always arrives
    sends = [command_with_retries(client, GetTrain(0).pack()) for _ in range(12)]
    stats = fw.link_stats
    assert stats["line_dropped"] > 0
    assert max(sends) > 1
    assert stats["retx_seen"] > 0  # a retry that got through was counted
    # The firmware answers a retry of a command it already ran from its cache.
    assert stats["dropped"] == 0


def test_link_corrupt_reaches_the_host_as_bad_crc(make_rig: MakeRig) -> None:
    rig = make_rig(faults=("link-corrupt:rate=0.5",))
    client, fw = rig.client, rig.firmware
    client.hello()
    client.start_heartbeat()
    time.sleep(0.6)  # several STATUS frames
    assert 0 < client.decoder.rejected.get("bad_crc", 0) <= fw.link_stats["line_corrupted"]
    assert client.decoder.rejected_total == client.decoder.rejected["bad_crc"]
    assert any(f.msg_type == MsgType.STATUS for f in client.frames())  # good ones still pass


def test_link_duplicate_sends_replies_and_events_twice(make_rig: MakeRig) -> None:
    rig = make_rig(faults=("link-duplicate:rate=1",))
    client, fw = rig.client, rig.firmware
    client.hello()
    client.start_heartbeat()
    start = client.mark()
    frame = client.send(MsgType.GET_TRAIN, GetTrain(0).pack())
    client.wait_for(
        lambda f: sum(g.ref_seq == frame.seq and g.is_response for g in client.frames(start)) >= 2,
        start=start,
    )
    replies = [f for f in client.frames(start) if f.is_response and f.ref_seq == frame.seq]
    assert len(replies) == 2 and replies[0] == replies[1]
    time.sleep(0.25)
    statuses = [f.seq for f in client.frames(start) if f.msg_type == MsgType.STATUS]
    assert len(statuses) == len(set(statuses))  # STATUS is not a reply or event: sent once
    assert fw.link_stats["line_duplicated"] >= 1


def test_link_delay_holds_every_frame(make_rig: MakeRig) -> None:
    rig = make_rig(faults=("link-delay:ms=150",))
    client = rig.client
    sent_at = time.monotonic()
    client.hello()
    arrived = next(r.at for r in client.received if r.frame.msg_type == MsgType.HELLO_ACK)
    assert arrived - sent_at >= 0.150  # never sooner than the line delay


def test_link_silent_leaves_the_watchdog_to_discharge(make_rig: MakeRig) -> None:
    # Host frames: HELLO 1, SET_PARAMS 2, ARM_REQUEST 3, ARM_CONFIRM 4; the 5th is never heard.
    rig = make_rig(faults=("link-silent@5",))
    client, fw = rig.client, rig.firmware
    client.hello()
    arm(client, params(amplitude_v=900))
    assert fw.state == FwState.ARMED and not fw.discharged
    start = client.mark()
    client.start_heartbeat()
    deadline = time.monotonic() + 3
    while not (fw.state == FwState.FAULT and fw.discharged):
        assert time.monotonic() < deadline, "the watchdog did not fault and discharge"
        time.sleep(0.01)
    assert FaultCode.LINK_LOST in fw.latched_faults
    time.sleep(0.15)
    assert client.frames(start) == []  # the line is dead both ways


def test_line_faults_repeat_for_a_seed_and_change_with_it() -> None:
    spec = LinkFaultSpec.from_faults(parse_faults(["link-drop:rate=0.3", "link-corrupt:rate=0.3"]))

    def run(seed: int) -> tuple[list[bool], list[bytes]]:
        line = LinkFaults(spec, np.random.SeedSequence(seed))
        lost = [line.incoming_lost() for _ in range(200)]
        out = [
            b for i in range(50) for b in line.outgoing(bytes(range(10)) + bytes([i]) * 20, True)
        ]
        return lost, out

    assert run(1) == run(1)
    assert run(1) != run(2)
    lost, out = run(1)
    assert 20 < sum(lost) < 100
    assert any(b != bytes(range(10)) + bytes([i]) * 20 for i, b in enumerate(out))
    # Corruption stays out of the header, so the receiver sees a CRC failure, not a length one.
    assert all(b[:10] == bytes(range(10)) for b in out)


def test_link_fault_defaults() -> None:
    spec = LinkFaultSpec.from_faults(
        parse_faults(["link-drop@4", "link-duplicate", "link-delay", "link-silent@9"])
    )
    assert (spec.drop_from, spec.drop_rate) == (4, 0.3)
    assert spec.duplicate_rate == 0.3
    assert spec.delay_s == 0.020
    assert spec.silent_from == 9
    assert LinkFaultSpec.from_faults(()) == LinkFaultSpec()
