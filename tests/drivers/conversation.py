"""An expected conversation with an instrument, played by a fake pyvisa message resource.

    with Conversation([("FUNC:PULS:WIDT 0.0001", None), ("FUNC:PULS:WIDT?", "0.0001")]) as c:
        fg = Keysight33500(c)
        fg.pulse_width = 1e-4
        assert fg.pulse_width == 1e-4

Each pair is (what the driver must send, what the instrument answers). The
sent text is compared exactly, without the write termination. A `str` reply
gets "\\n" appended; a `bytes` reply is queued as it is (add the terminator
yourself: `block(data)` builds a terminated IEEE 488.2 block); `None` means
no answer, so a read times out as a silent instrument would. `(None, reply)`
queues a reply nobody asked for (a late answer).

The test fails when the driver sends anything unexpected, and on leaving the
`with` block (or in `check()`) when an expected exchange went unused or reply
bytes were left unread.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Sequence
from types import TracebackType
from typing import Any

from pyvisa import constants, util
from pyvisa.errors import InvalidSession, VisaIOError

Exchange = tuple[str | None, str | bytes | None]


def block(data: bytes, terminator: bytes = b"\n") -> bytes:
    """`data` as a definite-length IEEE 488.2 block (`#<n><len><data>`), terminated."""
    length = str(len(data)).encode()
    return b"#" + str(len(length)).encode() + length + data + terminator


class Conversation:
    """A fake pyvisa resource that accepts exactly the expected exchanges, in order."""

    def __init__(
        self,
        exchanges: Iterable[Exchange],
        resource_name: str = "TCPIP::192.0.2.10::5025::SOCKET",
    ) -> None:
        self.resource_name = resource_name
        self.timeout: float | None = 2000.0
        self.read_termination: str | None = "\n"
        self.write_termination = "\n"
        self.chunk_size = 20 * 1024
        self.clears = 0
        self.closed = False
        self.sent: list[str] = []
        self._expected: deque[Exchange] = deque(exchanges)
        self._output = bytearray()
        self._failures: list[str] = []
        self._queue_unasked()

    # ---- the pyvisa surface the drivers use --------------------------------------------------

    def write(self, message: str) -> int:
        self._alive()
        self.sent.append(message)
        if not self._expected:
            return self._fail(f"unexpected {message!r}: the conversation was already over")
        sent, reply = self._expected[0]
        if sent != message:
            return self._fail(f"expected {sent!r}, the driver sent {message!r}")
        self._expected.popleft()
        if reply is not None:
            self._output += reply.encode() + b"\n" if isinstance(reply, str) else reply
        self._queue_unasked()
        return len(message) + len(self.write_termination)

    def read(self) -> str:
        return self.read_raw().decode("ascii").rstrip("\n")

    def read_raw(self, size: int | None = None) -> bytes:
        self._alive()
        if not self._output:
            raise VisaIOError(constants.StatusCode.error_timeout)
        end = self._output.find(b"\n")
        end = len(self._output) if end < 0 else end + 1
        out = bytes(self._output[:end])
        del self._output[:end]
        return out

    def read_bytes(self, count: int, chunk_size: int | None = None) -> bytes:
        self._alive()
        if len(self._output) < count:
            self._output.clear()  # what did arrive is lost with the timeout, as in pyvisa
            raise VisaIOError(constants.StatusCode.error_timeout)
        out = bytes(self._output[:count])
        del self._output[:count]
        return out

    def query_binary_values(
        self,
        message: str,
        datatype: Any = "f",
        is_big_endian: bool = False,
        container: Callable[[Iterable[Any]], Sequence[Any]] = list,
        delay: float | None = None,
        header_fmt: str = "ieee",
        expect_termination: bool = True,
    ) -> Sequence[Any]:
        assert header_fmt == "ieee", "the fake resource reads IEEE blocks only"
        self.write(message)
        self._alive()
        if not self._output:
            raise VisaIOError(constants.StatusCode.error_timeout)
        offset, length = util.parse_ieee_block_header(self._output)
        total = offset + length + (1 if expect_termination else 0)
        raw = self.read_bytes(total)
        return util.from_binary_block(raw, offset, length, datatype, is_big_endian, container)

    def clear(self) -> None:
        self._alive()
        self.clears += 1
        self._output.clear()

    def close(self) -> None:
        self.closed = True

    # ---- checking ----------------------------------------------------------------------------

    def check(self) -> None:
        """Fail unless every exchange was used and every reply byte was read."""
        problems = list(self._failures)
        if self._expected:
            unused = ", ".join(repr(sent) for sent, _ in self._expected)
            problems.append(f"expected exchanges never happened: {unused}")
        if self._output:
            problems.append(f"reply bytes left unread: {bytes(self._output[:60])!r}")
        if problems:
            raise AssertionError("; ".join(problems))

    def __enter__(self) -> Conversation:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.check()

    # ---- internals ---------------------------------------------------------------------------

    def _queue_unasked(self) -> None:
        while self._expected and self._expected[0][0] is None:
            _, reply = self._expected.popleft()
            if reply is not None:
                self._output += reply.encode() + b"\n" if isinstance(reply, str) else reply

    def _fail(self, problem: str) -> int:
        self._failures.append(problem)
        raise AssertionError(problem)

    def _alive(self) -> None:
        if self.closed:
            raise InvalidSession()
