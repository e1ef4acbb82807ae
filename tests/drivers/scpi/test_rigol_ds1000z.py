"""Rigol DS1000Z: set-up in 1-2-5 steps, single capture, windowed RAW reads, Rigol scaling."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from drivers.errors import InstrumentError, InstrumentTimeout
from drivers.scpi.errors import InvalidSetting
from drivers.scpi.rigol_ds1000z import RigolDS1000Z
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
OK: list[Exchange] = [("*OPC?", "1"), ("SYST:ERR?", '0,"No error"')]

# Vertical, 1-2-5 steps: 1100 V / 7 div = 157 -> 200 V/div, centre 600 V (offset -600);
# 22 A / 7 div = 3.14 -> 5 A/div, centre 15 A (offset -15).
# Time: 200 us / 12 div = 16.7 us -> 20 us/div; centre -10 us + 6 div = 110 us.
# Depth: 1 MSa/s x 240 us = 240 points -> 6000 (two channels on).
CONFIGURE: list[Exchange] = [
    (":TIM:MODE MAIN", None),
    (":CHAN3:DISP 0", None),
    (":CHAN4:DISP 0", None),
    (":CHAN1:DISP 1", None),
    (":CHAN1:PROB 1000", None),
    (":CHAN1:UNIT VOLT", None),
    (":CHAN1:COUP DC", None),
    (":CHAN1:SCAL 200", None),
    (":CHAN1:OFFS -600", None),
    (":CHAN2:DISP 1", None),
    (":CHAN2:PROB 10", None),
    (":CHAN2:UNIT AMP", None),
    (":CHAN2:COUP DC", None),
    (":CHAN2:SCAL 5", None),
    (":CHAN2:OFFS -15", None),
    (":TIM:MAIN:SCAL 2e-05", None),
    (":TIM:MAIN:OFFS 0.00011", None),
    (":ACQ:TYPE NORM", None),
    (":ACQ:MDEP 6000", None),
    (":TRIG:MODE EDGE", None),
    (":TRIG:EDG:SOUR CHAN1", None),
    (":TRIG:EDG:LEV 100", None),
    (":TRIG:EDG:SLOP POS", None),
    (":TRIG:SWE NORM", None),
    (":WAV:MODE RAW", None),
    (":WAV:FORM BYTE", None),
    *OK,
]
ARM: list[Exchange] = [(":SING", None), (":TRIG:STAT?", "RUN"), (":TRIG:STAT?", "WAIT")]
DONE: list[Exchange] = [(":TRIG:STAT?", "WAIT"), (":TRIG:STAT?", "TD"), (":TRIG:STAT?", "STOP")]


def preamble(points: int, yinc: float, yorigin: int, yref: int = 127) -> str:
    return f"0,0,{points},1,4.000000e-08,-1.000000e-05,0,{yinc:e},{yorigin},{yref}"


def scope(conv: Conversation) -> RigolDS1000Z:
    fake = FakeTime()
    return RigolDS1000Z(conv, clock=fake.clock, sleep=fake.sleep)


def reads(channel: int, pre: str, data: np.ndarray, window: int = 250_000) -> list[Exchange]:
    out: list[Exchange] = [(f":WAV:SOUR CHAN{channel}", None), (":WAV:PRE?", pre)]
    for start in range(0, data.size, window):
        stop = min(start + window, data.size)
        out += [(f":WAV:STAR {start + 1}", None), (f":WAV:STOP {stop}", None)]
        out += [(":WAV:DATA?", block(data[start:stop].tobytes()))]
    return out


def test_configure() -> None:
    with Conversation(CONFIGURE) as conv:
        s = scope(conv)
        s.configure(SETUP)
    assert s.setup == SETUP


def test_segments_are_not_supported() -> None:
    assert RigolDS1000Z.segments_supported == 1
    with Conversation([]) as conv, pytest.raises(InvalidSetting, match="segments 8"):
        scope(conv).configure(dataclasses.replace(SETUP, segments=8))


def test_probe_ratio_outside_the_fixed_set_is_refused() -> None:
    setup = dataclasses.replace(SETUP, voltage=ScopeChannel(1, "voltage", 300.0, 1000.0))
    with Conversation([]) as conv, pytest.raises(InvalidSetting, match="probe ratio 300"):
        scope(conv).configure(setup)


def test_capture_round_trip_with_rigol_scaling() -> None:
    rng = np.random.default_rng(7)
    v_codes = rng.integers(1, 255, 1000).astype(np.uint8)
    i_codes = rng.integers(1, 255, 1000).astype(np.uint8)
    i_codes[3] = 0  # ADC at the bottom rail
    conversation = (
        CONFIGURE
        + ARM
        + DONE
        + reads(1, preamble(1000, 8.0, -52), v_codes)
        + reads(2, preamble(1000, 0.2, -52), i_codes)
    )
    with Conversation(conversation) as conv:
        s = scope(conv)
        s.configure(SETUP)
        s.arm()
        assert s.wait_complete(1.0) == 1
        (capture,) = s.fetch()
    # Rigol's formula: V = (code - yorigin - yreference) * yincrement.
    np.testing.assert_allclose(capture.voltage.values, (v_codes + 52.0 - 127.0) * 8.0, rtol=1e-6)
    np.testing.assert_allclose(capture.current.values, (i_codes + 52.0 - 127.0) * 0.2, rtol=1e-6)
    assert capture.voltage.t0_s == pytest.approx(-10e-6)
    assert capture.voltage.dt_s == pytest.approx(40e-9)
    assert not capture.voltage.clipped
    assert capture.current.clipped
    assert (capture.index, capture.time_tag_s) == (0, 0.0)


def test_long_records_are_read_in_windows_and_joined() -> None:
    points = 600_000
    v_codes = (np.arange(points) % 251 + 2).astype(np.uint8)
    i_codes = (np.arange(points) % 241 + 3).astype(np.uint8)
    conversation = (
        CONFIGURE
        + ARM
        + DONE
        + reads(1, preamble(points, 8.0, 0), v_codes)
        + reads(2, preamble(points, 0.2, 0), i_codes)
    )
    with Conversation(conversation) as conv:
        s = scope(conv)
        s.configure(SETUP)
        s.arm()
        s.wait_complete(1.0)
        (capture,) = s.fetch()
    starts = [m for m in conv.sent if m.startswith(":WAV:STAR")]
    assert starts == [":WAV:STAR 1", ":WAV:STAR 250001", ":WAV:STAR 500001"] * 2
    np.testing.assert_array_equal(capture.voltage.codes, v_codes)
    np.testing.assert_array_equal(capture.current.codes, i_codes)


def test_short_window_is_refused() -> None:
    conversation = (
        CONFIGURE
        + ARM
        + DONE
        + [
            (":WAV:SOUR CHAN1", None),
            (":WAV:PRE?", preamble(1000, 8.0, 0)),
            (":WAV:STAR 1", None),
            (":WAV:STOP 1000", None),
            (":WAV:DATA?", block(b"\x80" * 999)),
        ]
    )
    with Conversation(conversation) as conv:
        s = scope(conv)
        s.configure(SETUP)
        s.arm()
        s.wait_complete(1.0)
        with pytest.raises(InstrumentError, match="999 points"):
            s.fetch()


def test_no_trigger_stops_and_times_out() -> None:
    waits: list[Exchange] = [(":TRIG:STAT?", "WAIT"), (":STOP", None)]
    with Conversation(CONFIGURE + ARM + waits) as conv:
        s = scope(conv)
        s.configure(SETUP)
        s.arm()
        with pytest.raises(InstrumentTimeout, match="did not complete"):
            s.wait_complete(0.0)


def test_never_waiting_for_trigger_is_an_arm_timeout() -> None:
    with Conversation([*CONFIGURE, (":SING", None), (":TRIG:STAT?", "STOP")]) as conv:
        s = scope(conv)
        s.configure(SETUP)
        s.timeout_s = 0.0
        with pytest.raises(InstrumentTimeout, match="WAIT"):
            s.arm()


def test_fetch_before_completion_is_refused() -> None:
    with Conversation(CONFIGURE) as conv:
        s = scope(conv)
        s.configure(SETUP)
        with pytest.raises(InstrumentError, match="wait_complete"):
            s.fetch()


# name, value written, command expected, reply to the query, value read back
SETTINGS = [
    ("timebase_mode", "MAIN", ":TIM:MODE MAIN", "MAIN", "MAIN"),
    ("timebase_scale", 2e-5, ":TIM:MAIN:SCAL 2e-05", "2.000000e-05", 2e-5),
    ("timebase_offset", 1.1e-4, ":TIM:MAIN:OFFS 0.00011", "1.100000e-04", 1.1e-4),
    ("acquire_type", "NORM", ":ACQ:TYPE NORM", "NORM", "NORM"),
    ("memory_depth", "600000", ":ACQ:MDEP 600000", "600000", "600000"),
    ("memory_depth", "auto", ":ACQ:MDEP AUTO", "AUTO", "AUTO"),
    ("trigger_mode", "EDGE", ":TRIG:MODE EDGE", "EDGE", "EDGE"),
    ("trigger_source", "CHAN2", ":TRIG:EDG:SOUR CHAN2", "CHAN2", "CHAN2"),
    ("trigger_level", -50.0, ":TRIG:EDG:LEV -50", "-5.000000e+01", -50.0),
    ("trigger_slope", "POS", ":TRIG:EDG:SLOP POS", "POS", "POS"),
    ("trigger_sweep", "SING", ":TRIG:SWE SING", "SING", "SING"),
    ("waveform_source", "CHAN1", ":WAV:SOUR CHAN1", "CHAN1", "CHAN1"),
    ("waveform_mode", "RAW", ":WAV:MODE RAW", "RAW", "RAW"),
    ("waveform_format", "BYTE", ":WAV:FORM BYTE", "BYTE", "BYTE"),
    ("waveform_start", 250_001, ":WAV:STAR 250001", "250001", 250_001),
    ("waveform_stop", 500_000, ":WAV:STOP 500000", "500000", 500_000),
]
CHANNEL_SETTINGS = [
    ("display", False, ":CHAN4:DISP 0", "0", False),
    ("probe", 10.0, ":CHAN4:PROB 10", "1.000000e+01", 10.0),
    ("units", "AMP", ":CHAN4:UNIT AMP", "AMP", "AMP"),
    ("scale", 5.0, ":CHAN4:SCAL 5", "5.000000e+00", 5.0),
    ("offset", -15.0, ":CHAN4:OFFS -15", "-1.500000e+01", -15.0),
    ("coupling", "DC", ":CHAN4:COUP DC", "DC", "DC"),
    ("bandwidth_limit", "20M", ":CHAN4:BWL 20M", "20M", "20M"),
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
        channel = scope(conv).channels[4]
        setattr(channel, name, value)
        assert getattr(channel, name) == read


@pytest.mark.parametrize(
    ("name", "value"),
    [("memory_depth", "7000"), ("probe", 3.0), ("trigger_source", "EXT"), ("waveform_start", 0)],
)
def test_values_the_ds1000z_does_not_offer_are_refused(name: str, value) -> None:
    with Conversation([]) as conv, pytest.raises(InvalidSetting, match=name):
        s = scope(conv)
        setattr(s.channels[1] if name == "probe" else s, name, value)
