"""ECG-gated trains: the firmware fires at R + delay, withholds refused beats, times out."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pytest

from drivers.link.messages import (
    OPTION_ECG_GATING,
    EcgEvent,
    EcgKind,
    EcgReason,
    Fire,
    FwState,
    MsgType,
    Nak,
    PulseSummary,
    Result,
    TrainDone,
    TrainResult,
)
from simulator.firmware import BeatDecision, EcgFeed
from tests.simulator.firmware.conftest import MakeRig
from tests.simulator.firmware.firmware_link_client import LinkClient, arm, params

pytestmark = pytest.mark.timeout(60)
Script = Sequence[tuple[float, bool, EcgReason]]


class ScriptedEcg:
    """Judged beats at fixed offsets after the gate opens."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.opened_at: list[float] = []

    def open(self, open_s: float) -> EcgFeed:
        self.opened_at.append(open_s)
        beats = [BeatDecision(open_s + dt, 800, ok, reason) for dt, ok, reason in self.script]

        class Feed:
            def beats(self, t0_s: float, t1_s: float) -> Iterable[BeatDecision]:
                return [b for b in beats if t0_s <= b.t_r_s < t1_s]

        return Feed()


def gated_train(
    make_rig: MakeRig, script: Script, count: int, period_us: int
) -> tuple[list[EcgEvent], list[PulseSummary], TrainDone, ScriptedEcg, LinkClient]:
    ecg = ScriptedEcg(script)
    rig = make_rig(open_gate=ecg.open)
    client = rig.client
    client.hello()
    client.start_heartbeat()
    challenge = arm(client, params(count=count, period_us=period_us, options=OPTION_ECG_GATING))
    start = client.mark()
    client.command(MsgType.FIRE, Fire(challenge.token, 1).pack())
    done = client.wait_for(lambda f: f.msg_type == MsgType.TRAIN_DONE, start=start)
    events = [EcgEvent.unpack(f.payload) for f in client.events(MsgType.ECG_EVENT, start)]
    pulses = [PulseSummary.unpack(f.payload) for f in client.events(MsgType.PULSE_SUMMARY, start)]
    client.wait_status(lambda s: s.state == FwState.IDLE)
    return events, pulses, TrainDone.unpack(done.payload), ecg, client


def test_a_long_train_fires_one_pulse_per_accepted_beat(make_rig: MakeRig) -> None:
    script = [
        (0.3, True, EcgReason.NONE),
        (1.0, False, EcgReason.ECTOPIC),
        (1.6, True, EcgReason.NONE),
        (2.4, True, EcgReason.NONE),
        (3.2, True, EcgReason.NONE),  # after the train: not used
    ]
    events, pulses, done, ecg, _ = gated_train(make_rig, script, count=3, period_us=1_000_000)
    assert [(e.kind, e.reason, e.next_pulse) for e in events] == [
        (EcgKind.TRIGGER, EcgReason.NONE, 0),
        (EcgKind.WITHHELD, EcgReason.ECTOPIC, 1),
        (EcgKind.TRIGGER, EcgReason.NONE, 1),
        (EcgKind.TRIGGER, EcgReason.NONE, 2),
    ]
    assert [p.r_to_pulse_us for p in pulses] == [50_000] * 3
    triggers = [e.t_r_us for e in events if e.kind == EcgKind.TRIGGER]
    starts = [p.t_start_us for p in pulses]
    # Each pulse starts ecg_delay after its own R wave (within the model's edge and jitter).
    assert np.all(np.abs(np.subtract(starts, triggers) - 50_000) < 10)
    assert (done.result, done.n_delivered, done.withheld) == (TrainResult.COMPLETE, 3, 1)
    assert len(ecg.opened_at) == 1


def test_a_short_train_goes_on_one_beat(make_rig: MakeRig) -> None:
    script = [(0.2, False, EcgReason.RR_OUT_OF_BAND), (0.9, True, EcgReason.NONE)]
    events, pulses, done, _, _ = gated_train(make_rig, script, count=8, period_us=200)
    assert [e.kind for e in events] == [EcgKind.WITHHELD, EcgKind.TRIGGER]
    assert events[0].reason == EcgReason.RR_OUT_OF_BAND
    assert [p.r_to_pulse_us for p in pulses] == [50_000 + 200 * k for k in range(8)]
    assert (done.result, done.n_delivered, done.withheld) == (TrainResult.COMPLETE, 8, 1)


def test_no_acceptable_beat_for_three_seconds_ends_the_train(make_rig: MakeRig) -> None:
    script = [(0.5, False, EcgReason.NOISE), (1.5, False, EcgReason.NOISE)]
    events, pulses, done, ecg, _ = gated_train(make_rig, script, count=8, period_us=200)
    assert [e.kind for e in events] == [EcgKind.WITHHELD, EcgKind.WITHHELD, EcgKind.TIMEOUT]
    assert pulses == []
    assert (done.result, done.n_delivered, done.n_requested) == (TrainResult.ECG_TIMEOUT, 0, 8)
    # The wait is 3 s on the firmware's (nominal) clock, measured from the gate opening.
    assert events[-1].t_r_us == round((ecg.opened_at[0] + 3.0) * 1e6)


def test_timeout_between_beats_keeps_what_was_delivered(make_rig: MakeRig) -> None:
    script = [(0.3, True, EcgReason.NONE), (1.1, True, EcgReason.NONE)]
    events, pulses, done, _, _ = gated_train(make_rig, script, count=4, period_us=1_000_000)
    assert [e.kind for e in events][-1] == EcgKind.TIMEOUT
    assert len(pulses) == 2
    assert (done.result, done.n_delivered) == (TrainResult.ECG_TIMEOUT, 2)


def test_gating_needs_an_ecg(make_rig: MakeRig) -> None:
    rig = make_rig()
    rig.client.hello()
    reply = rig.client.command(MsgType.SET_PARAMS, params(options=OPTION_ECG_GATING).pack())
    assert Nak.unpack(reply.payload).result == Result.UNSUPPORTED
