"""The function-generator rig as a PulseGenerator: configure, host-side arming, fire, abort."""

from __future__ import annotations

import dataclasses

import pytest
from pyvisa import constants
from pyvisa.errors import VisaIOError

from drivers.errors import InstrumentError, Refused
from drivers.scpi.fg_pulser import ARM_OFFER_LIFETIME_S, Amplifier, FunctionGeneratorPulser
from drivers.scpi.keysight33500 import Keysight33500
from drivers.values import PulseParams
from tests.drivers.conversation import Conversation, Exchange
from tests.drivers.scpi.fake_time import FakeTime

AMP = Amplifier(gain=300.0, v_max_v=3000.0, i_max_a=50.0, max_rate_hz=10_000.0, model="HVA")
PARAMS = PulseParams(amplitude_v=900.0, width_us=100.0, count=8, period_us=200.0, i_limit_a=20.0)
OK = [("*OPC?", "1"), ("SYST:ERR?", '+0,"No error"')]

PROGRAM: list[Exchange] = [
    ("*RST;*CLS", None),
    ("OUTP:LOAD INF", None),
    ("FUNC PULS", None),
    ("FUNC:PULS:HOLD WIDT", None),
    ("FUNC:PULS:PER 0.0002", None),
    ("FUNC:PULS:WIDT 0.0001", None),
    ("VOLT:LOW 0", None),
    ("VOLT:HIGH 3", None),
    ("VOLT:LIM:HIGH 10", None),
    ("VOLT:LIM:LOW 0", None),
    ("VOLT:LIM:STAT 1", None),
    ("BURS:MODE TRIG", None),
    ("BURS:NCYC 8", None),
    ("TRIG:SOUR BUS", None),
    ("TRIG:SLOP POS", None),
    ("TRIG:DEL 0", None),
    ("BURS:STAT 1", None),
    ("OUTP:TRIG 1", None),
    ("OUTP:TRIG:SLOP POS", None),
]


def read_back(high: str = "+3.0E+00", load: str = "+9.9E+37", source: str = "BUS"):
    return [
        ("FUNC?", "PULS"),
        ("VOLT:HIGH?", high),
        ("VOLT:LOW?", "+0.0E+00"),
        ("FUNC:PULS:WIDT?", "+1.0E-04"),
        ("FUNC:PULS:PER?", "+2.0E-04"),
        ("BURS:NCYC?", "+8"),
        ("BURS:STAT?", "1"),
        ("BURS:MODE?", "TRIG"),
        ("TRIG:SOUR?", source),
        ("OUTP:LOAD?", load),
        ("VOLT:LIM:HIGH?", "+1.0E+01"),
        ("VOLT:LIM:STAT?", "1"),
    ]


CONFIGURE = PROGRAM + OK + read_back()
ARM = read_back() + read_back() + [("OUTP 1", None), *OK]


def pulser(conv: Conversation, time: FakeTime | None = None) -> FunctionGeneratorPulser:
    time = time or FakeTime(100.0)
    return FunctionGeneratorPulser(
        Keysight33500(conv), AMP, trigger_source="BUS", clock=time.clock, sleep=time.sleep
    )


def test_configure_programs_level_over_gain_and_returns_the_read_back() -> None:
    with Conversation(CONFIGURE) as conv:
        held = pulser(conv).configure(PARAMS)
    assert held == PARAMS


def test_limits_come_from_the_amplifier() -> None:
    with Conversation([]) as conv:
        limits = pulser(conv).limits
    assert (limits.v_max_v, limits.i_max_a, limits.max_rate_hz) == (3000.0, 50.0, 10_000.0)
    assert not limits.ecg_gate


@pytest.mark.parametrize(
    ("change", "result"),
    [
        ({"ecg_gated": True}, "UNSUPPORTED"),
        ({"amplitude_v": 3000.5}, "OUT_OF_LIMITS"),
        ({"amplitude_v": 0.0}, "OUT_OF_LIMITS"),
        ({"period_us": 50.0}, "OUT_OF_LIMITS"),
        ({"width_us": 250.0}, "OUT_OF_LIMITS"),
        ({"count": 0}, "OUT_OF_LIMITS"),
    ],
)
def test_undeliverable_parameters_are_refused_before_sending(change, result: str) -> None:
    with Conversation([]) as conv, pytest.raises(Refused) as caught:
        pulser(conv).configure(dataclasses.replace(PARAMS, **change))
    assert caught.value.result == result


def test_read_back_load_not_high_impedance_fails_and_leaves_output_off() -> None:
    exchanges = PROGRAM + OK + read_back(load="+5.0E+01") + [("OUTP 0", None), ("*OPC?", "1")]
    with Conversation(exchanges) as conv, pytest.raises(InstrumentError, match="OUTP:LOAD"):
        pulser(conv).configure(PARAMS)


def test_read_back_level_mismatch_fails() -> None:
    exchanges = PROGRAM + OK + read_back(high="+6.0E+00") + [("OUTP 0", None), ("*OPC?", "1")]
    with Conversation(exchanges) as conv, pytest.raises(InstrumentError, match="VOLT:HIGH"):
        pulser(conv).configure(PARAMS)


def test_instrument_errors_during_set_up_fail_configure_with_their_texts() -> None:
    errors = [
        ("*OPC?", "1"),
        ("SYST:ERR?", '-221,"Settings conflict"'),
        ("SYST:ERR?", '+0,"No error"'),
        ("OUTP 0", None),
        ("*OPC?", "1"),
    ]
    with Conversation(PROGRAM + errors) as conv, pytest.raises(InstrumentError) as caught:
        pulser(conv).configure(PARAMS)
    assert caught.value.errors == ('-221,"Settings conflict"',)


def test_arm_fire_wait_cycle() -> None:
    train = [
        ("TRIG:SOUR?", "BUS"),
        ("*TRG", None),
        *OK,
        ("OUTP 0", None),
        ("*OPC?", "1"),
    ]
    clock = FakeTime(100.0)
    with Conversation(CONFIGURE + ARM + train) as conv:
        gen = pulser(conv, clock)
        gen.configure(PARAMS)
        offer = gen.request_arm()
        assert offer.params == PARAMS
        assert offer.expires_in_s == ARM_OFFER_LIFETIME_S
        assert gen.status().param_hash == offer.param_hash
        gen.confirm_arm(offer)
        assert gen.status().state == "ARMED"
        gen.fire(7)
        assert gen.status().state == "FIRING"
        report = gen.wait_train(7, timeout_s=2.0)
    assert (report.train_id, report.n_requested, report.result, report.pulses) == (
        7,
        8,
        "COMPLETE",
        (),
    )
    assert clock.slept == [pytest.approx(8 * 200e-6)]


def test_offer_token_is_single_use() -> None:
    with Conversation(CONFIGURE + ARM) as conv:
        gen = pulser(conv)
        gen.configure(PARAMS)
        offer = gen.request_arm()
        gen.confirm_arm(offer)
        with pytest.raises(Refused) as caught:
            gen.confirm_arm(offer)
    assert caught.value.result == "TOKEN_INVALID"


def test_forged_token_is_refused_and_spends_the_offer() -> None:
    with Conversation(CONFIGURE + read_back()) as conv:
        gen = pulser(conv)
        gen.configure(PARAMS)
        offer = gen.request_arm()
        forged = dataclasses.replace(offer, token=offer.token ^ 1)
        with pytest.raises(Refused, match="TOKEN_INVALID"):
            gen.confirm_arm(forged)
        with pytest.raises(Refused, match="TOKEN_INVALID"):
            gen.confirm_arm(offer)


def test_expired_offer_is_refused() -> None:
    clock = FakeTime(100.0)
    with Conversation(CONFIGURE + read_back()) as conv:
        gen = pulser(conv, clock)
        gen.configure(PARAMS)
        offer = gen.request_arm()
        clock.now += ARM_OFFER_LIFETIME_S + 0.1
        with pytest.raises(Refused) as caught:
            gen.confirm_arm(offer)
    assert caught.value.result == "TOKEN_EXPIRED"


def test_settings_changed_behind_the_offer_are_refused() -> None:
    changed = read_back()
    changed[1] = ("VOLT:HIGH?", "+3.1E+00")
    with Conversation(CONFIGURE + read_back() + changed) as conv:
        gen = pulser(conv)
        gen.configure(PARAMS)
        offer = gen.request_arm()
        with pytest.raises(Refused) as caught:
            gen.confirm_arm(offer)
    assert caught.value.result == "HASH_MISMATCH"


def test_arm_request_refused_when_settings_changed_since_configure() -> None:
    changed = read_back()
    changed[3] = ("FUNC:PULS:WIDT?", "+2.0E-04")
    with Conversation(CONFIGURE + changed) as conv, pytest.raises(Refused, match="HASH"):
        gen = pulser(conv)
        gen.configure(PARAMS)
        gen.request_arm()


def test_fire_needs_arming() -> None:
    with Conversation(CONFIGURE) as conv:
        gen = pulser(conv)
        gen.configure(PARAMS)
        with pytest.raises(Refused, match="BAD_STATE"):
            gen.fire(1)


def test_fire_is_refused_with_external_trigger() -> None:
    with Conversation(CONFIGURE + ARM + [("TRIG:SOUR?", "EXT")]) as conv:
        gen = pulser(conv)
        gen.configure(PARAMS)
        gen.confirm_arm(gen.request_arm())
        with pytest.raises(Refused, match=r"UNSUPPORTED.*EXT"):
            gen.fire(1)


def test_wait_train_turns_the_output_off_even_when_the_generator_complains() -> None:
    train = [
        ("TRIG:SOUR?", "BUS"),
        ("*TRG", None),
        ("*OPC?", "1"),
        ("SYST:ERR?", '-211,"Trigger ignored"'),
        ("SYST:ERR?", '+0,"No error"'),
        ("OUTP 0", None),
        ("*OPC?", "1"),
    ]
    with Conversation(CONFIGURE + ARM + train) as conv:
        gen = pulser(conv)
        gen.configure(PARAMS)
        gen.confirm_arm(gen.request_arm())
        gen.fire(3)
        with pytest.raises(InstrumentError, match="Trigger ignored"):
            gen.wait_train(3, timeout_s=1.0)


def test_abort_never_raises_on_a_dead_link(mocker) -> None:
    with Conversation([]) as conv:
        gen = pulser(conv)
        mocker.patch.object(
            conv, "write", side_effect=VisaIOError(constants.StatusCode.error_connection_lost)
        )
        gen.abort()
        gen.close()
    assert conv.closed


def test_service_checks_the_generator_answers() -> None:
    with Conversation([("*OPC?", "1")]) as conv:
        pulser(conv).service("IDLE")


def test_amplifier_ratings_must_be_positive() -> None:
    with pytest.raises(ValueError, match="gain"):
        Amplifier(gain=0.0, v_max_v=1.0, i_max_a=1.0, max_rate_hz=1.0)


def test_generator_level_range_caps_the_rig() -> None:
    # 2000 V at a gain of 100 would need 20 V from a generator that makes at most 10 V.
    weak = Amplifier(gain=100.0, v_max_v=2000.0, i_max_a=50.0, max_rate_hz=10_000.0)
    with Conversation([]) as conv:
        gen = FunctionGeneratorPulser(Keysight33500(conv), weak, trigger_source="BUS")
        assert gen.limits.v_max_v == 1000.0
        with pytest.raises(Refused, match="OUT_OF_LIMITS"):
            gen.configure(dataclasses.replace(PARAMS, amplitude_v=1500.0))
