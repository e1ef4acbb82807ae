"""Keysight InfiniiVision: set-up, arming, completion polling, single and segmented fetch."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from drivers.errors import InstrumentError, InstrumentTimeout
from drivers.scpi.errors import InvalidSetting
from drivers.scpi.infiniivision import InfiniiVision
from drivers.values import ScopeChannel, ScopeSetup
from tests.drivers.conversation import Conversation, Exchange, block
from tests.drivers.scpi.fake_time import FakeTime

SETUP = ScopeSetup(
    voltage=ScopeChannel(1, "voltage", 1000.0, 1000.0),
    current=ScopeChannel(2, "current", 10.0, 20.0),
    sample_rate_hz=1e6,
    pre_trigger_s=10e-6,
    post_trigger_s=190e-6,
    trigger_level=100.0,
)
OK: list[Exchange] = [("*OPC?", "1"), ("SYST:ERR?", '+0,"No error"')]


def configure_exchanges(segments: int = 1) -> list[Exchange]:
    # Vertical: 1.1 x full scale over the 7 divisions above zero (zero one division up).
    # 1000 V: 1100/7 = 157.142857143 V/div, centre 3 div up = 471.428571429 V.
    # 20 A: 22/7 = 3.14285714286 A/div, centre 9.42857142857 A.
    # Time: 200 us over 10 div = 2e-05 s/div; centre at -10 us + 5 div = 9e-05 s.
    acquisition = (
        [(":ACQ:MODE SEGM", None), (f":ACQ:SEGM:COUN {segments}", None)]
        if segments > 1
        else [(":ACQ:MODE RTIM", None)]
    )
    return [
        (":STOP;*OPC?", "1"),
        (":TIM:MODE MAIN", None),
        (":CHAN1:DISP 1", None),
        (":CHAN1:PROB 1000", None),
        (":CHAN1:UNIT VOLT", None),
        (":CHAN1:COUP DC", None),
        (":CHAN1:SCAL 157.142857143", None),
        (":CHAN1:OFFS 471.428571429", None),
        (":CHAN2:DISP 1", None),
        (":CHAN2:PROB 10", None),
        (":CHAN2:UNIT AMP", None),
        (":CHAN2:COUP DC", None),
        (":CHAN2:SCAL 3.14285714286", None),
        (":CHAN2:OFFS 9.42857142857", None),
        (":TIM:REF CENT", None),
        (":TIM:SCAL 2e-05", None),
        (":TIM:POS 9e-05", None),
        (":ACQ:TYPE NORM", None),
        *acquisition,
        (":TRIG:MODE EDGE", None),
        (":TRIG:EDGE:SOUR CHAN1", None),
        (":TRIG:EDGE:LEV 100", None),
        (":TRIG:EDGE:SLOP POS", None),
        (":TRIG:SWE NORM", None),
        (":WAV:SOUR CHAN1", None),
        (":WAV:FORM BYTE", None),
        (":WAV:BYT LSBF", None),
        (":WAV:UNS 1", None),
        (":WAV:POIN:MODE RAW", None),
        (":WAV:POIN 200", None),
        *OK,
        (":WAV:POIN?", "+200"),
    ]


ARM: list[Exchange] = [
    (":STOP;*OPC?", "1"),
    (":AER?", "1"),  # stale: cleared before :SING
    (":SING", None),
    (":AER?", "0"),
    (":AER?", "+1"),
]
V_PRE = "+0,+0,+200,+1,+1.00000000E-06,-1.00000000E-05,+0,+6.28571428E+00,+4.71428571E+02,+128"
I_PRE = "+0,+0,+200,+1,+1.00000000E-06,-1.00000000E-05,+0,+1.25714286E-01,+9.42857143E+00,+128"


def scope(conv: Conversation) -> InfiniiVision:
    fake = FakeTime()
    return InfiniiVision(conv, clock=fake.clock, sleep=fake.sleep)


def codes(seed: int, low: int = 2, high: int = 254) -> np.ndarray:
    return np.random.default_rng(seed).integers(low, high + 1, 200).astype(np.uint8)


def test_configure_single_capture() -> None:
    with Conversation(configure_exchanges()) as conv:
        s = scope(conv)
        s.configure(SETUP)
    assert s.points == 200
    assert s.setup == SETUP


def test_configure_failure_names_the_scope_errors() -> None:
    exchanges = [
        *configure_exchanges()[:-3],
        ("*OPC?", "1"),
        ("SYST:ERR?", '-222,"Data out of range"'),
        ("SYST:ERR?", '+0,"No error"'),
    ]
    with Conversation(exchanges) as conv, pytest.raises(InstrumentError, match="-222"):
        scope(conv).configure(SETUP)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"segments": 1001}, "segments"),
        ({"segments": 0}, "segments"),
        ({"sample_rate_hz": 0.0}, "sample_rate_hz"),
        ({"post_trigger_s": 0.0}, "window"),
        ({"current": ScopeChannel(1, "current", 10.0, 20.0)}, "both on channel 1"),
        ({"current": ScopeChannel(5, "current", 10.0, 20.0)}, "channel 5"),
        ({"current": ScopeChannel(2, "charge", 10.0, 20.0)}, "quantity"),
        ({"voltage": ScopeChannel(1, "voltage", 0.0, 1000.0)}, "units_per_volt"),
        ({"voltage": ScopeChannel(1, "voltage", 1000.0, 0.0)}, "full_scale"),
    ],
)
def test_impossible_setups_are_refused_before_sending(change, field: str) -> None:
    with Conversation([]) as conv, pytest.raises(InvalidSetting, match=field):
        scope(conv).configure(dataclasses.replace(SETUP, **change))


def test_arm_waits_for_the_armed_event() -> None:
    with Conversation(configure_exchanges() + ARM) as conv:
        s = scope(conv)
        s.configure(SETUP)
        s.arm()


def test_arm_before_configure_is_refused() -> None:
    with Conversation([]) as conv, pytest.raises(InstrumentError, match="configure"):
        scope(conv).arm()


def test_single_capture_round_trip() -> None:
    v_codes, i_codes = codes(1), codes(2)
    i_codes[50] = 0xFF  # clipped high
    exchanges = (
        configure_exchanges()
        + ARM
        + [
            (":OPER:COND?", "+8"),
            (":OPER:COND?", "+0"),
            (":WAV:SOUR CHAN1", None),
            (":WAV:PRE?", V_PRE),
            (":WAV:DATA?", block(v_codes.tobytes())),
            (":WAV:SOUR CHAN2", None),
            (":WAV:PRE?", I_PRE),
            (":WAV:DATA?", block(i_codes.tobytes())),
        ]
    )
    with Conversation(exchanges) as conv:
        s = scope(conv)
        s.configure(SETUP)
        s.arm()
        assert s.wait_complete(1.0) == 1
        (capture,) = s.fetch()
    assert (capture.index, capture.time_tag_s) == (0, 0.0)
    v, i = capture.voltage, capture.current
    # The programming guide's formula: V = (code - yref) * yinc + yorg.
    np.testing.assert_allclose(v.values, (v_codes - 128.0) * 6.28571428 + 471.428571, rtol=1e-6)
    np.testing.assert_allclose(i.values, (i_codes - 128.0) * 0.125714286 + 9.42857143, rtol=1e-6)
    np.testing.assert_array_equal(v.codes, v_codes)
    assert (v.units, i.units, v.quantity, i.quantity) == ("V", "A", "voltage", "current")
    assert v.t0_s == pytest.approx(-10e-6)
    assert v.dt_s == pytest.approx(1e-6)
    assert not v.clipped
    assert i.clipped
    assert v.values.dtype == np.float32


@pytest.mark.parametrize("clip_code", [0x00, 0x01, 0xFF])
def test_every_clip_code_marks_the_waveform(clip_code: int) -> None:
    v_codes = codes(3)
    v_codes[0] = clip_code
    exchanges = (
        configure_exchanges()
        + ARM
        + [
            (":OPER:COND?", "+0"),
            (":WAV:SOUR CHAN1", None),
            (":WAV:PRE?", V_PRE),
            (":WAV:DATA?", block(v_codes.tobytes())),
            (":WAV:SOUR CHAN2", None),
            (":WAV:PRE?", I_PRE),
            (":WAV:DATA?", block(codes(4).tobytes())),
        ]
    )
    with Conversation(exchanges) as conv:
        s = scope(conv)
        s.configure(SETUP)
        s.arm()
        s.wait_complete(1.0)
        (capture,) = s.fetch()
    assert capture.voltage.clipped and not capture.current.clipped


def test_segmented_capture_reads_each_segment_with_its_time_tag() -> None:
    setup = dataclasses.replace(SETUP, segments=3)
    reads: list[Exchange] = [(":OPER:COND?", "+0"), (":WAV:SEGM:COUN?", "+3")]
    data = {}
    for k in (1, 2, 3):
        data[k] = (codes(10 + k), codes(20 + k))
        reads += [(f":ACQ:SEGM:IND {k}", None), (":WAV:SEGM:TTAG?", f"{(k - 1) * 2e-4:+.6E}")]
        reads += [(":WAV:SOUR CHAN1", None)]
        reads += [(":WAV:PRE?", V_PRE)] if k == 1 else []
        reads += [(":WAV:DATA?", block(data[k][0].tobytes())), (":WAV:SOUR CHAN2", None)]
        reads += [(":WAV:PRE?", I_PRE)] if k == 1 else []
        reads += [(":WAV:DATA?", block(data[k][1].tobytes()))]
    with Conversation(configure_exchanges(3) + ARM + reads) as conv:
        s = scope(conv)
        s.configure(setup)
        s.arm()
        assert s.wait_complete(1.0) == 3
        captures = s.fetch()
    assert [c.index for c in captures] == [0, 1, 2]
    assert [c.time_tag_s for c in captures] == pytest.approx([0.0, 2e-4, 4e-4])
    for k, capture in enumerate(captures, start=1):
        np.testing.assert_array_equal(capture.voltage.codes, data[k][0])
        np.testing.assert_array_equal(capture.current.codes, data[k][1])


def test_segmented_timeout_returns_the_segments_caught() -> None:
    setup = dataclasses.replace(SETUP, segments=8)
    waits: list[Exchange] = [
        (":OPER:COND?", "+8"),
        (":STOP;*OPC?", "1"),
        (":WAV:SEGM:COUN?", "+5"),
    ]
    with Conversation(configure_exchanges(8) + ARM + waits) as conv:
        s = scope(conv)
        s.configure(setup)
        s.arm()
        assert s.wait_complete(0.0) == 5


def test_segmented_timeout_with_nothing_caught_is_a_timeout() -> None:
    setup = dataclasses.replace(SETUP, segments=8)
    waits: list[Exchange] = [
        (":OPER:COND?", "+8"),
        (":STOP;*OPC?", "1"),
        (":WAV:SEGM:COUN?", "+0"),
    ]
    with Conversation(configure_exchanges(8) + ARM + waits) as conv:
        s = scope(conv)
        s.configure(setup)
        s.arm()
        with pytest.raises(InstrumentTimeout, match="trigger level"):
            s.wait_complete(0.0)


def test_no_trigger_is_a_timeout_that_stops_the_scope() -> None:
    waits: list[Exchange] = [(":OPER:COND?", "+8"), (":STOP;*OPC?", "1")]
    with Conversation(configure_exchanges() + ARM + waits) as conv:
        s = scope(conv)
        s.configure(SETUP)
        s.arm()
        with pytest.raises(InstrumentTimeout, match=r"trigger level \(100 on channel 1\)"):
            s.wait_complete(0.0)
        with pytest.raises(InstrumentError, match="no completed acquisition"):
            s.fetch()


def test_never_armed_is_a_timeout() -> None:
    arm: list[Exchange] = [(":STOP;*OPC?", "1"), (":AER?", "0"), (":SING", None), (":AER?", "0")]
    with Conversation(configure_exchanges() + arm) as conv:
        s = scope(conv)
        s.configure(SETUP)
        s.timeout_s = 0.0
        with pytest.raises(InstrumentTimeout, match="did not arm"):
            s.arm()


def test_sample_count_that_disagrees_with_the_preamble_is_refused() -> None:
    exchanges = (
        configure_exchanges()
        + ARM
        + [
            (":OPER:COND?", "+0"),
            (":WAV:SOUR CHAN1", None),
            (":WAV:PRE?", V_PRE),
            (":WAV:DATA?", block(codes(5)[:150].tobytes())),
        ]
    )
    with Conversation(exchanges) as conv:
        s = scope(conv)
        s.configure(SETUP)
        s.arm()
        s.wait_complete(1.0)
        with pytest.raises(InstrumentError, match="150 samples"):
            s.fetch()


def test_snapshot_covers_scope_and_channels_in_use() -> None:
    instrument = [
        (":TIM:MODE?", "MAIN"),
        (":TIM:SCAL?", "+2.0E-05"),
        (":TIM:REF?", "CENT"),
        (":TIM:POS?", "+9.0E-05"),
        (":ACQ:TYPE?", "NORM"),
        (":ACQ:MODE?", "RTIM"),
        (":ACQ:SEGM:COUN?", "+2"),
        (":ACQ:SEGM:IND?", "+1"),
        (":ACQ:SRAT?", "+1.0E+06"),
        (":TRIG:MODE?", "EDGE"),
        (":TRIG:EDGE:SOUR?", "CHAN1"),
        (":TRIG:EDGE:LEV?", "+1.0E+02"),
        (":TRIG:EDGE:SLOP?", "POS"),
        (":TRIG:SWE?", "NORM"),
        (":WAV:SOUR?", "CHAN1"),
        (":WAV:FORM?", "BYTE"),
        (":WAV:BYT?", "LSBF"),
        (":WAV:UNS?", "1"),
        (":WAV:POIN:MODE?", "RAW"),
        (":WAV:POIN?", "+200"),
    ]
    channel = [
        (":CHAN{}:DISP?", "1"),
        (":CHAN{}:PROB?", "+1.0E+03"),
        (":CHAN{}:UNIT?", "VOLT"),
        (":CHAN{}:SCAL?", "+1.5E+02"),
        (":CHAN{}:OFFS?", "+4.5E+02"),
        (":CHAN{}:COUP?", "DC"),
        (":CHAN{}:IMP?", "ONEM"),
        (":CHAN{}:BWL?", "0"),
    ]
    exchanges = instrument + [(q.format(n), r) for n in (1, 2) for q, r in channel]
    with Conversation(exchanges) as conv:
        snap = scope(conv).snapshot()
    assert snap["sample_rate"] == 1e6
    assert snap["chan2"] == {
        "display": True,
        "probe": 1000.0,
        "units": "VOLT",
        "scale": 150.0,
        "offset": 450.0,
        "coupling": "DC",
        "impedance": "ONEM",
        "bandwidth_limit": False,
    }


# name, value written, command expected, reply to the query, value read back
SETTINGS = [
    ("timebase_mode", "MAIN", ":TIM:MODE MAIN", "MAIN", "MAIN"),
    ("timebase_scale", 2e-5, ":TIM:SCAL 2e-05", "+2.000000E-05", 2e-5),
    ("timebase_reference", "CENT", ":TIM:REF CENT", "CENT", "CENT"),
    ("timebase_position", -1e-5, ":TIM:POS -1e-05", "-1.000000E-05", -1e-5),
    ("acquire_type", "NORM", ":ACQ:TYPE NORM", "NORM", "NORM"),
    ("acquire_mode", "SEGM", ":ACQ:MODE SEGM", "SEGM", "SEGM"),
    ("segment_count", 8, ":ACQ:SEGM:COUN 8", "+8", 8),
    ("segment_index", 3, ":ACQ:SEGM:IND 3", "+3", 3),
    ("trigger_mode", "EDGE", ":TRIG:MODE EDGE", "EDGE", "EDGE"),
    ("trigger_source", "CHAN1", ":TRIG:EDGE:SOUR CHAN1", "CHAN1", "CHAN1"),
    ("trigger_level", 100.0, ":TRIG:EDGE:LEV 100", "+1.000000E+02", 100.0),
    ("trigger_slope", "NEG", ":TRIG:EDGE:SLOP NEG", "NEG", "NEG"),
    ("trigger_sweep", "NORM", ":TRIG:SWE NORM", "NORM", "NORM"),
    ("waveform_source", "CHAN2", ":WAV:SOUR CHAN2", "CHAN2", "CHAN2"),
    ("waveform_format", "BYTE", ":WAV:FORM BYTE", "BYTE", "BYTE"),
    ("waveform_byte_order", "LSBF", ":WAV:BYT LSBF", "LSBF", "LSBF"),
    ("waveform_unsigned", True, ":WAV:UNS 1", "1", True),
    ("waveform_points_mode", "RAW", ":WAV:POIN:MODE RAW", "RAW", "RAW"),
    ("waveform_points", 10_000, ":WAV:POIN 10000", "+10000", 10_000),
]
CHANNEL_SETTINGS = [
    ("display", True, ":CHAN3:DISP 1", "1", True),
    ("probe", 1000.0, ":CHAN3:PROB 1000", "+1.000000E+03", 1000.0),
    ("units", "AMP", ":CHAN3:UNIT AMP", "AMP", "AMP"),
    ("scale", 150.0, ":CHAN3:SCAL 150", "+1.500000E+02", 150.0),
    ("offset", 450.0, ":CHAN3:OFFS 450", "+4.500000E+02", 450.0),
    ("coupling", "DC", ":CHAN3:COUP DC", "DC", "DC"),
    ("impedance", "FIFT", ":CHAN3:IMP FIFT", "FIFT", "FIFT"),
    ("bandwidth_limit", False, ":CHAN3:BWL 0", "0", False),
]


@pytest.mark.parametrize(("name", "value", "command", "reply", "read"), SETTINGS)
def test_setting_conversation(name: str, value, command: str, reply: str, read) -> None:
    with Conversation([(command, None), (command.split(" ")[0] + "?", reply)]) as conv:
        s = scope(conv)
        setattr(s, name, value)
        assert getattr(s, name) == read


@pytest.mark.parametrize(("name", "value", "command", "reply", "read"), CHANNEL_SETTINGS)
def test_channel_setting_conversation(name: str, value, command: str, reply: str, read) -> None:
    with Conversation([(command, None), (command.split(" ")[0] + "?", reply)]) as conv:
        channel = scope(conv).channels[3]
        setattr(channel, name, value)
        assert getattr(channel, name) == read


def test_sample_rate_is_read_only() -> None:
    with Conversation([(":ACQ:SRAT?", "+2.500000E+09")]) as conv:
        s = scope(conv)
        assert s.sample_rate == 2.5e9
        with pytest.raises(AttributeError, match="read-only"):
            s.sample_rate = 1e9  # type: ignore[misc]
