"""What every simulated SCPI instrument shares: message execution, the IEEE 488.2
status model and common commands, and the `SYSTem:ERRor` queue.

A subclass lists its own commands (`commands()`) and fills the hooks for
`*RST`, `*CLS` and `*TRG`. Handlers raise `ScpiError` for anything the
instrument refuses; the error goes to the queue with its standard code and the
matching event bit, and a command (parser) error drops the rest of the message,
as IEEE 488.2 asks.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from types import MappingProxyType

from simulator.scpi.commands import Call, Command, CommandTable, query
from simulator.scpi.error_queue import ErrorQueue, ScpiError, format_error
from simulator.scpi.headers import Header, Token, parse_header, split_message
from simulator.scpi.parameters import Number

# Standard event status register bits (IEEE 488.2 §11.5.1).
ESR_OPC = 0x01
ESR_QYE = 0x04
ESR_DDE = 0x08
ESR_EXE = 0x10
ESR_CME = 0x20
ESR_PON = 0x80
# Status byte bits: error/event queue not empty (SCPI), message available,
# event status summary, master summary.
STB_EAV = 0x04
STB_MAV = 0x10
STB_ESB = 0x20
STB_MSS = 0x40

_MASK = Number(0, 255, integer=True, fmt="{:d}")


class WithheldReply(Exception):
    """Raised by a handler whose reply must not be sent (an injected fault)."""


def _event_bit(code: int) -> int:
    if -199 <= code <= -100:
        return ESR_CME
    if -299 <= code <= -200:
        return ESR_EXE
    if -499 <= code <= -400:
        return ESR_QYE
    return ESR_DDE


class ScpiInstrument:
    """Base of the simulated instruments; `handle()` runs one program message."""

    def __init__(self, identity: str, error_capacity: int = 20) -> None:
        self.identity = identity
        self._lock = threading.RLock()
        self._errors = ErrorQueue(error_capacity)
        self._esr = ESR_PON
        self._ese = 0
        self._sre = 0
        self._table = CommandTable([*self._system_commands(), *self.commands()])
        # name -> (set form, query form); a query form gets "is output pending".
        self._common: Mapping[
            str, tuple[Callable[[Call], None] | None, Callable[[bool], str] | None]
        ]
        self._common = MappingProxyType(
            {
                "*IDN": (None, lambda _pending: self.identity),
                "*RST": (self._run_reset, None),
                "*CLS": (self._run_clear, None),
                "*OPC": (self._run_opc, lambda _pending: "1"),
                "*ESR": (None, self._read_esr),
                "*ESE": (self._set_ese, lambda _pending: str(self._ese)),
                "*SRE": (self._set_sre, lambda _pending: str(self._sre)),
                "*STB": (None, lambda pending: str(self._status_byte(pending))),
                "*TRG": (self._run_trigger, None),
                "*WAI": (lambda call: call.no_params(), None),
                "*TST": (None, lambda _pending: "0"),
            }
        )

    # -- hooks for the instruments ---------------------------------------

    def commands(self) -> list[Command]:
        """The instrument's own command table."""
        return []

    def reset(self) -> None:
        """`*RST`: settings back to their defaults (status and errors are kept)."""

    def clear_status(self) -> None:
        """`*CLS`: clear instrument-specific event registers."""

    def trigger(self) -> None:
        """`*TRG`: by default there is nothing to trigger."""
        raise ScpiError(-211, "*TRG has no effect on this instrument")

    # -- the message layer --------------------------------------------------

    def handle(self, message: str) -> bytes | None:
        """Execute one program message; return the reply with its `\\n`, or None."""
        with self._lock:
            try:
                units = split_message(message)
            except ScpiError as error:
                self.push_error(error)
                return None
            replies: list[bytes] = []
            withheld = False
            path: tuple[Token, ...] = ()
            for unit in units:
                reply: str | bytes | None
                try:
                    header = parse_header(unit.header, path)
                    if header.common is not None:
                        reply = self._run_common(header, unit.params, bool(replies))
                    else:
                        command, suffixes = self._table.resolve(header.tokens, header.text)
                        path = header.tokens[:-1]
                        reply = self._run(command, header, Call(header.text, suffixes, unit.params))
                except WithheldReply:
                    withheld = True
                    continue
                except ScpiError as error:
                    self.push_error(error)
                    if error.is_command_error:
                        break
                    continue
                if reply is not None:
                    replies.append(reply if isinstance(reply, bytes) else reply.encode("latin-1"))
            if withheld or not replies:
                return None
            return b";".join(replies) + b"\n"

    def push_error(self, error: ScpiError) -> None:
        with self._lock:
            self._errors.push(error)
            self._esr |= _event_bit(error.code)

    def interrupted(self, detail: str = "") -> None:
        """A new message arrived before the last reply was read: -410."""
        self.push_error(ScpiError(-410, detail))

    def unterminated(self, detail: str = "") -> None:
        """A query was left without its message terminator: -420."""
        self.push_error(ScpiError(-420, detail))

    @property
    def error_count(self) -> int:
        with self._lock:
            return len(self._errors)

    # -- internals ----------------------------------------------------------

    @staticmethod
    def _run(command: Command, header: Header, call: Call) -> str | bytes | None:
        if header.query:
            if command.query is None:
                raise ScpiError(-113, f"{header.text} has no query form")
            return command.query(call)
        if command.write is None:
            raise ScpiError(-113, f"{header.text} is a query only; add '?'")
        command.write(call)
        return None

    def _run_common(self, header: Header, params: tuple[str, ...], pending: bool) -> str | None:
        assert header.common is not None
        forms = self._common.get(header.common)
        if forms is None:
            raise ScpiError(-113, header.text)
        write, read = forms
        call = Call(header.text, (), params)
        if header.query:
            if read is None:
                raise ScpiError(-113, f"{header.text} has no query form")
            call.no_params()
            return read(pending)
        if write is None:
            raise ScpiError(-113, f"{header.text} is a query only; add '?'")
        write(call)
        return None

    def _system_commands(self) -> list[Command]:
        return [
            query("SYSTem:ERRor[:NEXT]", self._next_error),
            query("SYSTem:ERRor:COUNt", lambda call: str(len(self._errors))),
            query("SYSTem:VERSion", lambda call: "1999.0"),
        ]

    def _next_error(self, call: Call) -> str:
        call.no_params()
        return format_error(*self._errors.pop())

    def _run_reset(self, call: Call) -> None:
        call.no_params()
        self.reset()

    def _run_clear(self, call: Call) -> None:
        call.no_params()
        self._errors.clear()
        self._esr = 0
        self.clear_status()

    def _run_opc(self, call: Call) -> None:
        call.no_params()
        # Every operation here completes before the next message is read.
        self._esr |= ESR_OPC

    def _run_trigger(self, call: Call) -> None:
        call.no_params()
        self.trigger()

    def _read_esr(self, _pending: bool) -> str:
        value, self._esr = self._esr, 0
        return str(value)

    def _set_ese(self, call: Call) -> None:
        self._ese = int(_MASK.parse(call.only(), call))

    def _set_sre(self, call: Call) -> None:
        self._sre = int(_MASK.parse(call.only(), call)) & ~STB_MSS

    def _status_byte(self, pending: bool) -> int:
        stb = (STB_EAV if self._errors else 0) | (STB_MAV if pending else 0)
        if self._esr & self._ese:
            stb |= STB_ESB
        if stb & self._sre:
            stb |= STB_MSS
        return stb
