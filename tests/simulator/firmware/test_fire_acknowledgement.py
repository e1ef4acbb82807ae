"""FIRE is acknowledged before the train is computed, so the model never delays the reply."""

from __future__ import annotations

from drivers.link.frame import FLAG_RESP, Frame, to_wire
from drivers.link.messages import (
    Ack,
    ArmChallenge,
    ArmConfirm,
    ArmRequest,
    Fire,
    FwState,
    Hello,
    HelloAck,
    MsgType,
    Result,
    Status,
)
from simulator.train import DeliveredTrain, TrainRequest
from tests.simulator.firmware.firmware_link_client import params
from tests.simulator.firmware.test_determinism import SteppedHost


def armed_host() -> tuple[SteppedHost, ArmChallenge, list[TrainRequest]]:
    host = SteppedHost(seed=3)
    computed: list[TrainRequest] = []
    model_deliver = host.fw._deliver

    def recording(request: TrainRequest) -> DeliveredTrain:
        computed.append(request)
        return model_deliver(request)

    host.fw._deliver = recording
    host.fw.receive(to_wire(Frame(MsgType.HELLO, 0, 0, 0, Hello(1, 0, 1024, 7).pack(), 0x02)))
    host._collect()
    host.session = HelloAck.unpack(host.frames[0].payload).session
    p = params(count=2, period_us=100_000)
    host.send(MsgType.SET_PARAMS, p.pack())
    challenge = ArmChallenge.unpack(
        host.reply(host.send(MsgType.ARM_REQUEST, ArmRequest(p.param_hash).pack())).payload
    )
    host.send(MsgType.ARM_CONFIRM, ArmConfirm(challenge.token, p.param_hash).pack())
    host.until(lambda: host.state() == FwState.ARMED)
    return host, challenge, computed


def test_the_fire_reply_leaves_before_the_model_runs() -> None:
    host, challenge, computed = armed_host()
    seq = host.send(MsgType.FIRE, Fire(challenge.token, 1).pack())
    # `send` delivered FIRE and collected one poll's worth of bytes: the reply is out...
    reply = host.reply(seq)
    ack = Ack.unpack(reply.payload)
    assert reply.flags & FLAG_RESP
    assert (ack.result, ack.state, ack.detail) == (Result.IN_PROGRESS, FwState.FIRING, 1)
    # ...and the train has not been computed yet: that happens on the next poll.
    assert computed == []
    host._collect()
    assert len(computed) == 1
    host.until(lambda: host.state() == FwState.IDLE)
    assert host.fw.fire_executions == 1 and host.fw.pulses_delivered == 2


def test_no_status_reports_armed_between_the_fire_reply_and_the_train() -> None:
    host, challenge, _ = armed_host()
    seq = host.send(MsgType.FIRE, Fire(challenge.token, 1).pack())
    fired_at = host.frames.index(host.reply(seq))
    host.until(lambda: host.state() == FwState.IDLE)
    states_after = [
        Status.unpack(f.payload).state
        for f in host.frames[fired_at:]
        if f.msg_type == MsgType.STATUS
    ]
    assert FwState.ARMED not in states_after
    assert states_after[0] == FwState.FIRING


def test_abort_before_the_train_starts_cancels_it() -> None:
    host, challenge, computed = armed_host()
    host.fw.receive(
        to_wire(Frame(MsgType.FIRE, host.session, 90, 0, Fire(challenge.token, 1).pack(), 0x02))
    )
    host.fw.receive(to_wire(Frame(MsgType.ABORT, host.session, 91, 0, b"\x00", 0x02)))
    host._collect()
    host.until(lambda: host.state() == FwState.IDLE)
    assert computed == []
    assert host.fw.pulses_delivered == 0
