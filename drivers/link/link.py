"""The host end of firmware link v1: port, sequence numbers, retries, de-duplication.

docs/firmware-link.md §2, §4, §9 and §11. One reader thread decodes what
arrives; it hands replies to the command waiting for them (matched by
`ref_seq`), acknowledges acked events at once and queues them for the owner.
Everything else (commands, heartbeats) is sent from the caller's thread, so a
stuck control loop stops the heartbeat and the firmware disarms on its own.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import serial

from drivers.errors import LinkLost, ProtocolViolation
from drivers.link.frame import (
    FLAG_ACK_REQ,
    FLAG_RESP,
    FLAG_RETX,
    MAX_PAYLOAD,
    MAX_WIRE,
    Frame,
    FrameDecoder,
    seq_newer,
    to_wire,
)
from drivers.link.messages import (
    Ack,
    FwState,
    Heartbeat,
    Hello,
    HelloAck,
    Message,
    MsgType,
    PayloadError,
    Result,
    Status,
    decode_payload,
)
from drivers.link.time_map import TimeFit, TimeMapper

TrafficLogger = Callable[[str, bytes, float], None]
"""`(direction, wire, host_monotonic_s)`; direction is "tx" or "rx", wire includes the 0x00."""

BAUDRATE = 115_200
REPLY_DEADLINE_S = 0.050
RETRIES = 3
LINK_TIMEOUT_S = 0.400
HEARTBEAT_PERIOD_S = 0.100
# Short reads keep the reader responsive to close() without spinning.
READ_SLICE_S = 0.01
# Firmware event seqs remembered for de-duplication (the firmware retries 3 times).
RECENT_EVENTS = 64
# How far behind the newest firmware seq a retried acked event may be: its
# four sends span 200 ms, in which STATUS and replies use a handful of seqs.
RETRY_WINDOW = 256


@dataclass(frozen=True)
class Received:
    """A decoded frame from the firmware with the host time its bytes arrived."""

    frame: Frame
    message: Message
    host_time_s: float


class FirmwareLink:
    """Frames, sequence numbers, retries and counters over one serial port.

    Construct with `FirmwareLink.open(url)`; call `hello()` once, then
    `request()` for commands, `service()` from the control loop and
    `next_event()` to take acked events and other unsolicited frames.

    `clock` stamps arrivals and the traffic log and schedules heartbeats and
    the silence check; waits for replies always run on real time.
    """

    def __init__(
        self,
        port: serial.SerialBase,
        *,
        name: str,
        traffic_log: TrafficLogger | None = None,
        reply_deadline_s: float = REPLY_DEADLINE_S,
        retries: int = RETRIES,
        link_timeout_s: float = LINK_TIMEOUT_S,
        heartbeat_period_s: float = HEARTBEAT_PERIOD_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self.reply_deadline_s = reply_deadline_s
        self.retries = retries
        self.link_timeout_s = link_timeout_s
        self.heartbeat_period_s = heartbeat_period_s
        self.session: int | None = None
        self.host_view = FwState.IDLE
        self._port = port
        self._traffic_log = traffic_log
        self._clock = clock
        self._decoder = FrameDecoder()
        self._counters: dict[str, int] = {}
        self._stats_lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._seq_lock = threading.Lock()
        self._command_lock = threading.Lock()
        self._cond = threading.Condition()
        self._pending: dict[int, Received | None] = {}
        self._events: queue.Queue[Received] = queue.Queue()
        self._seq = 0
        self._highest_fw_seq: int | None = None
        self._recent: deque[int] = deque(maxlen=RECENT_EVENTS)
        self._last_valid_rx = clock()
        self._last_heartbeat: float | None = None
        self._status: Received | None = None
        self._status_count = 0
        self._time = TimeMapper()
        self._failure: str | None = None
        self._rx_log = bytearray()
        self._rx_log_overflow = False
        self._closing = threading.Event()
        self._reader = threading.Thread(target=self._read_loop, name=f"link-rx {name}", daemon=True)
        self._reader.start()

    @classmethod
    def open(
        cls,
        url: str,
        *,
        traffic_log: TrafficLogger | None = None,
        reply_deadline_s: float = REPLY_DEADLINE_S,
        retries: int = RETRIES,
        link_timeout_s: float = LINK_TIMEOUT_S,
        heartbeat_period_s: float = HEARTBEAT_PERIOD_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> FirmwareLink:
        """Open a pyserial URL or device path: /dev/ttyUSB0, COM3, socket://…, loop://, a pty."""
        extra = {} if "://" in url else {"exclusive": True}
        try:
            port = serial.serial_for_url(
                url, baudrate=BAUDRATE, timeout=READ_SLICE_S, write_timeout=1.0, **extra
            )
        except (serial.SerialException, OSError, ValueError) as exc:
            raise LinkLost(
                f"cannot open the generator port {url}: {exc}; check the cable and the port "
                "name, and that no other program holds the port"
            ) from exc
        return cls(
            port,
            name=url,
            traffic_log=traffic_log,
            reply_deadline_s=reply_deadline_s,
            retries=retries,
            link_timeout_s=link_timeout_s,
            heartbeat_period_s=heartbeat_period_s,
            clock=clock,
        )

    # -- handshake and commands -------------------------------------------

    def hello(self, nonce: int, timeout_s: float) -> Received:
        """Send HELLO (seq 0, session 0) until a HELLO_ACK echoes `nonce`; open the session.

        HELLO is repeated with the same nonce (the firmware answers a repeat
        with the same HELLO_ACK), so a board that resets when the port opens
        is caught once it boots.
        """
        hello = Frame(MsgType.HELLO, 0, 0, 0, Hello(1, 0, MAX_PAYLOAD, nonce).pack(), FLAG_ACK_REQ)
        deadline = time.monotonic() + timeout_s
        first = True
        while True:
            self._raise_if_failed()
            with self._cond:
                self._pending[0] = None
            self._send(hello if first else hello.with_flags(FLAG_ACK_REQ | FLAG_RETX))
            first = False
            wait = max(0.0, min(2 * self.reply_deadline_s, deadline - time.monotonic()))
            got = self._await(0, wait)
            if got is not None and got.frame.msg_type == MsgType.NAK:
                with self._cond:
                    self._pending.pop(0, None)
                raise ProtocolViolation(
                    f"generator on {self.name} refused HELLO for firmware link v1 "
                    f"(result {_result_name(got.message)}); it speaks another protocol version"
                )
            if got is not None and isinstance(got.message, HelloAck):
                if got.message.nonce == nonce:
                    self._open_session(got)
                    return got
                self._count("nonce_mismatch")
            if time.monotonic() >= deadline:
                with self._cond:
                    self._pending.pop(0, None)
                raise LinkLost(
                    f"no HELLO_ACK from {self.name} within {timeout_s:g} s; check that the "
                    "generator is powered, its firmware has booted and the port is the right one"
                )

    def _open_session(self, got: Received) -> None:
        message = got.message
        assert isinstance(message, HelloAck)
        with self._cond:
            self._pending.pop(0, None)
            self.session = message.session
            self._highest_fw_seq = got.frame.seq
            self._recent.clear()
            self._time = TimeMapper()
            self._time.add(message.fw_time_us, got.host_time_s)
            self._last_valid_rx = got.host_time_s

    def request(
        self, message: Message, *, overtake: bool = False, reply_bytes: int = 64
    ) -> Received:
        """Send a command and return its reply; LinkLost after all retries.

        One command is in flight at a time; `overtake=True` (ABORT only) skips
        the queue and is tried even when the link is already marked lost.
        `reply_bytes` is the largest reply expected: at 115 200 baud a full
        WAVE_CHUNK takes 90 ms to arrive, longer than the 50 ms deadline.
        """
        if not overtake:
            self._raise_if_failed()
            if self.session is None:
                raise LinkLost(f"no session open on {self.name}: HELLO has not been answered")
        gate = contextlib.nullcontext() if overtake else self._command_lock
        with gate:
            seq = self._next_seq()
            frame = Frame(message.TYPE, self.session or 0, seq, 0, message.pack(), FLAG_ACK_REQ)
            with self._cond:
                self._pending[seq] = None
            try:
                deadline = self.reply_deadline_s + self._wire_time(reply_bytes + 20)
                for attempt in range(1 + self.retries):
                    if attempt:
                        self._count("retries")
                    self._send(frame if not attempt else frame.with_flags(FLAG_ACK_REQ | FLAG_RETX))
                    got = self._await(seq, deadline, until_failure=not overtake)
                    if got is not None:
                        return got
                    if self._failure is not None and not overtake:
                        raise LinkLost(self._failure)
                sends = 1 + self.retries
                self._fail(
                    f"generator on {self.name} did not answer {message.TYPE.name} "
                    f"(seq {seq}) after {sends} sends; the link is lost and HV state is unknown"
                )
                raise LinkLost(self._failure or "link lost")
            finally:
                with self._cond:
                    self._pending.pop(seq, None)

    def service(self, host_view: FwState) -> None:
        """From the control loop: send the heartbeat if one is due; LinkLost if the link died."""
        self.host_view = host_view
        self.check_alive()
        now = self._clock()
        if self._last_heartbeat is None or now - self._last_heartbeat >= self.heartbeat_period_s:
            self.heartbeat(host_view)

    def heartbeat(self, host_view: FwState) -> None:
        """Send one HEARTBEAT now (no reply)."""
        self._raise_if_failed()
        if self.session is None:
            return
        self.host_view = host_view
        beat = Heartbeat(
            host_view=int(host_view),
            rsv=0,
            last_fw_seq=self._highest_fw_seq or 0,
            host_mono_us=int(self._clock() * 1e6),
        )
        self._send(Frame(MsgType.HEARTBEAT, self.session, self._next_seq(), 0, beat.pack(), 0))
        self._last_heartbeat = self._clock()
        self._count("heartbeats")

    def check_alive(self) -> None:
        """LinkLost when the port failed, retries ran out, or the firmware went quiet."""
        self._raise_if_failed()
        if self.session is None:
            return
        quiet = self._clock() - self._last_valid_rx
        if quiet > self.link_timeout_s:
            self._fail(
                f"no valid frame from the generator on {self.name} for {quiet:.2f} s "
                f"(limit {self.link_timeout_s:g} s); the link is lost and HV state is unknown"
            )
            self._raise_if_failed()

    def next_event(self, timeout_s: float) -> Received | None:
        """The next unsolicited frame (acked events, FAULT, …) within `timeout_s`, else None."""
        try:
            return self._events.get(timeout=max(0.0, timeout_s))
        except queue.Empty:
            return None

    # -- observation -------------------------------------------------------

    @property
    def lost(self) -> bool:
        return self._failure is not None

    @property
    def failure(self) -> str | None:
        """Why the link is lost, or None."""
        return self._failure

    @property
    def last_status(self) -> Received | None:
        """The newest STATUS frame and its arrival time."""
        return self._status

    @property
    def status_count(self) -> int:
        """How many STATUS frames have arrived this session (to wait for a fresh one)."""
        return self._status_count

    @property
    def last_fw_seq(self) -> int | None:
        return self._highest_fw_seq

    def stats(self) -> dict[str, int]:
        """Every counter: frames, retries, heartbeats and each kind of rejected frame."""
        with self._stats_lock:
            merged = dict(self._counters)
            for reason, n in self._decoder.rejected.items():
                merged[reason] = merged.get(reason, 0) + n
        return merged

    def time_fit(self) -> TimeFit | None:
        """Firmware-to-host time fit of this session (§9), None before HELLO_ACK."""
        with self._cond:
            return self._time.fit()

    def close(self) -> None:
        """Stop the reader and close the port. Idempotent."""
        self._closing.set()
        if self._reader.is_alive() and threading.current_thread() is not self._reader:
            self._reader.join(timeout=1.0)
        with contextlib.suppress(Exception):
            self._port.close()

    # -- internals ---------------------------------------------------------

    def _next_seq(self) -> int:
        # 0 belongs to HELLO; after 65535 the count goes on at 1.
        with self._seq_lock:
            self._seq = self._seq % 0xFFFF + 1
            return self._seq

    def _wire_time(self, n_bytes: int) -> float:
        baud = getattr(self._port, "baudrate", BAUDRATE) or BAUDRATE
        return n_bytes * 10 / baud

    def _send(self, frame: Frame) -> None:
        wire = to_wire(frame)
        try:
            with self._write_lock:
                self._port.write(wire)
                sent_at = self._clock()
        except Exception as exc:
            # A vanished port raises SerialException, OSError or worse from pyserial.
            self._fail(f"writing to the generator port {self.name} failed: {exc}")
            raise LinkLost(self._failure or "link lost") from exc
        self._count("frames_sent")
        self._log("tx", wire, sent_at)

    def _await(self, seq: int, timeout_s: float, *, until_failure: bool = True) -> Received | None:
        end = time.monotonic() + timeout_s
        with self._cond:
            while True:
                got = self._pending.get(seq)
                if got is not None or (until_failure and self._failure is not None):
                    return got
                left = end - time.monotonic()
                if left <= 0:
                    return None
                self._cond.wait(left)

    def _fail(self, reason: str) -> None:
        with self._cond:
            if self._failure is None:
                self._failure = reason
                self._count("link_lost")
            self._cond.notify_all()

    def _raise_if_failed(self) -> None:
        if self._failure is not None:
            raise LinkLost(self._failure)

    def _count(self, name: str, n: int = 1) -> None:
        with self._stats_lock:
            self._counters[name] = self._counters.get(name, 0) + n

    def _log(self, direction: str, wire: bytes, at: float) -> None:
        if self._traffic_log is None:
            return
        try:
            self._traffic_log(direction, wire, at)
        except Exception:
            # The traffic log is a record, not a safety path: count and carry on.
            self._count("traffic_log_errors")

    def _read_loop(self) -> None:
        while not self._closing.is_set():
            try:
                data = self._port.read(self._port.in_waiting or 1)
            except Exception as exc:
                if not self._closing.is_set():
                    self._fail(f"the generator port {self.name} stopped working: {exc}")
                return
            if not data:
                continue
            now = self._clock()
            self._log_rx(data, now)
            with self._stats_lock:
                frames = list(self._decoder.feed(data))
            for frame in frames:
                try:
                    self._on_frame(frame, now)
                except LinkLost:
                    return

    def _log_rx(self, data: bytes, at: float) -> None:
        if self._traffic_log is None:
            return
        start = 0
        while start < len(data):
            zero = data.find(0, start)
            end = len(data) if zero < 0 else zero
            if not self._rx_log_overflow:
                self._rx_log += data[start:end]
                if len(self._rx_log) > MAX_WIRE:
                    # Log the start of an oversize run once, bounded like the decoder.
                    self._log("rx", bytes(self._rx_log), at)
                    self._rx_log.clear()
                    self._rx_log_overflow = True
            if zero < 0:
                return
            if not self._rx_log_overflow and self._rx_log:
                self._log("rx", bytes(self._rx_log) + b"\x00", at)
            self._rx_log.clear()
            self._rx_log_overflow = False
            start = zero + 1

    def _on_frame(self, frame: Frame, now: float) -> None:
        self._count("frames_received")
        try:
            message = decode_payload(frame.msg_type, frame.payload)
        except KeyError:
            self._count("unknown_type")
            return
        except PayloadError:
            self._count("bad_payload")
            return
        got = Received(frame, message, now)
        if self.session is None:
            self._on_handshake_frame(got)
            return
        if frame.session != self.session:
            self._count("wrong_session")
            return
        self._last_valid_rx = now
        if frame.is_response:
            self._on_reply(got)
            return
        if frame.wants_ack and frame.seq in self._recent:
            self._count("duplicate")
            self._ack(frame)
            return
        if not self._fresh(frame):
            self._count("stale")
            return
        if self._highest_fw_seq is None or seq_newer(frame.seq, self._highest_fw_seq):
            self._highest_fw_seq = frame.seq
        if frame.wants_ack:
            self._recent.append(frame.seq)
        if isinstance(message, Status):
            with self._cond:
                self._time.add(message.fw_time_us, now)
                self._status = got
                self._status_count += 1
            return
        if frame.wants_ack:
            self._ack(frame)
        self._count("events")
        self._events.put(got)

    def _fresh(self, frame: Frame) -> bool:
        """Newer than anything seen, or a recent acked event resent after newer frames.

        The firmware keeps one acked event in flight and retries it under its
        first seq while STATUS and replies go on counting, so a retry whose
        first copy was lost arrives "older" and must still be taken.
        """
        highest = self._highest_fw_seq
        if highest is None or seq_newer(frame.seq, highest):
            return True
        behind = (highest - frame.seq) & 0xFFFF
        return frame.wants_ack and behind <= RETRY_WINDOW

    def _on_handshake_frame(self, got: Received) -> None:
        frame = got.frame
        answers_hello = frame.msg_type in (MsgType.HELLO_ACK, MsgType.NAK)
        if answers_hello and frame.is_response and frame.ref_seq == 0:
            with self._cond:
                if 0 in self._pending and self._pending[0] is None:
                    self._pending[0] = got
                    self._cond.notify_all()
                    return
        self._count("before_session")

    def _on_reply(self, got: Received) -> None:
        frame = got.frame
        with self._cond:
            if frame.ref_seq in self._pending and self._pending[frame.ref_seq] is None:
                self._pending[frame.ref_seq] = got
                self._cond.notify_all()
                delivered = True
            else:
                delivered = False
        if not delivered:
            # A second copy of a reply already taken, or a reply nobody awaits.
            self._count("stale")
        # Replies repeated from the firmware's cache keep their old seq: never "newer".
        if self._highest_fw_seq is None or seq_newer(frame.seq, self._highest_fw_seq):
            self._highest_fw_seq = frame.seq

    def _ack(self, frame: Frame) -> None:
        ack = Ack(result=Result.OK, state=int(self.host_view), rsv=0, detail=0)
        reply = Frame(
            MsgType.ACK, self.session or 0, self._next_seq(), frame.seq, ack.pack(), FLAG_RESP
        )
        self._send(reply)
        self._count("acks_sent")


def _result_name(message: Message) -> str:
    if not isinstance(message, Ack):
        return type(message).__name__
    try:
        return Result(message.result).name
    except ValueError:
        return str(message.result)
