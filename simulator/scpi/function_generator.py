"""A Keysight 33500-series function generator driving a high-voltage amplifier.

The generator holds its levels as the open-circuit voltage it actually makes
(the EMF behind its 50 Ω output); `OUTP:LOAD` only changes how levels are
entered and read back. At the default 50 Ω setting the instrument doubles the
EMF to put the programmed level across a 50 Ω load, so a high-impedance
amplifier input sees twice the programmed level: the documented pitfall, and
the reason a host sets `OUTP:LOAD INF` before any level.

A trigger with the output on and a triggered pulse burst configured asks the
load model for a train (amplitude = level at the amplifier input × gain,
clamped by the amplifier's maximum) and publishes what was delivered.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from simulator.scpi.commands import Call, Command, action, setting
from simulator.scpi.error_queue import ScpiError
from simulator.scpi.instrument import ScpiInstrument
from simulator.scpi.parameters import Choice, Flag, Number
from simulator.train import DeliveredTrain, TrainRequest

DEFAULT_IDENTITY = "Keysight Technologies,33521B,SIM0000001,4.03-1.19-2.00-58-00"
SOURCE_OHM = 50.0
EMF_MAX_V = 10.0  # 20 Vpp open circuit
MIN_SPAN_EMF_V = 2e-3  # 1 mVpp into 50 Ω
MIN_GAP_S = 16e-9  # pulse width must leave this much of the period
EDGE_SHARE = 0.625  # edge time at most 0.625 × width
_FMT = "{:+.15E}"


@dataclass(frozen=True)
class GeneratorState:
    """A snapshot of the generator, levels as the amplifier input sees them."""

    function: str
    output_on: bool
    load_ohm: float  # math.inf for OUTP:LOAD INF
    width_s: float
    period_s: float
    edge_s: float
    high_v: float  # at a high-impedance input
    low_v: float
    limit_on: bool
    burst_on: bool
    burst_mode: str
    burst_cycles: int
    trigger_source: str
    trigger_delay_s: float
    sync_on: bool


class SimulatedFunctionGenerator(ScpiInstrument):
    """A 33500B in pulse-burst mode feeding an HV amplifier (gain, current and voltage caps)."""

    def __init__(
        self,
        deliver: Callable[[TrainRequest], DeliveredTrain],
        publish: Callable[[DeliveredTrain], None],
        amplifier_gain: float = 300.0,
        amplifier_i_max_a: float = 50.0,
        v_max_v: float = 3000.0,
        identity: str = DEFAULT_IDENTITY,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        for label, value in (
            ("amplifier_gain", amplifier_gain),
            ("amplifier_i_max_a", amplifier_i_max_a),
            ("v_max_v", v_max_v),
        ):
            if not (value > 0 and math.isfinite(value)):
                raise ValueError(
                    f"function generator: {label} must be a positive number, got {value}"
                )
        self._deliver = deliver
        self._publish = publish
        self.amplifier_gain = amplifier_gain
        self.amplifier_i_max_a = amplifier_i_max_a
        self.v_max_v = v_max_v
        self._clock = clock
        self._requests: list[TrainRequest] = []
        self._last_train: DeliveredTrain | None = None
        super().__init__(identity)
        self.reset()

    # -- state for tests and the rig ------------------------------------------

    @property
    def state(self) -> GeneratorState:
        with self._lock:
            return GeneratorState(
                function=self._function,
                output_on=self._output,
                load_ohm=self._load,
                width_s=self._width,
                period_s=self._period,
                edge_s=self._edge,
                high_v=self._high_emf,
                low_v=self._low_emf,
                limit_on=self._limit_on,
                burst_on=self._burst_on,
                burst_mode=self._burst_mode,
                burst_cycles=self._cycles,
                trigger_source=self._trigger_source,
                trigger_delay_s=self._delay,
                sync_on=self._sync,
            )

    @property
    def output_on(self) -> bool:
        return self.state.output_on

    @property
    def requests(self) -> tuple[TrainRequest, ...]:
        """Every train asked of the load model, oldest first."""
        with self._lock:
            return tuple(self._requests)

    @property
    def last_train(self) -> DeliveredTrain | None:
        with self._lock:
            return self._last_train

    def fire_external(self) -> DeliveredTrain | None:
        """An edge on the rear-panel trigger input (the generator firmware's FIRE line).

        Fires a burst when the trigger source is EXT; otherwise the edge is ignored.
        """
        with self._lock:
            if self._trigger_source != "EXT":
                return None
            return self._burst()

    # -- *RST and *TRG --------------------------------------------------------

    def reset(self) -> None:
        with self._lock:
            self._function = "SIN"
            self._output = False
            self._load = SOURCE_OHM
            self._period = 1e-3
            self._width = 100e-6
            self._edge = 10e-9
            self._hold = "WIDT"
            self._high_emf = 0.1  # 100 mVpp into 50 Ω, no offset
            self._low_emf = -0.1
            self._limit_on = False
            self._limit_high_emf = EMF_MAX_V
            self._limit_low_emf = -EMF_MAX_V
            self._burst_on = False
            self._burst_mode = "TRIG"
            self._cycles = 1
            self._burst_period = 10e-3
            self._trigger_source = "IMM"
            self._trigger_slope = "POS"
            self._delay = 0.0
            self._sync = False
            self._sync_slope = "POS"

    def trigger(self) -> None:
        if self._trigger_source != "BUS":
            raise ScpiError(-211, f"*TRG needs TRIG:SOUR BUS; the source is {self._trigger_source}")
        self._burst()

    # -- command table ---------------------------------------------------------

    def commands(self) -> list[Command]:
        src = "[SOURce<1-1>:]"
        volts = Number(
            lambda c: -self._shown(EMF_MAX_V), lambda c: self._shown(EMF_MAX_V), unit="V", fmt=_FMT
        )

        def seconds(low: float, high: float) -> Number:
            return Number(low, high, unit="S", fmt=_FMT)

        return [
            setting(
                src + "FUNCtion",
                Choice(
                    (
                        "SINusoid",
                        "SQUare",
                        "TRIangle",
                        "RAMP",
                        "PULSe",
                        "PRBS",
                        "NOISe",
                        "ARB",
                        "DC",
                    )
                ),
                lambda c: self._function,
                self._set_function,
            ),
            setting(
                src + "FUNCtion:PULSe:WIDTh",
                seconds(16e-9, 1e6),
                lambda c: self._width,
                self._set_width,
            ),
            setting(
                src + "FUNCtion:PULSe:PERiod",
                seconds(33e-9, 1e6),
                lambda c: self._period,
                lambda c, v: self._set_period(v),
            ),
            setting(
                src + "FREQuency",
                Number(1e-6, 30e6, unit="HZ", fmt=_FMT),
                lambda c: 1.0 / self._period,
                lambda c, v: self._set_period(1.0 / v),
            ),
            setting(
                src + "FUNCtion:PULSe:TRANsition[:BOTH]",
                seconds(8.4e-9, 1e-6),
                lambda c: self._edge,
                self._set_edge,
            ),
            setting(
                src + "FUNCtion:PULSe:HOLD",
                Choice(("WIDTh", "DCYCle")),
                lambda c: self._hold,
                lambda c, v: setattr(self, "_hold", v),
            ),
            setting(
                src + "VOLTage:HIGH",
                volts,
                lambda c: self._shown(self._high_emf),
                self._set_high,
            ),
            setting(
                src + "VOLTage:LOW",
                volts,
                lambda c: self._shown(self._low_emf),
                self._set_low,
            ),
            setting(
                src + "VOLTage[:AMPLitude]",
                Number(
                    lambda c: self._shown(MIN_SPAN_EMF_V),
                    lambda c: self._shown(2 * EMF_MAX_V),
                    unit="V",
                    fmt=_FMT,
                ),
                lambda c: self._shown(self._high_emf - self._low_emf),
                self._set_amplitude,
            ),
            setting(
                src + "VOLTage:OFFSet",
                volts,
                lambda c: self._shown((self._high_emf + self._low_emf) / 2),
                self._set_offset,
            ),
            setting(
                src + "VOLTage:LIMit:HIGH",
                volts,
                lambda c: self._shown(self._limit_high_emf),
                self._set_limit_high,
            ),
            setting(
                src + "VOLTage:LIMit:LOW",
                volts,
                lambda c: self._shown(self._limit_low_emf),
                self._set_limit_low,
            ),
            setting(
                src + "VOLTage:LIMit:STATe", Flag(), lambda c: self._limit_on, self._set_limit_on
            ),
            setting(
                src + "BURSt:MODE",
                Choice(("TRIGgered", "GATed")),
                lambda c: self._burst_mode,
                lambda c, v: setattr(self, "_burst_mode", v),
            ),
            setting(
                src + "BURSt:NCYCles",
                Number(1, 1e8, integer=True, fmt=_FMT),
                lambda c: self._cycles,
                lambda c, v: setattr(self, "_cycles", int(v)),
            ),
            setting(
                src + "BURSt:STATe",
                Flag(),
                lambda c: self._burst_on,
                lambda c, v: setattr(self, "_burst_on", v),
            ),
            setting(
                src + "BURSt:INTernal:PERiod",
                seconds(1e-6, 8000),
                lambda c: self._burst_period,
                lambda c, v: setattr(self, "_burst_period", v),
            ),
            setting(
                "TRIGger<1-1>:SOURce",
                Choice(("IMMediate", "EXTernal", "TIMer", "BUS")),
                lambda c: self._trigger_source,
                lambda c, v: setattr(self, "_trigger_source", v),
            ),
            setting(
                "TRIGger<1-1>:SLOPe",
                Choice(("POSitive", "NEGative")),
                lambda c: self._trigger_slope,
                lambda c, v: setattr(self, "_trigger_slope", v),
            ),
            setting(
                "TRIGger<1-1>:DELay",
                seconds(0, 1000),
                lambda c: self._delay,
                lambda c, v: setattr(self, "_delay", v),
            ),
            action("TRIGger<1-1>[:IMMediate]", self._force_trigger),
            setting(
                "OUTPut<1-1>[:STATe]",
                Flag(),
                lambda c: self._output,
                lambda c, v: setattr(self, "_output", v),
            ),
            setting(
                "OUTPut<1-1>:LOAD",
                Number(
                    1,
                    10e3,
                    unit="OHM",
                    default=SOURCE_OHM,
                    specials={"INFinity": math.inf},
                    fmt=_FMT,
                ),
                lambda c: self._load,
                lambda c, v: setattr(self, "_load", v),
            ),
            setting(
                "OUTPut:TRIGger[:STATe]",
                Flag(),
                lambda c: self._sync,
                lambda c, v: setattr(self, "_sync", v),
            ),
            setting(
                "OUTPut:TRIGger:SLOPe",
                Choice(("POSitive", "NEGative")),
                lambda c: self._sync_slope,
                lambda c, v: setattr(self, "_sync_slope", v),
            ),
        ]

    # -- levels -----------------------------------------------------------------

    def _shown(self, emf: float) -> float:
        """The level as entered and read back under the present OUTP:LOAD setting."""
        return emf if math.isinf(self._load) else emf * self._load / (self._load + SOURCE_OHM)

    def _emf(self, shown: float) -> float:
        return shown if math.isinf(self._load) else shown * (self._load + SOURCE_OHM) / self._load

    def _clip_to_limits(self, emf: float, what: str) -> float:
        if not self._limit_on:
            return emf
        clipped = min(max(emf, self._limit_low_emf), self._limit_high_emf)
        if clipped != emf:
            self.push_error(ScpiError(-221, f"{what} clipped to the VOLT:LIM range"))
        return clipped

    def _set_levels(self, high_emf: float, low_emf: float, what: str) -> None:
        high_emf = self._clip_to_limits(high_emf, what)
        low_emf = self._clip_to_limits(low_emf, what)
        if high_emf - low_emf < MIN_SPAN_EMF_V:
            raise ScpiError(-221, f"{what}: VOLT:HIGH must stay above VOLT:LOW")
        if max(abs(high_emf), abs(low_emf)) > EMF_MAX_V:
            raise ScpiError(-222, f"{what}: level beyond the ±{self._shown(EMF_MAX_V):g} V range")
        self._high_emf, self._low_emf = high_emf, low_emf

    def _set_high(self, call: Call, value: float) -> None:
        self._set_levels(self._emf(value), self._low_emf, call.header)

    def _set_low(self, call: Call, value: float) -> None:
        self._set_levels(self._high_emf, self._emf(value), call.header)

    def _set_amplitude(self, call: Call, value: float) -> None:
        middle = (self._high_emf + self._low_emf) / 2
        half = self._emf(value) / 2
        self._set_levels(middle + half, middle - half, call.header)

    def _set_offset(self, call: Call, value: float) -> None:
        half = (self._high_emf - self._low_emf) / 2
        middle = self._emf(value)
        self._set_levels(middle + half, middle - half, call.header)

    def _set_limit_high(self, call: Call, value: float) -> None:
        if self._emf(value) <= self._limit_low_emf:
            raise ScpiError(-221, f"{call.header} must stay above VOLT:LIM:LOW")
        self._limit_high_emf = self._emf(value)

    def _set_limit_low(self, call: Call, value: float) -> None:
        if self._emf(value) >= self._limit_high_emf:
            raise ScpiError(-221, f"{call.header} must stay below VOLT:LIM:HIGH")
        self._limit_low_emf = self._emf(value)

    def _set_limit_on(self, call: Call, on: bool) -> None:
        self._limit_on = on
        if on:
            self._set_levels(self._high_emf, self._low_emf, call.header)

    # -- pulse timing ---------------------------------------------------------------

    def _set_function(self, call: Call, value: str) -> None:
        self._function = value

    def _set_width(self, call: Call, value: float) -> None:
        if value > self._period - MIN_GAP_S:
            raise ScpiError(
                -221, f"{call.header} {value:g} s does not fit the {self._period:g} s period"
            )
        if self._edge > EDGE_SHARE * value:
            raise ScpiError(
                -221, f"{call.header} {value:g} s is too short for {self._edge:g} s edges"
            )
        self._width = value

    def _set_period(self, value: float) -> None:
        width = self._width * value / self._period if self._hold == "DCYC" else self._width
        if width > value - MIN_GAP_S:
            raise ScpiError(-221, f"period {value:g} s is shorter than the {width:g} s pulse width")
        self._period, self._width = value, width

    def _set_edge(self, call: Call, value: float) -> None:
        if value > EDGE_SHARE * self._width:
            raise ScpiError(
                -221, f"{call.header} {value:g} s is too slow for a {self._width:g} s pulse"
            )
        self._edge = value

    # -- bursts -----------------------------------------------------------------

    def _force_trigger(self) -> None:
        self._burst()

    def _burst(self) -> DeliveredTrain | None:
        if not (self._burst_on and self._burst_mode == "TRIG"):
            raise ScpiError(-211, "trigger ignored: BURS:STAT ON and BURS:MODE TRIG are needed")
        if self._function != "PULS":
            raise ScpiError(-221, "the HV amplifier model takes pulse bursts only; set FUNC PULS")
        if not self._output:
            return None
        # The amplifier is unipolar: only the part of the level above 0 V is amplified.
        amplitude = min(max(self._high_emf, 0.0) * self.amplifier_gain, self.v_max_v)
        request = TrainRequest(
            amplitude_v=amplitude,
            width_s=self._width,
            count=self._cycles,
            period_s=self._period,
            i_limit_a=self.amplifier_i_max_a,
            start_s=self._clock() + self._delay,
        )
        self._requests.append(request)
        train = self._deliver(request)
        self._last_train = train
        self._publish(train)
        return train
