"""The pulse generator behind firmware link v1, as a `drivers.roles.PulseGenerator`.

docs/firmware-link.md is the protocol; this module turns it into the role the
engine uses. Values cross the wire in integer units and the firmware never
rounds, so anything not exactly representable is refused here, with the field
named, rather than rounded behind the operator's back.
"""

from __future__ import annotations

import math
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import NoReturn

import numpy as np

from drivers.errors import DriverError, InstrumentTimeout, LinkLost, ProtocolViolation, Refused
from drivers.link.link import (
    LINK_TIMEOUT_S,
    REPLY_DEADLINE_S,
    FirmwareLink,
    Received,
    TrafficLogger,
)
from drivers.link.messages import (
    MAX_WAVE_SAMPLES,
    OPTION_ECG_GATING,
    PULSE_IDX_NONE,
    R_TO_PULSE_UNGATED,
    Abort,
    AbortReason,
    Ack,
    ArmChallenge,
    ArmConfirm,
    ArmRequest,
    ClearFault,
    EcgEvent,
    EcgKind,
    EcgReason,
    FaultCode,
    FaultReport,
    Fire,
    FwState,
    GetTrain,
    GetWave,
    HelloAck,
    Message,
    MsgType,
    PulseFlag,
    PulseSummary,
    Result,
    SetParams,
    Status,
    TrainDone,
    TrainResult,
    WaveChunk,
)
from drivers.link.time_map import TimeFit
from drivers.values import (
    ArmOffer,
    EcgReport,
    GeneratorFault,
    GeneratorLimits,
    GeneratorStatus,
    Identity,
    PulseParams,
    PulseTelemetry,
    TrainReport,
)

PROTOCOL_VERSION = 1
OPEN_TIMEOUT_S = 3.0
# T_charge is 5 s in the firmware; the host waits a little longer so the
# firmware's own CHARGE_TIMEOUT fault is what the operator sees.
CHARGE_TIMEOUT_S = 6.0
# After a FAULT event in a train, how long TRAIN_DONE may take to follow.
FAULT_GRACE_S = 1.0
STATUS_WAIT_S = 0.35
# After a train the firmware sits in DONE while its bank discharges (tens of ms; it
# faults itself if discharge is too slow) and refuses SET_PARAMS until IDLE.
DISCHARGE_WAIT_S = 2.0
PUMP_SLICE_S = 0.02
MAX_WAVE_TOTAL = 10_000_000

# Host views the caller may pass to service(): firmware states, plus the
# engine's own state names mapped onto what the firmware should be doing.
HOST_VIEWS: Mapping[str, FwState] = MappingProxyType(
    {
        **{s.name: s for s in FwState},
        "PREFLIGHT": FwState.IDLE,
        "READY": FwState.IDLE,
        "ABORTED": FwState.DONE,
    }
)

# Firmware states acceptable for each host view. The firmware may always move
# towards safety (DONE, IDLE) on its own (armed timeout, end of train, ABORT);
# CHARGING becomes ARMED without a command. FAULT is handled separately.
_SAFE = frozenset({FwState.DONE, FwState.IDLE})
ALLOWED: Mapping[FwState, frozenset[FwState]] = MappingProxyType(
    {
        FwState.BOOT: frozenset({FwState.BOOT}) | _SAFE,
        FwState.IDLE: _SAFE,
        FwState.CHARGING: frozenset({FwState.CHARGING, FwState.ARMED}) | _SAFE,
        FwState.ARMED: frozenset({FwState.ARMED}) | _SAFE,
        FwState.FIRING: frozenset({FwState.FIRING}) | _SAFE,
        FwState.DONE: _SAFE,
        FwState.FAULT: frozenset(FwState),
    }
)
_HV_MAYBE_LIVE = frozenset({FwState.CHARGING, FwState.ARMED, FwState.FIRING, FwState.DONE})


class ParamError(ValueError):
    """Pulse parameters the generator cannot take exactly, or beyond what it reports it can do."""


class WrongDevice(DriverError):
    """The firmware that answered is not the generator the configuration names."""


class FaultReported(DriverError):
    """The generator reported a fault (latched until cleared by an operator)."""

    def __init__(self, message: str, fault: GeneratorFault | None = None) -> None:
        super().__init__(message)
        self.fault = fault


def _name(enum_cls: type[FwState | Result | FaultCode | TrainResult], value: int) -> str:
    try:
        return enum_cls(value).name
    except ValueError:
        return f"{enum_cls.__name__} {value}"


def _flag_names(bits: int) -> frozenset[str]:
    return frozenset(f.name for f in PulseFlag if f.name is not None and bits & f)


def _exact(value: float, scale: int, field_name: str, unit: str, lo: int, hi: int) -> int:
    """`value * scale` as an integer, refusing anything that would need rounding."""
    if not math.isfinite(value):
        raise ParamError(f"{field_name} = {value} is not a number")
    scaled = value * scale
    whole = round(scaled)
    if abs(scaled - whole) > 1e-9 * max(1.0, abs(scaled)):
        raise ParamError(
            f"{field_name} = {value:g} is not a whole number of {unit}; the generator takes "
            f"exact values only (nearest: {whole / scale:g})"
        )
    if not lo <= whole <= hi:
        raise ParamError(
            f"{field_name} = {value:g} is outside what the link carries "
            f"({lo / scale:g} to {hi / scale:g})"
        )
    return whole


def params_to_wire(params: PulseParams) -> SetParams:
    """Convert to SET_PARAMS units exactly; ParamError names the field that cannot be."""
    u32 = 0xFFFF_FFFF
    amplitude = _exact(params.amplitude_v, 1000, "amplitude_v", "mV", 1, u32)
    width = _exact(params.width_us, 1000, "width_us", "ns", 1, u32)
    count = _exact(params.count, 1, "count", "pulses", 1, 0xFFFF)
    period = _exact(params.period_us, 1, "period_us", "µs", 1, u32)
    i_limit = _exact(params.i_limit_a, 1000, "i_limit_a", "mA", 1, u32)
    v_tol = _exact(params.v_tolerance, 1000, "v_tolerance", "‰", 0, 1000)
    ecg_delay = _exact(params.ecg_delay_ms, 1, "ecg_delay_ms", "ms", 0, 0xFFFF)
    a = _exact(params.electrode_a, 1, "electrode_a", "electrodes", 0, 255)
    b = _exact(params.electrode_b, 1, "electrode_b", "electrodes", 0, 255)
    if a == b:
        raise ParamError(f"electrode_a and electrode_b are both {a}; a pair needs two electrodes")
    if params.polarity not in (0, 1):
        raise ParamError(f"polarity = {params.polarity}; accepted: 0 (a positive), 1 (b positive)")
    if count > 1 and width >= period * 1000:
        raise ParamError(
            f"width_us = {params.width_us:g} does not fit in period_us = {params.period_us:g}"
        )
    return SetParams(
        amplitude_mv=amplitude,
        width_ns=width,
        count=count,
        options=OPTION_ECG_GATING if params.ecg_gated else 0,
        period_us=period,
        i_limit_ma=i_limit,
        v_tol_permille=v_tol,
        ecg_delay_ms=ecg_delay,
        electrode_a=a,
        electrode_b=b,
        polarity=params.polarity,
        rsv=0,
    )


def params_from_wire(held: SetParams) -> PulseParams:
    """The parameters as the firmware holds them, in the driver's units."""
    return PulseParams(
        amplitude_v=held.amplitude_mv / 1000,
        width_us=held.width_ns / 1000,
        count=held.count,
        period_us=float(held.period_us),
        i_limit_a=held.i_limit_ma / 1000,
        v_tolerance=held.v_tol_permille / 1000,
        ecg_gated=bool(held.options & OPTION_ECG_GATING),
        ecg_delay_ms=held.ecg_delay_ms,
        electrode_a=held.electrode_a,
        electrode_b=held.electrode_b,
        polarity=held.polarity,
    )


def check_limits(params: PulseParams, limits: GeneratorLimits) -> None:
    """Refuse what the generator said in its handshake it cannot do."""
    if params.amplitude_v > limits.v_max_v:
        raise ParamError(
            f"amplitude_v = {params.amplitude_v:g} V exceeds the generator's {limits.v_max_v:g} V"
        )
    if params.i_limit_a > limits.i_max_a:
        raise ParamError(
            f"i_limit_a = {params.i_limit_a:g} A exceeds the generator's {limits.i_max_a:g} A"
        )
    if params.count > limits.max_count:
        raise ParamError(
            f"count = {params.count} exceeds the generator's {limits.max_count} pulses per train"
        )
    if params.count > 1 and 1e6 / params.period_us > limits.max_rate_hz * (1 + 1e-9):
        raise ParamError(
            f"period_us = {params.period_us:g} is {1e6 / params.period_us:g} Hz, above the "
            f"generator's {limits.max_rate_hz:g} Hz"
        )
    if params.ecg_gated and not limits.ecg_gate:
        raise ParamError("ecg_gated is set but this generator has no ECG gate")


def telemetry(summary: PulseSummary) -> PulseTelemetry:
    return PulseTelemetry(
        train_id=summary.train_id,
        pulse_idx=summary.pulse_idx,
        flags=_flag_names(summary.flags),
        t_start_us=summary.t_start_us,
        width_us=summary.width_ns / 1000,
        v_peak_v=summary.v_peak_mv / 1000,
        v_mean_v=summary.v_mean_mv / 1000,
        i_peak_a=summary.i_peak_ma / 1000,
        i_mean_a=summary.i_mean_ma / 1000,
        charge_uc=float(summary.charge_uc),
        energy_j=summary.energy_mj / 1000,
        r_to_pulse_us=(
            None if summary.r_to_pulse_us == R_TO_PULSE_UNGATED else summary.r_to_pulse_us
        ),
    )


def ecg_report(event: EcgEvent) -> EcgReport:
    try:
        kind = EcgKind(event.kind).name
    except ValueError:
        kind = f"KIND {event.kind}"
    try:
        reason = EcgReason(event.reason).name
    except ValueError:
        reason = f"REASON {event.reason}"
    return EcgReport(
        train_id=event.train_id,
        kind=kind,
        reason=reason,
        rr_ms=event.rr_ms,
        t_r_us=event.t_r_us,
        next_pulse=event.next_pulse,
    )


def generator_fault(report: FaultReport) -> GeneratorFault:
    return GeneratorFault(
        code=_name(FaultCode, report.code),
        latched=bool(report.latched),
        state_before=_name(FwState, report.state_before),
        hv_v=report.hv_mv / 1000,
        train_id=report.train_id,
        pulse_idx=None if report.pulse_idx == PULSE_IDX_NONE else report.pulse_idx,
        detail=report.detail,
    )


@dataclass
class _TrainCollector:
    """What has arrived about the train in progress, whoever pumped the link."""

    train_id: int
    n_requested: int
    pulses: list[PulseTelemetry] = field(default_factory=list)
    ecg: list[EcgReport] = field(default_factory=list)
    faults: list[GeneratorFault] = field(default_factory=list)
    done: TrainDone | None = None
    notified: int = 0
    fault_at: float | None = None

    def report(self) -> TrainReport:
        if self.done is not None:
            return TrainReport(
                train_id=self.train_id,
                n_requested=self.done.n_requested,
                n_delivered=self.done.n_delivered,
                result=_name(TrainResult, self.done.result),
                flags=_flag_names(self.done.flags_or),
                withheld=self.done.withheld,
                pulses=tuple(self.pulses),
                ecg=tuple(self.ecg),
                faults=tuple(self.faults),
            )
        # A fault without TRAIN_DONE: report what the summaries show.
        delivered = [p for p in self.pulses if "MISSING" not in p.flags]
        flags: frozenset[str] = frozenset().union(*(p.flags for p in self.pulses))
        return TrainReport(
            train_id=self.train_id,
            n_requested=self.n_requested,
            n_delivered=len(delivered),
            result="FAULT",
            flags=flags,
            withheld=sum(1 for e in self.ecg if e.kind == "WITHHELD"),
            pulses=tuple(self.pulses),
            ecg=tuple(self.ecg),
            faults=tuple(self.faults),
        )


class FirmwareGenerator:
    """A pulse generator running firmware link v1 on a serial port, pty or socket."""

    def __init__(
        self,
        link: FirmwareLink,
        handshake: HelloAck,
        *,
        resource: str,
        charge_timeout_s: float = CHARGE_TIMEOUT_S,
    ) -> None:
        self._link = link
        self._hello = handshake
        self._resource = resource
        self.charge_timeout_s = charge_timeout_s
        self._state: FwState | None = None
        self._state_at = -math.inf
        self._status_seen = 0
        self._view = FwState.IDLE
        self._held: SetParams | None = None
        self._offer_token: int | None = None
        self._token: int | None = None
        self._used_train_ids: set[int] = set()
        self._active: _TrainCollector | None = None
        self._faults: list[GeneratorFault] = []
        self._fire_unclear = False
        self._closed = False

    @classmethod
    def open(
        cls,
        url: str,
        *,
        expected_serial: str | None = None,
        timeout_s: float = OPEN_TIMEOUT_S,
        traffic_log: TrafficLogger | None = None,
        reply_deadline_s: float = REPLY_DEADLINE_S,
        link_timeout_s: float = LINK_TIMEOUT_S,
        charge_timeout_s: float = CHARGE_TIMEOUT_S,
    ) -> FirmwareGenerator:
        """Open the port, shake hands (HELLO with a random nonce) and check who answered.

        Raises LinkLost when nothing answers within `timeout_s`, WrongDevice
        when the serial differs from `expected_serial`, ProtocolViolation on
        a wrong version or impossible limits.
        """
        link = FirmwareLink.open(
            url,
            traffic_log=traffic_log,
            reply_deadline_s=reply_deadline_s,
            link_timeout_s=link_timeout_s,
        )
        try:
            nonce = secrets.randbits(32) or 1
            got = link.hello(nonce, timeout_s)
            hello = got.message
            assert isinstance(hello, HelloAck)
            _check_handshake(hello, url, expected_serial)
        except BaseException:
            link.close()
            raise
        return cls(link, hello, resource=url, charge_timeout_s=charge_timeout_s)

    # -- identity ---------------------------------------------------------

    @property
    def identity(self) -> Identity:
        h = self._hello
        return Identity(
            maker="pulse generator firmware",
            model=f"firmware link v{h.version}",
            serial=h.serial_text,
            firmware=f"{h.fw_major}.{h.fw_minor}.{h.fw_patch}",
            resource=self._resource,
        )

    @property
    def limits(self) -> GeneratorLimits:
        h = self._hello
        return GeneratorLimits(
            v_max_v=h.v_max_mv / 1000,
            i_max_a=h.i_max_ma / 1000,
            max_rate_hz=float(h.max_rate_hz),
            max_count=h.max_count,
            ecg_gate=bool(h.caps & 0x0001),
            waveforms=bool(h.caps & 0x0002),
        )

    @property
    def handshake(self) -> HelloAck:
        """The HELLO_ACK of this session, for the session journal."""
        return self._hello

    @property
    def session(self) -> int:
        return self._hello.session

    def link_stats(self) -> dict[str, int]:
        return self._link.stats()

    def time_fit(self) -> TimeFit | None:
        """The firmware-to-host time fit of this session (§9), for the journal."""
        return self._link.time_fit()

    # -- the role ---------------------------------------------------------

    def configure(self, params: PulseParams) -> PulseParams:
        wire = params_to_wire(params)
        check_limits(params, self.limits)
        self._offer_token = None
        self._token = None
        self._await_discharged()
        ack = self._command(wire, "SET_PARAMS")
        if ack.detail != wire.param_hash:
            self._violation(
                f"SET_PARAMS acknowledged with param_hash {ack.detail:08X}, the host computed "
                f"{wire.param_hash:08X}: the generator holds something else"
            )
        self._held = wire
        return params_from_wire(wire)

    def request_arm(self) -> ArmOffer:
        if self._held is None:
            raise ParamError("request_arm() needs configure() first")
        got = self._request(ArmRequest(self._held.param_hash), "ARM_REQUEST", reply_bytes=40)
        challenge = got.message
        if not isinstance(challenge, ArmChallenge):
            self._violation(f"ARM_REQUEST answered by {_type_name(got)}, expected ARM_CHALLENGE")
        if challenge.param_hash != challenge.params.param_hash:
            self._violation(
                f"ARM_CHALLENGE hash {challenge.param_hash:08X} does not match the parameters "
                f"it carries ({challenge.params.param_hash:08X})"
            )
        if challenge.param_hash != self._held.param_hash:
            self._violation(
                f"ARM_CHALLENGE offers parameters with hash {challenge.param_hash:08X}, "
                f"configured {self._held.param_hash:08X}"
            )
        if challenge.token == 0:
            self._violation("ARM_CHALLENGE carries token 0, which the protocol forbids")
        self._offer_token = challenge.token
        return ArmOffer(
            params=params_from_wire(challenge.params),
            param_hash=challenge.param_hash,
            expires_in_s=challenge.expires_in_ms / 1000,
            token=challenge.token,
        )

    def confirm_arm(self, offer: ArmOffer) -> None:
        if self._offer_token is None or offer.token != self._offer_token:
            raise ParamError("this offer is not the generator's latest; call request_arm() again")
        self._offer_token = None
        ack = self._command(ArmConfirm(offer.token, offer.param_hash), "ARM_CONFIRM")
        self._view = FwState.CHARGING
        if ack.state not in (FwState.CHARGING, FwState.ARMED):
            self._violation(f"ARM_CONFIRM acknowledged in state {_name(FwState, ack.state)}")
        deadline = time.monotonic() + self.charge_timeout_s
        while self._state != FwState.ARMED:
            if self._state == FwState.FAULT:
                self._raise_fault("while charging")
            if self._state in _SAFE:
                self._violation(
                    f"generator went to {_name(FwState, self._state)} while charging, "
                    "without being asked"
                )
            if time.monotonic() > deadline:
                self.abort("host fault")
                raise InstrumentTimeout(
                    f"generator on {self._resource} did not reach ARMED within "
                    f"{self.charge_timeout_s:g} s of ARM_CONFIRM; aborted"
                )
            self._pump(FwState.CHARGING, PUMP_SLICE_S)
        self._token = offer.token
        self._view = FwState.ARMED

    def fire(self, train_id: int) -> None:
        if self._token is None:
            raise Refused(
                "FIRE", "NOT_ARMED", "no live arm token: request_arm() and confirm_arm() first"
            )
        if not 0 < train_id <= 0xFFFF_FFFF or train_id in self._used_train_ids:
            raise ParamError(
                f"train_id {train_id} must be 1 to 4294967295 and not used before in this session"
            )
        # The token dies on FIRE whatever the outcome: a retry needs a new arm cycle.
        token, self._token = self._token, None
        self._used_train_ids.add(train_id)
        assert self._held is not None
        try:
            got = self._link.request(Fire(token, train_id))
        except LinkLost as exc:
            self._fire_unclear = True
            self.abort("link")
            raise LinkLost(
                f"FIRE of train {train_id} has an unknown outcome: {exc}. Read status() "
                "once the link is back and arm again; FIRE is never resent"
            ) from exc
        self._note_state(got)
        reply = got.message
        if got.frame.msg_type == MsgType.NAK:
            assert isinstance(reply, Ack)
            raise Refused("FIRE", _name(Result, reply.result), _state_text(reply.state))
        if got.frame.msg_type != MsgType.ACK or not isinstance(reply, Ack):
            self._violation(f"FIRE answered by {_type_name(got)}, expected ACK")
        if reply.result != Result.IN_PROGRESS or reply.detail != train_id:
            self._violation(
                f"FIRE of train {train_id} acknowledged with result "
                f"{_name(Result, reply.result)} and detail {reply.detail}"
            )
        self._active = _TrainCollector(train_id, self._held.count)
        self._view = FwState.FIRING

    def wait_train(
        self,
        train_id: int,
        timeout_s: float,
        on_pulse: Callable[[PulseTelemetry], None] | None = None,
    ) -> TrainReport:
        active = self._active
        if active is None or active.train_id != train_id:
            raise ParamError(f"train {train_id} was not fired in this session")
        deadline = time.monotonic() + timeout_s
        while True:
            if on_pulse is not None:
                while active.notified < len(active.pulses):
                    active.notified += 1
                    on_pulse(active.pulses[active.notified - 1])
            if active.done is not None:
                break
            now = time.monotonic()
            if self._state == FwState.FAULT and active.fault_at is None:
                active.fault_at = now
            if active.fault_at is not None and now - active.fault_at > FAULT_GRACE_S:
                break
            if now > deadline:
                raise InstrumentTimeout(
                    f"train {train_id} did not finish within {timeout_s:g} s "
                    f"({len(active.pulses)} pulse summaries so far)"
                )
            self._pump(FwState.FIRING, PUMP_SLICE_S)
        self._active = None
        self._view = FwState.FAULT if self._state == FwState.FAULT else FwState.IDLE
        return active.report()

    def service(self, host_view: str) -> None:
        view = _parse_view(host_view)
        self._view = view
        self._pump(view, 0.0)
        if self._state == FwState.FAULT and view != FwState.FAULT:
            self._raise_fault(f"(host expected {view.name})")
        if self._state is not None and self._state not in ALLOWED[view]:
            self._violation(
                f"generator is {self._state.name} while the host expects {view.name}; aborted"
            )

    def status(self) -> GeneratorStatus:
        seen = self._link.status_count
        end = time.monotonic() + STATUS_WAIT_S
        while self._link.status_count == seen and time.monotonic() < end:
            self._pump(self._view, PUMP_SLICE_S)
        latest = self._link.last_status
        if latest is None:
            raise ProtocolViolation(
                f"generator on {self._resource} sent no STATUS (due every 100 ms)"
            )
        self._note_state(latest)
        status = latest.message
        assert isinstance(status, Status)
        return GeneratorStatus(
            state=_name(FwState, status.state),
            hv_bank_v=status.hv_bank_mv / 1000,
            interlocks=status.interlocks,
            faults=frozenset(
                _name(FaultCode, bit) for bit in range(32) if status.faults & (1 << bit)
            ),
            param_hash=status.param_hash,
            link_stats=self._link.stats(),
        )

    def abort(self, reason: str = "operator") -> None:
        self._token = None
        self._offer_token = None
        try:
            code = AbortReason[reason.strip().upper().replace(" ", "_").replace("-", "_")]
        except (KeyError, AttributeError):
            code = AbortReason.HOST_FAULT
        try:
            got = self._link.request(Abort(code), overtake=True)
            self._note_state(got)
        except Exception:
            # Best effort by contract: the firmware disarms on its own when the link is silent.
            pass

    def clear_fault(self, code: str) -> None:
        try:
            fault = FaultCode[code.strip().upper()]
        except KeyError:
            raise ParamError(
                f"unknown fault code {code!r}; known: {', '.join(c.name for c in FaultCode)}"
            ) from None
        self._command(ClearFault(fault), "CLEAR_FAULT")
        self._view = FwState.IDLE

    def train_record(self, train_id: int = 0) -> TrainReport | None:
        """The firmware's record of a train (0 = the last), or None if it has none."""
        got = self._request(GetTrain(train_id), "GET_TRAIN", reply_bytes=24, nak_ok=True)
        reply = got.message
        if got.frame.msg_type == MsgType.NAK:
            assert isinstance(reply, Ack)
            if reply.result == Result.BAD_PARAM:
                return None
            raise Refused("GET_TRAIN", _name(Result, reply.result), _state_text(reply.state))
        if not isinstance(reply, TrainDone):
            self._violation(f"GET_TRAIN answered by {_type_name(got)}, expected TRAIN_DONE")
        if train_id and reply.train_id != train_id:
            self._violation(f"GET_TRAIN {train_id} answered with train {reply.train_id}")
        collector = _TrainCollector(reply.train_id, reply.n_requested, done=reply)
        return collector.report()

    def fetch_wave(
        self, train_id: int, pulse_idx: int, channel: int | str
    ) -> tuple[np.ndarray, float, float]:
        """Samples of one pulse: (int16 codes, dt in s, lsb in V or A per code).

        `channel` is 0 or "voltage", 1 or "current". Read after TRAIN_DONE;
        the firmware keeps them until the next FIRE.
        """
        ch = {"voltage": 0, "current": 1, 0: 0, 1: 1}.get(channel)
        if ch is None:
            raise ParamError(f"channel {channel!r}; accepted: 0 or 'voltage', 1 or 'current'")
        codes: list[int] = []
        total: int | None = None
        dt_ns = lsb = 0
        while total is None or len(codes) < total:
            request = GetWave(train_id, pulse_idx, ch, 0, len(codes), MAX_WAVE_SAMPLES)
            got = self._request(request, "GET_WAVE", reply_bytes=28 + 2 * MAX_WAVE_SAMPLES)
            chunk = got.message
            if not isinstance(chunk, WaveChunk):
                self._violation(f"GET_WAVE answered by {_type_name(got)}, expected WAVE_CHUNK")
            where = (chunk.train_id, chunk.pulse_idx, chunk.channel, chunk.offset)
            if where != (train_id, pulse_idx, ch, len(codes)) or chunk.format != 0:
                self._violation(
                    f"WAVE_CHUNK for train/pulse/channel/offset {where} format {chunk.format}, "
                    f"asked {(train_id, pulse_idx, ch, len(codes))} format 0"
                )
            if total is None:
                total, dt_ns, lsb = chunk.total, chunk.dt_ns, chunk.lsb
                if total > MAX_WAVE_TOTAL:
                    self._violation(f"WAVE_CHUNK announces {total} samples")
            elif (chunk.total, chunk.dt_ns, chunk.lsb) != (total, dt_ns, lsb):
                self._violation("WAVE_CHUNK total, dt or lsb changed between chunks")
            if not chunk.samples and len(codes) < total:
                self._violation(f"empty WAVE_CHUNK at offset {len(codes)} of {total}")
            codes.extend(chunk.samples)
        if len(codes) != total:
            self._violation(f"WAVE_CHUNKs carried {len(codes)} samples, announced {total}")
        return np.asarray(codes, dtype=np.int16), dt_ns * 1e-9, lsb * 1e-6

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            if self._hv_may_be_live():
                self.abort("exit")
        finally:
            self._link.close()

    def __enter__(self) -> FirmwareGenerator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- internals --------------------------------------------------------

    def _await_discharged(self) -> None:
        """Let the bank of a finished train discharge (DONE -> IDLE) before a new command.

        With no train running, FIRING is a state the host has not yet heard
        the firmware leave. Waiting longer than the firmware's own discharge
        limit is pointless: the command then goes out and its refusal is reported.
        """
        deadline = time.monotonic() + DISCHARGE_WAIT_S
        while (
            self._active is None
            and self._state in (FwState.FIRING, FwState.DONE)
            and time.monotonic() < deadline
        ):
            self._pump(FwState.DONE, PUMP_SLICE_S)

    def _hv_may_be_live(self) -> bool:
        return (
            self._state is None
            or self._state in _HV_MAYBE_LIVE
            or self._fire_unclear
            or self._link.lost
            or self._token is not None
        )

    def _request(
        self, message: Message, command: str, *, reply_bytes: int = 64, nak_ok: bool = False
    ) -> Received:
        try:
            got = self._link.request(message, reply_bytes=reply_bytes)
        except LinkLost:
            self.abort("link")
            raise
        self._note_state(got)
        if got.frame.msg_type == MsgType.NAK and not nak_ok:
            reply = got.message
            assert isinstance(reply, Ack)
            raise Refused(command, _name(Result, reply.result), _state_text(reply.state))
        return got

    def _command(self, message: Message, command: str) -> Ack:
        got = self._request(message, command)
        reply = got.message
        if got.frame.msg_type != MsgType.ACK or not isinstance(reply, Ack):
            self._violation(f"{command} answered by {_type_name(got)}, expected ACK")
        if reply.result != Result.OK:
            self._violation(f"{command} acknowledged with result {_name(Result, reply.result)}")
        return reply

    def _pump(self, view: FwState, wait_s: float) -> None:
        """Heartbeat if due, then handle every queued event (waiting up to `wait_s`)."""
        heartbeat_view = self._state if self._state in ALLOWED[view] else view
        try:
            self._link.service(heartbeat_view or view)
        except LinkLost:
            self.abort("link")
            raise
        got = self._link.next_event(wait_s)
        while got is not None:
            self._handle(got)
            got = self._link.next_event(0.0)
        latest = self._link.last_status
        if latest is not None and self._link.status_count != self._status_seen:
            self._status_seen = self._link.status_count
            self._note_state(latest)

    def _handle(self, got: Received) -> None:
        message = got.message
        active = self._active
        if isinstance(message, FaultReport):
            fault = generator_fault(message)
            self._faults.append(fault)
            self._state, self._state_at = FwState.FAULT, got.host_time_s
            if active is not None:
                active.faults.append(fault)
                active.fault_at = active.fault_at or time.monotonic()
            return
        if isinstance(message, PulseSummary | EcgEvent | TrainDone):
            if active is None or message.train_id != active.train_id:
                expected = "no train" if active is None else f"train {active.train_id}"
                self._violation(
                    f"{_type_name(got)} for train {message.train_id} while {expected} is running"
                )
            if isinstance(message, PulseSummary):
                active.pulses.append(telemetry(message))
            elif isinstance(message, EcgEvent):
                active.ecg.append(ecg_report(message))
            else:
                active.done = message
            return
        self._violation(f"unexpected {_type_name(got)} from the generator")

    def _note_state(self, got: Received) -> None:
        message = got.message
        if isinstance(message, Ack | Status) and got.host_time_s >= self._state_at:
            try:
                self._state = FwState(message.state)
            except ValueError:
                self._violation(f"generator reports unknown state {message.state}")
            self._state_at = got.host_time_s

    def _raise_fault(self, when: str) -> None:
        fault = self._faults[-1] if self._faults else None
        text = f"generator on {self._resource} is in FAULT {when}"
        if fault is not None:
            text += f": {fault.code} (hv {fault.hv_v:g} V); an operator must clear it"
        raise FaultReported(text, fault)

    def _violation(self, text: str) -> NoReturn:
        # §11.3: a state or event the host does not expect is a fault, never resynced.
        self.abort("host fault")
        raise ProtocolViolation(f"{text} (generator on {self._resource})")


def _check_handshake(hello: HelloAck, url: str, expected_serial: str | None) -> None:
    if hello.version != PROTOCOL_VERSION:
        raise ProtocolViolation(
            f"generator on {url} speaks firmware link v{hello.version}; "
            f"this host speaks v{PROTOCOL_VERSION}"
        )
    if hello.session == 0:
        raise ProtocolViolation(f"generator on {url} opened session 0, which the protocol forbids")
    if expected_serial is not None and hello.serial_text != expected_serial:
        raise WrongDevice(
            f"generator on {url} has serial {hello.serial_text!r}, the configuration names "
            f"{expected_serial!r}; check the port or the rig file"
        )
    if min(hello.v_max_mv, hello.i_max_ma, hello.max_rate_hz, hello.max_count) == 0:
        raise ProtocolViolation(
            f"generator on {url} reports a zero limit (v_max {hello.v_max_mv} mV, i_max "
            f"{hello.i_max_ma} mA, max_rate {hello.max_rate_hz} Hz, max_count {hello.max_count})"
        )


def _parse_view(host_view: str) -> FwState:
    try:
        return HOST_VIEWS[host_view.strip().upper()]
    except (KeyError, AttributeError):
        raise ValueError(f"host view {host_view!r}; accepted: {', '.join(HOST_VIEWS)}") from None


def _type_name(got: Received) -> str:
    try:
        return MsgType(got.frame.msg_type).name
    except ValueError:
        return f"type 0x{got.frame.msg_type:02X}"


def _state_text(state: int) -> str:
    return f"generator state {_name(FwState, state)}"
