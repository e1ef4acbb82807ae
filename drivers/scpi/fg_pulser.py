"""A function generator driving an HV amplifier, presented as a `PulseGenerator`.

This rig is for bench work. It has no firmware and therefore **no hardware
arming**: the arm token is made and checked here in the host, single-use and
bound to a hash of the settings read back from the generator. Nothing in the
amplifier refuses to pulse without it. No electrode switch either:
`electrode_a`, `electrode_b` and `polarity` are carried through as recorded,
and the leads are wired by hand.

Clinically the burst is started by the firmware FIRE line on the generator's
external trigger input (`trigger_source="EXT"`), so the host cannot fire
alone; `fire()` then refuses. `BUS` (`*TRG` from the host) is for the
simulator and HV-free benches only.
"""

from __future__ import annotations

import dataclasses
import math
import secrets
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass

from drivers.errors import InstrumentError, Refused
from drivers.scpi.keysight33500 import BURST_COUNT_MAX, LEVEL_MAX_V, Keysight33500
from drivers.values import (
    ArmOffer,
    GeneratorLimits,
    GeneratorStatus,
    Identity,
    PulseParams,
    PulseTelemetry,
    TrainReport,
)

ARM_OFFER_LIFETIME_S = 15.0  # as the firmware's arm token
_LEVEL_TOLERANCE_V = 1e-3  # read-back level may differ from the request by the FG's resolution


@dataclass(frozen=True)
class Amplifier:
    """The HV amplifier after the generator, as its maker rates it."""

    gain: float  # V out per V in
    v_max_v: float
    i_max_a: float
    max_rate_hz: float
    model: str = ""

    def __post_init__(self) -> None:
        for name in ("gain", "v_max_v", "i_max_a", "max_rate_hz"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"amplifier {name} must be a positive number, not {value!r}")

    @property
    def input_clamp_v(self) -> float:
        """The generator level that gives V_max at the amplifier output."""
        return self.v_max_v / self.gain


@dataclass(frozen=True)
class _HeldSettings:
    """The generator settings that decide what reaches the load, as read back."""

    function: str
    high_v: float
    low_v: float
    width_s: float
    period_s: float
    count: int
    burst: bool
    burst_mode: str
    trigger_source: str
    load_ohm: float
    clamp_high_v: float
    clamp_enabled: bool

    @property
    def hash(self) -> int:
        text = ";".join(f"{f.name}={getattr(self, f.name)!r}" for f in dataclasses.fields(self))
        return zlib.crc32(text.encode())


@dataclass(frozen=True)
class _PendingArm:
    token: int
    param_hash: int
    deadline: float


@dataclass(frozen=True)
class _Firing:
    train_id: int
    count: int
    duration_s: float
    fired_at: float


class FunctionGeneratorPulser:
    """`drivers.roles.PulseGenerator` for a Keysight 33500 + HV amplifier rig."""

    def __init__(
        self,
        generator: Keysight33500,
        amplifier: Amplifier,
        *,
        trigger_source: str = "EXT",
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if trigger_source not in ("EXT", "BUS"):
            raise ValueError(f"trigger_source must be EXT or BUS, not {trigger_source!r}")
        self._fg = generator
        self._amp = amplifier
        self._trigger_source = trigger_source
        self._clock = clock
        self._sleep = sleep
        self._held: PulseParams | None = None
        self._held_hash = 0
        self._pending: _PendingArm | None = None
        self._armed = False
        self._firing: _Firing | None = None
        # The generator's level range caps what the rig can make, whatever the amplifier.
        self._clamp_v = min(amplifier.input_clamp_v, LEVEL_MAX_V)
        self._v_max_v = self._clamp_v * amplifier.gain

    @property
    def generator(self) -> Keysight33500:
        return self._fg

    @property
    def identity(self) -> Identity:
        return self._fg.identity

    @property
    def limits(self) -> GeneratorLimits:
        """The amplifier's ratings, and no more than the generator's 10 V times the gain."""
        return GeneratorLimits(
            v_max_v=self._v_max_v,
            i_max_a=self._amp.i_max_a,
            max_rate_hz=self._amp.max_rate_hz,
            max_count=BURST_COUNT_MAX,
        )

    def configure(self, params: PulseParams) -> PulseParams:
        """Program the burst with the output off; return the parameters read back."""
        self._check_deliverable(params)
        self._disarm()
        self._held = None
        try:
            return self._program(params)
        except BaseException:
            self._fg.output_off()
            raise

    def request_arm(self) -> ArmOffer:
        """Offer the parameters read back from the generator, with a host-side token."""
        held = self._require_held("ARM_REQUEST")
        self._disarm()
        current = self._read_back().hash
        if current != self._held_hash:
            raise Refused(
                "ARM_REQUEST",
                "HASH_MISMATCH",
                "the generator settings changed since configure; configure again",
            )
        token = secrets.randbits(32) or 1
        self._pending = _PendingArm(token, current, self._clock() + ARM_OFFER_LIFETIME_S)
        return ArmOffer(
            params=held,
            param_hash=current,
            expires_in_s=ARM_OFFER_LIFETIME_S,
            token=token,
        )

    def confirm_arm(self, offer: ArmOffer) -> None:
        """Check the offer (single use, unexpired, settings unchanged), then output ON."""
        pending, self._pending = self._pending, None
        if pending is None or offer.token != pending.token:
            raise Refused("ARM_CONFIRM", "TOKEN_INVALID", "request a new arm offer")
        if self._clock() > pending.deadline:
            raise Refused("ARM_CONFIRM", "TOKEN_EXPIRED", "request a new arm offer")
        if offer.param_hash != pending.param_hash or self._read_back().hash != pending.param_hash:
            raise Refused(
                "ARM_CONFIRM", "HASH_MISMATCH", "the generator settings changed since the offer"
            )
        try:
            with self._fg.configuring("output on"):
                self._fg.output = True
        except BaseException:
            self._fg.output_off()
            raise
        self._armed = True

    def fire(self, train_id: int) -> None:
        """Start the burst with `*TRG`; refused unless armed with trigger source BUS."""
        held = self._require_held("FIRE")
        if not self._armed:
            raise Refused("FIRE", "BAD_STATE", "arm first (request_arm, then confirm_arm)")
        source = self._fg.trigger_source
        if source != "BUS":
            raise Refused(
                "FIRE",
                "UNSUPPORTED",
                f"trigger source is {source}: the burst starts from the generator's trigger "
                "input (the firmware FIRE line), not from this host",
            )
        self._armed = False  # one burst per confirmation
        self._fg.trigger()
        self._firing = _Firing(
            train_id, held.count, held.count * held.period_us * 1e-6, self._clock()
        )

    def wait_train(
        self,
        train_id: int,
        timeout_s: float,
        on_pulse: Callable[[PulseTelemetry], None] | None = None,
    ) -> TrainReport:
        """Wait out the burst and `*OPC?`, then output OFF.

        The generator measures nothing, so the report has no per-pulse
        telemetry (`pulses=()`) and `on_pulse` is never called; the scope
        is what shows whether each pulse arrived.
        """
        firing, self._firing = self._firing, None
        try:
            if firing is None or firing.train_id != train_id:
                raise Refused("WAIT_TRAIN", "BAD_STATE", f"train {train_id} was not fired")
            remaining = firing.fired_at + firing.duration_s - self._clock()
            if remaining > 0:
                self._sleep(min(remaining, timeout_s))
            left = timeout_s - (self._clock() - firing.fired_at)
            with self._fg.timeout(max(left, 0.1)):
                self._fg.check_errors(f"train {train_id}")
        finally:
            self._fg.output_off()
        return TrainReport(
            train_id=train_id,
            n_requested=firing.count,
            n_delivered=firing.count,
            result="COMPLETE",
            flags=frozenset(),
            withheld=0,
            pulses=(),
        )

    def service(self, host_view: str) -> None:
        """No heartbeat exists on this rig; check that the generator still answers."""
        self._fg.opc()

    def status(self) -> GeneratorStatus:
        if self._firing is not None:
            state = "FIRING"
        elif self._armed:
            state = "ARMED"
        else:
            state = "IDLE"
        return GeneratorStatus(
            state=state,
            hv_bank_v=0.0,  # no bank: the amplifier follows the generator level
            interlocks=0,
            faults=frozenset(),
            param_hash=self._held_hash,
        )

    def abort(self, reason: str = "operator") -> None:
        """Output OFF now and forget any arming. Never raises."""
        self._disarm()
        self._firing = None
        self._fg.output_off()

    def clear_fault(self, code: str) -> None:
        """Nothing latches in this rig; clears the generator's error queue (`*CLS`)."""
        self._fg.write("*CLS")

    def close(self) -> None:
        """Output OFF, then release the generator."""
        try:
            self.abort("exit")
        finally:
            self._fg.close()

    def snapshot(self) -> dict[str, object]:
        """Generator settings and amplifier rating, for the session journal."""
        return {
            "function_generator": self._fg.snapshot(),
            "amplifier": dataclasses.asdict(self._amp),
            "trigger_source": self._trigger_source,
            "hardware_arming": False,
        }

    # ---- internals -----------------------------------------------------------------------

    def _program(self, params: PulseParams) -> PulseParams:
        level_v = params.amplitude_v / self._amp.gain
        fg = self._fg
        with fg.configuring("the pulse set-up"):
            fg.reset()  # output off, and OUTP:LOAD INF before any level
            fg.function = "PULS"
            fg.pulse_hold = "WIDT"
            fg.pulse_period = params.period_us * 1e-6
            fg.pulse_width = params.width_us * 1e-6
            fg.voltage_low = 0.0
            fg.voltage_high = level_v
            fg.voltage_limit_high = self._clamp_v
            fg.voltage_limit_low = 0.0
            fg.voltage_limit_enabled = True
            fg.burst_mode = "TRIG"
            fg.burst_count = params.count
            fg.trigger_source = self._trigger_source
            fg.trigger_slope = "POS"
            fg.trigger_delay = 0.0
            fg.burst_enabled = True
            fg.sync_output = True
            fg.sync_slope = "POS"
        held = self._read_back()
        problems = []
        if not math.isinf(held.load_ohm):
            problems.append(f"OUTP:LOAD reads {held.load_ohm:g} Ω instead of INF")
        if abs(held.high_v - level_v) > _LEVEL_TOLERANCE_V:
            problems.append(f"VOLT:HIGH reads {held.high_v:g} V instead of {level_v:g} V")
        if held.high_v > self._clamp_v + _LEVEL_TOLERANCE_V:
            problems.append(f"VOLT:HIGH {held.high_v:g} V is above the clamp")
        if abs(held.low_v) > _LEVEL_TOLERANCE_V:
            problems.append(f"VOLT:LOW reads {held.low_v:g} V instead of 0")
        if held.trigger_source != self._trigger_source:
            problems.append(f"TRIG:SOUR reads {held.trigger_source} not {self._trigger_source}")
        if held.count != params.count or not (held.burst and held.burst_mode == "TRIG"):
            problems.append(f"burst reads {held.count} pulses, state {held.burst}")
        if problems:
            raise InstrumentError(f"{fg.label} does not hold the requested pulse", tuple(problems))
        # Rounded to 1 µV and 1 ps: finer digits are float noise of the unit conversion.
        self._held = dataclasses.replace(
            params,
            amplitude_v=round(held.high_v * self._amp.gain, 6),
            width_us=round(held.width_s * 1e6, 6),
            period_us=round(held.period_s * 1e6, 6),
            count=held.count,
        )
        self._held_hash = held.hash
        return self._held

    def _check_deliverable(self, params: PulseParams) -> None:
        amp = self._amp
        why = []
        if params.ecg_gated:
            raise Refused("SET_PARAMS", "UNSUPPORTED", "this rig has no ECG gate")
        if not 0 < params.amplitude_v <= self._v_max_v:
            why.append(f"amplitude {params.amplitude_v:g} V outside 0 to {self._v_max_v:g} V")
        if not 0 < params.width_us < params.period_us:
            why.append(f"width {params.width_us:g} µs must be below period {params.period_us:g}")
        if params.period_us > 0 and 1e6 / params.period_us > amp.max_rate_hz:
            why.append(f"rate {1e6 / params.period_us:g} Hz above {amp.max_rate_hz:g} Hz")
        if not 1 <= params.count <= BURST_COUNT_MAX:
            why.append(f"count {params.count} outside 1 to {BURST_COUNT_MAX}")
        if why:
            raise Refused("SET_PARAMS", "OUT_OF_LIMITS", "; ".join(why))

    def _read_back(self) -> _HeldSettings:
        fg = self._fg
        return _HeldSettings(
            function=fg.function,
            high_v=fg.voltage_high,
            low_v=fg.voltage_low,
            width_s=fg.pulse_width,
            period_s=fg.pulse_period,
            count=fg.burst_count,
            burst=fg.burst_enabled,
            burst_mode=fg.burst_mode,
            trigger_source=fg.trigger_source,
            load_ohm=fg.output_load,
            clamp_high_v=fg.voltage_limit_high,
            clamp_enabled=fg.voltage_limit_enabled,
        )

    def _require_held(self, command: str) -> PulseParams:
        if self._held is None:
            raise Refused(command, "BAD_STATE", "configure the pulse first")
        return self._held

    def _disarm(self) -> None:
        self._pending = None
        self._armed = False
