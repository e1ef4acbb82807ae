"""The simulated 33500 generator: ranges, the load pitfall, and bursts into the load model."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from simulator.scpi import ScpiServer, SimulatedFunctionGenerator
from simulator.train import DeliveredTrain, TrainRequest
from tests.simulator.scpi.conftest import drain_errors
from tests.simulator.scpi.trains import trapezoid_train

pytestmark = pytest.mark.timeout(30)

GAIN = 300.0
I_MAX = 40.0
V_MAX = 2400.0
CLOCK_S = 123.0
SETUP = (
    "*RST;*CLS;:OUTP:LOAD INF;:FUNC PULS;:FUNC:PULS:WIDT 100e-6;PER 2e-4;"
    ":VOLT:LOW 0;HIGH 2.5;:BURS:MODE TRIG;NCYC 8;STAT ON;:TRIG:SOUR BUS"
)


class Bench:
    """A generator whose load returns trapezoids, with everything it asked and published."""

    def __init__(self) -> None:
        self.asked: list[TrainRequest] = []
        self.published: list[DeliveredTrain] = []
        self.fg = SimulatedFunctionGenerator(
            self.deliver,
            self.published.append,
            amplifier_gain=GAIN,
            amplifier_i_max_a=I_MAX,
            v_max_v=V_MAX,
            clock=lambda: CLOCK_S,
        )

    def deliver(self, request: TrainRequest) -> DeliveredTrain:
        self.asked.append(request)
        return trapezoid_train(request)


@pytest.fixture
def bench() -> Bench:
    return Bench()


@pytest.fixture
def server(bench: Bench) -> Iterator[ScpiServer]:
    with ScpiServer(bench.fg) as running:
        yield running


@pytest.fixture
def fg(server: ScpiServer, connect: Callable[..., Any]) -> Any:
    return connect(server)


def test_bus_trigger_fires_one_burst_into_the_load(bench: Bench, fg: Any) -> None:
    fg.write(SETUP)
    fg.write("OUTP ON")
    assert fg.query("*OPC?") == "1"
    assert bench.fg.output_on
    fg.write("*TRG")
    assert fg.query("*OPC?") == "1"
    assert drain_errors(fg.query) == []
    assert len(bench.asked) == 1
    asked = bench.asked[0]
    assert asked.amplitude_v == pytest.approx(2.5 * GAIN)
    assert asked.width_s == pytest.approx(100e-6)
    assert asked.period_s == pytest.approx(2e-4)
    assert asked.count == 8
    assert asked.i_limit_a == I_MAX
    assert asked.start_s == CLOCK_S
    assert len(bench.published) == 1
    assert bench.published[0].request is asked
    assert bench.fg.requests == (asked,)
    assert bench.fg.last_train is bench.published[0]


def test_trigger_delay_moves_the_train_start(bench: Bench, fg: Any) -> None:
    fg.write(SETUP + ";:TRIG:DEL 0.25;:OUTP ON;*TRG")
    assert fg.query("*OPC?") == "1"
    assert bench.asked[0].start_s == pytest.approx(CLOCK_S + 0.25)


def test_output_off_delivers_nothing(bench: Bench, fg: Any) -> None:
    fg.write(SETUP + ";*TRG")
    assert fg.query("*OPC?") == "1"
    assert drain_errors(fg.query) == []
    assert bench.asked == [] and bench.published == []


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (":TRIG:SOUR IMM", -211),  # *TRG needs the BUS source
        (":TRIG:SOUR EXT", -211),
        (":BURS:STAT OFF", -211),  # not in burst mode
        (":BURS:MODE GAT", -211),
        (":FUNC SIN", -221),  # the amplifier model takes pulses only
    ],
)
def test_trigger_refused_without_a_triggered_pulse_burst(
    bench: Bench, fg: Any, change: str, code: int
) -> None:
    fg.write(SETUP + ";:OUTP ON;" + change + ";*TRG")
    assert [c for c, _ in drain_errors(fg.query)] == [code]
    assert bench.published == []


def test_external_trigger_fires_only_on_the_external_source(bench: Bench, fg: Any) -> None:
    fg.write(SETUP + ";:OUTP ON")
    assert fg.query("*OPC?") == "1"
    assert bench.fg.fire_external() is None
    fg.write("TRIG:SOUR EXT")
    assert fg.query("*OPC?") == "1"
    train = bench.fg.fire_external()
    assert train is not None and bench.published == [train]


def test_amplifier_clamps_at_its_maximum_voltage(bench: Bench, fg: Any) -> None:
    fg.write(SETUP + ";:VOLT:HIGH 9;:OUTP ON;*TRG")
    assert fg.query("*OPC?") == "1"
    assert 9 * GAIN > V_MAX
    assert bench.asked[0].amplitude_v == pytest.approx(V_MAX)


def test_load_pitfall_50_ohm_setting_doubles_the_level_at_the_amplifier(
    bench: Bench, fg: Any
) -> None:
    fg.write(SETUP + ";:OUTP:LOAD 50;:VOLT:HIGH 1;:OUTP ON;*TRG")
    assert fg.query("*OPC?") == "1"
    assert float(fg.query("VOLT:HIGH?")) == pytest.approx(1.0)
    assert bench.fg.state.high_v == pytest.approx(2.0)
    assert bench.asked[0].amplitude_v == pytest.approx(2.0 * GAIN)


def test_load_inf_gives_the_programmed_level(bench: Bench, fg: Any) -> None:
    fg.write(SETUP + ";:VOLT:HIGH 1;:OUTP ON;*TRG")
    assert fg.query("*OPC?") == "1"
    assert bench.fg.state.high_v == pytest.approx(1.0)
    assert bench.asked[0].amplitude_v == pytest.approx(GAIN)


def test_load_setting_changes_the_reading_not_the_output(bench: Bench, fg: Any) -> None:
    fg.write(SETUP + ";:VOLT:HIGH 2")
    fg.write("OUTP:LOAD 50")
    assert float(fg.query("VOLT:HIGH?")) == pytest.approx(1.0)
    assert bench.fg.state.high_v == pytest.approx(2.0)
    fg.write("OUTP:LOAD 150")
    assert float(fg.query("VOLT:HIGH?")) == pytest.approx(2.0 * 150 / 200)


def test_reset_restores_50_ohm(bench: Bench, fg: Any) -> None:
    fg.write(SETUP)
    fg.write("*RST")
    fg.write(":VOLT:HIGH 1")
    assert float(fg.query("OUTP:LOAD?")) == pytest.approx(50.0)
    assert bench.fg.state.high_v == pytest.approx(2.0)


@pytest.mark.parametrize(
    ("message", "code"),
    [
        ("FUNC:PULS:WIDT 2e-9", -222),
        ("FUNC:PULS:WIDT 2e6", -222),
        ("FUNC:PULS:PER 10e-9", -222),
        ("FREQ 40e6", -222),
        ("FUNC:PULS:TRAN 5e-6", -222),
        ("BURS:NCYC 2e8", -222),
        ("TRIG:DEL 2000", -222),
        ("OUTP:LOAD 0.5", -222),
        ("VOLT:HIGH 11", -222),  # at LOAD INF the limit is 10 V
        ("FUNC:PULS:WIDT 250e-6", -221),  # wider than the 200 µs period
        ("FUNC:PULS:PER 50e-6", -221),  # shorter than the 100 µs width
        ("VOLT:HIGH -1", -221),  # below VOLT:LOW
        ("VOLT:LIM:LOW 10", -221),  # not below VOLT:LIM:HIGH (10 V)
    ],
)
def test_out_of_range_and_conflicting_values_are_refused(
    bench: Bench, fg: Any, message: str, code: int
) -> None:
    fg.write(SETUP)
    assert fg.query("*OPC?") == "1"
    before = bench.fg.state
    fg.write(message)
    assert [c for c, _ in drain_errors(fg.query)] == [code]
    assert bench.fg.state == before


def test_level_range_follows_the_load_setting(bench: Bench, fg: Any) -> None:
    fg.write(SETUP + ";:OUTP:LOAD 50")
    assert float(fg.query("VOLT:HIGH? MAX")) == pytest.approx(5.0)
    fg.write("VOLT:HIGH 6")
    assert [c for c, _ in drain_errors(fg.query)] == [-222]
    fg.write("OUTP:LOAD INF")
    assert float(fg.query("VOLT:HIGH? MAX")) == pytest.approx(10.0)
    fg.write("VOLT:HIGH 6")
    assert drain_errors(fg.query) == []


def test_voltage_limit_clips_the_level_and_says_so(bench: Bench, fg: Any) -> None:
    fg.write(SETUP + ";:VOLT:LIM:HIGH 3;LOW 0;STAT ON")
    assert drain_errors(fg.query) == []
    fg.write("VOLT:HIGH 4")
    assert [c for c, _ in drain_errors(fg.query)] == [-221]
    assert float(fg.query("VOLT:HIGH?")) == pytest.approx(3.0)
    fg.write("OUTP ON;*TRG")
    assert fg.query("*OPC?") == "1"
    assert bench.asked[0].amplitude_v == pytest.approx(3.0 * GAIN)


def test_enabling_the_limit_clips_levels_already_set(bench: Bench, fg: Any) -> None:
    fg.write(SETUP + ";:VOLT:HIGH 5;:VOLT:LIM:HIGH 2;STAT ON")
    assert [c for c, _ in drain_errors(fg.query)] == [-221]
    assert float(fg.query("VOLT:HIGH?")) == pytest.approx(2.0)


def test_duty_cycle_hold_scales_the_width_with_the_period(fg: Any) -> None:
    fg.write(SETUP + ";:FUNC:PULS:HOLD DCYC;:FREQ 2500")
    assert float(fg.query("FUNC:PULS:PER?")) == pytest.approx(4e-4)
    assert float(fg.query("FUNC:PULS:WIDT?")) == pytest.approx(200e-6)
    assert drain_errors(fg.query) == []


def test_settings_read_back_in_short_form(fg: Any) -> None:
    fg.write(SETUP + ";:TRIG:SLOP NEGATIVE;:OUTP:TRIG ON;:OUTP:TRIG:SLOP NEG")
    replies = fg.query(
        "FUNC?;:BURS:MODE?;STAT?;:TRIG:SOUR?;SLOP?;:OUTP:TRIG?;:OUTP:TRIG:SLOP?"
    ).split(";")
    assert replies == ["PULS", "TRIG", "1", "BUS", "NEG", "1", "NEG"]


def test_generator_rejects_impossible_amplifier() -> None:
    with pytest.raises(ValueError, match="amplifier_gain"):
        SimulatedFunctionGenerator(trapezoid_train, lambda train: None, amplifier_gain=0.0)
