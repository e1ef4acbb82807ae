"""The simulated DS1000Z scope over pyvisa-py and raw sockets."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest

from simulator.faults import parse_fault
from simulator.scpi import ScpiServer, SimulatedScope
from simulator.train import DeliveredTrain
from tests.simulator.scpi.conftest import RawClient, drain_errors
from tests.simulator.scpi.trains import request, row_axis, trapezoid_train

pytestmark = pytest.mark.timeout(30)

# 12 divisions of 20 µs from 20 µs before the trigger; trigger at 500 V going up.
SETUP = (
    ":STOP;:TIM:MODE MAIN;:TIM:MAIN:SCAL 2e-5;:TIM:MAIN:OFFS 1e-4;"
    ":CHAN1:DISP 1;PROB 1000;UNIT VOLT;SCAL 200;OFFS -600;COUP DC;"
    ":CHAN2:DISP 1;PROB 10;UNIT AMP;SCAL 2;OFFS -6;"
    ":CHAN3:DISP 0;:CHAN4:DISP 0;:ACQ:TYPE NORM;:ACQ:MDEP 120000;"
    ":TRIG:MODE EDGE;:TRIG:EDG:SOUR CHAN1;LEV 500;SLOP POS;:TRIG:SWE NORM;"
    ":WAV:SOUR CHAN1;MODE RAW;FORM BYTE;STAR 1;STOP 120000"
)
LEVEL_V = 500.0
EDGE_S = 2e-6


def binary(scope: Any, datatype: str = "B") -> np.ndarray:
    return scope.query_binary_values(
        ":WAV:DATA?", datatype=datatype, container=np.array, header_fmt="ieee",
        expect_termination=True,
    )  # fmt: skip


def preamble(scope: Any) -> list[float]:
    fields = [float(f) for f in scope.query(":WAV:PRE?").split(",")]
    assert len(fields) == 10
    return fields


def times_of(fields: list[float], start: int = 1, count: int | None = None) -> np.ndarray:
    """t = xorigin + (i - xreference) * xincrement for record points start.. (1-based)."""
    count = int(fields[2]) - start + 1 if count is None else count
    return fields[5] + (np.arange(start - 1, start - 1 + count) - fields[6]) * fields[4]


def values_of(fields: list[float], codes: np.ndarray) -> np.ndarray:
    """Rigol scaling: V = (code - yorigin - yreference) * yincrement."""
    return (codes.astype(float) - fields[8] - fields[9]) * fields[7]


def truth(train: DeliveredTrain, times: np.ndarray, current: bool = False) -> np.ndarray:
    """The load at the scope's sample times; the rising edge crosses the level at the trigger."""
    crossing = EDGE_S * LEVEL_V / train.request.amplitude_v
    data = train.current_a if current else train.voltage_v
    return np.interp(times + crossing, row_axis(train), data[0])


@pytest.fixture
def make_scope() -> Iterator[Callable[..., tuple[SimulatedScope, ScpiServer]]]:
    servers: list[ScpiServer] = []

    def make(*faults: str) -> tuple[SimulatedScope, ScpiServer]:
        scope = SimulatedScope(
            None, seed=5, dialect="rigol", faults=tuple(parse_fault(f) for f in faults)
        )
        servers.append(ScpiServer(scope).start())
        return scope, servers[-1]

    yield make
    for server in servers:
        server.close()


@pytest.fixture
def sim(make_scope: Callable[..., tuple[SimulatedScope, ScpiServer]]) -> SimulatedScope:
    return make_scope()[0]


@pytest.fixture
def scope(
    make_scope: Callable[..., tuple[SimulatedScope, ScpiServer]], connect: Callable[..., Any]
) -> tuple[SimulatedScope, Any]:
    sim, server = make_scope()
    return sim, connect(server)


def configure(scope: Any, *more: str) -> None:
    scope.write(";".join((SETUP, *more)))
    assert scope.query("*OPC?") == "1"
    assert drain_errors(scope.query) == []


def capture(sim: SimulatedScope, scope: Any, train: DeliveredTrain) -> None:
    assert scope.query(":SING;*OPC?") == "1"
    assert scope.query(":TRIG:STAT?") == "WAIT"
    sim.on_train(train)
    assert scope.query(":TRIG:STAT?") == "STOP"


def test_identity_and_sample_rate(scope: tuple[SimulatedScope, Any]) -> None:
    _, visa = scope
    maker, model, _, _ = visa.query("*IDN?").split(",")
    assert (maker, model) == ("RIGOL TECHNOLOGIES", "DS1104Z")
    configure(visa)
    # Two channels on share the 1 GSa/s: 120 000 points over 240 µs is 500 MSa/s.
    assert float(visa.query(":ACQ:SRAT?")) == pytest.approx(5e8)
    visa.write(":ACQ:MDEP AUTO")
    assert visa.query(":ACQ:MDEP?") == "AUTO"


@pytest.mark.parametrize(("source", "form", "datatype"), [
    (1, "BYTE", "B"), (2, "BYTE", "B"), (1, "WORD", "H"), (2, "WORD", "H"),
])  # fmt: skip
def test_preamble_round_trip_within_one_lsb(
    scope: tuple[SimulatedScope, Any], source: int, form: str, datatype: str
) -> None:
    sim, visa = scope
    configure(visa, f":WAV:SOUR CHAN{source};:WAV:FORM {form}")
    train = trapezoid_train(request(count=1, amplitude_v=940.0))
    capture(sim, visa, train)
    fields = preamble(visa)
    assert fields[:4] == [{"BYTE": 0, "WORD": 1}[form], 2, 120000, 1]
    codes = binary(visa, datatype)
    assert codes.size == 120000
    assert codes.max() < 256  # WORD carries the 8-bit code in the low byte
    error = np.abs(values_of(fields, codes) - truth(train, times_of(fields), current=source == 2))
    assert error.max() <= fields[7]
    assert fields[5] == pytest.approx(-20e-6)


def test_offset_moves_the_screen_centre_to_minus_offset(scope: tuple[SimulatedScope, Any]) -> None:
    _, visa = scope
    configure(visa)
    fields = preamble(visa)
    centre = values_of(fields, np.array([fields[9]]))[0]
    assert centre == pytest.approx(600.0, abs=fields[7])


def test_normal_mode_reads_the_1200_point_screen(scope: tuple[SimulatedScope, Any]) -> None:
    sim, visa = scope
    configure(visa, ":WAV:MODE NORM;STAR 1;STOP 1200")
    train = trapezoid_train(request(count=1))
    capture(sim, visa, train)
    fields = preamble(visa)
    assert fields[:3] == [0, 0, 1200]
    assert fields[4] == pytest.approx(240e-6 / 1200)
    codes = binary(visa)
    assert codes.size == 1200
    assert np.abs(values_of(fields, codes) - truth(train, times_of(fields))).max() <= fields[7]


def test_windows_join_into_the_whole_record(scope: tuple[SimulatedScope, Any]) -> None:
    sim, visa = scope
    configure(visa)
    capture(sim, visa, trapezoid_train(request(count=1)))
    whole = binary(visa)
    visa.write(":WAV:STAR 1;STOP 50000")
    first = binary(visa)
    visa.write(":WAV:STAR 50001;STOP 120000")
    second = binary(visa)
    assert (first.size, second.size) == (50000, 70000)
    assert np.array_equal(np.concatenate([first, second]), whole)


def test_one_read_is_limited_per_format(
    make_scope: Callable[..., tuple[SimulatedScope, ScpiServer]], raw: Callable[..., RawClient]
) -> None:
    sim, server = make_scope()
    sock = raw(server)
    # 1.2 ms on screen at 500 MSa/s: 600 000 points in memory.
    sock.send(SETUP + ";:TIM:MAIN:SCAL 1e-4;:TIM:MAIN:OFFS 5.8e-4;:ACQ:MDEP 600000\n")
    assert sock.query(":SING;*OPC?") == "1"
    assert sock.query(":SYST:ERR?") == '+0,"No error"'
    sim.on_train(trapezoid_train(request(count=1)))
    assert sock.query(":WAV:PRE?").split(",")[2] == "600000"
    sock.send(":WAV:STAR 1;STOP 250001;:WAV:DATA?\n:SYST:ERR?\n")
    assert sock.read_until(b"\n").startswith(b"-222,")
    sock.send(":WAV:STOP 250000;:WAV:DATA?\n")
    assert sock.read_until(b"#9") == b"#9"  # Rigol pads the length to nine digits
    sock.pending = b"#9" + sock.pending
    assert len(sock.read_block()) == 250000
    sock.send(":WAV:FORM WORD;:WAV:STOP 125001;:WAV:DATA?\n:SYST:ERR?\n")
    assert sock.read_until(b"\n").startswith(b"-222,")
    sock.send(":WAV:STOP 125000;:WAV:DATA?\n")
    assert len(sock.read_block()) == 250000  # two bytes a point


def test_raw_memory_needs_the_scope_stopped(
    make_scope: Callable[..., tuple[SimulatedScope, ScpiServer]], raw: Callable[..., RawClient]
) -> None:
    sim, server = make_scope()
    sock = raw(server)
    sock.send(SETUP + ";:RUN\n")
    assert sock.query("*OPC?") == "1"
    sim.on_train(trapezoid_train(request(count=1)))
    sock.send(":WAV:DATA?\n:SYST:ERR?\n")
    assert sock.read_until(b"\n").startswith(b"-221,")
    sock.send(":WAV:MODE NORM;STAR 1;STOP 1200;:WAV:DATA?\n")
    assert len(sock.read_block()) == 1200
    sock.send(":STOP;:WAV:MODE MAX;:WAV:STOP 120000;:WAV:PRE?\n")
    assert sock.read_until(b"\n").split(b",")[:3] == [b"0", b"1", b"120000"]


def test_trigger_status_through_run_and_single(scope: tuple[SimulatedScope, Any]) -> None:
    sim, visa = scope
    configure(visa)
    assert visa.query(":TRIG:STAT?") == "STOP"
    visa.write(":RUN")
    assert visa.query(":TRIG:STAT?") == "RUN"  # NORM sweep, waiting
    sim.on_train(trapezoid_train(request(count=1)))
    assert visa.query(":TRIG:STAT?") == "TD"
    visa.write(":TRIG:SWE AUTO")
    assert visa.query(":TRIG:STAT?") == "AUTO"
    visa.write(":TRIG:SWE SING")
    assert visa.query(":TRIG:STAT?") == "WAIT"
    visa.write(":TFOR")
    assert visa.query(":TRIG:STAT?") == "STOP"
    fields = preamble(visa)
    assert np.abs(values_of(fields, binary(visa))).max() <= fields[7]


def test_pulse_below_the_trigger_level_does_not_trigger(scope: tuple[SimulatedScope, Any]) -> None:
    sim, visa = scope
    configure(visa)
    assert visa.query(":SING;*OPC?") == "1"
    sim.on_train(trapezoid_train(request(count=8, amplitude_v=400.0)))
    assert visa.query(":TRIG:STAT?") == "WAIT"


def test_inputs_saturate_at_the_rails(
    make_scope: Callable[..., tuple[SimulatedScope, ScpiServer]], connect: Callable[..., Any]
) -> None:
    for faults, more, rails in (
        ((), "", False),
        ((), ":CHAN1:SCAL 50", True),
        (("clip",), "", True),
    ):
        sim, server = make_scope(*faults)
        visa = connect(server)
        configure(visa, more) if more else configure(visa)
        capture(sim, visa, trapezoid_train(request(count=1)))
        codes = binary(visa)
        assert (codes == 255).any() == rails


def test_settings_only_a_ds1000z_accepts(scope: tuple[SimulatedScope, Any]) -> None:
    _, visa = scope
    visa.write(":CHAN1:PROB 3")
    visa.write(":ACQ:MDEP 100")
    visa.write(":TRIG:EDG:SLOP EITH")
    assert [c for c, _ in drain_errors(visa.query)] == [-224, -224, -224]
    visa.write(":CHAN1:PROB 100;BWL 20M;:TRIG:EDG:SLOP RFAL")
    assert visa.query(":CHAN1:PROB?;BWL?;:TRIG:EDG:SLOP?") == "1.000000e+02;20M;RFAL"


def test_grounded_input_reads_zero(scope: tuple[SimulatedScope, Any]) -> None:
    sim, visa = scope
    configure(visa, ":CHAN2:COUP GND;:WAV:SOUR CHAN2")
    capture(sim, visa, trapezoid_train(request(count=1)))
    fields = preamble(visa)
    assert np.abs(values_of(fields, binary(visa))).max() <= fields[7]
