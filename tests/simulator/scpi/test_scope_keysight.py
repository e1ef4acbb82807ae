"""The simulated InfiniiVision scope over pyvisa-py and raw sockets."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import pytest

from simulator.faults import Fault, parse_fault
from simulator.scpi import ScpiServer, SimulatedScope
from simulator.train import DeliveredTrain
from tests.simulator.scpi.conftest import RawClient, drain_errors
from tests.simulator.scpi.trains import request, row_axis, trapezoid_train

pytestmark = pytest.mark.timeout(30)

# 200 µs on screen from 20 µs before the trigger; 1000 V pulses into 100 Ω.
SETUP = (
    ":STOP;:TIM:MODE MAIN;:TIM:REF CENT;:TIM:SCAL 2e-5;POS 8e-5;"
    ":CHAN1:DISP 1;PROB 1000;UNIT VOLT;SCAL 150;OFFS 450;"
    ":CHAN2:DISP 1;PROB 10;UNIT AMP;SCAL 2;OFFS 6;"
    ":TRIG:EDGE:SOUR EXT;SLOP POS;"
    ":WAV:SOUR CHAN1;FORM BYTE;BYT MSBF;UNS 1;POIN:MODE RAW;:WAV:POIN 20000"
)


def binary(scope: Any, datatype: str = "B", big_endian: bool = False) -> np.ndarray:
    return scope.query_binary_values(
        ":WAV:DATA?",
        datatype=datatype,
        is_big_endian=big_endian,
        container=np.array,
        header_fmt="ieee",
        expect_termination=True,
    )


def preamble(scope: Any) -> list[float]:
    fields = [float(f) for f in scope.query(":WAV:PRE?").split(",")]
    assert len(fields) == 10
    return fields


def times_of(fields: list[float]) -> np.ndarray:
    """t = (i - xref) * xinc + xorg, from the preamble alone."""
    points, xinc, xorg, xref = int(fields[2]), fields[4], fields[5], fields[6]
    return (np.arange(points) - xref) * xinc + xorg


def values_of(fields: list[float], codes: np.ndarray) -> np.ndarray:
    """Keysight scaling: V = (code - yref) * yinc + yorg."""
    return (codes.astype(float) - fields[9]) * fields[7] + fields[8]


def expected(
    train: DeliveredTrain, row: int, times: np.ndarray, current: bool = False
) -> np.ndarray:
    """The load at the scope's sample times (ideal probes, trigger at the pulse start)."""
    data = train.current_a if current else train.voltage_v
    return np.interp(times, row_axis(train), data[row])


class Bench:
    def __init__(self, faults: Sequence[Fault] = ()) -> None:
        self.scope = SimulatedScope(None, seed=3, dialect="keysight", faults=faults)
        self.server = ScpiServer(self.scope).start()

    def close(self) -> None:
        self.server.close()


@pytest.fixture
def make_bench() -> Iterator[Callable[..., Bench]]:
    benches: list[Bench] = []

    def make(*faults: str) -> Bench:
        bench = Bench(tuple(parse_fault(f) for f in faults))
        benches.append(bench)
        return bench

    yield make
    for bench in benches:
        bench.close()


@pytest.fixture
def bench(make_bench: Callable[..., Bench]) -> Bench:
    return make_bench()


def configure(scope: Any, *more: str) -> None:
    scope.write(";".join((SETUP, *more)))
    assert scope.query("*OPC?") == "1"
    assert drain_errors(scope.query) == []


def test_identity(bench: Bench, connect: Callable[..., Any]) -> None:
    maker, model, _, _ = connect(bench.server).query("*IDN?").split(",")
    assert (maker, model) == ("KEYSIGHT TECHNOLOGIES", "DSOX3024T")


def test_single_captures_the_first_pulse_after_arming(
    bench: Bench, connect: Callable[..., Any]
) -> None:
    scope = connect(bench.server)
    configure(scope)
    scope.query(":AER?")
    assert scope.query(":SING;*OPC?") == "1"
    assert scope.query(":AER?") == "1"
    assert scope.query(":AER?") == "0"  # read-and-clear
    assert int(scope.query(":OPER:COND?")) & 0x08
    assert scope.query(":TER?") == "0"
    train = trapezoid_train(request(count=3))
    bench.scope.on_train(train)
    assert not int(scope.query(":OPER:COND?")) & 0x08
    assert scope.query(":TER?") == "1"
    fields = preamble(scope)
    codes = binary(scope)
    assert codes.size == int(fields[2]) == 20000
    assert (
        np.abs(values_of(fields, codes) - expected(train, 0, times_of(fields))).max() <= fields[7]
    )
    # Stopped: a later train changes nothing.
    bench.scope.on_train(trapezoid_train(request(amplitude_v=500.0)))
    assert np.array_equal(binary(scope), codes)


def test_segmented_capture_one_segment_per_pulse_with_time_tags(
    bench: Bench, connect: Callable[..., Any]
) -> None:
    scope = connect(bench.server)
    configure(scope, ":ACQ:MODE SEGM;:ACQ:SEGM:COUN 4")
    assert scope.query(":SING;*OPC?") == "1"
    assert scope.query(":WAV:SEGM:COUN?") == "+0"
    train = trapezoid_train(request(count=3, period_s=200e-6))
    bench.scope.on_train(train)
    assert scope.query(":WAV:SEGM:COUN?") == "+3"
    assert int(scope.query(":OPER:COND?")) & 0x08  # still waiting for the fourth
    bench.scope.on_train(trapezoid_train(request(count=3, start_s=11.0)))
    assert scope.query(":WAV:SEGM:COUN?") == "+4"
    assert not int(scope.query(":OPER:COND?")) & 0x08
    tags = []
    for index in range(1, 5):
        scope.write(f":ACQ:SEGM:IND {index}")
        tags.append(float(scope.query(":WAV:SEGM:TTAG?")))
        fields = preamble(scope)
        values = values_of(fields, binary(scope))
        assert np.abs(values - expected(train, 0, times_of(fields))).max() <= fields[7]
    assert tags == pytest.approx([0.0, 200e-6, 400e-6, 1.0], abs=1e-9)
    scope.write(":ACQ:SEGM:IND 5")
    assert [c for c, _ in drain_errors(scope.query)] == [-222]


def test_missing_pulse_leaves_no_segment(bench: Bench, connect: Callable[..., Any]) -> None:
    scope = connect(bench.server)
    configure(scope, ":ACQ:MODE SEGM;:ACQ:SEGM:COUN 8")
    assert scope.query(":SING;*OPC?") == "1"
    train = trapezoid_train(request(count=4), delivered=(True, False, True, True))
    bench.scope.on_train(train)
    assert scope.query(":WAV:SEGM:COUN?") == "+3"
    scope.write(":ACQ:SEGM:IND 2")
    assert float(scope.query(":WAV:SEGM:TTAG?")) == pytest.approx(400e-6)


@pytest.mark.parametrize("source", [1, 2])
@pytest.mark.parametrize(
    ("form", "datatype", "order"),
    [("BYTE", "B", "MSBF"), ("WORD", "H", "MSBF"), ("WORD", "H", "LSBF")],
)
def test_preamble_round_trip_within_one_lsb(
    bench: Bench, connect: Callable[..., Any], source: int, form: str, datatype: str, order: str
) -> None:
    scope = connect(bench.server)
    configure(scope, f":WAV:SOUR CHAN{source};FORM {form};BYT {order}")
    assert scope.query(":SING;*OPC?") == "1"
    train = trapezoid_train(request(count=1, amplitude_v=870.0))
    bench.scope.on_train(train)
    fields = preamble(scope)
    assert int(fields[0]) == {"BYTE": 0, "WORD": 1}[form]
    codes = binary(scope, datatype, big_endian=order == "MSBF")
    truth = expected(train, 0, times_of(fields), current=source == 2)
    error = np.abs(values_of(fields, codes) - truth)
    assert error.max() <= fields[7]
    # The record spans the screen: 10 divisions of 20 µs from 20 µs before the trigger.
    assert fields[5] == pytest.approx(-20e-6)
    assert fields[4] * fields[2] == pytest.approx(200e-6)


def test_signed_codes_shift_the_reference(bench: Bench, connect: Callable[..., Any]) -> None:
    scope = connect(bench.server)
    configure(scope, ":WAV:UNS 0")
    assert scope.query(":SING;*OPC?") == "1"
    train = trapezoid_train(request(count=1))
    bench.scope.on_train(train)
    fields = preamble(scope)
    assert fields[9] == 0
    codes = binary(scope, "b")
    assert (
        np.abs(values_of(fields, codes) - expected(train, 0, times_of(fields))).max() <= fields[7]
    )


def test_ascii_format_sends_values(bench: Bench, connect: Callable[..., Any]) -> None:
    scope = connect(bench.server)
    configure(scope, ":WAV:FORM ASC;:WAV:POIN 1000")
    assert scope.query(":SING;*OPC?") == "1"
    train = trapezoid_train(request(count=1))
    bench.scope.on_train(train)
    fields = preamble(scope)
    assert int(fields[0]) == 4
    text = scope.query_binary_values(
        ":WAV:DATA?", datatype="s", container=bytes, header_fmt="ieee", expect_termination=True
    )
    values = np.array([float(v) for v in text.decode("ascii").split(",")])
    assert values.size == int(fields[2]) == 1000
    assert np.abs(values - expected(train, 0, times_of(fields))).max() <= fields[7]


def test_channel_trigger_puts_the_level_crossing_at_time_zero(
    bench: Bench, connect: Callable[..., Any]
) -> None:
    scope = connect(bench.server)
    configure(scope, ":TRIG:EDGE:SOUR CHAN1;LEV 500;SLOP NEG;:WAV:FORM WORD")
    assert scope.query(":SING;*OPC?") == "1"
    train = trapezoid_train(request(count=1, width_s=100e-6), edge_s=2e-6)
    bench.scope.on_train(train)
    fields = preamble(scope)
    values = values_of(fields, binary(scope, "H", big_endian=True))
    # Falling through 500 V happens half-way down the 2 µs edge ending at 100 µs.
    crossing = 99e-6
    truth = expected(train, 0, times_of(fields) + crossing)
    assert np.abs(values - truth).max() <= fields[7]


def test_points_mode_and_decimation(bench: Bench, connect: Callable[..., Any]) -> None:
    scope = connect(bench.server)
    configure(scope)
    rate = float(scope.query(":ACQ:SRAT?"))
    record = round(rate * 200e-6)
    scope.write(":WAV:POIN:MODE NORM;:WAV:POIN MAX")
    assert int(scope.query(":WAV:POIN?")) == min(record, 62500)
    scope.write(":WAV:POIN:MODE RAW;:WAV:POIN MAX")
    assert int(scope.query(":WAV:POIN?")) == record
    scope.write(":WAV:POIN 20000")
    assert int(scope.query(":WAV:POIN?")) == 20000
    assert float(scope.query(":WAV:XINC?")) == pytest.approx(record / 20000 / rate)
    scope.write(":WAV:POIN 50")
    assert [c for c, _ in drain_errors(scope.query)] == [-222]


def test_timebase_sets_sample_rate_within_memory(bench: Bench, connect: Callable[..., Any]) -> None:
    scope = connect(bench.server)
    configure(scope, ":TIM:SCAL 1e-3")
    rate = float(scope.query(":ACQ:SRAT?"))
    assert rate * 10e-3 <= 4_000_000
    scope.write(":ACQ:MODE SEGM;:ACQ:SEGM:COUN 100")
    assert float(scope.query(":ACQ:SRAT?")) * 10e-3 <= 40_000
    assert float(scope.query(":ACQ:SRAT?")) < rate


def test_probe_change_keeps_the_input_referred_scale(
    bench: Bench, connect: Callable[..., Any]
) -> None:
    scope = connect(bench.server)
    scope.write(":CHAN3:PROB 1;SCAL 0.5;OFFS 0.25;PROB 100")
    assert float(scope.query(":CHAN3:SCAL?")) == pytest.approx(50.0)
    assert float(scope.query(":CHAN3:OFFS?")) == pytest.approx(25.0)
    assert float(scope.query(":CHAN3:RANG?")) == pytest.approx(400.0)
    scope.write(":CHAN3:SCAL 600")  # above 5 V/div at the input
    assert [c for c, _ in drain_errors(scope.query)] == [-222]


def test_reads_that_cannot_be_served_add_an_error_and_send_nothing(
    bench: Bench, raw: Callable[..., RawClient]
) -> None:
    sock = raw(bench.server)
    sock.send(SETUP + "\n")
    sock.send(":SING;:WAV:DATA?\n:SYST:ERR?\n")
    assert sock.read_until(b"\n").startswith(b"-230,")  # armed, nothing acquired yet
    bench.scope.on_train(trapezoid_train(request(count=1)))
    sock.send(":WAV:SOUR CHAN3;:WAV:DATA?\n:SYST:ERR?\n")
    assert sock.read_until(b"\n").startswith(b"-221,")  # CHAN3 was off
    sock.send(":WAV:SOUR CHAN1;:TIM:MODE XY;:WAV:DATA?\n:SYST:ERR?\n")
    assert sock.read_until(b"\n").startswith(b"-221,")
    sock.send(":TIM:MODE MAIN;:WAV:DATA?\n")
    assert len(sock.read_block()) == 20000


def test_clip_fault_puts_the_plateau_on_the_clip_codes(
    make_bench: Callable[..., Bench], connect: Callable[..., Any]
) -> None:
    for faults, clipped in (((), False), (("clip:fraction=0.9",), True)):
        bench = make_bench(*faults)
        scope = connect(bench.server)
        configure(scope)
        assert scope.query(":SING;*OPC?") == "1"
        bench.scope.on_train(trapezoid_train(request(count=1)))
        codes = binary(scope)
        assert (codes == 0xFF).any() == clipped
        assert not (codes == 0x00).any()
        scope.write(":WAV:FORM WORD")
        words = binary(scope, "H", big_endian=True)
        assert (words == 0xFF00).any() == clipped
        # Clipping hits the plateau: about the pulse width's share of the record.
        fields = preamble(scope)
        plateau = (times_of(fields) > 2e-6) & (times_of(fields) < 98e-6)
        assert (words[plateau] == 0xFF00).all() == clipped


def test_range_too_small_clips_without_any_fault(bench: Bench, connect: Callable[..., Any]) -> None:
    scope = connect(bench.server)
    configure(scope, ":CHAN1:SCAL 50;OFFS 0")
    assert scope.query(":SING;*OPC?") == "1"
    bench.scope.on_train(trapezoid_train(request(count=1)))
    codes = binary(scope)
    assert (codes == 0xFF).any()
    assert not (codes == 0x01).any()


def test_timeout_fault_withholds_one_reply_and_recovers(
    make_bench: Callable[..., Bench], connect: Callable[..., Any]
) -> None:
    import pyvisa

    bench = make_bench("scope-timeout@2")
    scope = connect(bench.server, timeout_ms=300)
    configure(scope)
    assert scope.query(":SING;*OPC?") == "1"
    bench.scope.on_train(trapezoid_train(request(count=1)))
    first = binary(scope)
    with pytest.raises(pyvisa.errors.VisaIOError) as caught:
        binary(scope)
    assert caught.value.error_code == pyvisa.constants.StatusCode.error_timeout
    scope.clear()
    assert scope.query("*CLS;*OPC?") == "1"
    assert np.array_equal(binary(scope), first)
    # The fault fires once: the next acquisition reads normally.
    assert scope.query(":SING;*OPC?") == "1"
    bench.scope.on_train(trapezoid_train(request(count=1)))
    binary(scope)
    assert np.array_equal(binary(scope), first)


def test_truncated_fault_sends_a_short_block(
    make_bench: Callable[..., Bench], raw: Callable[..., RawClient]
) -> None:
    bench = make_bench("scope-truncated@1")
    sock = raw(bench.server)
    sock.send(SETUP + ";:SING\n")
    assert sock.query("*OPC?") == "1"
    bench.scope.on_train(trapezoid_train(request(count=1)))
    sock.send(":WAV:DATA?\n")
    assert sock.read_until(b"#") == b"#"
    promised = int(sock.read_exactly(int(sock.read_exactly(1))))
    assert promised == 20000
    received = sock.read_exactly(promised // 2 + 1)
    assert received.endswith(b"\n")
    assert sock.quiet_for(0.2) == b""  # the rest never comes
    assert sock.query("*OPC?") == "1"
    sock.send(":WAV:DATA?\n")
    assert len(sock.read_block()) == promised


def test_run_mode_keeps_the_latest_capture(bench: Bench, connect: Callable[..., Any]) -> None:
    scope = connect(bench.server)
    configure(scope, ":RUN")
    bench.scope.on_train(trapezoid_train(request(count=1, amplitude_v=300.0)))
    bench.scope.on_train(trapezoid_train(request(count=1, amplitude_v=900.0)))
    fields = preamble(scope)
    values = values_of(fields, binary(scope))
    assert values.max() == pytest.approx(900.0, abs=fields[7])
    assert int(scope.query(":OPER:COND?")) & 0x08


def test_force_trigger_captures_the_idle_inputs(bench: Bench, connect: Callable[..., Any]) -> None:
    scope = connect(bench.server)
    configure(scope, ":SING;:TRIG:FORC")
    assert scope.query(":TER?") == "1"
    fields = preamble(scope)
    assert np.abs(values_of(fields, binary(scope))).max() <= fields[7]
