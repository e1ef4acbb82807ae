"""Keysight (Agilent) 33500B/33600A function generator, as the pulse source of an HV amplifier.

The settings follow the 33500 programming guide. Ranges are what the
instrument accepts (levels as shown with a high-impedance load); the safe
range for a given amplifier is not a property of this driver.

The load pitfall: `OUTP:LOAD` only changes how levels are computed. With the
default 50 Ω a high-impedance amplifier input sees twice the programmed
level, doubling the HV output, and `*RST` brings 50 Ω back. `reset()`
therefore sets `OUTP:LOAD INF` straight after `*RST`, before anything else can
program a level.
"""

from __future__ import annotations

import math

from drivers.scpi.base import ScpiInstrument
from drivers.scpi.properties import (
    Boolean,
    Choices,
    IntRange,
    Range,
    Setting,
    parse_bool,
    parse_float,
    parse_int,
    parse_keyword,
)

# Level limits into a high-impedance load (±5 V into 50 Ω).
LEVEL_MAX_V = 10.0
BURST_COUNT_MAX = 100_000_000


class Keysight33500(ScpiInstrument):
    """Keysight 33500B / 33600A waveform generator, channel 1."""

    kind = "Function generator"

    function = Setting(
        "Output function.",
        query="FUNC?",
        command="FUNC {}",
        parse=parse_keyword,
        validator=Choices("SIN", "SQU", "TRI", "RAMP", "PULS", "PRBS", "NOIS", "ARB", "DC"),
    )
    pulse_width = Setting(
        "Pulse width (FUNC:PULS:HOLD WIDT keeps it fixed when the period changes).",
        query="FUNC:PULS:WIDT?",
        command="FUNC:PULS:WIDT {}",
        parse=parse_float,
        validator=Range(16e-9, 1e6),
        unit="s",
    )
    pulse_period = Setting(
        "Pulse period; also sets the frequency.",
        query="FUNC:PULS:PER?",
        command="FUNC:PULS:PER {}",
        parse=parse_float,
        validator=Range(33e-9, 1e6),
        unit="s",
    )
    frequency = Setting(
        "Waveform frequency (pulses: 1/period).",
        query="FREQ?",
        command="FREQ {}",
        parse=parse_float,
        validator=Range(1e-6, 30e6),
        unit="Hz",
    )
    pulse_transition = Setting(
        "Leading and trailing edge time.",
        query="FUNC:PULS:TRAN?",
        command="FUNC:PULS:TRAN {}",
        parse=parse_float,
        validator=Range(8.4e-9, 1e-6),
        unit="s",
    )
    pulse_hold = Setting(
        "What stays fixed when the period changes: WIDT(h) or DCYC (duty cycle).",
        query="FUNC:PULS:HOLD?",
        command="FUNC:PULS:HOLD {}",
        parse=parse_keyword,
        validator=Choices("WIDT", "DCYC"),
    )
    voltage_high = Setting(
        "High level.",
        query="VOLT:HIGH?",
        command="VOLT:HIGH {}",
        parse=parse_float,
        validator=Range(-LEVEL_MAX_V, LEVEL_MAX_V),
        unit="V",
    )
    voltage_low = Setting(
        "Low level (the idle level between bursts).",
        query="VOLT:LOW?",
        command="VOLT:LOW {}",
        parse=parse_float,
        validator=Range(-LEVEL_MAX_V, LEVEL_MAX_V),
        unit="V",
    )
    voltage_limit_high = Setting(
        "Upper output clamp; with an amplifier, V_max divided by its gain.",
        query="VOLT:LIM:HIGH?",
        command="VOLT:LIM:HIGH {}",
        parse=parse_float,
        validator=Range(-LEVEL_MAX_V, LEVEL_MAX_V),
        unit="V",
    )
    voltage_limit_low = Setting(
        "Lower output clamp.",
        query="VOLT:LIM:LOW?",
        command="VOLT:LIM:LOW {}",
        parse=parse_float,
        validator=Range(-LEVEL_MAX_V, LEVEL_MAX_V),
        unit="V",
    )
    voltage_limit_enabled = Setting(
        "Whether the output clamp is active.",
        query="VOLT:LIM:STAT?",
        command="VOLT:LIM:STAT {}",
        parse=parse_bool,
        validator=Boolean(),
    )
    output_load = Setting(
        "Load the levels are computed for: 1 Ω to 10 kΩ, or infinity (INF, high impedance).",
        query="OUTP:LOAD?",
        command="OUTP:LOAD {}",
        parse=parse_float,
        validator=Range(1.0, 10e3, also=(math.inf,)),
        unit="Ω",
    )
    burst_mode = Setting(
        "Burst mode: TRIG(gered) N-cycle or GAT(ed).",
        query="BURS:MODE?",
        command="BURS:MODE {}",
        parse=parse_keyword,
        validator=Choices("TRIG", "GAT"),
    )
    burst_count = Setting(
        "Cycles (pulses) per burst.",
        query="BURS:NCYC?",
        command="BURS:NCYC {}",
        parse=parse_int,
        validator=IntRange(1, BURST_COUNT_MAX),
    )
    burst_enabled = Setting(
        "Whether burst mode is on.",
        query="BURS:STAT?",
        command="BURS:STAT {}",
        parse=parse_bool,
        validator=Boolean(),
    )
    trigger_source = Setting(
        "Trigger source: IMM(ediate), EXT(ernal input), TIM(er) or BUS (*TRG).",
        query="TRIG:SOUR?",
        command="TRIG:SOUR {}",
        parse=parse_keyword,
        validator=Choices("IMM", "EXT", "TIM", "BUS"),
    )
    trigger_slope = Setting(
        "Edge of the external trigger input that starts a burst.",
        query="TRIG:SLOP?",
        command="TRIG:SLOP {}",
        parse=parse_keyword,
        validator=Choices("POS", "NEG"),
    )
    trigger_delay = Setting(
        "Delay from trigger to burst start.",
        query="TRIG:DEL?",
        command="TRIG:DEL {}",
        parse=parse_float,
        validator=Range(0.0, 1000.0),
        unit="s",
    )
    sync_output = Setting(
        "Whether the rear Trig Out sends a pulse at each burst start (scope sync).",
        query="OUTP:TRIG?",
        command="OUTP:TRIG {}",
        parse=parse_bool,
        validator=Boolean(),
    )
    sync_slope = Setting(
        "Edge of the Trig Out pulse.",
        query="OUTP:TRIG:SLOP?",
        command="OUTP:TRIG:SLOP {}",
        parse=parse_keyword,
        validator=Choices("POS", "NEG"),
    )
    output = Setting(
        "Whether the channel 1 output is on.",
        query="OUTP?",
        command="OUTP {}",
        parse=parse_bool,
        validator=Boolean(),
    )

    def reset(self) -> None:
        """`*RST;*CLS`, then at once `OUTP:LOAD INF` (see the module note on the load pitfall)."""
        self.write("*RST;*CLS")
        self.output_load = math.inf

    def trigger(self) -> None:
        """Software trigger (`*TRG`); starts a burst when the trigger source is BUS."""
        self.write("*TRG")

    def output_off(self) -> bool:
        """Turn the output off and wait for `*OPC?`, so it is off on return.

        Never raises; returns whether the instrument confirmed it.
        """
        try:
            self.output = False
            self.opc()
        except Exception as exc:  # the output-off path must survive any failure
            self._log.error("%s: output OFF failed: %s", self.label, exc)
            return False
        return True

    def close(self) -> None:
        """Output off, then release the resource."""
        if not self.closed:
            self.output_off()
        super().close()
