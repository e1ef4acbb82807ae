"""The simulated pulse-generator firmware: link v1 state machine, timers and safety.

`Firmware` is transport-free: a transport feeds it received bytes
(`receive`), calls `poll` whenever `next_deadline` comes or bytes arrive, and
writes what `poll` returns. Everything happens on the caller's thread under
one lock, so tests may read the introspection properties from any thread.
See docs/firmware-link.md for the protocol and docs/simulator.md for what
this simulation decides where the protocol leaves room.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from drivers.link.cobs import cobs_encode
from drivers.link.frame import (
    FLAG_ACK_REQ,
    FLAG_RESP,
    Frame,
    FrameDecoder,
    encode_frame,
    seq_newer,
)
from drivers.link.messages import (
    CAP_WAVEFORMS,
    MAX_WAVE_SAMPLES,
    PULSE_IDX_NONE,
    Abort,
    Ack,
    ArmChallenge,
    ArmConfirm,
    ArmRequest,
    ClearFault,
    EcgEvent,
    FaultCode,
    FaultReport,
    Fire,
    FwState,
    GetTrain,
    GetWave,
    Hello,
    HelloAck,
    MsgType,
    Nak,
    PayloadError,
    PulseFlag,
    PulseSummary,
    Result,
    SetParams,
    Status,
    TrainDone,
    TrainResult,
)
from simulator.faults import Fault
from simulator.firmware.clock import NominalClock
from simulator.firmware.device import DeviceInfo, Timings
from simulator.firmware.ecg_gate import GateOpener, plan_gated
from simulator.firmware.event_queue import EventQueue
from simulator.firmware.hv_bank import HvBank
from simulator.firmware.ids import IdSource, SeededIds
from simulator.firmware.link_faults import LinkFaults, LinkFaultSpec
from simulator.firmware.params import check_params, is_gated, train_request
from simulator.firmware.reply_cache import ReplyCache
from simulator.firmware.train_records import TrainRecord, TrainRecords
from simulator.firmware.train_run import PulseStatsLike, Step, TrainRun
from simulator.firmware.waves import StoredWaves
from simulator.train import DeliveredTrain, TrainRequest

Deliver = Callable[[TrainRequest], DeliveredTrain]
Publish = Callable[[DeliveredTrain], None]
Summarize = Callable[[DeliveredTrain, float, float], Sequence[PulseStatsLike]]

# Distinguishes the firmware's random streams from any other user of the bench seed.
FIRMWARE_STREAM = 0x4657
HV_LIVE = frozenset({FwState.CHARGING, FwState.ARMED, FwState.FIRING})
HV_STAGE = {  # STATUS hv_stage: 0 off, 1 charging, 2 charged, 3 pulsing, 4 discharging
    FwState.BOOT: 0,
    FwState.IDLE: 0,
    FwState.CHARGING: 1,
    FwState.ARMED: 2,
    FwState.FIRING: 3,
    FwState.DONE: 4,
    FwState.FAULT: 4,
}
# STATUS interlocks, bit set = closed / asserted: footswitch, key, electrode, enclosure, ECG lead.
INTERLOCKS_CLOSED = 0b11110
FOOTSWITCH = 0b00001
LOG_FRAMES = 512


@dataclass(frozen=True)
class LoggedFrame:
    """One frame as the firmware saw it (after the line) or sent it (before the line)."""

    wall: float
    direction: str  # "rx" | "tx"
    frame: Frame


class Firmware:
    """Generator firmware of protocol v1, driven by a transport.

    `deliver` is the load model (`LoadModel.deliver`), `summarize` its per-
    pulse summary, `publish` tells listeners (the bench's scope) what reached
    the load, `open_gate` gives judged ECG beats for gated trains and
    `pair_known` says which electrode pairs are wired. The firmware's ids and
    link faults are seeded from `seed`; `time_scale` compresses charging,
    pulse periods and ECG beats but never a safety timer.
    Trains are requested on the bench clock: firmware time plus `epoch_s`,
    the bench-clock time at which the firmware booted. ECG gates are opened
    on firmware time.
    """

    def __init__(
        self,
        deliver: Deliver,
        summarize: Summarize,
        *,
        publish: Publish | None = None,
        open_gate: GateOpener | None = None,
        pair_known: Callable[[tuple[int, int]], bool] | None = None,
        seed: int = 0,
        faults: Iterable[Fault] = (),
        time_scale: float = 1.0,
        device: DeviceInfo | None = None,
        timings: Timings | None = None,
        clock: Callable[[], float] = time.monotonic,
        ids: IdSource | None = None,
        epoch_s: float = 0.0,
    ) -> None:
        if time_scale <= 0:
            raise ValueError(f"time_scale must be positive, got {time_scale}")
        self.device = device or DeviceInfo()
        self.timings = timings or Timings()
        self._deliver = deliver
        self._summarize = summarize
        self._publish = publish or (lambda train: None)
        self._open_gate = open_gate
        self._pair_known = pair_known or (lambda pair: True)
        self._time_scale = time_scale
        self._wall = clock
        self._epoch_s = epoch_s
        seeds = np.random.SeedSequence([seed, FIRMWARE_STREAM])
        id_seed, line_seed = seeds.spawn(2)
        self._ids: IdSource = ids or SeededIds(id_seed)
        self._line = LinkFaults(LinkFaultSpec.from_faults(faults), line_seed)
        self._lock = threading.RLock()
        now = self._wall()
        self._clock = NominalClock(now)
        self._decoder = FrameDecoder()
        self._hv = HvBank(self.timings)
        self._records = TrainRecords()
        self._cache = ReplyCache()
        self._events = EventQueue(self.timings.event_retry_s, self.timings.event_sends)
        self._out: deque[tuple[float, bytes]] = deque()
        self._log: deque[LoggedFrame] = deque(maxlen=LOG_FRAMES)
        self._state = FwState.BOOT
        self._faults = 0
        self._session: int | None = None
        self._hello_nonce: int | None = None
        self._hello_ack: Frame | None = None
        self._fw_seq = 0
        self._last_cmd_seq = 0
        self._last_rx: float | None = None
        self._next_status = now
        self._status_now = False
        self._params: SetParams | None = None
        self._token: int | None = None
        self._token_deadline = 0.0
        self._armed_deadline: float | None = None
        self._charged_at: float | None = None
        self._run: TrainRun | None = None
        # FIRE is acknowledged at once, as hardware does; the train is computed on the
        # next poll, after the acknowledgement has gone out, so the model's time never
        # eats into the host's 50 ms reply deadline.
        self._fire_pending: int | None = None
        self._fire_acknowledged = False
        self._waves: StoredWaves | None = None
        self._train_ids: set[int] = set()
        self._crc_errors = 0
        self._retx_seen = 0
        self._dropped = 0
        self._rejected_seen: dict[str, int] = {}
        self.fire_executions = 0
        self.pulses_delivered = 0
        self.frames_received = 0
        self.frames_sent = 0
        self.sessions_started = 0
        # Self-test of a simulation: nothing to check, straight to IDLE.
        self._state = FwState.IDLE

    # ------------------------------------------------------------------ introspection

    @property
    def state(self) -> FwState:
        return self._state

    @property
    def hv_bank_v(self) -> float:
        with self._lock:
            wall = self._wall()
            return self._hv.voltage(wall, self._clock.now(wall))

    @property
    def discharged(self) -> bool:
        return self.hv_bank_v < self.timings.safe_v

    @property
    def session(self) -> int | None:
        return self._session

    @property
    def latched_faults(self) -> frozenset[FaultCode]:
        return frozenset(c for c in FaultCode if self._faults & (1 << c))

    @property
    def train_records(self) -> tuple[TrainRecord, ...]:
        with self._lock:
            return self._records.all()

    @property
    def link_stats(self) -> dict[str, int]:
        """Firmware counters (as in STATUS) and what the injected line faults did."""
        with self._lock:
            return {
                "crc_errors": self._crc_errors,
                "retx_seen": self._retx_seen,
                "dropped": self._dropped,
                "line_dropped": self._line.dropped,
                "line_corrupted": self._line.corrupted,
                "line_duplicated": self._line.duplicated,
                "events_acked": self._events.acked,
                "events_given_up": self._events.given_up,
            }

    def frame_log(self) -> tuple[LoggedFrame, ...]:
        with self._lock:
            return tuple(self._log)

    def nominal_now(self) -> float:
        """The firmware clock in seconds since boot (the bench clock of its trains)."""
        with self._lock:
            return self._clock.now(self._wall())

    # ------------------------------------------------------------------ transport side

    def receive(self, data: bytes) -> None:
        """Bytes from the host, in any chunking."""
        with self._lock:
            wall = self._wall()
            for frame in self._decoder.feed(data):
                if self._line.incoming_lost():
                    continue
                self.frames_received += 1
                self._log.append(LoggedFrame(wall, "rx", frame))
                self._on_frame(frame, wall)
            self._count_rejections()
            self._advance(wall)

    def reset_stream(self) -> None:
        """A new byte stream begins (a TCP reconnect): forget any partial frame."""
        with self._lock:
            self._decoder = FrameDecoder()
            self._rejected_seen = {}

    def poll(self) -> bytes:
        """Run the timers up to now; the bytes due on the wire."""
        with self._lock:
            wall = self._wall()
            if self._fire_pending is not None and self._fire_acknowledged:
                train_id, self._fire_pending = self._fire_pending, None
                self._start_train(train_id, wall)
            self._advance(wall)
            out = bytearray()
            while self._out and self._out[0][0] <= wall:
                out += self._out.popleft()[1]
            if self._fire_pending is not None:
                self._fire_acknowledged = True  # the ACK is in `out`, on its way
            return bytes(out)

    def next_deadline(self) -> float:
        """Wall-clock time by which `poll` must be called again."""
        with self._lock:
            wall = self._wall()
            candidates = [self._next_status if self._session is not None else wall + 1.0]
            if self._out:
                candidates.append(self._out[0][0])
            if self._session is not None and self._last_rx is not None:
                candidates.append(self._last_rx + self.timings.link_timeout_s)
            retry = self._events.next_deadline()
            if retry is not None:
                candidates.append(retry)
            if not self._events.idle or self._fire_pending is not None:
                candidates.append(wall)
            if self._armed_deadline is not None:
                candidates.append(self._armed_deadline)
            if self._charged_at is not None:
                candidates.append(self._clock.wall_at(self._charged_at))
            if self._run is not None:
                nxt = self._run.next_at()
                if nxt is not None:
                    candidates.append(self._clock.wall_at(nxt))
            safe = self._hv.safe_at()
            if safe is not None and self._state == FwState.DONE:
                candidates.append(safe)
            return min(candidates)

    # ------------------------------------------------------------------ frames in

    def _on_frame(self, frame: Frame, wall: float) -> None:
        if frame.msg_type == MsgType.HELLO:
            self._on_hello(frame, wall)
            return
        if self._session is None or frame.session != self._session:
            if frame.msg_type == MsgType.ABORT and not frame.is_response:
                # A stray ABORT can only remove energy: honour it whoever sent it.
                state = self._abort(wall)
                self._send_reply(frame, MsgType.ACK, Ack(Result.OK, state).pack(), cache=False)
            else:
                self._dropped += 1
            return
        if frame.is_retransmission:
            self._retx_seen += 1
        if not frame.is_response:
            # Only what the host's control loop originates feeds the watchdog: a
            # reader thread that still acknowledges events must not keep HV up
            # for a host whose control loop has stalled.
            self._last_rx = wall
        if frame.msg_type == MsgType.HEARTBEAT:
            return
        if frame.is_response:
            # An ACK for an event: the one in flight, or a late answer to a copy
            # already acknowledged, which needs nothing more.
            if frame.msg_type != MsgType.ACK:
                self._dropped += 1
            else:
                self._events.on_ack(frame.ref_seq)
            return
        cached = self._cache.get(frame.seq)
        if cached is not None:
            self._emit(cached, repeatable=True)  # the stored reply, byte for byte; not run again
            return
        if not seq_newer(frame.seq, self._last_cmd_seq):
            self._dropped += 1  # stale: older than anything the cache still answers
            return
        self._last_cmd_seq = frame.seq
        msg_type, payload = self._execute(frame, wall)
        self._send_reply(frame, msg_type, payload, cache=True)

    def _on_hello(self, frame: Frame, wall: float) -> None:
        if frame.session != 0:
            self._dropped += 1
            return
        try:
            hello = Hello.unpack(frame.payload)
        except PayloadError:
            self._dropped += 1
            return
        if (
            self._session is not None
            and hello.nonce == self._hello_nonce
            and self._hello_ack is not None
        ):
            self._last_rx = wall
            self._emit(self._hello_ack, repeatable=True)  # the same HELLO_ACK, byte for byte
            return
        if hello.version != 1:
            nak = Frame(
                MsgType.NAK, 0, 0, frame.seq, Nak(Result.UNSUPPORTED, self._state).pack(), FLAG_RESP
            )
            self._emit(nak, repeatable=True)
            return
        hv_was_live = self._state in HV_LIVE
        self._start_session(hello.nonce, wall)
        if hv_was_live:
            # A new HELLO while HV is live means the old host is gone (§4).
            self._fault(FaultCode.LINK_LOST, wall)

    def _start_session(self, nonce: int, wall: float) -> None:
        previous = self._session
        session = self._ids.session_id() & 0xFFFF
        if session in (0, previous):
            session = (session % 0xFFFF) + 1  # never 0, never the session just ended
        self._session = session
        self.sessions_started += 1
        self._hello_nonce = nonce
        self._fw_seq = 1
        self._last_cmd_seq = 0
        self._cache.clear()
        self._events.clear()
        self._train_ids.clear()
        self._crc_errors = self._retx_seen = self._dropped = 0
        self._last_rx = wall
        ack = HelloAck(
            version=1,
            rsv=0,
            session=session,
            nonce=nonce,
            fw_major=self.device.fw_major,
            fw_minor=self.device.fw_minor,
            fw_patch=self.device.fw_patch,
            serial=self.device.serial_bytes,
            v_max_mv=self.device.v_max_mv,
            i_max_ma=self.device.i_max_ma,
            max_rate_hz=self.device.max_rate_hz,
            max_count=self.device.max_count,
            caps=self.device.caps,
            fw_time_us=self._clock.now_us(wall),
        )
        self._hello_ack = Frame(MsgType.HELLO_ACK, session, 0, 0, ack.pack(), FLAG_RESP)
        self._emit(self._hello_ack, repeatable=True)
        self._status_now = True

    def _end_session(self) -> None:
        self._fire_pending = None
        self._session = None
        self._hello_nonce = None
        self._hello_ack = None
        self._last_rx = None
        self._events.clear()
        self._cache.clear()

    # ------------------------------------------------------------------ commands

    def _execute(self, frame: Frame, wall: float) -> tuple[int, bytes]:
        handlers: dict[int, Callable[[bytes, float], tuple[int, bytes]]] = {
            MsgType.SET_PARAMS: self._cmd_set_params,
            MsgType.ARM_REQUEST: self._cmd_arm_request,
            MsgType.ARM_CONFIRM: self._cmd_arm_confirm,
            MsgType.FIRE: self._cmd_fire,
            MsgType.ABORT: self._cmd_abort,
            MsgType.CLEAR_FAULT: self._cmd_clear_fault,
            MsgType.GET_TRAIN: self._cmd_get_train,
            MsgType.GET_WAVE: self._cmd_get_wave,
        }
        handler = handlers.get(frame.msg_type)
        if handler is None:
            return self._nak(Result.UNSUPPORTED)
        try:
            return handler(frame.payload, wall)
        except PayloadError:
            if frame.msg_type == MsgType.ABORT:
                # Energy comes off whatever the payload says.
                return MsgType.ACK, Ack(Result.OK, self._abort(wall)).pack()
            return self._nak(Result.BAD_PARAM)

    def _ack(self, result: Result = Result.OK, detail: int = 0) -> tuple[int, bytes]:
        return MsgType.ACK, Ack(result, self._state, 0, detail).pack()

    def _nak(self, result: Result, detail: int = 0) -> tuple[int, bytes]:
        return MsgType.NAK, Nak(result, self._state, 0, detail).pack()

    def _cmd_set_params(self, payload: bytes, wall: float) -> tuple[int, bytes]:
        params = SetParams.unpack(payload)
        if self._state != FwState.IDLE:
            return self._nak(Result.BAD_STATE)
        result = check_params(params, self.device)
        if result != Result.OK:
            return self._nak(result)
        if is_gated(params) and self._open_gate is None:
            return self._nak(Result.UNSUPPORTED)
        if not self._pair_known((params.electrode_a, params.electrode_b)):
            return self._nak(Result.OUT_OF_LIMITS)  # no electrode wired to that switch output
        self._params = params
        self._token = None  # a challenge for other parameters must not arm these
        self._status_now = True
        return self._ack(Result.OK, params.param_hash)

    def _cmd_arm_request(self, payload: bytes, wall: float) -> tuple[int, bytes]:
        request = ArmRequest.unpack(payload)
        if self._state != FwState.IDLE or self._params is None:
            return self._nak(Result.BAD_STATE)
        if request.param_hash != self._params.param_hash:
            return self._nak(Result.HASH_MISMATCH, self._params.param_hash)
        self._token = self._ids.token()
        self._token_deadline = wall + self.timings.token_s
        challenge = ArmChallenge(
            token=self._token,
            expires_in_ms=round(self.timings.token_s * 1000),
            param_hash=self._params.param_hash,
            params=self._params,
        )
        return MsgType.ARM_CHALLENGE, challenge.pack()

    def _cmd_arm_confirm(self, payload: bytes, wall: float) -> tuple[int, bytes]:
        confirm = ArmConfirm.unpack(payload)
        if self._state != FwState.IDLE or self._params is None:
            return self._nak(Result.BAD_STATE)
        if self._token is None or confirm.token != self._token:
            return self._nak(Result.TOKEN_INVALID)
        if wall > self._token_deadline:
            self._token = None
            return self._nak(Result.TOKEN_EXPIRED)
        if confirm.param_hash != self._params.param_hash:
            return self._nak(Result.HASH_MISMATCH, self._params.param_hash)
        self._clock.set_rate(wall, self._time_scale)
        nominal = self._clock.now(wall)
        self._charged_at = self._hv.charge(
            nominal, self._params.amplitude_mv / 1000, self.device.v_max_v
        )
        self._set_state(FwState.CHARGING)
        return self._ack()

    def _cmd_fire(self, payload: bytes, wall: float) -> tuple[int, bytes]:
        fire = Fire.unpack(payload)
        # After a FIRE the token is gone: later FIREs of that arm cycle hear TOKEN_INVALID.
        if self._state in (FwState.ARMED, FwState.FIRING, FwState.DONE) and (
            self._token is None or fire.token != self._token
        ):
            return self._nak(Result.TOKEN_INVALID)
        if self._state != FwState.ARMED or self._params is None:
            return self._nak(Result.BAD_STATE)
        if fire.train_id == 0 or fire.train_id in self._train_ids:
            return self._nak(Result.BAD_PARAM)
        self._token = None
        self._armed_deadline = None
        self._train_ids.add(fire.train_id)
        self.fire_executions += 1
        self._fire_pending = fire.train_id
        self._fire_acknowledged = False
        return MsgType.ACK, Ack(Result.IN_PROGRESS, FwState.FIRING, 0, fire.train_id).pack()

    def _cmd_abort(self, payload: bytes, wall: float) -> tuple[int, bytes]:
        Abort.unpack(payload)
        self._abort(wall)
        return self._ack()

    def _cmd_clear_fault(self, payload: bytes, wall: float) -> tuple[int, bytes]:
        code = ClearFault.unpack(payload).code
        if self._state != FwState.FAULT:
            if self._state == FwState.IDLE:
                return self._ack()  # nothing latched: already clear
            return self._nak(Result.BAD_STATE)
        if not 0 < code < 32 or not self._faults & (1 << code):
            return self._nak(Result.BAD_PARAM, self._faults)
        if not self._hv.is_safe(wall, self._clock.now(wall)):
            return self._nak(Result.CAUSE_PRESENT, self._faults)
        self._faults &= ~(1 << code)
        if not self._faults:
            self._set_state(FwState.IDLE)
        self._status_now = True
        return self._ack(Result.OK, self._faults)

    def _cmd_get_train(self, payload: bytes, wall: float) -> tuple[int, bytes]:
        train_id = GetTrain.unpack(payload).train_id
        if self._run is not None and train_id in (0, self._run.train_id):
            return self._nak(Result.BUSY)
        record = self._records.find(train_id)
        if record is None:
            return self._nak(Result.BAD_PARAM)
        return MsgType.TRAIN_DONE, record.done.pack()

    def _cmd_get_wave(self, payload: bytes, wall: float) -> tuple[int, bytes]:
        ask = GetWave.unpack(payload)
        if self._run is not None:
            return self._nak(Result.BUSY)
        waves = self._waves
        if waves is None or ask.train_id not in (0, waves.train_id):
            return self._nak(Result.BAD_PARAM)
        if ask.channel > 1 or not 0 < ask.max_samples <= MAX_WAVE_SAMPLES:
            return self._nak(Result.BAD_PARAM)
        if not waves.has(ask.pulse_idx):
            return self._nak(Result.BAD_PARAM)
        if ask.offset > waves.total(ask.pulse_idx, ask.channel):
            return self._nak(Result.BAD_PARAM)
        chunk = waves.chunk(ask.pulse_idx, ask.channel, ask.offset, ask.max_samples)
        return MsgType.WAVE_CHUNK, chunk.pack()

    # ------------------------------------------------------------------ states and safety

    def _set_state(self, state: FwState) -> None:
        if state != self._state:
            self._state = state
            self._status_now = True

    def _abort(self, wall: float) -> FwState:
        """ABORT in any state: energy off, token dead; no effect in FAULT (already safe)."""
        self._fire_pending = None
        if self._state in (FwState.FAULT, FwState.BOOT, FwState.DONE):
            return self._state
        self._token = None
        if self._state == FwState.FIRING and self._run is not None:
            self._end_train(TrainResult.ABORTED, wall, stop_now=True)
        self._enter_done(wall)
        return self._state

    def _enter_done(self, wall: float) -> None:
        self._armed_deadline = None
        self._charged_at = None
        self._clock.set_rate(wall, 1.0)
        self._hv.discharge(wall, self._clock.now(wall))
        self._set_state(FwState.DONE)

    def _fault(
        self,
        code: FaultCode,
        wall: float,
        train_id: int = 0,
        pulse_idx: int = PULSE_IDX_NONE,
        detail: int = 0,
    ) -> None:
        state_before = self._state
        self._fire_pending = None
        nominal = self._clock.now(wall)
        hv = self._hv.voltage(wall, nominal)
        self._faults |= 1 << code
        self._token = None
        self._armed_deadline = None
        self._charged_at = None
        report = FaultReport(
            code=code,
            latched=1,
            state_before=state_before,
            hv_mv=round(hv * 1000),
            train_id=train_id or (self._run.train_id if self._run else 0),
            pulse_idx=pulse_idx,
            detail=detail,
            fw_time_us=self._clock.now_us(wall),
        )
        self._state = FwState.FAULT
        self._status_now = True
        self._push_event(MsgType.FAULT, report.pack())
        if self._run is not None:
            self._run.faults.append(report)
            self._end_train(TrainResult.FAULT, wall, stop_now=True)
        self._clock.set_rate(wall, 1.0)
        self._hv.discharge(wall, self._clock.now(wall))

    def _advance(self, wall: float) -> None:
        """Everything time-driven, in order: watchdog, timers, train steps, events, STATUS."""
        if (
            self._session is not None
            and self._last_rx is not None
            and wall - self._last_rx >= self.timings.link_timeout_s
        ):
            if self._state in HV_LIVE:
                self._fault(FaultCode.LINK_LOST, wall)
                self._last_rx = wall  # a further silent period ends the session
            else:
                self._end_session()
        nominal = self._clock.now(wall)
        if self._charged_at is not None and nominal >= self._charged_at:
            self._charged_at = None
            assert self._params is not None
            self._hv.hold(self._params.amplitude_mv / 1000)
            self._clock.set_rate(wall, 1.0)
            self._armed_deadline = wall + self.timings.armed_s
            self._set_state(FwState.ARMED)
        if (
            self._armed_deadline is not None
            and wall >= self._armed_deadline
            and self._state == FwState.ARMED
        ):
            self._token = None
            self._enter_done(wall)
        while self._run is not None:
            step = self._run.pop_due(self._clock.now(wall))
            if step is None:
                break
            self._train_step(step, wall)
        if (
            self._state == FwState.DONE
            and self._hv.is_safe(wall, self._clock.now(wall))
            and self._events.idle
        ):
            self._set_state(FwState.IDLE)
        self._flush_events(wall)
        if (
            self._session is not None
            and self._fire_pending is None  # never report ARMED after acknowledging FIRE
            and (self._status_now or wall >= self._next_status)
        ):
            self._send_status(wall)

    def _flush_events(self, wall: float) -> None:
        if self._session is None:
            self._events.clear()
            return
        while True:
            due = self._events.due(wall, self._fw_seq)
            if due is None:
                return
            seq, msg_type, payload, extra = due
            if seq == self._fw_seq:
                self._fw_seq = (self._fw_seq + 1) & 0xFFFF
            frame = Frame(msg_type, self._session, seq, 0, payload, FLAG_ACK_REQ | extra)
            self._emit(frame, repeatable=True)

    def _send_status(self, wall: float) -> None:
        assert self._session is not None
        nominal = self._clock.now(wall)
        interlocks = INTERLOCKS_CLOSED
        if self._state in (FwState.ARMED, FwState.FIRING):
            interlocks |= FOOTSWITCH  # the simulated operator holds the footswitch when armed
        status = Status(
            state=self._state,
            hv_stage=HV_STAGE[self._state],
            interlocks=interlocks,
            faults=self._faults,
            hv_bank_mv=round(self._hv.voltage(wall, nominal) * 1000),
            last_host_seq=self._last_cmd_seq,
            crc_errors=min(self._crc_errors, 0xFFFF),
            retx_seen=min(self._retx_seen, 0xFFFF),
            dropped=min(self._dropped, 0xFFFF),
            param_hash=self._params.param_hash if self._params else 0,
            fw_time_us=self._clock.now_us(wall),
        )
        self._emit(Frame(MsgType.STATUS, self._session, self._take_seq(), 0, status.pack()))
        self._status_now = False
        self._next_status = wall + self.timings.status_period_s

    # ------------------------------------------------------------------ trains

    def _start_train(self, train_id: int, wall: float) -> None:
        params = self._params
        assert params is not None
        self._clock.set_rate(wall, self._time_scale)
        fire_s = self._clock.now(wall)
        gated = None
        if is_gated(params):
            assert self._open_gate is not None
            gated = plan_gated(self._open_gate(fire_s), fire_s, params, self.timings)
            bench_times = tuple(t + self._epoch_s for t in gated.pulse_times_s)
            request = train_request(params, fire_s, bench_times) if bench_times else None
            stream = True
        else:
            request = train_request(params, fire_s + self._epoch_s)
            stream = (
                params.period_us * 1e-6 >= self.timings.stream_min_period_s or params.count == 1
            )
        train = None
        stats: Sequence[PulseStatsLike] = ()
        failed = False
        if request is not None:
            try:
                train = self._deliver(request)
                stats = self._summarize(
                    train, params.v_tol_permille / 1000, params.i_limit_ma / 1000
                )
            except ValueError:
                # The model refused the request: on hardware, a broken HV stage.
                train, stats, failed = None, (), True
        self._waves = None  # sample records are kept until the next FIRE
        self._run = TrainRun(train_id, params, fire_s, train, stats, gated, stream, self._epoch_s)
        self._set_state(FwState.FIRING)
        if failed:
            self._fault(FaultCode.INTERNAL, wall, train_id)

    def _train_step(self, step: Step, wall: float) -> None:
        run = self._run
        assert run is not None
        if step.kind == "ecg":
            e = run.ecg_events[step.index]
            event = EcgEvent(
                run.train_id, e.kind, e.reason, e.rr_ms, round(e.t_r_s * 1e6), e.next_pulse
            )
            run.ecg_reported.append(event)
            self._push_event(MsgType.ECG_EVENT, event.pack())
        elif step.kind == "pulse":
            self._pulse_done(step.index, wall)
        else:
            self._end_train(TrainResult.COMPLETE, wall, stop_now=False)

    def _pulse_done(self, k: int, wall: float) -> None:
        run = self._run
        assert run is not None
        summary = self._report_pulse(k)
        if k == run.trip_index:
            code = FaultCode.ARC if summary.flags & PulseFlag.ARC else FaultCode.OVERCURRENT
            self._fault(code, wall, run.train_id, k)

    def _report_pulse(self, k: int) -> PulseSummary:
        """Pulse k has ended: count it, and stream or buffer its summary."""
        run = self._run
        assert run is not None and run.train is not None
        summary = run.summary(k)
        run.reported.append(summary)
        run.flags_or |= summary.flags
        if run.train.delivered[k]:
            self.pulses_delivered += 1
        if run.stream:
            self._publish(run.pulse_alone(k))
            self._push_event(MsgType.PULSE_SUMMARY, summary.pack())
        else:
            run.buffered.append(summary)
        return summary

    def _end_train(self, result: TrainResult, wall: float, stop_now: bool) -> None:
        run = self._run
        assert run is not None
        nominal = self._clock.now(wall)
        if stop_now:
            # The pulse under way completes; nothing after it starts.
            # Its summary is reported, but it trips nothing more: the train is ending anyway.
            for k in run.started_pulses(nominal):
                self._report_pulse(k)
            run.drop_remaining()
        n_slots = len(run.reported)
        if run.gated is not None and run.gated.timed_out_at is not None and not stop_now:
            result = TrainResult.ECG_TIMEOUT
        if not run.stream and run.train is not None:
            truncated = run.truncated(n_slots)
            if truncated is not None:
                self._publish(truncated)
        for summary in run.buffered:
            self._push_event(MsgType.PULSE_SUMMARY, summary.pack())
        run.buffered.clear()
        n_delivered = sum(1 for s in run.reported if not s.flags & PulseFlag.MISSING)
        stored = 0
        if run.train is not None and self.device.caps & CAP_WAVEFORMS:
            self._waves = StoredWaves(run.train_id, run.train, n_slots)
            stored = sum(1 for k in range(n_slots) if self._waves.has(k))
        done = TrainDone(
            train_id=run.train_id,
            n_requested=run.params.count,
            n_delivered=n_delivered,
            result=result,
            rsv=0,
            flags_or=run.flags_or,
            withheld=run.gated.withheld if run.gated else 0,
            waves_stored=stored,
            t_end_us=max(0, round(max(nominal if stop_now else run.end_s, run.fire_s) * 1e6)),
        )
        self._push_event(MsgType.TRAIN_DONE, done.pack())
        self._records.add(
            TrainRecord(
                session=self._session or 0,
                params=run.params,
                done=done,
                pulses=tuple(run.reported),
                ecg=tuple(run.ecg_reported),
                faults=tuple(run.faults),
            )
        )
        self._run = None
        if self._state == FwState.FIRING:
            self._enter_done(wall)

    # ------------------------------------------------------------------ frames out

    def _take_seq(self) -> int:
        seq = self._fw_seq
        self._fw_seq = (self._fw_seq + 1) & 0xFFFF
        return seq

    def _push_event(self, msg_type: int, payload: bytes) -> None:
        if self._session is not None:
            self._events.push(msg_type, payload)

    def _send_reply(self, request: Frame, msg_type: int, payload: bytes, cache: bool) -> None:
        session = self._session if cache and self._session is not None else request.session
        reply = Frame(msg_type, session, self._take_seq(), request.seq, payload, FLAG_RESP)
        if cache:
            self._cache.put(request.seq, reply)
        self._emit(reply, repeatable=True)

    def _emit(self, frame: Frame, repeatable: bool = False) -> None:
        wall = self._wall()
        self._log.append(LoggedFrame(wall, "tx", frame))
        self.frames_sent += 1
        for raw in self._line.outgoing(encode_frame(frame), repeatable):
            self._out.append((wall + self._line.spec.delay_s, cobs_encode(raw) + b"\x00"))

    def _count_rejections(self) -> None:
        for reason, count in self._decoder.rejected.items():
            new = count - self._rejected_seen.get(reason, 0)
            if new <= 0:
                continue
            self._rejected_seen[reason] = count
            if reason == "bad_crc":
                self._crc_errors += new
            else:
                self._dropped += new
