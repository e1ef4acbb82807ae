"""Rigol DS1000Z oscilloscope (DS1054Z, DS1074Z, DS1104Z …).

Capture: `:SING`, poll `:TRIG:STAT?` until WAIT (armed); after the pulse,
until STOP. One acquisition holds one trigger: the DS1000Z has no segmented
memory a host can use at 5 kHz (re-arming per trigger is far too slow), so
`segments_supported` is 1 and the engine chooses one long record instead.

RAW memory is read while stopped, in `:WAV:STAR`/`:WAV:STOP` windows of at
most 250 000 BYTE points (the most one `:WAV:DATA?` returns), then joined and
scaled by the preamble (`rigol_waveform`).
"""

from __future__ import annotations

import math

import numpy as np

from drivers.errors import InstrumentError, InstrumentTimeout
from drivers.scpi.base import ScpiChannel
from drivers.scpi.errors import InvalidSetting
from drivers.scpi.properties import (
    Boolean,
    Choices,
    IntRange,
    NumberChoices,
    Range,
    Setting,
    parse_bool,
    parse_float,
    parse_int,
    parse_keyword,
)
from drivers.scpi.scope import QUANTITY_UNITS, ScpiScope
from drivers.scpi.scope_plan import plan_horizontal, plan_vertical, points_needed
from drivers.scpi.waveforms import Preamble, rigol_waveform
from drivers.values import Capture, ScopeChannel, ScopeSetup, Waveform

VERTICAL_DIVISIONS = 8
HORIZONTAL_DIVISIONS = 12
MAX_POINTS_PER_READ = 250_000  # BYTE points one :WAV:DATA? may return
MAX_MEMORY = 24_000_000
PROBE_RATIOS = (
    0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000,
)  # fmt: skip
# Memory depths by the number of channels switched on (one, two, three or four).
MEMORY_DEPTHS = {
    1: (12_000, 120_000, 1_200_000, 12_000_000, 24_000_000),
    2: (6_000, 60_000, 600_000, 6_000_000, 12_000_000),
    4: (3_000, 30_000, 300_000, 3_000_000, 6_000_000),
}


class RigolChannel(ScpiChannel):
    """One analogue input of a DS1000Z."""

    display = Setting(
        "Whether the channel is on.",
        query=":CHAN{ch}:DISP?",
        command=":CHAN{ch}:DISP {}",
        parse=parse_bool,
        validator=Boolean(),
    )
    probe = Setting(
        "Probe ratio (one of the DS1000Z's fixed ratios).",
        query=":CHAN{ch}:PROB?",
        command=":CHAN{ch}:PROB {}",
        parse=parse_float,
        validator=NumberChoices(*PROBE_RATIOS),
    )
    units = Setting(
        "Units of the probe.",
        query=":CHAN{ch}:UNIT?",
        command=":CHAN{ch}:UNIT {}",
        parse=parse_keyword,
        validator=Choices("VOLT", "AMP", "WATT", "UNKN"),
    )
    scale = Setting(
        "Vertical scale, in probe units per division.",
        query=":CHAN{ch}:SCAL?",
        command=":CHAN{ch}:SCAL {}",
        parse=parse_float,
        validator=Range(1e-5, 1e4),
        unit="unit/div",
    )
    offset = Setting(
        "Vertical offset, added to the signal: the screen centre shows minus this value.",
        query=":CHAN{ch}:OFFS?",
        command=":CHAN{ch}:OFFS {}",
        parse=parse_float,
        validator=Range(-1e5, 1e5),
    )
    coupling = Setting(
        "Input coupling.",
        query=":CHAN{ch}:COUP?",
        command=":CHAN{ch}:COUP {}",
        parse=parse_keyword,
        validator=Choices("DC", "AC", "GND"),
    )
    bandwidth_limit = Setting(
        "Bandwidth limit: 20M or OFF.",
        query=":CHAN{ch}:BWL?",
        command=":CHAN{ch}:BWL {}",
        parse=parse_keyword,
        validator=Choices("20M", "OFF"),
    )


class RigolDS1000Z(ScpiScope):
    """Rigol DS1000Z scope implementing `drivers.roles.Oscilloscope`, one capture per arm."""

    channel_class = RigolChannel
    segments_supported = 1
    channels: dict[int, RigolChannel]  # type: ignore[assignment]

    timebase_mode = Setting(
        "Timebase mode.",
        query=":TIM:MODE?",
        command=":TIM:MODE {}",
        parse=parse_keyword,
        validator=Choices("MAIN", "XY", "ROLL"),
    )
    timebase_scale = Setting(
        "Horizontal scale (1-2-5 steps).",
        query=":TIM:MAIN:SCAL?",
        command=":TIM:MAIN:SCAL {}",
        parse=parse_float,
        validator=Range(5e-9, 50.0),
        unit="s/div",
    )
    timebase_offset = Setting(
        "Time of the screen centre after the trigger.",
        query=":TIM:MAIN:OFFS?",
        command=":TIM:MAIN:OFFS {}",
        parse=parse_float,
        validator=Range(-500.0, 500.0),
        unit="s",
    )
    acquire_type = Setting(
        "Acquisition type.",
        query=":ACQ:TYPE?",
        command=":ACQ:TYPE {}",
        parse=parse_keyword,
        validator=Choices("NORM", "AVER", "PEAK", "HRES"),
    )
    memory_depth = Setting(
        "Memory depth in points, or AUTO; which depths exist depends on the channels on.",
        query=":ACQ:MDEP?",
        command=":ACQ:MDEP {}",
        parse=parse_keyword,
        validator=Choices(
            "AUTO", *sorted({str(d) for ds in MEMORY_DEPTHS.values() for d in ds}, key=int)
        ),
    )
    sample_rate = Setting(
        "Sample rate for the current timebase and memory depth.",
        query=":ACQ:SRAT?",
        parse=parse_float,
        unit="Sa/s",
    )
    trigger_mode = Setting(
        "Trigger type.",
        query=":TRIG:MODE?",
        command=":TRIG:MODE {}",
        parse=parse_keyword,
        validator=Choices("EDGE", "PULS", "RUNT", "WIND", "SLOP", "NEDG", "PATT", "DEL"),
    )
    trigger_source = Setting(
        "Edge trigger source.",
        query=":TRIG:EDG:SOUR?",
        command=":TRIG:EDG:SOUR {}",
        parse=parse_keyword,
        validator=Choices("CHAN1", "CHAN2", "CHAN3", "CHAN4", "AC"),
    )
    trigger_level = Setting(
        "Edge trigger level, in the source's probe units.",
        query=":TRIG:EDG:LEV?",
        command=":TRIG:EDG:LEV {}",
        parse=parse_float,
        validator=Range(-1e5, 1e5),
    )
    trigger_slope = Setting(
        "Edge trigger slope.",
        query=":TRIG:EDG:SLOP?",
        command=":TRIG:EDG:SLOP {}",
        parse=parse_keyword,
        validator=Choices("POS", "NEG", "RFAL"),
    )
    trigger_sweep = Setting(
        "Trigger sweep: AUTO, NORM(al) or SING(le).",
        query=":TRIG:SWE?",
        command=":TRIG:SWE {}",
        parse=parse_keyword,
        validator=Choices("AUTO", "NORM", "SING"),
    )
    waveform_source = Setting(
        "Channel that :WAV:DATA? reads.",
        query=":WAV:SOUR?",
        command=":WAV:SOUR {}",
        parse=parse_keyword,
        validator=Choices("CHAN1", "CHAN2", "CHAN3", "CHAN4", "MATH"),
    )
    waveform_mode = Setting(
        "NORM(al) screen points, MAX(imum) or RAW memory (RAW needs the scope stopped).",
        query=":WAV:MODE?",
        command=":WAV:MODE {}",
        parse=parse_keyword,
        validator=Choices("NORM", "MAX", "RAW"),
    )
    waveform_format = Setting(
        "Data format of :WAV:DATA?.",
        query=":WAV:FORM?",
        command=":WAV:FORM {}",
        parse=parse_keyword,
        validator=Choices("BYTE", "WORD", "ASC"),
    )
    waveform_start = Setting(
        "First point (1-based) of the next :WAV:DATA? read.",
        query=":WAV:STAR?",
        command=":WAV:STAR {}",
        parse=parse_int,
        validator=IntRange(1, MAX_MEMORY),
    )
    waveform_stop = Setting(
        "Last point (1-based) of the next :WAV:DATA? read.",
        query=":WAV:STOP?",
        command=":WAV:STOP {}",
        parse=parse_int,
        validator=IntRange(1, MAX_MEMORY),
    )

    def check_setup(self, setup: ScopeSetup) -> None:
        """As for any scope, and the probe ratios must be among the DS1000Z's fixed ones."""
        super().check_setup(setup)
        for channel in (setup.voltage, setup.current):
            if not any(math.isclose(channel.units_per_volt, r) for r in PROBE_RATIOS):
                raise InvalidSetting(
                    f"{self.label} cannot capture this set-up: probe ratio "
                    f"{channel.units_per_volt:g} on channel {channel.number} is not one of "
                    f"{', '.join(f'{r:g}' for r in PROBE_RATIOS)}"
                )

    def configure(self, setup: ScopeSetup) -> None:
        """Two channels on (the others off), timebase, depth, trigger, RAW BYTE reads."""
        self.check_setup(setup)
        self._setup = None
        self._acquired = None
        timebase = plan_horizontal(
            setup.pre_trigger_s, setup.post_trigger_s, HORIZONTAL_DIVISIONS, steps_125=True
        )
        used = (setup.voltage.number, setup.current.number)
        depth = _memory_depth(
            points_needed(setup.sample_rate_hz, timebase.scale * HORIZONTAL_DIVISIONS)
        )
        with self.configuring("the capture set-up"):
            self.timebase_mode = "MAIN"
            for number, unused in self.channels.items():
                if number not in used:
                    unused.display = False
            for channel in (setup.voltage, setup.current):
                self._configure_channel(channel)
            self.timebase_scale = timebase.scale
            self.timebase_offset = timebase.center
            self.acquire_type = "NORM"
            self.memory_depth = str(depth)
            self.trigger_mode = "EDGE"
            self.trigger_source = f"CHAN{setup.voltage.number}"
            self.trigger_level = setup.trigger_level
            self.trigger_slope = "NEG" if setup.trigger_level < 0 else "POS"
            self.trigger_sweep = "NORM"
            self.waveform_mode = "RAW"
            self.waveform_format = "BYTE"
        self._setup = setup

    def arm(self) -> None:
        """`:SING`, then wait until the trigger status reads WAIT."""
        self.require_setup()
        self._acquired = None
        self.write(":SING")
        if self.poll(":TRIG:STAT?", lambda r: r.upper() == "WAIT", self.timeout_s) is None:
            raise InstrumentTimeout(
                f"{self.label} did not arm within {self.timeout_s:g} s after :SING "
                "(:TRIG:STAT? never read WAIT); check that it is not in ROLL or XY mode"
            )

    def wait_complete(self, timeout_s: float) -> int:
        """Poll `:TRIG:STAT?` until STOP; one capture per acquisition."""
        self.require_setup()
        if self.poll(":TRIG:STAT?", lambda r: r.upper() == "STOP", timeout_s) is None:
            self.write(":STOP")
            raise self.not_triggered(timeout_s)
        self._acquired = 1
        return 1

    def fetch(self) -> tuple[Capture, ...]:
        """Read the capture: each channel in windows of ≤ 250 000 points, joined."""
        self.acquired()
        setup = self.require_setup()
        voltage, current = (self._read_channel(c) for c in (setup.voltage, setup.current))
        return (Capture(0, 0.0, voltage, current),)

    # ---- internals -----------------------------------------------------------------------

    def _configure_channel(self, channel: ScopeChannel) -> None:
        ch = self.channels[channel.number]
        vertical = plan_vertical(channel.full_scale, VERTICAL_DIVISIONS, steps_125=True)
        ch.display = True
        ch.probe = channel.units_per_volt
        ch.units = "AMP" if channel.quantity == "current" else "VOLT"
        ch.coupling = "DC"
        ch.scale = vertical.scale
        ch.offset = -vertical.center

    def _read_channel(self, channel: ScopeChannel) -> Waveform:
        self.waveform_source = f"CHAN{channel.number}"
        preamble = Preamble.parse(self.query(":WAV:PRE?"), self.label)
        if preamble.format != 0:
            raise InstrumentError(
                f"{self.label} reports waveform format {preamble.format}; BYTE (0) was set"
            )
        parts = []
        for start in range(1, preamble.points + 1, MAX_POINTS_PER_READ):
            stop = min(start + MAX_POINTS_PER_READ - 1, preamble.points)
            self.waveform_start = start
            self.waveform_stop = stop
            part = self.query_block(":WAV:DATA?")
            if len(part) != stop - start + 1:
                raise InstrumentError(
                    f"{self.label} sent {len(part)} points of CHAN{channel.number} for "
                    f"points {start} to {stop}"
                )
            parts.append(part)
        codes = np.frombuffer(b"".join(parts), dtype=np.uint8)
        return rigol_waveform(preamble, codes, channel.quantity, QUANTITY_UNITS[channel.quantity])


def _memory_depth(points: int) -> int:
    """The smallest two-channel depth holding `points`, else the largest."""
    depths = MEMORY_DEPTHS[2]
    return next((d for d in depths if d >= points), depths[-1])
