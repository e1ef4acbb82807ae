"""A scripted firmware stand-in on a pseudo-terminal, for link and driver tests.

The test states the conversation: each expected host frame (by type, with an
optional check) and what the peer answers. Heartbeats are collected on the
side. `verify()` fails if an expected exchange went unused, if the host sent
anything unexpected, or if bytes are left half-framed on either side.
"""

from __future__ import annotations

import contextlib
import os
import select
import threading
import time
import tty
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from drivers.link.frame import FLAG_ACK_REQ, FLAG_RESP, Frame, FrameDecoder, to_wire
from drivers.link.messages import (
    Ack,
    FwState,
    HelloAck,
    Message,
    MsgType,
    Nak,
    Status,
    decode_payload,
)

SESSION = 0x5EC1
SERIAL = "SIM-0001"

Respond = Message | Callable[[Frame], Iterable[bytes] | None] | None


@dataclass
class Step:
    msg_type: MsgType
    respond: Respond
    check: Callable[[Frame], None] | None
    seen: Frame | None = None
    done: threading.Event = field(default_factory=threading.Event)


def hello_ack(nonce: int, *, session: int = SESSION, serial: str = SERIAL, **over: Any) -> HelloAck:
    fields: dict[str, int] = {
        "version": 1,
        "rsv": 0,
        "session": session,
        "nonce": nonce,
        "fw_major": 1,
        "fw_minor": 2,
        "fw_patch": 3,
        "v_max_mv": 3_000_000,
        "i_max_ma": 50_000,
        "max_rate_hz": 5000,
        "max_count": 1000,
        "caps": 3,
        "fw_time_us": 1_000_000,
    }
    fields.update(over)
    return HelloAck(serial=serial.encode("ascii").ljust(16, b"\0"), **fields)


def status(state: FwState = FwState.IDLE, *, faults: int = 0, fw_time_us: int = 0) -> Status:
    return Status(
        state=int(state),
        hv_stage=0,
        interlocks=0x1E,
        faults=faults,
        hv_bank_mv=0,
        last_host_seq=0,
        crc_errors=0,
        retx_seen=0,
        dropped=0,
        param_hash=0,
        fw_time_us=fw_time_us,
    )


class ScriptedPeer:
    """Plays the firmware end of a pty pair; the host opens `url`."""

    def __init__(self, *, session: int = SESSION, status_period_s: float | None = None) -> None:
        self.session = session
        master, slave = os.openpty()
        tty.setraw(slave)
        self._master, self._slave = master, slave
        self.url = os.ttyname(slave)
        self.steps: deque[Step] = deque()
        self.received: list[Frame] = []
        self.wire_in = bytearray()
        self.wire_out = bytearray()
        self.heartbeats: list[Frame] = []
        self.unexpected: list[Frame] = []
        self.errors: list[BaseException] = []
        self.state = FwState.IDLE
        self.fw_time_us = 2_000_000
        self._decoder = FrameDecoder()
        self._partial = bytearray()
        self._seq = 0
        # Re-entrant: a seq is allocated and its frame written under one hold, so the
        # periodic STATUS can never overtake a frame with an older seq.
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._status_period_s = status_period_s
        self._thread = threading.Thread(target=self._run, name="scripted-peer", daemon=True)
        self._thread.start()

    # -- script -----------------------------------------------------------

    def expect(
        self,
        msg_type: MsgType,
        respond: Respond = None,
        *,
        check: Callable[[Frame], None] | None = None,
    ) -> Step:
        """The next host frame (heartbeats aside) must be `msg_type`; answer with `respond`.

        `respond` is a message (sent as the reply: RESP, ref_seq = the frame's
        seq), a callable returning wire bytes to write, or None (say nothing).
        """
        step = Step(msg_type, respond, check)
        with self._lock:
            self.steps.append(step)
        return step

    def expect_hello(self, **over: Any) -> Step:
        def respond(frame: Frame) -> list[bytes]:
            nonce = decode_payload(frame.msg_type, frame.payload).nonce  # type: ignore[union-attr]
            return [self.reply_wire(frame, hello_ack(nonce, session=self.session, **over), seq=0)]

        return self.expect(MsgType.HELLO, respond)

    def expect_ack_of(self, event: Frame) -> Step:
        """The host must acknowledge `event` (an acked firmware frame)."""

        def check(frame: Frame) -> None:
            assert frame.is_response and frame.ref_seq == event.seq, frame
            ack = decode_payload(frame.msg_type, frame.payload)
            assert isinstance(ack, Ack) and ack.result == 0, ack

        return self.expect(MsgType.ACK, check=check)

    # -- frames out -------------------------------------------------------

    def next_seq(self) -> int:
        with self._lock:
            self._seq = self._seq % 0xFFFF + 1
            return self._seq

    def frame(
        self,
        message: Message,
        *,
        flags: int = FLAG_ACK_REQ,
        seq: int | None = None,
        ref_seq: int = 0,
        session: int | None = None,
    ) -> Frame:
        return Frame(
            msg_type=message.TYPE,
            session=self.session if session is None else session,
            seq=self.next_seq() if seq is None else seq,
            ref_seq=ref_seq,
            payload=message.pack(),
            flags=flags,
        )

    def reply_wire(self, request: Frame, message: Message, *, seq: int | None = None) -> bytes:
        return to_wire(self.frame(message, flags=FLAG_RESP, seq=seq, ref_seq=request.seq))

    def send(self, message: Message, **kw: int) -> Frame:
        """Send an unsolicited frame (acked event by default) and return it."""
        with self._lock:
            frame = self.frame(message, **kw)
            self.write(to_wire(frame))
        return frame

    def send_acked(self, message: Message) -> Frame:
        """Send an acked event and expect the host's ACK for it."""
        with self._lock:
            frame = self.frame(message)
            self.expect_ack_of(frame)
            self.write(to_wire(frame))
        return frame

    def send_frame(self, frame: Frame) -> None:
        self.write(to_wire(frame))

    def write(self, wire: bytes) -> None:
        with self._lock:
            self.wire_out += wire
            os.write(self._master, wire)

    # -- checks -----------------------------------------------------------

    def wait_steps(self, timeout_s: float = 3.0) -> None:
        """Block until every expected exchange has happened."""
        end = time.monotonic() + timeout_s
        while time.monotonic() < end:
            with self._lock:
                if not self.steps or self.errors:
                    break
            time.sleep(0.005)
        self.raise_errors()

    def wait_until(self, condition: Callable[[], object], timeout_s: float = 2.0) -> None:
        """Block until `condition()` is true (frames the host wrote may still be in the pty)."""
        end = time.monotonic() + timeout_s
        while not condition():
            assert time.monotonic() < end, "the peer never saw what the test waited for"
            time.sleep(0.005)

    def verify(self) -> None:
        """Fail on unused exchanges, unexpected frames or half-framed bytes."""
        self.wait_steps(2.0)  # frames the host already wrote may still be in the pty
        with self._lock:
            left = [s.msg_type.name for s in self.steps]
            unexpected = [MsgType(f.msg_type).name for f in self.unexpected]
        assert not left, f"expected exchanges never happened: {left}"
        assert not unexpected, f"host sent frames nobody expected: {unexpected}"
        assert not self._partial, f"host left {len(self._partial)} bytes without a delimiter"
        assert self._decoder.rejected == {}, f"host sent bad frames: {self._decoder.rejected}"

    def raise_errors(self) -> None:
        if self.errors:
            raise AssertionError(f"scripted peer failed: {self.errors[0]!r}") from self.errors[0]

    def frames_of(self, msg_type: MsgType) -> list[Frame]:
        return [f for f in self.received if f.msg_type == msg_type]

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2.0)
        for fd in (self._master, self._slave):
            with contextlib.suppress(OSError):
                os.close(fd)

    def __enter__(self) -> ScriptedPeer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- thread -----------------------------------------------------------

    def _run(self) -> None:
        next_status = time.monotonic()
        while not self._stop.is_set():
            if self._status_period_s is not None and time.monotonic() >= next_status:
                next_status = time.monotonic() + self._status_period_s
                self.fw_time_us += int(self._status_period_s * 1e6)
                self.send(
                    status(self.state, fw_time_us=self.fw_time_us),
                    flags=0,
                )
            ready, _, _ = select.select([self._master], [], [], 0.005)
            if not ready:
                continue
            try:
                data = os.read(self._master, 4096)
            except OSError:
                return
            self.wire_in += data
            self._track_partial(data)
            for frame in self._decoder.feed(data):
                try:
                    self._on_frame(frame)
                except BaseException as exc:  # reported by verify() in the test thread
                    self.errors.append(exc)

    def _track_partial(self, data: bytes) -> None:
        cut = data.rfind(0)
        if cut < 0:
            self._partial += data
        else:
            self._partial = bytearray(data[cut + 1 :])

    def _on_frame(self, frame: Frame) -> None:
        self.received.append(frame)
        if frame.msg_type == MsgType.HEARTBEAT:
            self.heartbeats.append(frame)
            return
        with self._lock:
            step = self.steps[0] if self.steps else None
            if step is None or step.msg_type != frame.msg_type:
                self.unexpected.append(frame)
                return
            self.steps.popleft()
        if step.check is not None:
            step.check(frame)
        step.seen = frame
        respond = step.respond
        with self._lock:
            if respond is None:
                out: Iterable[bytes] = ()
            elif callable(respond):
                out = respond(frame) or ()
            else:
                out = [self.reply_wire(frame, respond)]
            for wire in out:
                self.write(wire)
        step.done.set()


def ack(state: FwState, detail: int = 0, result: int = 0) -> Ack:
    return Ack(result=result, state=int(state), rsv=0, detail=detail)


def nak(result: int, state: FwState = FwState.IDLE) -> Nak:
    return Nak(result=result, state=int(state), rsv=0, detail=0)
