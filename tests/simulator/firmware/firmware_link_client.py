"""A small test-side host for the simulated firmware, built on the codec only.

It is deliberately not the production driver: tests of the simulator must
not depend on the driver's timing or policy. It speaks frames over any
pyserial port, acknowledges firmware events (unless told not to), can send a
heartbeat from a background thread, and keeps every frame it received.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import serial

from drivers.link.frame import (
    FLAG_ACK_REQ,
    FLAG_RESP,
    FLAG_RETX,
    Frame,
    FrameDecoder,
    to_wire,
)
from drivers.link.messages import (
    Ack,
    ArmChallenge,
    ArmConfirm,
    ArmRequest,
    FwState,
    Heartbeat,
    Hello,
    HelloAck,
    MsgType,
    SetParams,
    Status,
)

WAIT_S = 5.0


@dataclass(frozen=True)
class Received:
    at: float  # time.monotonic() on arrival
    frame: Frame


class LinkClient:
    """Frames in and out of a pyserial port; every wait has a timeout."""

    def __init__(self, port: serial.SerialBase, auto_ack: bool = True) -> None:
        self.port = port
        self.auto_ack = auto_ack
        self.session = 0
        self.seq = 0
        self.received: list[Received] = []
        self.sent: list[Frame] = []
        self.decoder = FrameDecoder()
        self._cond = threading.Condition()
        self._write_lock = threading.Lock()
        self._seq_lock = threading.Lock()
        self._stop = threading.Event()
        self._heartbeat_on = threading.Event()
        self._reader = threading.Thread(target=self._read_loop, name="test-link-reader")
        self._beater = threading.Thread(target=self._beat_loop, name="test-link-heartbeat")
        self._reader.start()
        self._beater.start()

    # ---------------------------------------------------------------- lifecycle

    def close(self) -> None:
        self._stop.set()
        self._heartbeat_on.set()
        self._reader.join(timeout=5)
        self._beater.join(timeout=5)
        self.port.close()

    def __enter__(self) -> LinkClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---------------------------------------------------------------- sending

    def write(self, data: bytes) -> None:
        with self._write_lock:
            self.port.write(data)
            self.port.flush()

    def next_seq(self) -> int:
        with self._seq_lock:
            self.seq = (self.seq + 1) & 0xFFFF
            return self.seq

    def send(
        self,
        msg_type: int,
        payload: bytes,
        *,
        seq: int | None = None,
        flags: int = FLAG_ACK_REQ,
        session: int | None = None,
        ref_seq: int = 0,
    ) -> Frame:
        frame = Frame(
            msg_type=msg_type,
            session=self.session if session is None else session,
            seq=self.next_seq() if seq is None else seq,
            ref_seq=ref_seq,
            payload=payload,
            flags=flags,
        )
        self.sent.append(frame)
        self.write(to_wire(frame))
        return frame

    def command(self, msg_type: int, payload: bytes, timeout: float = WAIT_S) -> Frame:
        """Send a command and wait for its one reply."""
        sent = self.send(msg_type, payload)
        return self.reply_to(sent.seq, timeout=timeout)

    def resend(self, frame: Frame) -> None:
        """The same frame again with RETX, as a host does when a reply is late."""
        self.write(to_wire(frame.with_flags(frame.flags | FLAG_RETX)))

    def hello(self, nonce: int = 0x12345678) -> HelloAck:
        start = self.mark()
        self.send(MsgType.HELLO, Hello(1, 0, 1024, nonce).pack(), seq=0, session=0)
        reply = self.wait_for(lambda f: f.msg_type == MsgType.HELLO_ACK, start=start)
        ack = HelloAck.unpack(reply.payload)
        self.session = ack.session
        self.seq = 0
        return ack

    def heartbeat(self, host_view: int = FwState.IDLE) -> None:
        self.send(MsgType.HEARTBEAT, Heartbeat(host_view, 0, 0, 0).pack(), flags=0)

    def start_heartbeat(self) -> None:
        self._heartbeat_on.set()

    def stop_heartbeat(self) -> float:
        """Stop the background heartbeat; returns the monotonic time of the last one sent."""
        self._heartbeat_on.clear()
        time.sleep(0.12)  # let a heartbeat already under way go out first
        return self._last_beat

    # ---------------------------------------------------------------- receiving

    def frames(self, start: int = 0) -> list[Frame]:
        with self._cond:
            return [r.frame for r in self.received[start:]]

    def mark(self) -> int:
        """An index into `received`: wait for frames after this point."""
        with self._cond:
            return len(self.received)

    def wait_for(
        self, predicate: Callable[[Frame], bool], timeout: float = WAIT_S, start: int = 0
    ) -> Frame:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for r in self.received[start:]:
                    if predicate(r.frame):
                        return r.frame
                left = deadline - time.monotonic()
                if left <= 0:
                    kinds = [MsgType(r.frame.msg_type).name for r in self.received[start:]][-20:]
                    raise TimeoutError(f"no matching frame within {timeout} s; last: {kinds}")
                self._cond.wait(left)

    def reply_to(self, seq: int, timeout: float = WAIT_S) -> Frame:
        return self.wait_for(
            lambda f: (
                f.is_response
                and f.ref_seq == seq
                and f.session == self.session
                and f.msg_type != MsgType.HELLO_ACK
            ),
            timeout,
        )

    def wait_status(self, predicate: Callable[[Status], bool], timeout: float = WAIT_S) -> Status:
        frame = self.wait_for(
            lambda f: f.msg_type == MsgType.STATUS and predicate(Status.unpack(f.payload)),
            timeout,
            start=self.mark(),
        )
        return Status.unpack(frame.payload)

    def events(self, msg_type: int, start: int = 0) -> list[Frame]:
        """Acked events of one type, first copies only (the host de-duplicates by seq)."""
        seen: set[int] = set()
        out = []
        for f in self.frames(start):
            if f.msg_type == msg_type and not f.is_response and f.seq not in seen:
                seen.add(f.seq)
                out.append(f)
        return out

    # ---------------------------------------------------------------- threads

    _last_beat = 0.0

    def _read_loop(self) -> None:
        while not self._stop.is_set():
            try:
                data = self.port.read(self.port.in_waiting or 1)
            except (serial.SerialException, OSError, TypeError, AttributeError):
                if self._stop.is_set():
                    return
                raise
            if not data:
                continue
            now = time.monotonic()
            for frame in self.decoder.feed(data):
                with self._cond:
                    self.received.append(Received(now, frame))
                    self._cond.notify_all()
                if self.auto_ack and frame.flags & FLAG_ACK_REQ and not frame.is_response:
                    ack = Frame(
                        MsgType.ACK,
                        self.session,
                        self.next_seq(),
                        frame.seq,
                        Ack(0, 0).pack(),
                        FLAG_RESP,
                    )
                    self.write(to_wire(ack))

    def _beat_loop(self) -> None:
        while not self._stop.is_set():
            self._heartbeat_on.wait()
            if self._stop.is_set():
                return
            self.heartbeat()
            self._last_beat = time.monotonic()
            time.sleep(0.05)


def params(
    amplitude_v: float = 400.0,
    count: int = 8,
    period_us: int = 1_000_000,
    width_ns: int = 100_000,
    i_limit_a: float = 20.0,
    options: int = 0,
) -> SetParams:
    return SetParams(
        amplitude_mv=round(amplitude_v * 1000),
        width_ns=width_ns,
        count=count,
        options=options,
        period_us=period_us,
        i_limit_ma=round(i_limit_a * 1000),
        v_tol_permille=100,
    )


def arm(client: LinkClient, p: SetParams) -> ArmChallenge:
    """SET_PARAMS, ARM_REQUEST, ARM_CONFIRM, then wait for ARMED; returns the challenge."""
    reply = client.command(MsgType.SET_PARAMS, p.pack())
    assert reply.msg_type == MsgType.ACK, Ack.unpack(reply.payload)
    reply = client.command(MsgType.ARM_REQUEST, ArmRequest(p.param_hash).pack())
    assert reply.msg_type == MsgType.ARM_CHALLENGE
    challenge = ArmChallenge.unpack(reply.payload)
    reply = client.command(MsgType.ARM_CONFIRM, ArmConfirm(challenge.token, p.param_hash).pack())
    assert reply.msg_type == MsgType.ACK, Ack.unpack(reply.payload)
    client.wait_status(lambda s: s.state == FwState.ARMED)
    return challenge


def open_port(url: str) -> serial.SerialBase:
    """A pyserial port on the pty path or a socket:// URL, with a short read timeout."""
    return serial.serial_for_url(url, baudrate=115200, timeout=0.05)
