"""A simulated digitising oscilloscope watching the load, in a Keysight or Rigol dialect.

The scope listens to every delivered train (`on_train`). It asks the
measurement chain for the volts at its inputs, lets each pulse row trigger as
the edge trigger dictates, and keeps the captures with the settings in force.
The dialect (keysight_scope, rigol_scope) supplies the command table, the
record geometry and the code scale; the acquisition model is shared.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from simulator.faults import Fault, find
from simulator.scpi.acquisition import Acquisition, EdgeTrigger, trigger_instant
from simulator.scpi.blocks import definite_block, short_block
from simulator.scpi.commands import Call, Command, setting
from simulator.scpi.digitiser import ChannelSettings, Record, Segment
from simulator.scpi.error_queue import ScpiError
from simulator.scpi.instrument import ScpiInstrument, WithheldReply
from simulator.scpi.parameters import Choice, Flag, Number
from simulator.train import DeliveredTrain

if TYPE_CHECKING:
    from simulator.model import MeasurementChain


class Measure(Protocol):
    """The measurement chain's `measure`: volts at the two inputs, (pulses, samples) each.

    `full_scale_v` is each input's vertical full scale in input volts, which
    sets the noise level.
    """

    def __call__(
        self,
        train: DeliveredTrain,
        chain: Any,
        rng: np.random.Generator,
        full_scale_v: tuple[float, float] | None = None,
    ) -> tuple[np.ndarray, np.ndarray]: ...


# Without a measurement chain the inputs see the load through ideal probes:
# a 1000:1 HV probe and a 0.1 V/A current monitor, no noise, no bandwidth limit.
IDEAL_VOLTAGE_PROBE_V_PER_V = 1e-3
IDEAL_CURRENT_PROBE_V_PER_A = 0.1
CHANNELS = (1, 2, 3, 4)
DEFAULT_CLIP_FRACTION = 0.8


class ScopeDialect(Protocol):
    """What differs between vendors: commands, identity, record grid."""

    name: str
    identity: str
    error_capacity: int

    def reset(self, scope: SimulatedScope) -> None: ...

    def commands(self, scope: SimulatedScope) -> list[Command]: ...

    def record(self, scope: SimulatedScope) -> Record: ...


def ideal_inputs(train: DeliveredTrain) -> tuple[np.ndarray, np.ndarray]:
    return (
        train.voltage_v * IDEAL_VOLTAGE_PROBE_V_PER_V,
        train.current_a * IDEAL_CURRENT_PROBE_V_PER_A,
    )


def _dialects() -> Mapping[str, Callable[[], ScopeDialect]]:
    from simulator.scpi.keysight_scope import KeysightDialect
    from simulator.scpi.rigol_scope import RigolDialect

    return {"keysight": KeysightDialect, "rigol": RigolDialect}


class SimulatedScope(ScpiInstrument):
    """A four-channel scope; `wiring` names the channels fed by (voltage, current).

    Faults: `scope-timeout@N` withholds the reply to the N-th `:WAV:DATA?` after
    arming, `scope-truncated@N` sends that block short; each fires once.
    `clip[:fraction=F]` makes every sample beyond F × the row's peak read as
    clipped on the fed channels, as if the range were set too small.
    """

    def __init__(
        self,
        chain: MeasurementChain | None,
        seed: int,
        dialect: str = "keysight",
        faults: Sequence[Fault] = (),
        measure: Measure | None = None,
        wiring: tuple[int, int] = (1, 2),
        identity: str | None = None,
    ) -> None:
        makers = _dialects()
        if dialect not in makers:
            raise ValueError(f"scope dialect {dialect!r} unknown; use one of {', '.join(makers)}")
        if len(set(wiring)) != 2 or not set(wiring) <= set(CHANNELS):
            raise ValueError(f"scope wiring {wiring!r} must name two different channels 1..4")
        if chain is not None and measure is None:
            from simulator.model import measure as model_measure

            measure = model_measure
        self.dialect: ScopeDialect = makers[dialect]()
        self._chain = chain
        self._measure = measure
        self._rng = np.random.default_rng(seed)
        self._wiring = wiring
        self._timeout = find(faults, "scope-timeout")
        self._truncated = find(faults, "scope-truncated")
        clip = find(faults, "clip")
        self._clip_fraction = clip.get("fraction", DEFAULT_CLIP_FRACTION) if clip else None
        self.acquisition = Acquisition()
        self.channels: dict[int, ChannelSettings] = {}
        self.timebase_scale = 1e-4
        self.timebase_position = 0.0
        self.timebase_mode = "MAIN"
        self.edge_trigger = EdgeTrigger("CHAN1", 0.0, "POS")
        super().__init__(identity or self.dialect.identity, self.dialect.error_capacity)
        self.reset()

    # -- instrument hooks -------------------------------------------------------

    def commands(self) -> list[Command]:
        return self.dialect.commands(self)

    def reset(self) -> None:
        with self._lock:
            self.acquisition.reset()
            self.timebase_position = 0.0
            self.timebase_mode = "MAIN"
            self.dialect.reset(self)

    def trigger(self) -> None:
        self.force_trigger()

    # -- the load side ------------------------------------------------------------

    def on_train(self, train: DeliveredTrain) -> None:
        """Every pulse row of the train is one trigger opportunity."""
        with self._lock:
            acquisition = self.acquisition
            if not acquisition.accepting:
                return
            if self._measure is None:
                v_in, i_in = ideal_inputs(train)
            else:
                full_scale = tuple(
                    8 * self.channels[n].scale / self.channels[n].probe for n in self._wiring
                )
                v_in, i_in = self._measure(
                    train, self._chain, self._rng, full_scale_v=(full_scale[0], full_scale[1])
                )
            fed = {self._wiring[0]: v_in, self._wiring[1]: i_in}
            shown = {n: s for n, s in self.channels.items() if s.display}
            record = self.dialect.record(self)
            source = self.edge_trigger.channel
            for k in range(v_in.shape[0]):
                if not acquisition.accepting:
                    break
                row = None
                if source is not None and source in fed:
                    row = fed[source][k] * self.channels[source].probe
                instant = trigger_instant(
                    self.edge_trigger, row, train.t0_s, train.fs_hz, bool(train.delivered[k])
                )
                if instant is None:
                    continue
                inputs = {n: fed[n][k] for n in shown if n in fed and shown[n].coupling != "GND"}
                acquisition.add(
                    Segment(
                        number=0,
                        time_s=float(train.pulse_times_s[k]) + instant,
                        tag_s=0.0,
                        trigger_s=instant,
                        source_t0_s=train.t0_s,
                        source_fs_hz=train.fs_hz,
                        inputs=inputs,
                        channels=shown,
                        record=record,
                        ceilings=self._ceilings(inputs, shown),
                    )
                )

    def force_trigger(self) -> None:
        """`:TRIG:FORC`, `:TFOR`, `*TRG`: trigger now on whatever the inputs show (nothing)."""
        acquisition = self.acquisition
        if not acquisition.accepting:
            return
        last = acquisition.segments[-1].time_s if acquisition.segments else 0.0
        shown = {n: s for n, s in self.channels.items() if s.display}
        acquisition.add(
            Segment(0, last, 0.0, 0.0, 0.0, 1.0, {}, shown, self.dialect.record(self), {})
        )

    # -- helpers for the dialects ----------------------------------------------

    def block_reply(
        self, build: Callable[[], bytes], key: tuple[object, ...], digits: int
    ) -> bytes:
        """A `:WAV:DATA?` reply: the cached payload in a block, faults applied."""
        acquisition = self.acquisition
        acquisition.reads_since_arm += 1
        nth = acquisition.reads_since_arm
        payload = acquisition.payload(key, build)
        if self._timeout is not None and nth == (self._timeout.at or 1):
            self._timeout = None
            raise WithheldReply
        if self._truncated is not None and nth == (self._truncated.at or 1):
            self._truncated = None
            return short_block(payload, digits)
        return definite_block(payload, digits)

    def channel_commands(
        self,
        probe: Number,
        units: Choice,
        coupling: Choice,
        scale_per_probe: tuple[float, float],
        offset_per_probe: float,
        fmt: str,
        probe_values: tuple[float, ...] = (),
    ) -> list[Command]:
        """`:CHANnel<n>:` SCALe, RANGe, OFFSet, PROBe, UNITs, DISPlay, COUPling (both dialects)."""

        def probe_of(call: Call) -> float:
            return self.channels[call.suffix()].probe

        low, high = scale_per_probe
        scale = Number(lambda c: low * probe_of(c), lambda c: high * probe_of(c), fmt=fmt)
        span = Number(lambda c: 8 * low * probe_of(c), lambda c: 8 * high * probe_of(c), fmt=fmt)
        offset = Number(
            lambda c: -offset_per_probe * probe_of(c),
            lambda c: offset_per_probe * probe_of(c),
            fmt=fmt,
        )

        def put_probe(call: Call, value: float) -> None:
            if probe_values and not any(abs(value - v) <= 1e-9 * v for v in probe_values):
                listed = ", ".join(f"{v:g}" for v in probe_values)
                raise ScpiError(-224, f"{call.header} {value:g} is not one of {listed}")
            old = self.channels[call.suffix()]
            ratio = value / old.probe
            # The panel keeps the input-referred setting: V/div follows the probe.
            self.update_channel(
                call, probe=value, scale=old.scale * ratio, offset=old.offset * ratio
            )

        head = ":CHANnel<1-4>:"
        return [
            setting(
                head + "SCALe",
                scale,
                self.channel_value("scale"),
                lambda c, v: self.update_channel(c, scale=v),
            ),
            setting(
                head + "RANGe",
                span,
                lambda c: 8 * self.channels[c.suffix()].scale,
                lambda c, v: self.update_channel(c, scale=v / 8),
            ),
            setting(
                head + "OFFSet",
                offset,
                self.channel_value("offset"),
                lambda c, v: self.update_channel(c, offset=v),
            ),
            setting(head + "PROBe", probe, self.channel_value("probe"), put_probe),
            setting(
                head + "UNITs",
                units,
                self.channel_value("unit"),
                lambda c, v: self.update_channel(c, unit=v),
            ),
            setting(
                head + "DISPlay",
                Flag(),
                self.channel_value("display"),
                lambda c, v: self.update_channel(c, display=v),
            ),
            setting(
                head + "COUPling",
                coupling,
                self.channel_value("coupling"),
                lambda c, v: self.update_channel(c, coupling=v),
            ),
        ]

    def channel_value(self, name: str) -> Callable[[Call], object]:
        """A getter of one ChannelSettings field of the channel a call names."""
        return lambda call: getattr(self.channels[call.suffix()], name)

    def update_channel(self, call: Call, **changes: object) -> None:
        """Change fields of the channel a call names."""
        number = call.suffix()
        self.channels[number] = replace(self.channels[number], **changes)  # type: ignore[arg-type]

    # -- internals ----------------------------------------------------------------

    def _ceilings(
        self, inputs: Mapping[int, np.ndarray], shown: Mapping[int, ChannelSettings]
    ) -> dict[int, float]:
        if self._clip_fraction is None:
            return {}
        ceilings = {}
        for number, row in inputs.items():
            peak = float(np.max(np.abs(row))) * shown[number].probe
            if peak > 0:
                ceilings[number] = self._clip_fraction * peak
        return ceilings
