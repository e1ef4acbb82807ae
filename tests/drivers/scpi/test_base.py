"""The SCPI conversation rules: queries, error queue, blocks, timeouts and resync."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from pyvisa import constants
from pyvisa.errors import InvalidSession, VisaIOError

from drivers.errors import InstrumentError, InstrumentTimeout
from drivers.scpi.base import MAX_ERROR_READS, ScpiInstrument, error_code
from drivers.scpi.block import MalformedBlock, TruncatedBlock
from drivers.scpi.errors import InstrumentLost
from drivers.values import Identity
from tests.drivers.conversation import Conversation, block

SOCKET = "TCPIP::192.0.2.10::5025::SOCKET"
VXI11 = "TCPIP::192.0.2.10::inst0::INSTR"
TIMEOUT = VisaIOError(constants.StatusCode.error_timeout)


def test_construction_sets_terminations_and_timeout_and_sends_nothing() -> None:
    with Conversation([]) as conv:
        conv.read_termination = None
        ScpiInstrument(conv, timeout_s=3.5)
        assert (conv.read_termination, conv.write_termination) == ("\n", "\n")
        assert conv.timeout == 3500.0


def test_identity_is_read_once() -> None:
    with Conversation([("*IDN?", "Keysight Technologies,33522B,MY1234,4.00-1.19-2.00-52-00")]) as c:
        inst = ScpiInstrument(c)
        expected = Identity(
            "Keysight Technologies", "33522B", "MY1234", "4.00-1.19-2.00-52-00", SOCKET
        )
        assert inst.identity == expected
        assert inst.identity == expected


def test_identity_with_too_few_fields_is_an_instrument_error() -> None:
    with Conversation([("*IDN?", "HELLO")]) as c, pytest.raises(InstrumentError, match="IDN"):
        _ = ScpiInstrument(c).identity


def test_opc_needs_a_one() -> None:
    with Conversation([("*OPC?", "1"), ("*OPC?", "0")]) as c:
        inst = ScpiInstrument(c)
        inst.opc()
        with pytest.raises(InstrumentError, match=r"\*OPC\?"):
            inst.opc()


def test_configuring_block_ends_with_opc_and_clean_error_queue() -> None:
    exchanges = [("A 1", None), ("B 2", None), ("*OPC?", "1"), ("SYST:ERR?", '+0,"No error"')]
    with Conversation(exchanges) as c:
        inst = ScpiInstrument(c)
        with inst.configuring("the set-up"):
            inst.write("A 1")
            inst.write("B 2")


def test_error_queue_is_drained_logged_and_raised(caplog: pytest.LogCaptureFixture) -> None:
    exchanges = [
        ("*OPC?", "1"),
        ("SYST:ERR?", '-222,"Data out of range"'),
        ("SYST:ERR?", '-221,"Settings conflict"'),
        ("SYST:ERR?", '+0,"No error"'),
    ]
    with Conversation(exchanges) as c:
        inst = ScpiInstrument(c)
        with caplog.at_level(logging.WARNING), pytest.raises(InstrumentError) as caught:
            inst.check_errors("the pulse set-up")
    assert caught.value.errors == ('-222,"Data out of range"', '-221,"Settings conflict"')
    assert "refused the pulse set-up" in str(caught.value)
    assert sum("Data out of range" in r.message for r in caplog.records) == 1
    assert sum("Settings conflict" in r.message for r in caplog.records) == 1


def test_error_queue_drain_stops_after_thirty_reads() -> None:
    exchanges = [("*OPC?", "1")] + [("SYST:ERR?", '-350,"Queue overflow"')] * MAX_ERROR_READS
    with Conversation(exchanges) as c, pytest.raises(InstrumentError) as caught:
        ScpiInstrument(c).check_errors("x")
    assert len(caught.value.errors) == MAX_ERROR_READS + 1
    assert "still not empty" in caught.value.errors[-1]


@pytest.mark.parametrize(
    ("entry", "code"), [('+0,"No error"', 0), ('-113,"Undefined header"', -113)]
)
def test_error_code(entry: str, code: int) -> None:
    assert error_code(entry) == code


def test_error_code_refuses_nonsense() -> None:
    with pytest.raises(InstrumentError, match="SYST:ERR"):
        error_code("No error")


def test_query_block_reads_data_containing_newlines() -> None:
    data = bytes(range(256)) * 3
    with Conversation([(":WAV:DATA?", block(data))]) as c:
        assert ScpiInstrument(c).query_block(":WAV:DATA?") == data


def test_query_array_goes_through_query_binary_values() -> None:
    data = np.arange(200, dtype=np.uint8)
    with Conversation([(":WAV:DATA?", block(data.tobytes()))]) as c:
        values = ScpiInstrument(c).query_array(":WAV:DATA?", "B")
    np.testing.assert_array_equal(values, data)


def test_truncated_block_raises_specifically_and_resyncs() -> None:
    exchanges = [(":WAV:DATA?", b"#41000" + b"\x07" * 300 + b"\n"), ("*CLS;*OPC?", "1")]
    with Conversation(exchanges) as c, pytest.raises(TruncatedBlock) as caught:
        ScpiInstrument(c).query_block(":WAV:DATA?")
    assert caught.value.declared == 1000
    assert caught.value.received == 301  # the newline may be data while the block is open
    assert "short data block" in str(caught.value)
    assert "resynchronised" in str(caught.value)


def test_malformed_block_raises_specifically_and_resyncs() -> None:
    exchanges = [(":WAV:DATA?", '-113,"Undefined header"'), ("*CLS;*OPC?", "1")]
    with Conversation(exchanges) as c, pytest.raises(MalformedBlock, match="not a data block"):
        ScpiInstrument(c).query_block(":WAV:DATA?")


def test_silence_is_a_timeout_with_advice_then_resync_on_a_socket() -> None:
    with Conversation([("MEAS?", None), ("*CLS;*OPC?", "1"), ("*OPC?", "1")], SOCKET) as c:
        inst = ScpiInstrument(c, timeout_s=0.5)
        with pytest.raises(InstrumentTimeout) as caught:
            inst.query("MEAS?")
        inst.opc()  # the conversation goes on in step
    text = str(caught.value)
    assert SOCKET in text and "'MEAS?'" in text and "0.5 s" in text
    assert "powered" in text and "resynchronised" in text
    assert c.clears == 0  # pyvisa-py's SOCKET clear would hang on a closed peer


def test_late_reply_is_discarded_by_the_resync(mocker) -> None:
    exchanges = [("MEAS?", "late answer"), ("*CLS;*OPC?", "1"), ("*OPC?", "1")]
    with Conversation(exchanges, SOCKET) as c:
        inst = ScpiInstrument(c)
        mocker.patch.object(c, "read", side_effect=TIMEOUT)
        with pytest.raises(InstrumentTimeout):
            inst.query("MEAS?")
        mocker.stopall()
        inst.opc()


def test_timeout_on_vxi11_uses_device_clear() -> None:
    conversation = Conversation([("MEAS?", None), ("*CLS;*OPC?", "1")], VXI11)
    with conversation as c, pytest.raises(InstrumentTimeout):
        ScpiInstrument(c).query("MEAS?")
    assert c.clears == 1


def test_timeout_without_recovery_says_so() -> None:
    conversation = Conversation([("MEAS?", None), ("*CLS;*OPC?", None)])
    with conversation as c, pytest.raises(InstrumentTimeout, match="did not recover"):
        ScpiInstrument(c).query("MEAS?")


def test_vanished_resource_is_instrument_lost(mocker) -> None:
    with Conversation([]) as c:
        inst = ScpiInstrument(c)
        mocker.patch.object(c, "write", side_effect=InvalidSession())
        with pytest.raises(InstrumentLost, match=r"'\*IDN\?'"):
            _ = inst.identity


def test_broken_connection_is_instrument_lost(mocker) -> None:
    with Conversation([]) as c:
        inst = ScpiInstrument(c)
        mocker.patch.object(
            c, "write", side_effect=VisaIOError(constants.StatusCode.error_connection_lost)
        )
        with pytest.raises(InstrumentLost, match="reconnect"):
            inst.write("OUTP OFF")


def test_closed_instrument_refuses_to_talk() -> None:
    with Conversation([]) as c:
        inst = ScpiInstrument(c)
        inst.close()
        inst.close()
        assert c.closed
        with pytest.raises(InstrumentLost, match="closed"):
            inst.write("*CLS")


def test_temporary_timeout_is_restored() -> None:
    with Conversation([]) as c:
        inst = ScpiInstrument(c, timeout_s=2.0)
        with inst.timeout(30.0):
            assert c.timeout == 30000.0
        assert c.timeout == 2000.0


class FakeManager:
    def __init__(self, resource: Conversation | Exception) -> None:
        self.resource = resource
        self.kwargs: dict[str, object] = {}
        self.closed = False

    def open_resource(self, address: str, **kwargs: object) -> Conversation:
        if isinstance(self.resource, Exception):
            raise self.resource
        self.kwargs = kwargs
        return self.resource

    def close(self) -> None:
        self.closed = True


def test_open_through_an_injected_resource_manager() -> None:
    with Conversation([]) as c:
        manager = FakeManager(c)
        inst = ScpiInstrument.open(SOCKET, resource_manager=manager, timeout_s=1.5)
        assert manager.kwargs["read_termination"] == "\n"
        assert manager.kwargs["write_termination"] == "\n"
        assert manager.kwargs["timeout"] == 1500.0
        inst.close()
    assert not manager.closed  # an injected manager belongs to the caller


def test_open_failure_is_instrument_lost_naming_the_address() -> None:
    manager = FakeManager(VisaIOError(constants.StatusCode.error_resource_not_found))
    with pytest.raises(InstrumentLost, match="could not open instrument at TCPIP::nowhere"):
        ScpiInstrument.open("TCPIP::nowhere::5025::SOCKET", resource_manager=manager)


class _SlowReplyResource:
    """A resource whose reply to a query waits until the test releases it."""

    resource_name = SOCKET

    def __init__(self) -> None:
        import threading

        self.read_termination: str | None = None
        self.write_termination: str | None = None
        self.timeout = 2000.0
        self.log: list[str] = []
        self.replying = threading.Event()
        self.release = threading.Event()

    def write(self, message: str) -> int:
        self.log.append(f"> {message}")
        return len(message)

    def read(self) -> str:
        self.replying.set()
        self.release.wait(5)
        self.log.append("< 1")
        return "1"

    def close(self) -> None:
        pass


def test_a_write_from_another_thread_waits_for_the_reply_in_flight() -> None:
    import threading

    resource = _SlowReplyResource()
    inst = ScpiInstrument(resource)  # type: ignore[arg-type]
    asking = threading.Thread(target=inst.query, args=("*OPC?",))
    asking.start()
    assert resource.replying.wait(5)
    stopping = threading.Thread(target=inst.write, args=("OUTP OFF",))
    stopping.start()
    stopping.join(0.2)  # it must be waiting for the exchange in flight
    assert resource.log == ["> *OPC?"]
    resource.release.set()
    asking.join(5)
    stopping.join(5)
    assert resource.log == ["> *OPC?", "< 1", "> OUTP OFF"]
