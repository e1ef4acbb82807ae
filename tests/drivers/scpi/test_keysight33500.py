"""Keysight 33500: one expected conversation per setting, plus reset and output-off paths."""

from __future__ import annotations

import math

import pytest
from pyvisa import constants
from pyvisa.errors import VisaIOError

from drivers.scpi.errors import InvalidSetting
from drivers.scpi.keysight33500 import Keysight33500
from tests.drivers.conversation import Conversation

# name, value written, command expected, reply to the query, value read back
SETTINGS = [
    ("function", "puls", "FUNC PULS", "PULS", "PULS"),
    ("pulse_width", 100e-6, "FUNC:PULS:WIDT 0.0001", "+1.000000000000000E-04", 100e-6),
    ("pulse_period", 200e-6, "FUNC:PULS:PER 0.0002", "+2.000000000000000E-04", 200e-6),
    ("frequency", 5000.0, "FREQ 5000", "+5.000000000000000E+03", 5000.0),
    ("pulse_transition", 1e-8, "FUNC:PULS:TRAN 1e-08", "+1.000000000000000E-08", 1e-8),
    ("pulse_hold", "WIDT", "FUNC:PULS:HOLD WIDT", "WIDT", "WIDT"),
    ("voltage_high", 3.0, "VOLT:HIGH 3", "+3.000000000000000E+00", 3.0),
    ("voltage_low", 0.0, "VOLT:LOW 0", "+0.000000000000000E+00", 0.0),
    ("voltage_limit_high", 4.5, "VOLT:LIM:HIGH 4.5", "+4.500000000000000E+00", 4.5),
    ("voltage_limit_low", -0.5, "VOLT:LIM:LOW -0.5", "-5.000000000000000E-01", -0.5),
    ("voltage_limit_enabled", True, "VOLT:LIM:STAT 1", "1", True),
    ("output_load", math.inf, "OUTP:LOAD INF", "+9.900000000000000E+37", math.inf),
    ("output_load", 50.0, "OUTP:LOAD 50", "+5.000000000000000E+01", 50.0),
    ("burst_mode", "TRIG", "BURS:MODE TRIG", "TRIG", "TRIG"),
    ("burst_count", 8, "BURS:NCYC 8", "+8", 8),
    ("burst_enabled", True, "BURS:STAT 1", "1", True),
    ("trigger_source", "BUS", "TRIG:SOUR BUS", "BUS", "BUS"),
    ("trigger_source", "ext", "TRIG:SOUR EXT", "EXT", "EXT"),
    ("trigger_slope", "POS", "TRIG:SLOP POS", "POS", "POS"),
    ("trigger_delay", 0.0, "TRIG:DEL 0", "+0.000000000000000E+00", 0.0),
    ("sync_output", True, "OUTP:TRIG 1", "1", True),
    ("sync_slope", "NEG", "OUTP:TRIG:SLOP NEG", "NEG", "NEG"),
    ("output", False, "OUTP 0", "0", False),
]


@pytest.mark.parametrize(("name", "value", "command", "reply", "read"), SETTINGS)
def test_setting_conversation(name: str, value, command: str, reply: str, read) -> None:
    query = command.split(" ")[0] + "?"
    with Conversation([(command, None), (query, reply)]) as conv:
        fg = Keysight33500(conv)
        setattr(fg, name, value)
        assert getattr(fg, name) == read


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("pulse_width", 10e-9),
        ("pulse_transition", 2e-6),
        ("voltage_high", 10.5),
        ("output_load", 0.5),
        ("burst_count", 0),
        ("trigger_source", "MANUAL"),
        ("function", "SAWTOOTH"),
        ("output", "ON"),
    ],
)
def test_values_beyond_the_instrument_are_refused_before_sending(name: str, value) -> None:
    with Conversation([]) as conv, pytest.raises(InvalidSetting, match=name):
        setattr(Keysight33500(conv), name, value)


def test_reset_sets_high_impedance_load_before_anything_else() -> None:
    with Conversation([("*RST;*CLS", None), ("OUTP:LOAD INF", None)]) as conv:
        Keysight33500(conv).reset()


def test_trigger_is_star_trg() -> None:
    with Conversation([("*TRG", None)]) as conv:
        Keysight33500(conv).trigger()


def test_close_turns_the_output_off_first() -> None:
    with Conversation([("OUTP 0", None), ("*OPC?", "1")]) as conv:
        fg = Keysight33500(conv)
        fg.close()
        fg.close()
    assert conv.closed


def test_output_off_never_raises_and_reports_failure(mocker) -> None:
    with Conversation([]) as conv:
        fg = Keysight33500(conv)
        mocker.patch.object(
            conv, "write", side_effect=VisaIOError(constants.StatusCode.error_connection_lost)
        )
        assert fg.output_off() is False
        fg.close()
    assert conv.closed


def test_snapshot_reads_every_setting() -> None:
    replies: dict[str, str] = {}
    for _, _, command, reply, _ in SETTINGS:
        replies.setdefault(command.split(" ")[0] + "?", reply)
    exchanges = list(replies.items())
    with Conversation(exchanges) as conv:
        snap = Keysight33500(conv).snapshot()
    assert snap["output_load"] == "INF"
    assert snap["burst_count"] == 8
    assert snap["pulse_width"] == 100e-6
    assert len(snap) == len(replies)
