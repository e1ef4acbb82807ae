"""FirmwareGenerator against a scripted firmware: the exact conversation, then the values."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from drivers.errors import InstrumentTimeout, LinkLost, ProtocolViolation, Refused
from drivers.firmware_generator import (
    FaultReported,
    FirmwareGenerator,
    ParamError,
    WrongDevice,
    params_to_wire,
)
from drivers.link.frame import Frame, to_wire
from drivers.link.messages import (
    AbortReason,
    ArmChallenge,
    EcgEvent,
    FaultReport,
    FwState,
    Message,
    MsgType,
    PulseSummary,
    Result,
    SetParams,
    Status,
    TrainDone,
    WaveChunk,
    decode_payload,
)
from drivers.roles import PulseGenerator
from drivers.values import PulseParams, PulseTelemetry
from tests.drivers.link.firmware_peer import SESSION, ScriptedPeer, ack, nak

pytestmark = pytest.mark.timeout(30)

PARAMS = PulseParams(
    amplitude_v=1000.0, width_us=100.0, count=8, period_us=1_000_000.0, i_limit_a=20.0
)
# The same train in wire units, typed from the spec's units (mV, ns, µs, mA, ‰).
WIRE = SetParams(
    amplitude_mv=1_000_000,
    width_ns=100_000,
    count=8,
    options=0,
    period_us=1_000_000,
    i_limit_ma=20_000,
    v_tol_permille=100,
    ecg_delay_ms=50,
    electrode_a=0,
    electrode_b=1,
    polarity=0,
    rsv=0,
)
TOKEN = 0xC0FFEE01


@pytest.fixture
def peer() -> Iterator[ScriptedPeer]:
    with ScriptedPeer(status_period_s=0.1) as p:
        yield p


def open_gen(peer: ScriptedPeer, **kw: object) -> FirmwareGenerator:
    peer.expect_hello()
    return FirmwareGenerator.open(peer.url, timeout_s=2.0, **kw)  # type: ignore[arg-type]


def payload(frame: Frame) -> object:
    return decode_payload(frame.msg_type, frame.payload)


def configured(peer: ScriptedPeer) -> FirmwareGenerator:
    gen = open_gen(peer)
    peer.expect(MsgType.SET_PARAMS, ack(FwState.IDLE, WIRE.param_hash))
    gen.configure(PARAMS)
    return gen


def challenge(held: SetParams = WIRE) -> ArmChallenge:
    return ArmChallenge(TOKEN, 15_000, held.param_hash, held)


def armed(peer: ScriptedPeer) -> FirmwareGenerator:
    gen = configured(peer)
    peer.expect(MsgType.ARM_REQUEST, challenge())

    def charge(frame: Frame) -> list[bytes]:
        peer.state = FwState.ARMED  # the next periodic STATUS reports ARMED
        return [peer.reply_wire(frame, ack(FwState.CHARGING))]

    peer.expect(MsgType.ARM_CONFIRM, charge)
    gen.confirm_arm(gen.request_arm())
    return gen


def fired(peer: ScriptedPeer, train_id: int = 1) -> FirmwareGenerator:
    gen = armed(peer)

    def start(frame: Frame) -> list[bytes]:
        peer.state = FwState.FIRING
        return [peer.reply_wire(frame, ack(FwState.FIRING, train_id, Result.IN_PROGRESS))]

    peer.expect(MsgType.FIRE, start)
    gen.fire(train_id)
    return gen


def summary(train_id: int, idx: int, flags: int = 0) -> PulseSummary:
    return PulseSummary(
        train_id,
        idx,
        flags,
        7_000_000 + idx * 1000,
        100_000,
        1_010_000,
        995_000,
        4200,
        3900 + idx,
        390,
        388,
    )


def done(train_id: int, n: int = 8, result: int = 0, flags_or: int = 0) -> TrainDone:
    return TrainDone(train_id, 8, n, result, 0, flags_or, 0, n, 9_000_000)


def aborts(peer: ScriptedPeer) -> list[int]:
    return [payload(f).reason for f in peer.frames_of(MsgType.ABORT)]  # type: ignore[attr-defined]


# -- open -----------------------------------------------------------------


def test_open_reads_identity_and_limits(peer: ScriptedPeer) -> None:
    gen = open_gen(peer, expected_serial="SIM-0001")
    try:
        role: PulseGenerator = gen  # mypy checks that the driver fills the role
        assert role.identity == gen.identity
        assert gen.session == SESSION
        assert gen.identity.serial == "SIM-0001"
        assert gen.identity.firmware == "1.2.3"
        assert gen.identity.resource == peer.url
        limits = gen.limits
        assert (limits.v_max_v, limits.i_max_a, limits.max_rate_hz, limits.max_count) == (
            3000.0,
            50.0,
            5000.0,
            1000,
        )
        assert limits.ecg_gate and limits.waveforms
        hello = payload(peer.frames_of(MsgType.HELLO)[0])
        assert hello.version == 1 and hello.host_max_payload == 1024  # type: ignore[attr-defined]
        peer.verify()
    finally:
        gen.close()


def test_open_refuses_another_serial(peer: ScriptedPeer) -> None:
    peer.expect_hello()
    with pytest.raises(WrongDevice, match=r"'SIM-0001'.*'SIM-0002'"):
        FirmwareGenerator.open(peer.url, expected_serial="SIM-0002", timeout_s=2.0)


def test_open_refuses_another_version(peer: ScriptedPeer) -> None:
    peer.expect_hello(version=2)
    with pytest.raises(ProtocolViolation, match="v2"):
        FirmwareGenerator.open(peer.url, timeout_s=2.0)


def test_open_without_answer_is_link_lost(peer: ScriptedPeer) -> None:
    with pytest.raises(LinkLost, match="no HELLO_ACK"):
        FirmwareGenerator.open(peer.url, timeout_s=0.3)


# -- configure --------------------------------------------------------------


def test_configure_sends_exact_wire_units(peer: ScriptedPeer) -> None:
    gen = configured(peer)
    try:
        sent = payload(peer.frames_of(MsgType.SET_PARAMS)[0])
        assert sent == WIRE
        peer.verify()
    finally:
        gen.close()


def test_configure_carries_pair_polarity_and_ecg(peer: ScriptedPeer) -> None:
    gen = open_gen(peer)
    try:
        params = dataclasses.replace(
            PARAMS, electrode_a=3, electrode_b=5, polarity=1, ecg_gated=True, ecg_delay_ms=60
        )
        expected = dataclasses.replace(
            WIRE, electrode_a=3, electrode_b=5, polarity=1, options=1, ecg_delay_ms=60
        )
        peer.expect(MsgType.SET_PARAMS, ack(FwState.IDLE, expected.param_hash))
        assert gen.configure(params) == params
        assert payload(peer.frames_of(MsgType.SET_PARAMS)[0]) == expected
        peer.verify()
    finally:
        gen.close()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"amplitude_v": 1000.0004}, "amplitude_v"),
        ({"width_us": 100.0005}, "width_us"),
        ({"period_us": 200.5}, "period_us"),
        ({"i_limit_a": 20.0001}, "i_limit_a"),
        ({"v_tolerance": 0.1005}, "v_tolerance"),
        ({"count": 0}, "count"),
        ({"electrode_b": 0}, "electrode"),
        ({"polarity": 2}, "polarity"),
        ({"amplitude_v": float("nan")}, "amplitude_v"),
    ],
)
def test_unrepresentable_values_are_refused_not_rounded(
    peer: ScriptedPeer, change: dict[str, Any], field: str
) -> None:
    gen = open_gen(peer)
    try:
        with pytest.raises(ParamError, match=field):
            gen.configure(dataclasses.replace(PARAMS, **change))
        peer.verify()  # nothing was sent
    finally:
        gen.close()


@pytest.mark.parametrize(
    ("change", "text"),
    [
        ({"amplitude_v": 3000.5}, "3000 V"),
        ({"i_limit_a": 51.0}, "50 A"),
        ({"count": 1001}, "1000 pulses"),
        ({"period_us": 100.0}, "5000 Hz"),
    ],
)
def test_values_beyond_the_generator_limits_are_refused(
    peer: ScriptedPeer, change: dict[str, Any], text: str
) -> None:
    gen = open_gen(peer)
    try:
        with pytest.raises(ParamError, match=text):
            gen.configure(dataclasses.replace(PARAMS, width_us=50.0, **change))
        peer.verify()
    finally:
        gen.close()


def test_configure_with_wrong_hash_is_a_violation_and_aborts(peer: ScriptedPeer) -> None:
    gen = open_gen(peer)
    try:
        peer.expect(MsgType.SET_PARAMS, ack(FwState.IDLE, WIRE.param_hash ^ 1))
        peer.expect(MsgType.ABORT, ack(FwState.IDLE))
        with pytest.raises(ProtocolViolation, match="param_hash"):
            gen.configure(PARAMS)
        assert aborts(peer) == [AbortReason.HOST_FAULT]
        peer.verify()
    finally:
        gen.close()


def test_nak_is_refused_with_its_name(peer: ScriptedPeer) -> None:
    gen = open_gen(peer)
    try:
        peer.expect(MsgType.SET_PARAMS, nak(Result.OUT_OF_LIMITS))
        with pytest.raises(Refused, match="SET_PARAMS: OUT_OF_LIMITS") as info:
            gen.configure(PARAMS)
        assert info.value.result == "OUT_OF_LIMITS"
        peer.verify()
    finally:
        gen.close()


# -- arming -------------------------------------------------------------------


def test_offer_shows_the_parameters_the_firmware_holds(peer: ScriptedPeer) -> None:
    gen = configured(peer)
    try:
        peer.expect(MsgType.ARM_REQUEST, challenge())
        offer = gen.request_arm()
        assert offer.params == PARAMS
        assert offer.param_hash == WIRE.param_hash
        assert offer.expires_in_s == 15.0
        assert payload(peer.frames_of(MsgType.ARM_REQUEST)[0]).param_hash == WIRE.param_hash  # type: ignore[attr-defined]
        peer.verify()
    finally:
        gen.close()


def test_challenge_for_other_parameters_is_a_violation(peer: ScriptedPeer) -> None:
    gen = configured(peer)
    try:
        other = dataclasses.replace(WIRE, electrode_b=2)
        peer.expect(MsgType.ARM_REQUEST, challenge(other))
        peer.expect(MsgType.ABORT, ack(FwState.IDLE))
        with pytest.raises(ProtocolViolation, match="configured"):
            gen.request_arm()
        peer.verify()
    finally:
        gen.close()


def test_confirm_waits_through_charging_to_armed(peer: ScriptedPeer) -> None:
    gen = armed(peer)
    try:
        confirm = payload(peer.frames_of(MsgType.ARM_CONFIRM)[0])
        assert confirm.token == TOKEN and confirm.param_hash == WIRE.param_hash  # type: ignore[attr-defined]
        assert gen.status().state == "ARMED"
        peer.verify()
    finally:
        peer.expect(MsgType.ABORT, ack(FwState.DONE))
        gen.close()
    assert aborts(peer) == [AbortReason.EXIT]


def test_fault_while_charging_is_reported(peer: ScriptedPeer) -> None:
    gen = configured(peer)
    try:
        peer.expect(MsgType.ARM_REQUEST, challenge())

        def charge_then_fault(frame: Frame) -> list[bytes]:
            peer.state = FwState.FAULT
            fault = FaultReport(5, 1, FwState.CHARGING, 400_000, 0, 0xFFFF, 0, 3_000_000)
            return [peer.reply_wire(frame, ack(FwState.CHARGING)), to_wire(peer.frame(fault))]

        peer.expect(MsgType.ARM_CONFIRM, charge_then_fault)
        peer.expect(MsgType.ACK)  # the host acknowledges the FAULT event
        with pytest.raises(FaultReported, match="CHARGE_TIMEOUT") as info:
            gen.confirm_arm(gen.request_arm())
        assert info.value.fault is not None and info.value.fault.pulse_idx is None
        peer.verify()
    finally:
        gen.close()


def test_confirm_needs_the_latest_offer(peer: ScriptedPeer) -> None:
    gen = configured(peer)
    try:
        peer.expect(MsgType.ARM_REQUEST, challenge())
        offer = gen.request_arm()
        forged = dataclasses.replace(offer, token=offer.token + 1)
        with pytest.raises(ParamError, match="request_arm"):
            gen.confirm_arm(forged)
        peer.verify()
    finally:
        gen.close()


# -- firing -------------------------------------------------------------------


def test_fire_without_arming_sends_nothing(peer: ScriptedPeer) -> None:
    gen = configured(peer)
    try:
        with pytest.raises(Refused, match="NOT_ARMED"):
            gen.fire(1)
        peer.verify()
    finally:
        gen.close()


def test_train_is_collected_with_acks_and_heartbeats(peer: ScriptedPeer) -> None:
    gen = fired(peer, train_id=7)
    try:
        seen: list[PulseTelemetry] = []

        def stream(messages: list[object]) -> None:
            for message in messages:
                peer.send_acked(message)  # type: ignore[arg-type]

        stream([summary(7, 0)])
        rest = [summary(7, 1), summary(7, 2), EcgEvent(7, 0, 0, 800, 6_900_000, 3), done(7, n=3)]
        # The rest arrives while wait_train services the link (and heartbeats).
        later = threading.Timer(0.25, stream, args=(rest,))
        later.start()
        report = gen.wait_train(7, timeout_s=5.0, on_pulse=seen.append)
        later.join()
        peer.wait_steps()
        assert [p.pulse_idx for p in seen] == [0, 1, 2]
        assert seen[1].i_mean_a == pytest.approx(3.901)
        assert seen[0].r_to_pulse_us is None
        assert report.result == "COMPLETE" and report.n_delivered == 3
        assert report.pulses == tuple(seen)
        assert report.ecg[0].kind == "TRIGGER"
        beats = [payload(f) for f in peer.heartbeats]
        assert any(b.host_view == FwState.FIRING for b in beats)  # type: ignore[attr-defined]
        fire = payload(peer.frames_of(MsgType.FIRE)[0])
        assert (fire.token, fire.train_id) == (TOKEN, 7)  # type: ignore[attr-defined]
        peer.verify()
    finally:
        gen.close()


def test_fault_during_train_ends_with_a_fault_report(peer: ScriptedPeer) -> None:
    gen = fired(peer)
    try:
        fault = FaultReport(6, 1, FwState.FIRING, 990_000, 1, 4, 0, 7_004_000)
        events = [summary(1, k, flags=1 if k == 4 else 0) for k in range(5)]
        messages: list[Message] = [*events, fault, done(1, n=5, result=2, flags_or=1)]
        for event in messages:
            peer.send_acked(event)
        report = gen.wait_train(1, timeout_s=5.0)
        assert report.result == "FAULT" and report.n_delivered == 5
        assert report.flags == {"OC"} and report.pulses[4].flags == {"OC"}
        assert [f.code for f in report.faults] == ["OVERCURRENT"]
        assert report.faults[0].pulse_idx == 4
        peer.wait_steps()
        peer.verify()
    finally:
        gen.close()


def test_event_for_another_train_is_a_violation(peer: ScriptedPeer) -> None:
    gen = fired(peer, train_id=2)
    try:
        peer.send_acked(summary(9, 0))
        peer.expect(MsgType.ABORT, ack(FwState.DONE))
        with pytest.raises(ProtocolViolation, match="train 9"):
            gen.wait_train(2, timeout_s=5.0)
        assert aborts(peer) == [AbortReason.HOST_FAULT]
        peer.verify()
    finally:
        gen.close()


def test_wait_train_times_out(peer: ScriptedPeer) -> None:
    gen = fired(peer)
    try:
        with pytest.raises(InstrumentTimeout, match="train 1"):
            gen.wait_train(1, timeout_s=0.3)
    finally:
        peer.expect(MsgType.ABORT, ack(FwState.DONE))
        gen.close()


def test_fire_nak_is_refused_and_the_token_is_gone(peer: ScriptedPeer) -> None:
    gen = armed(peer)
    try:
        peer.expect(MsgType.FIRE, nak(Result.INTERLOCK_OPEN, FwState.ARMED))
        with pytest.raises(Refused, match="INTERLOCK_OPEN"):
            gen.fire(1)
        with pytest.raises(Refused, match="NOT_ARMED"):
            gen.fire(2)
        peer.verify()
    finally:
        peer.expect(MsgType.ABORT, ack(FwState.DONE))
        gen.close()


def test_lost_fire_reply_is_retried_under_the_same_seq(peer: ScriptedPeer) -> None:
    gen = armed(peer)
    try:
        peer.expect(MsgType.FIRE, None)
        peer.expect(MsgType.FIRE, ack(FwState.FIRING, 1, Result.IN_PROGRESS))
        gen.fire(1)
        fires = peer.frames_of(MsgType.FIRE)
        assert len({f.seq for f in fires}) == 1 and fires[1].is_retransmission
        peer.verify()
    finally:
        peer.expect(MsgType.ABORT, ack(FwState.DONE))
        gen.close()


def test_unclear_fire_outcome_needs_a_new_arm_cycle(peer: ScriptedPeer) -> None:
    gen = armed(peer)
    try:
        for _ in range(4):
            peer.expect(MsgType.FIRE, None)
        peer.expect(MsgType.ABORT, ack(FwState.DONE))
        with pytest.raises(LinkLost, match="unknown outcome"):
            gen.fire(1)
        fires = peer.frames_of(MsgType.FIRE)
        assert len(fires) == 4 and len({f.seq for f in fires}) == 1
        assert aborts(peer) == [AbortReason.LINK]
        with pytest.raises(Refused, match="NOT_ARMED"):
            gen.fire(2)
        peer.verify()
    finally:
        gen.close()


def test_train_ids_are_single_use(peer: ScriptedPeer) -> None:
    gen = fired(peer, train_id=3)
    try:
        peer.send_acked(done(3))
        gen.wait_train(3, timeout_s=5.0)
        peer.state = FwState.IDLE
        peer.expect(MsgType.ARM_REQUEST, challenge())
        peer.expect(MsgType.ARM_CONFIRM, ack(FwState.ARMED))
        gen.confirm_arm(gen.request_arm())
        with pytest.raises(ParamError, match="train_id 3"):
            gen.fire(3)
        peer.verify()
    finally:
        peer.expect(MsgType.ABORT, ack(FwState.DONE))
        gen.close()


# -- service, status, abort ---------------------------------------------------


def test_service_heartbeats_and_accepts_matching_state(peer: ScriptedPeer) -> None:
    gen = open_gen(peer)
    try:
        gen.service("IDLE")
        gen.service("ready")  # an engine state that means IDLE to the firmware
        peer.wait_until(lambda: peer.heartbeats)
        beat = payload(peer.heartbeats[0])
        assert beat.host_view == FwState.IDLE  # type: ignore[attr-defined]
        with pytest.raises(ValueError, match="accepted"):
            gen.service("SLEEPING")
        peer.verify()
    finally:
        gen.close()


def test_service_faults_on_an_unexpected_state(peer: ScriptedPeer) -> None:
    gen = open_gen(peer)
    try:
        peer.state = FwState.ARMED
        peer.expect(MsgType.ABORT, ack(FwState.DONE))
        gen.status()  # a STATUS after the change has arrived
        with pytest.raises(ProtocolViolation, match="ARMED while the host expects IDLE"):
            gen.service("IDLE")
        assert aborts(peer) == [AbortReason.HOST_FAULT]
        peer.verify()
    finally:
        gen.close()


def test_service_raises_on_a_fault_event(peer: ScriptedPeer) -> None:
    gen = armed(peer)
    try:
        peer.state = FwState.FAULT
        peer.send_acked(FaultReport(9, 1, FwState.ARMED, 1_000_000, 0, 0xFFFF, 2, 9_000_000))
        peer.wait_steps()
        with pytest.raises(FaultReported, match="INTERLOCK"):
            gen.service("ARMED")
        peer.verify()
    finally:
        gen.close()


def test_status_reports_a_fresh_status(peer: ScriptedPeer) -> None:
    gen = open_gen(peer)
    try:
        peer.send(
            Status(1, 0, 0x1E, (1 << 6) | (1 << 9), 1500, 3, 1, 2, 0, 0xABCD, 4_000_000), flags=0
        )
        got = gen.status()
        assert got.state == "IDLE"
        assert "frames_received" in got.link_stats
        peer.verify()
    finally:
        gen.close()


def test_abort_never_raises_on_a_dead_port(peer: ScriptedPeer, mocker) -> None:  # type: ignore[no-untyped-def]
    gen = armed(peer)
    link = gen._link
    mocker.patch.object(link._port, "write", side_effect=OSError("unplugged"))
    gen.abort("operator")
    gen.abort("no such reason")
    assert link.lost and "unplugged" in (link.failure or "")
    gen.close()
    with pytest.raises(LinkLost):
        gen.configure(PARAMS)


def test_clear_fault(peer: ScriptedPeer) -> None:
    gen = open_gen(peer)
    try:
        peer.expect(MsgType.CLEAR_FAULT, nak(Result.CAUSE_PRESENT, FwState.FAULT))
        with pytest.raises(Refused, match="CAUSE_PRESENT"):
            gen.clear_fault("overcurrent")
        peer.expect(MsgType.CLEAR_FAULT, ack(FwState.IDLE))
        gen.clear_fault("OVERCURRENT")
        assert [payload(f).code for f in peer.frames_of(MsgType.CLEAR_FAULT)] == [6, 6]  # type: ignore[attr-defined]
        with pytest.raises(ParamError, match="known: SELF_TEST"):
            gen.clear_fault("GREMLINS")
        peer.verify()
    finally:
        gen.close()


# -- records and waveforms ----------------------------------------------------


def test_train_record_and_unknown_train(peer: ScriptedPeer) -> None:
    gen = open_gen(peer)
    try:
        peer.expect(MsgType.GET_TRAIN, done(4, n=6, result=1))
        peer.expect(MsgType.GET_TRAIN, nak(Result.BAD_PARAM))
        record = gen.train_record(4)
        assert record is not None
        assert (record.train_id, record.n_delivered, record.result) == (4, 6, "ABORTED")
        assert gen.train_record(99) is None
        asked = [payload(f).train_id for f in peer.frames_of(MsgType.GET_TRAIN)]  # type: ignore[attr-defined]
        assert asked == [4, 99]
        peer.verify()
    finally:
        gen.close()


def test_fetch_wave_reads_every_chunk(peer: ScriptedPeer) -> None:
    gen = open_gen(peer)
    total = 1100
    samples = (np.arange(total) * 7 % 4000 - 2000).astype(np.int16)

    def chunk(frame: Frame) -> list[bytes]:
        ask = payload(frame)
        start = ask.offset  # type: ignore[attr-defined]
        part = samples[start : start + ask.max_samples]  # type: ignore[attr-defined]
        reply = WaveChunk(3, 2, 1, 0, start, total, 100, 2500, tuple(int(x) for x in part))
        return [peer.reply_wire(frame, reply)]

    try:
        for _ in range(3):
            peer.expect(MsgType.GET_WAVE, chunk)
        codes, dt_s, lsb = gen.fetch_wave(3, 2, "current")
        assert np.array_equal(codes, samples)
        assert dt_s == pytest.approx(100e-9) and lsb == pytest.approx(2.5e-3)
        offsets = [payload(f).offset for f in peer.frames_of(MsgType.GET_WAVE)]  # type: ignore[attr-defined]
        assert offsets == [0, 498, 996]
        peer.verify()
    finally:
        gen.close()


def test_fetch_wave_rejects_a_chunk_for_another_pulse(peer: ScriptedPeer) -> None:
    gen = open_gen(peer)
    try:
        peer.expect(MsgType.GET_WAVE, WaveChunk(3, 5, 0, 0, 0, 4, 100, 1, (1, 2, 3, 4)))
        peer.expect(MsgType.ABORT, ack(FwState.IDLE))
        with pytest.raises(ProtocolViolation, match="WAVE_CHUNK"):
            gen.fetch_wave(3, 2, 0)
        peer.verify()
    finally:
        gen.close()


def test_close_when_idle_sends_no_abort(peer: ScriptedPeer) -> None:
    gen = open_gen(peer)
    gen.status()
    gen.close()
    gen.close()
    peer.verify()
    assert aborts(peer) == []


def test_params_to_wire_matches_the_golden_vector() -> None:
    # The vector set_params holds exactly this train (docs/firmware-link.md §10).
    assert params_to_wire(PARAMS) == WIRE
    assert len(WIRE.pack()) == 28
