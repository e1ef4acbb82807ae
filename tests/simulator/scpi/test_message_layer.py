"""The SCPI message layer, exercised over TCP through the simulated 33500 generator."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from simulator.scpi import ScpiServer, SimulatedFunctionGenerator
from simulator.train import DeliveredTrain, TrainRequest
from tests.simulator.scpi.conftest import RawClient, drain_errors
from tests.simulator.scpi.trains import trapezoid_train

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
def server() -> Iterator[ScpiServer]:
    published: list[DeliveredTrain] = []

    def deliver(request: TrainRequest) -> DeliveredTrain:
        return trapezoid_train(request)

    with ScpiServer(SimulatedFunctionGenerator(deliver, published.append)) as running:
        yield running


@pytest.fixture
def fg(server: ScpiServer, connect: Callable[..., Any]) -> Any:
    return connect(server)


@pytest.fixture
def sock(server: ScpiServer, raw: Callable[..., RawClient]) -> RawClient:
    return raw(server)


def test_compound_message_mixes_short_long_and_any_case(fg: Any) -> None:
    fg.write(":func puls;:FUNCTION:PULSE:WIDTH 2E-5;:Func:Puls:Period 1e-3")
    function, width, period = fg.query(":FUNC?;:FUNC:PULS:WIDT?;:fUnC:pUlS:pEr?").split(";")
    assert function == "PULS"
    assert float(width) == pytest.approx(2e-5)
    assert float(period) == pytest.approx(1e-3)
    assert drain_errors(fg.query) == []


def test_relative_header_continues_the_previous_path(fg: Any) -> None:
    fg.write(":FUNC:PULS:WIDT 5e-5;PER 4e-4;:VOLT:LOW 0;HIGH 2")
    assert float(fg.query(":FUNC:PULS:PER?")) == pytest.approx(4e-4)
    assert float(fg.query(":VOLT:HIGH?")) == pytest.approx(2.0)
    assert drain_errors(fg.query) == []


def test_full_header_after_a_compound_is_relative_and_undefined(fg: Any) -> None:
    fg.write(":FUNC:PULS:WIDT 5e-5;FUNC:PULS:PER 4e-4;:OUTP ON")
    errors = drain_errors(fg.query)
    assert [code for code, _ in errors] == [-113]
    # A command error drops the rest of the message: the output stays off.
    assert fg.query("OUTP?") == "0"
    assert float(fg.query("FUNC:PULS:PER?")) == pytest.approx(1e-3)


def test_root_colon_resets_the_path_and_common_commands_keep_it(fg: Any) -> None:
    fg.write(":FUNC:PULS:WIDT 5e-5;*CLS;PER 3e-4")
    assert float(fg.query(":FUNC:PULS:PER?")) == pytest.approx(3e-4)
    assert drain_errors(fg.query) == []


def test_numeric_suffix_defaults_to_one_and_is_range_checked(fg: Any) -> None:
    fg.write("SOURCE1:FUNC:PULS:WIDT 3e-5")
    assert float(fg.query("SOUR:FUNC:PULS:WIDT?")) == pytest.approx(3e-5)
    assert fg.query("OUTP1?") == "0"
    fg.write("SOUR2:FUNC:PULS:WIDT 4e-5")
    assert [code for code, _ in drain_errors(fg.query)] == [-114]
    assert float(fg.query("FUNC:PULS:WIDT?")) == pytest.approx(3e-5)


@pytest.mark.parametrize(
    ("command", "query", "expected"),
    [
        ("FUNC:PULS:WIDT 100 US", "FUNC:PULS:WIDT?", 100e-6),
        ("FUNC:PULS:WIDT 0.05MS", "FUNC:PULS:WIDT?", 50e-6),
        ("FUNC:PULS:WIDT 70e-6s", "FUNC:PULS:WIDT?", 70e-6),
        ("FUNC:PULS:WIDT 80u", "FUNC:PULS:WIDT?", 80e-6),
        ("FREQ 5KHZ", "FREQ?", 5e3),
        ("FREQ 0.002 MHz", "FREQ?", 2e3),  # MHZ is mega, not milli
        ("VOLT:HIGH 500MV", "VOLT:HIGH?", 0.5),
        ("OUTP:LOAD 1KOHM", "OUTP:LOAD?", 1e3),
        ("OUTP:LOAD 1 MOHM", "OUTP:LOAD?", None),  # out of range: 1 MΩ
    ],
)
def test_si_suffixes(fg: Any, command: str, query: str, expected: float | None) -> None:
    before = fg.query(query)
    fg.write(command)
    errors = drain_errors(fg.query)
    if expected is None:
        assert [code for code, _ in errors] == [-222]
        assert fg.query(query) == before
    else:
        assert errors == []
        assert float(fg.query(query)) == pytest.approx(expected)


def test_wrong_unit_suffix_is_an_invalid_suffix(fg: Any) -> None:
    fg.write("FUNC:PULS:WIDT 5 KV")
    fg.write("BURS:NCYC 5 S")
    assert [code for code, _ in drain_errors(fg.query)] == [-131, -138]


def test_min_max_in_queries_and_settings(fg: Any) -> None:
    assert float(fg.query("FUNC:PULS:WIDT? MIN")) == pytest.approx(16e-9)
    assert float(fg.query("FUNC:PULS:TRAN? MAX")) == pytest.approx(1e-6)
    fg.write("BURS:NCYC MAX")
    assert float(fg.query("BURS:NCYC?")) == pytest.approx(1e8)
    fg.write("OUTP:LOAD DEF")
    assert float(fg.query("OUTP:LOAD?")) == pytest.approx(50.0)
    fg.write("OUTP:LOAD INFinity")
    assert float(fg.query("OUTP:LOAD?")) == pytest.approx(9.9e37)
    assert drain_errors(fg.query) == []


@pytest.mark.parametrize(
    ("message", "code"),
    [
        ("FUNC:PULZ:WIDT 1e-4", -113),  # undefined header
        ("*RST?", -113),  # no query form
        ("SYST:ERR", -113),  # query only
        ("FUNC:PULS:WIDT", -109),  # missing parameter
        ("OUTP ON,OFF", -108),  # one parameter too many
        ("FUNC:PULS:WIDT wide", -104),  # not a number
        ("TRIG:SOUR SOMETIMES", -224),  # not one of the choices
        ("OUTP MAYBE", -224),
        (":FUNC::PULS:WIDT 1e-4", -102),  # malformed header
        ("FUNC:PULS:WIDT 1e-9", -222),  # below 16 ns
        ("BURS:NCYC 0", -222),
    ],
)
def test_error_codes(fg: Any, message: str, code: int) -> None:
    fg.write(message)
    errors = drain_errors(fg.query)
    assert [c for c, _ in errors] == [code]
    assert errors[0][1]  # every entry carries its standard text


def test_error_queue_is_oldest_first_and_empty_reads_no_error(fg: Any) -> None:
    fg.write("FUNC:PULS:WIDT 1e-9")
    fg.write("NO:SUCH:THING")
    assert fg.query("SYST:ERR:COUN?") == "2"
    first = fg.query("SYST:ERR?")
    second = fg.query("SYST:ERR:NEXT?")
    assert first.startswith('-222,"Data out of range')
    assert second.startswith('-113,"Undefined header')
    assert fg.query("SYST:ERR?") == '+0,"No error"'


def test_error_queue_overflow_replaces_the_newest_with_minus_350(fg: Any) -> None:
    for _ in range(25):
        fg.write("NO:SUCH:THING")
    codes = [code for code, _ in drain_errors(fg.query)]
    assert len(codes) == 20  # the 33500's queue depth
    assert codes[:19] == [-113] * 19
    assert codes[19] == -350


def test_cls_clears_queue_and_event_register(fg: Any) -> None:
    fg.write("NO:SUCH:THING")
    fg.write("*CLS")
    assert fg.query("SYST:ERR?") == '+0,"No error"'
    assert fg.query("*ESR?") == "0"


def test_esr_bits_follow_the_error_class_and_clear_on_read(fg: Any) -> None:
    fg.write("*CLS")
    fg.write("NO:SUCH:THING")  # command error: CME, bit 5
    assert int(fg.query("*ESR?")) == 0x20
    fg.write("FUNC:PULS:WIDT 1e-9")  # execution error: EXE, bit 4
    fg.write("*OPC")  # operation complete: bit 0
    assert int(fg.query("*ESR?")) == 0x10 | 0x01
    assert int(fg.query("*ESR?")) == 0


def test_status_byte_reports_queue_event_summary_and_message_available(fg: Any) -> None:
    fg.write("*CLS;*ESE 32")
    assert int(fg.query("*STB?")) == 0
    fg.write("NO:SUCH:THING")
    stb = int(fg.query("*STB?"))
    assert stb & 0x04  # error queue not empty
    assert stb & 0x20  # CME is enabled in *ESE
    # In a compound query the earlier reply is waiting in the output queue: MAV.
    identity, stb_text = fg.query("*IDN?;*STB?").split(";")
    assert identity.startswith("Keysight")
    assert int(stb_text) & 0x10


def test_common_commands(fg: Any) -> None:
    maker, model, serial, firmware = fg.query("*IDN?").split(",")
    assert (maker, model) == ("Keysight Technologies", "33521B")
    assert serial and firmware
    assert fg.query("*OPC?") == "1"
    assert fg.query("*TST?") == "0"
    fg.write("OUTP:LOAD INF;:OUTP ON;*WAI")
    assert fg.query("OUTP?") == "1"
    fg.write("*RST")
    assert fg.query("OUTP?") == "0"
    assert float(fg.query("OUTP:LOAD?")) == pytest.approx(50.0)
    assert drain_errors(fg.query) == []


def test_raw_socket_replies_end_with_one_newline(sock: RawClient) -> None:
    sock.send("*IDN?;:OUTP?\n")
    reply = sock.read_until(b"\n")
    assert reply.count(b"\n") == 1
    assert reply.endswith(b";0\n")
    # A command without a query sends nothing back.
    sock.send("OUTP OFF\n*OPC?\n")
    assert sock.read_until(b"\n") == b"1\n"


def test_carriage_return_before_newline_is_accepted(sock: RawClient) -> None:
    sock.send("*OPC?\r\n")
    assert sock.read_until(b"\n") == b"1\n"
