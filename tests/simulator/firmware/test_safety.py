"""Safety behaviour of the firmware: watchdog, single-use tokens, ABORT, faults, timeouts."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from drivers.link.frame import FLAG_ACK_REQ, to_wire
from drivers.link.messages import (
    Abort,
    Ack,
    ArmConfirm,
    ArmRequest,
    ClearFault,
    FaultCode,
    FaultReport,
    Fire,
    FwState,
    GetTrain,
    HelloAck,
    MsgType,
    Nak,
    Result,
    SetParams,
    Status,
    TrainDone,
    TrainResult,
)
from simulator.firmware import Firmware, Timings
from tests.simulator.firmware.conftest import BOTH_TRANSPORTS, MakeRig
from tests.simulator.firmware.firmware_link_client import LinkClient, arm, params

pytestmark = pytest.mark.timeout(60)
WAIT_S = 3.0


def wait_until(predicate: Callable[[], bool], timeout: float = WAIT_S) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.01)


def nak_result(client: LinkClient, msg_type: int, payload: bytes) -> Result:
    reply = client.command(msg_type, payload)
    assert reply.msg_type == MsgType.NAK, Ack.unpack(reply.payload)
    return Result(Nak.unpack(reply.payload).result)


def connected(make_rig: MakeRig, **kw: Any) -> tuple[LinkClient, Firmware]:
    rig = make_rig(**kw)
    rig.client.hello()
    rig.client.start_heartbeat()
    return rig.client, rig.firmware


@BOTH_TRANSPORTS
def test_watchdog_faults_and_discharges_when_heartbeats_stop_while_armed(
    make_rig: MakeRig,
) -> None:
    rig = make_rig()
    client, fw = rig.client, rig.firmware
    client.hello()
    client.start_heartbeat()
    arm(client, params(amplitude_v=1000))
    assert fw.hv_bank_v > 900
    start = client.mark()
    client.stop_heartbeat()

    fault_frame = client.wait_for(lambda f: f.msg_type == MsgType.FAULT, start=start)
    fault = FaultReport.unpack(fault_frame.payload)
    assert fault.code == FaultCode.LINK_LOST and fault.latched == 1
    assert fault.state_before == FwState.ARMED
    assert fault.hv_mv > 900_000  # HV was live when the link went quiet
    wait_until(lambda: fw.discharged)
    assert fw.state == FwState.FAULT
    assert FaultCode.LINK_LOST in fw.latched_faults
    # Not before the timeout: the firmware's own log puts 400 ms of silence before the fault.
    log = fw.frame_log()
    fault_tx = next(
        e.wall for e in log if e.direction == "tx" and e.frame.msg_type == MsgType.FAULT
    )
    last_rx = max(
        e.wall
        for e in log
        if e.direction == "rx" and not e.frame.is_response and e.wall <= fault_tx
    )
    assert fault_tx - last_rx >= fw.timings.link_timeout_s
    # A further silent period ends the session.
    wait_until(lambda: fw.session is None)


def test_link_loss_during_a_train_ends_it_with_a_record(make_rig: MakeRig) -> None:
    rig = make_rig(time_scale=5.0)
    client, fw = rig.client, rig.firmware
    client.hello()
    client.start_heartbeat()
    challenge = arm(client, params(count=8, period_us=1_000_000))
    client.command(MsgType.FIRE, Fire(challenge.token, 9).pack())
    client.wait_for(lambda f: f.msg_type == MsgType.PULSE_SUMMARY)
    client.stop_heartbeat()
    wait_until(lambda: fw.state == FwState.FAULT and fw.discharged)
    record = fw.train_records[-1]
    assert record.done.result == TrainResult.FAULT
    assert 1 <= record.done.n_delivered < 8
    assert record.faults[0].code == FaultCode.LINK_LOST


@BOTH_TRANSPORTS
def test_a_retried_fire_is_answered_from_the_cache_and_runs_once(make_rig: MakeRig) -> None:
    rig = make_rig()
    client, fw = rig.client, rig.firmware
    client.hello()
    client.start_heartbeat()
    challenge = arm(client, params(count=2, period_us=100_000))
    start = client.mark()
    fire = client.send(MsgType.FIRE, Fire(challenge.token, 1).pack())
    first = client.reply_to(fire.seq)
    client.resend(fire)  # the host missed the reply and retries: same seq, RETX
    client.wait_for(lambda f: f.msg_type == MsgType.TRAIN_DONE, start=start)
    client.wait_status(lambda s: s.state == FwState.IDLE)
    replies = [f for f in client.frames(start) if f.is_response and f.ref_seq == fire.seq]
    assert len(replies) == 2 and replies[0] == replies[1] == first
    assert Ack.unpack(first.payload).result == Result.IN_PROGRESS
    assert fw.fire_executions == 1
    assert fw.pulses_delivered == 2
    assert len(client.events(MsgType.TRAIN_DONE, start)) == 1
    status = client.wait_status(lambda s: True)
    assert status.retx_seen >= 1


def test_a_second_fire_hears_token_invalid(make_rig: MakeRig) -> None:
    client, fw = connected(make_rig)
    challenge = arm(client, params(count=8, period_us=1_000_000))
    client.command(MsgType.FIRE, Fire(challenge.token, 1).pack())
    assert nak_result(client, MsgType.FIRE, Fire(challenge.token, 2).pack()) == (
        Result.TOKEN_INVALID
    )
    assert fw.fire_executions == 1


@BOTH_TRANSPORTS
def test_abort_with_a_wrong_session_id_is_honoured(make_rig: MakeRig) -> None:
    client, fw = connected(make_rig)
    challenge = arm(client, params(amplitude_v=800))
    start = client.mark()
    stray = client.send(MsgType.ABORT, Abort(3).pack(), session=client.session ^ 0x0101)
    reply = client.wait_for(
        lambda f: f.is_response and f.ref_seq == stray.seq and f.session == stray.session,
        start=start,
    )
    assert reply.msg_type == MsgType.ACK
    assert Ack.unpack(reply.payload).state == FwState.DONE
    wait_until(lambda: fw.state == FwState.IDLE and fw.discharged)
    # The token died with the abort.
    assert nak_result(client, MsgType.FIRE, Fire(challenge.token, 1).pack()) == Result.BAD_STATE


def test_a_stray_frame_other_than_abort_is_dropped(make_rig: MakeRig) -> None:
    client, fw = connected(make_rig)
    arm(client, params())
    before = fw.link_stats["dropped"]
    start = client.mark()
    stray = client.send(MsgType.FIRE, Fire(1, 1).pack(), session=client.session ^ 0x0101)
    status = client.wait_status(lambda s: s.dropped > before)
    assert status.state == FwState.ARMED
    assert not [f for f in client.frames(start) if f.is_response and f.ref_seq == stray.seq]


def test_abort_during_a_train_stops_it_after_the_current_pulse(make_rig: MakeRig) -> None:
    rig = make_rig(time_scale=5.0)
    client, fw = rig.client, rig.firmware
    client.hello()
    client.start_heartbeat()
    challenge = arm(client, params(count=8, period_us=1_000_000))
    start = client.mark()
    client.command(MsgType.FIRE, Fire(challenge.token, 4).pack())
    client.wait_for(lambda f: f.msg_type == MsgType.PULSE_SUMMARY, start=start)
    reply = client.command(MsgType.ABORT, Abort(0).pack())
    assert Ack.unpack(reply.payload).state in (FwState.DONE, FwState.IDLE)
    done = TrainDone.unpack(
        client.wait_for(lambda f: f.msg_type == MsgType.TRAIN_DONE, start=start).payload
    )
    assert done.result == TrainResult.ABORTED
    assert 1 <= done.n_delivered < 8
    summaries = client.events(MsgType.PULSE_SUMMARY, start)
    assert len(summaries) == done.n_delivered
    wait_until(lambda: fw.state == FwState.IDLE and fw.discharged)


def test_abort_is_acknowledged_in_every_state(make_rig: MakeRig) -> None:
    client, fw = connected(make_rig)
    reply = client.command(MsgType.ABORT, Abort(0).pack())
    assert reply.msg_type == MsgType.ACK  # IDLE
    wait_until(lambda: fw.state == FwState.IDLE)
    arm(client, params())
    reply = client.command(MsgType.ABORT, Abort(1).pack())
    assert reply.msg_type == MsgType.ACK  # ARMED
    assert Ack.unpack(reply.payload).state == FwState.DONE


def test_overcurrent_trips_latches_and_clears_only_by_name(make_rig: MakeRig) -> None:
    rig = make_rig(faults=("overcurrent@3",))
    client, fw = rig.client, rig.firmware
    client.hello()
    client.start_heartbeat()
    challenge = arm(client, params(amplitude_v=1000, count=8, period_us=100_000, i_limit_a=20))
    start = client.mark()
    client.command(MsgType.FIRE, Fire(challenge.token, 1).pack())
    done_frame = client.wait_for(lambda f: f.msg_type == MsgType.TRAIN_DONE, start=start)
    done = TrainDone.unpack(done_frame.payload)
    fault = FaultReport.unpack(client.wait_for(lambda f: f.msg_type == MsgType.FAULT).payload)
    assert fault.code == FaultCode.OVERCURRENT and fault.train_id == 1
    assert fault.pulse_idx == 2  # the third pulse, 0-based on the wire
    assert done.result == TrainResult.FAULT and done.n_delivered == 3
    assert done.flags_or & 0x01  # OC
    wait_until(lambda: fw.discharged)
    assert fw.state == FwState.FAULT

    assert nak_result(client, MsgType.SET_PARAMS, params().pack()) == Result.BAD_STATE
    assert nak_result(client, MsgType.CLEAR_FAULT, ClearFault(FaultCode.ARC).pack()) == (
        Result.BAD_PARAM
    )
    reply = client.command(MsgType.CLEAR_FAULT, ClearFault(FaultCode.OVERCURRENT).pack())
    assert reply.msg_type == MsgType.ACK and Ack.unpack(reply.payload).state == FwState.IDLE
    # No auto-resume: a new train needs a new arm cycle.
    assert nak_result(client, MsgType.FIRE, Fire(challenge.token, 2).pack()) == Result.BAD_STATE


def test_the_arm_token_expires(make_rig: MakeRig) -> None:
    client, _ = connected(make_rig, timings=Timings(token_s=0.2))
    p = params()
    client.command(MsgType.SET_PARAMS, p.pack())
    reply = client.command(MsgType.ARM_REQUEST, ArmRequest(p.param_hash).pack())
    token = int.from_bytes(reply.payload[:4], "little")
    time.sleep(0.3)
    assert nak_result(client, MsgType.ARM_CONFIRM, ArmConfirm(token, p.param_hash).pack()) == (
        Result.TOKEN_EXPIRED
    )
    # And it is gone for good.
    assert nak_result(client, MsgType.ARM_CONFIRM, ArmConfirm(token, p.param_hash).pack()) == (
        Result.TOKEN_INVALID
    )


def test_armed_times_out_to_idle(make_rig: MakeRig) -> None:
    client, fw = connected(make_rig, timings=Timings(armed_s=0.2))
    challenge = arm(client, params())
    client.wait_status(lambda s: s.state == FwState.IDLE)
    assert fw.discharged
    assert fw.fire_executions == 0
    assert nak_result(client, MsgType.FIRE, Fire(challenge.token, 1).pack()) == Result.BAD_STATE


def test_the_challenge_binds_the_parameters(make_rig: MakeRig) -> None:
    client, _ = connected(make_rig)
    p = params()
    client.command(MsgType.SET_PARAMS, p.pack())
    assert nak_result(client, MsgType.ARM_REQUEST, ArmRequest(p.param_hash ^ 1).pack()) == (
        Result.HASH_MISMATCH
    )
    reply = client.command(MsgType.ARM_REQUEST, ArmRequest(p.param_hash).pack())
    token = int.from_bytes(reply.payload[:4], "little")
    assert nak_result(client, MsgType.ARM_CONFIRM, ArmConfirm(token ^ 1, p.param_hash).pack()) == (
        Result.TOKEN_INVALID
    )
    # New parameters kill the old challenge.
    client.command(MsgType.SET_PARAMS, params(amplitude_v=500).pack())
    assert nak_result(client, MsgType.ARM_CONFIRM, ArmConfirm(token, p.param_hash).pack()) == (
        Result.TOKEN_INVALID
    )


@pytest.mark.parametrize(
    ("bad", "result"),
    [
        (params(amplitude_v=3500), Result.OUT_OF_LIMITS),
        (params(amplitude_v=0), Result.BAD_PARAM),
        (params(count=0), Result.BAD_PARAM),
        (params(count=1001), Result.OUT_OF_LIMITS),
        (params(period_us=100, width_ns=10_000), Result.OUT_OF_LIMITS),  # 10 kHz: too fast
        (params(period_us=50, width_ns=100_000), Result.BAD_PARAM),  # pulses would overlap
        (params(i_limit_a=60), Result.OUT_OF_LIMITS),
        (params(options=0x0004), Result.BAD_PARAM),
        (SetParams(400_000, 100_000, 8, 0, 200, 20_000, 100, 50, 0, 0), Result.BAD_PARAM),
        # No electrode wired to that output.
        (SetParams(400_000, 100_000, 8, 0, 200, 20_000, 100, 50, 0, 5), Result.OUT_OF_LIMITS),
    ],
    ids=str,
)
def test_set_params_refuses_what_it_cannot_deliver(
    make_rig: MakeRig, bad: SetParams, result: Result
) -> None:
    client, _ = connected(make_rig)
    assert nak_result(client, MsgType.SET_PARAMS, bad.pack()) == result


def test_wrong_payload_length_and_unknown_type(make_rig: MakeRig) -> None:
    client, _ = connected(make_rig)
    assert nak_result(client, MsgType.SET_PARAMS, params().pack()[:24]) == Result.BAD_PARAM
    assert nak_result(client, 0x7E, b"") == Result.UNSUPPORTED
    assert nak_result(client, MsgType.STATUS, bytes(32)) == Result.UNSUPPORTED


def test_stale_commands_are_dropped_and_counted(make_rig: MakeRig) -> None:
    client, fw = connected(make_rig)
    for _ in range(10):
        client.command(MsgType.GET_TRAIN, GetTrain(0).pack())
    before = fw.link_stats["dropped"]
    start = client.mark()
    old = client.send(MsgType.GET_TRAIN, GetTrain(0).pack(), seq=client.seq - 9)
    status = client.wait_status(lambda s: s.dropped > before)
    assert status.dropped == before + 1
    assert not [f for f in client.frames(start) if f.is_response and f.ref_seq == old.seq]
    # A cached one (within the last 8) is answered again.
    again = client.send(MsgType.GET_TRAIN, GetTrain(0).pack(), seq=client.seq - 3)
    assert client.reply_to(again.seq).msg_type == MsgType.NAK


def test_hello_repeated_and_hello_while_armed(make_rig: MakeRig) -> None:
    rig = make_rig()
    client, fw = rig.client, rig.firmware
    client.hello(nonce=77)
    first = [f for f in client.frames() if f.msg_type == MsgType.HELLO_ACK]
    start = client.mark()
    client.write(to_wire(client.sent[0]))  # the same HELLO again
    client.wait_for(lambda f: f.msg_type == MsgType.HELLO_ACK, start=start)
    second = [f for f in client.frames() if f.msg_type == MsgType.HELLO_ACK]
    assert len(second) == 2 and second[0] == second[1] == first[0]
    client.start_heartbeat()
    arm(client, params(amplitude_v=600))
    start = client.mark()
    ack = client.hello(nonce=78)
    assert HelloAck.unpack(first[0].payload).session != ack.session
    fault = client.wait_for(lambda f: f.msg_type == MsgType.FAULT, start=start)
    assert FaultReport.unpack(fault.payload).code == FaultCode.LINK_LOST
    assert fault.session == ack.session and fault.flags & FLAG_ACK_REQ
    wait_until(lambda: fw.discharged)
    status = client.wait_status(lambda s: True)
    assert status.state == FwState.FAULT and status.faults & (1 << FaultCode.LINK_LOST)


def test_events_are_retried_until_acknowledged(make_rig: MakeRig) -> None:
    rig = make_rig(auto_ack=False)
    client, fw = rig.client, rig.firmware
    client.hello()
    client.start_heartbeat()
    challenge = arm(client, params(count=1))
    start = client.mark()
    client.command(MsgType.FIRE, Fire(challenge.token, 1).pack())
    first = client.wait_for(lambda f: f.msg_type == MsgType.PULSE_SUMMARY, start=start)
    copies = client.wait_for(
        lambda f: f.msg_type == MsgType.PULSE_SUMMARY and f.is_retransmission, start=start
    )
    assert copies.seq == first.seq and copies.payload == first.payload
    client.send(MsgType.ACK, Ack(0, 0).pack(), flags=0x01, ref_seq=first.seq)
    done = client.wait_for(lambda f: f.msg_type == MsgType.TRAIN_DONE, start=start)
    client.send(MsgType.ACK, Ack(0, 0).pack(), flags=0x01, ref_seq=done.seq)
    client.wait_status(lambda s: s.state == FwState.IDLE)
    assert fw.link_stats["events_acked"] == 2


def test_status_reports_the_held_parameters(make_rig: MakeRig) -> None:
    client, _ = connected(make_rig)
    p = params(amplitude_v=700)
    client.command(MsgType.SET_PARAMS, p.pack())
    status: Status = client.wait_status(lambda s: s.param_hash == p.param_hash)
    assert status.state == FwState.IDLE and status.hv_bank_mv < 1000
