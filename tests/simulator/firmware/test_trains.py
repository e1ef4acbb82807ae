"""Trains through the firmware: telemetry, pacing, sample records, records after reconnecting."""

from __future__ import annotations

import numpy as np
import pytest

from drivers.link.frame import FLAG_RESP
from drivers.link.messages import (
    Fire,
    FwState,
    GetTrain,
    GetWave,
    MsgType,
    Nak,
    PulseSummary,
    Result,
    Status,
    TrainDone,
    TrainResult,
    WaveChunk,
)
from tests.simulator.firmware.conftest import BOTH_TRANSPORTS, MakeRig
from tests.simulator.firmware.firmware_link_client import LinkClient, arm, params

pytestmark = pytest.mark.timeout(60)


def fire_and_collect(
    client: LinkClient, token: int, train_id: int = 1
) -> tuple[list[PulseSummary], TrainDone, int]:
    start = client.mark()
    reply = client.command(MsgType.FIRE, Fire(token, train_id).pack())
    assert reply.msg_type == MsgType.ACK
    done = client.wait_for(
        lambda f: f.msg_type == MsgType.TRAIN_DONE and not f.is_response, start=start
    )
    summaries = [
        PulseSummary.unpack(f.payload) for f in client.events(MsgType.PULSE_SUMMARY, start)
    ]
    return summaries, TrainDone.unpack(done.payload), start


@BOTH_TRANSPORTS
def test_eight_pulses_at_400_v_into_tumour(make_rig: MakeRig) -> None:
    rig = make_rig()
    client = rig.client
    client.hello()
    client.start_heartbeat()
    challenge = arm(client, params(amplitude_v=400, count=8, period_us=1_000_000))
    summaries, done, _ = fire_and_collect(client, challenge.token)

    assert [s.pulse_idx for s in summaries] == list(range(8))
    assert (done.n_requested, done.n_delivered, done.result) == (8, 8, TrainResult.COMPLETE)
    i_mean = np.array([s.i_mean_ma for s in summaries]) / 1000
    # Above threshold in tumour: a few amperes, rising with pulse number.
    assert np.all((i_mean > 1.0) & (i_mean < 20.0)), i_mean
    assert i_mean[-1] > i_mean[0]
    assert np.all(np.diff(i_mean) >= 0), i_mean
    v_mean = np.array([s.v_mean_mv for s in summaries]) / 1000
    assert np.all(np.abs(v_mean - 400) < 0.1 * 400), v_mean
    # Reported times stay nominal (1 s apart) however much the bench compresses them.
    gaps = np.diff([s.t_start_us for s in summaries])
    assert np.all(np.abs(gaps - 1_000_000) < 50), gaps
    assert rig.firmware.pulses_delivered == 8
    assert rig.firmware.fire_executions == 1
    client.wait_status(lambda s: s.state == FwState.IDLE)
    assert rig.firmware.discharged


def test_one_hertz_summaries_stream_as_pulses_happen(make_rig: MakeRig) -> None:
    rig = make_rig()
    client = rig.client
    client.hello()
    client.start_heartbeat()
    challenge = arm(client, params(period_us=1_000_000))
    summaries, _, start = fire_and_collect(client, challenge.token)
    frames = client.frames(start)
    kinds = [f.msg_type for f in frames]
    first = kinds.index(MsgType.PULSE_SUMMARY)
    last = max(i for i, k in enumerate(kinds) if k == MsgType.PULSE_SUMMARY)
    between = [Status.unpack(f.payload) for f in frames[first:last] if f.msg_type == MsgType.STATUS]
    # Pulse 1's summary went out while later pulses were still to come.
    assert any(s.fw_time_us < summaries[-1].t_start_us for s in between)
    # The listener saw each pulse as it happened.
    assert len(rig.published) == 8
    assert all(t.voltage_v.shape[0] == 1 for t in rig.published)


def test_five_kilohertz_summaries_are_buffered_until_the_train_ends(make_rig: MakeRig) -> None:
    rig = make_rig()
    client = rig.client
    client.hello()
    client.start_heartbeat()
    challenge = arm(client, params(period_us=200))
    summaries, done, start = fire_and_collect(client, challenge.token)
    assert [s.pulse_idx for s in summaries] == list(range(8))
    gaps = np.diff([s.t_start_us for s in summaries])
    assert np.all(np.abs(gaps - 200) <= 5), gaps
    frames = client.frames(start)
    first = next(i for i, f in enumerate(frames) if f.msg_type == MsgType.PULSE_SUMMARY)
    # Nothing was sent about pulse 1 before the last pulse had been delivered.
    later = [Status.unpack(f.payload) for f in frames[first:] if f.msg_type == MsgType.STATUS]
    if not later:
        later = [client.wait_status(lambda s: True)]
    assert all(s.fw_time_us >= summaries[-1].t_start_us for s in later)
    assert done.t_end_us >= summaries[-1].t_start_us
    # The listener got the whole train at once.
    assert len(rig.published) == 1 and rig.published[0].voltage_v.shape[0] == 8


def test_sample_records_reassemble_and_agree_with_the_summary(make_rig: MakeRig) -> None:
    rig = make_rig()
    client = rig.client
    client.hello()
    client.start_heartbeat()
    challenge = arm(client, params(count=2, period_us=100_000))
    summaries, done, _ = fire_and_collect(client, challenge.token, train_id=5)
    assert done.waves_stored == 2
    client.wait_status(lambda s: s.state == FwState.IDLE)
    for channel, field, lsb_scale in ((0, "v_mean_mv", 1e-3), (1, "i_mean_ma", 1e-3)):
        samples: list[int] = []
        offset, total, lsb, dt_ns = 0, None, 0, 0
        while total is None or offset < total:
            ask = GetWave(5, 1, channel, 0, offset, 498)
            reply = client.command(MsgType.GET_WAVE, ask.pack())
            assert reply.msg_type == MsgType.WAVE_CHUNK
            chunk = WaveChunk.unpack(reply.payload)
            assert chunk.offset == offset and 0 < len(chunk.samples) <= 498
            total, lsb, dt_ns = chunk.total, chunk.lsb, chunk.dt_ns
            samples += chunk.samples
            offset += len(chunk.samples)
        assert len(samples) == total
        values = np.array(samples) * lsb * 1e-6  # V or A
        # The plateau of the record: the middle of the 100 us pulse.
        t = np.arange(total) * dt_ns * 1e-9
        on = values[(t > 20e-6 + 30e-6) & (t < 20e-6 + 70e-6)]
        expected = getattr(summaries[1], field) * lsb_scale
        assert abs(float(np.median(on)) - expected) < 0.05 * abs(expected)


@pytest.mark.parametrize(
    ("ask", "result"),
    [
        (GetWave(5, 7, 0, 0, 0, 100), Result.BAD_PARAM),  # no such pulse
        (GetWave(5, 0, 2, 0, 0, 100), Result.BAD_PARAM),  # no channel 2
        (GetWave(5, 0, 0, 0, 0, 499), Result.BAD_PARAM),  # more than a frame holds
        (GetWave(5, 0, 0, 0, 10**6, 100), Result.BAD_PARAM),  # past the end
        (GetWave(9, 0, 0, 0, 0, 100), Result.BAD_PARAM),  # not the last train
    ],
)
def test_bad_sample_requests_are_refused(make_rig: MakeRig, ask: GetWave, result: Result) -> None:
    rig = make_rig()
    client = rig.client
    client.hello()
    client.start_heartbeat()
    challenge = arm(client, params(count=2, period_us=200))
    fire_and_collect(client, challenge.token, train_id=5)
    client.wait_status(lambda s: s.state == FwState.IDLE)
    reply = client.command(MsgType.GET_WAVE, ask.pack())
    assert reply.msg_type == MsgType.NAK and Nak.unpack(reply.payload).result == result


@BOTH_TRANSPORTS
def test_get_train_answers_after_reconnecting(make_rig: MakeRig) -> None:
    rig = make_rig()
    client = rig.client
    first = client.hello(nonce=1)
    client.start_heartbeat()
    challenge = arm(client, params(count=3, period_us=100_000))
    _, done, _ = fire_and_collect(client, challenge.token, train_id=42)
    client.wait_status(lambda s: s.state == FwState.IDLE)

    client = rig.reconnect()
    second = client.hello(nonce=2)
    assert second.session != first.session
    client.start_heartbeat()
    for train_id in (42, 0):
        reply = client.command(MsgType.GET_TRAIN, GetTrain(train_id).pack())
        assert reply.msg_type == MsgType.TRAIN_DONE and reply.flags & FLAG_RESP
        assert TrainDone.unpack(reply.payload) == done
    reply = client.command(MsgType.GET_TRAIN, GetTrain(43).pack())
    assert Nak.unpack(reply.payload).result == Result.BAD_PARAM
    assert [r.train_id for r in rig.firmware.train_records] == [42]


def test_a_train_id_is_used_once_per_session(make_rig: MakeRig) -> None:
    rig = make_rig()
    client = rig.client
    client.hello()
    client.start_heartbeat()
    challenge = arm(client, params(count=1))
    fire_and_collect(client, challenge.token, train_id=3)
    client.wait_status(lambda s: s.state == FwState.IDLE)
    challenge = arm(client, params(count=1))
    reply = client.command(MsgType.FIRE, Fire(challenge.token, 3).pack())
    assert Nak.unpack(reply.payload).result == Result.BAD_PARAM
    reply = client.command(MsgType.FIRE, Fire(challenge.token, 0).pack())
    assert Nak.unpack(reply.payload).result == Result.BAD_PARAM
