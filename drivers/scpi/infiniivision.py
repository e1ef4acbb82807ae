"""Keysight InfiniiVision 2000/3000/4000 X-Series oscilloscope.

Capture: `:STOP;*OPC?`, clear `:AER?`, `:SING`, poll `:AER?` until armed;
after the pulse, poll `:OPER:COND?` until the RUN bit (0x08) clears. `:DIG`
is never used: without a trigger only a device clear gets it back. With
`ScopeSetup.segments > 1` the scope records one segment per trigger
(`:ACQ:MODE SEGM`) and each is read with its time tag (`:WAV:SEGM:TTAG?`).

Waveforms are read as unsigned BYTEs in RAW points mode, every setting made
explicitly, and scaled by the preamble (`keysight_waveform`).
"""

from __future__ import annotations

import numpy as np

from drivers.errors import InstrumentError, InstrumentTimeout
from drivers.scpi.base import ScpiChannel
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
from drivers.scpi.scope import QUANTITY_UNITS, ScpiScope
from drivers.scpi.scope_plan import plan_horizontal, plan_vertical, points_needed
from drivers.scpi.waveforms import Preamble, keysight_waveform
from drivers.values import Capture, ScopeChannel, ScopeSetup, Waveform

VERTICAL_DIVISIONS = 8
HORIZONTAL_DIVISIONS = 10
RUN_BIT = 0x08  # :OPER:COND? bit 3: acquisition running
MIN_POINTS = 100  # fewer is refused with -222
MAX_SEGMENTS = 1000  # family maximum; smaller models refuse more with an error


class InfiniiVisionChannel(ScpiChannel):
    """One analogue input of an InfiniiVision scope."""

    display = Setting(
        "Whether the channel is on.",
        query=":CHAN{ch}:DISP?",
        command=":CHAN{ch}:DISP {}",
        parse=parse_bool,
        validator=Boolean(),
    )
    probe = Setting(
        "Probe attenuation ratio (units at the tip per volt at the input).",
        query=":CHAN{ch}:PROB?",
        command=":CHAN{ch}:PROB {}",
        parse=parse_float,
        validator=Range(0.0001, 10_000.0),
    )
    units = Setting(
        "Units of the probe: VOLT or AMP(ere).",
        query=":CHAN{ch}:UNIT?",
        command=":CHAN{ch}:UNIT {}",
        parse=parse_keyword,
        validator=Choices("VOLT", "AMP"),
    )
    scale = Setting(
        "Vertical scale, in probe units per division.",
        query=":CHAN{ch}:SCAL?",
        command=":CHAN{ch}:SCAL {}",
        parse=parse_float,
        validator=Range(1e-7, 1e5),
        unit="unit/div",
    )
    offset = Setting(
        "Value at the centre of the screen, in probe units.",
        query=":CHAN{ch}:OFFS?",
        command=":CHAN{ch}:OFFS {}",
        parse=parse_float,
        validator=Range(-1e6, 1e6),
    )
    coupling = Setting(
        "Input coupling.",
        query=":CHAN{ch}:COUP?",
        command=":CHAN{ch}:COUP {}",
        parse=parse_keyword,
        validator=Choices("DC", "AC"),
    )
    impedance = Setting(
        "Input impedance: ONEM(eg) or FIFT(y ohm).",
        query=":CHAN{ch}:IMP?",
        command=":CHAN{ch}:IMP {}",
        parse=parse_keyword,
        validator=Choices("ONEM", "FIFT"),
    )
    bandwidth_limit = Setting(
        "Whether the 25 MHz bandwidth limit is on.",
        query=":CHAN{ch}:BWL?",
        command=":CHAN{ch}:BWL {}",
        parse=parse_bool,
        validator=Boolean(),
    )


class InfiniiVision(ScpiScope):
    """Keysight InfiniiVision X-Series scope implementing `drivers.roles.Oscilloscope`."""

    channel_class = InfiniiVisionChannel
    segments_supported = MAX_SEGMENTS
    channels: dict[int, InfiniiVisionChannel]  # type: ignore[assignment]

    timebase_mode = Setting(
        "Timebase mode; :DIG and :WAV work only in MAIN.",
        query=":TIM:MODE?",
        command=":TIM:MODE {}",
        parse=parse_keyword,
        validator=Choices("MAIN", "WIND", "XY", "ROLL"),
    )
    timebase_scale = Setting(
        "Horizontal scale.",
        query=":TIM:SCAL?",
        command=":TIM:SCAL {}",
        parse=parse_float,
        validator=Range(5e-10, 50.0),
        unit="s/div",
    )
    timebase_reference = Setting(
        "Where on screen the delay reference sits.",
        query=":TIM:REF?",
        command=":TIM:REF {}",
        parse=parse_keyword,
        validator=Choices("LEFT", "CENT", "RIGH"),
    )
    timebase_position = Setting(
        "Time from the trigger to the delay reference.",
        query=":TIM:POS?",
        command=":TIM:POS {}",
        parse=parse_float,
        validator=Range(-500.0, 500.0),
        unit="s",
    )
    acquire_type = Setting(
        "Acquisition type.",
        query=":ACQ:TYPE?",
        command=":ACQ:TYPE {}",
        parse=parse_keyword,
        validator=Choices("NORM", "AVER", "HRES", "PEAK"),
    )
    acquire_mode = Setting(
        "RTIM(e) or SEGM(ented) memory.",
        query=":ACQ:MODE?",
        command=":ACQ:MODE {}",
        parse=parse_keyword,
        validator=Choices("RTIM", "ETIM", "SEGM"),
    )
    segment_count = Setting(
        "Segments per segmented acquisition.",
        query=":ACQ:SEGM:COUN?",
        command=":ACQ:SEGM:COUN {}",
        parse=parse_int,
        validator=IntRange(2, MAX_SEGMENTS),
    )
    segment_index = Setting(
        "Segment that :WAV:DATA? reads (1-based).",
        query=":ACQ:SEGM:IND?",
        command=":ACQ:SEGM:IND {}",
        parse=parse_int,
        validator=IntRange(1, MAX_SEGMENTS),
    )
    sample_rate = Setting(
        "Sample rate the scope chose for the current timebase and memory.",
        query=":ACQ:SRAT?",
        parse=parse_float,
        unit="Sa/s",
    )
    trigger_mode = Setting(
        "Trigger type.",
        query=":TRIG:MODE?",
        command=":TRIG:MODE {}",
        parse=parse_keyword,
        validator=Choices("EDGE", "GLIT", "PATT", "TV", "DEL", "EBUR", "OR", "RUNT", "SHOL"),
    )
    trigger_source = Setting(
        "Edge trigger source.",
        query=":TRIG:EDGE:SOUR?",
        command=":TRIG:EDGE:SOUR {}",
        parse=parse_keyword,
        validator=Choices("CHAN1", "CHAN2", "CHAN3", "CHAN4", "EXT", "LINE", "WGEN"),
    )
    trigger_level = Setting(
        "Edge trigger level, in the source's probe units.",
        query=":TRIG:EDGE:LEV?",
        command=":TRIG:EDGE:LEV {}",
        parse=parse_float,
        validator=Range(-1e6, 1e6),
    )
    trigger_slope = Setting(
        "Edge trigger slope.",
        query=":TRIG:EDGE:SLOP?",
        command=":TRIG:EDGE:SLOP {}",
        parse=parse_keyword,
        validator=Choices("POS", "NEG", "EITH", "ALT"),
    )
    trigger_sweep = Setting(
        "AUTO triggers by itself after a while; NORM(al) waits for a real trigger.",
        query=":TRIG:SWE?",
        command=":TRIG:SWE {}",
        parse=parse_keyword,
        validator=Choices("AUTO", "NORM"),
    )
    waveform_source = Setting(
        "Channel that :WAV:DATA? reads.",
        query=":WAV:SOUR?",
        command=":WAV:SOUR {}",
        parse=parse_keyword,
        validator=Choices("CHAN1", "CHAN2", "CHAN3", "CHAN4"),
    )
    waveform_format = Setting(
        "Data format of :WAV:DATA?.",
        query=":WAV:FORM?",
        command=":WAV:FORM {}",
        parse=parse_keyword,
        validator=Choices("BYTE", "WORD", "ASC"),
    )
    waveform_byte_order = Setting(
        "Byte order of WORD data.",
        query=":WAV:BYT?",
        command=":WAV:BYT {}",
        parse=parse_keyword,
        validator=Choices("LSBF", "MSBF"),
    )
    waveform_unsigned = Setting(
        "Whether the codes are unsigned.",
        query=":WAV:UNS?",
        command=":WAV:UNS {}",
        parse=parse_bool,
        validator=Boolean(),
    )
    waveform_points_mode = Setting(
        "NORM(al) screen points, MAX(imum) or RAW acquisition memory.",
        query=":WAV:POIN:MODE?",
        command=":WAV:POIN:MODE {}",
        parse=parse_keyword,
        validator=Choices("NORM", "MAX", "RAW"),
    )
    waveform_points = Setting(
        "Points :WAV:DATA? returns (the scope may give fewer; read back).",
        query=":WAV:POIN?",
        command=":WAV:POIN {}",
        parse=parse_int,
        validator=IntRange(MIN_POINTS, 8_000_000),
    )

    def configure(self, setup: ScopeSetup) -> None:
        """Set channels, timebase, trigger, acquisition and waveform format, then check errors."""
        self.check_setup(setup)
        self._setup = None
        self._acquired = None
        self.query(":STOP;*OPC?")
        timebase = plan_horizontal(setup.pre_trigger_s, setup.post_trigger_s, HORIZONTAL_DIVISIONS)
        window = timebase.scale * HORIZONTAL_DIVISIONS
        with self.configuring("the capture set-up"):
            self.timebase_mode = "MAIN"
            for channel in (setup.voltage, setup.current):
                self._configure_channel(channel)
            self.timebase_reference = "CENT"
            self.timebase_scale = timebase.scale
            self.timebase_position = timebase.center
            self.acquire_type = "NORM"
            if setup.segments > 1:
                self.acquire_mode = "SEGM"
                self.segment_count = setup.segments
            else:
                self.acquire_mode = "RTIM"
            self.trigger_mode = "EDGE"
            self.trigger_source = f"CHAN{setup.voltage.number}"
            self.trigger_level = setup.trigger_level
            self.trigger_slope = "NEG" if setup.trigger_level < 0 else "POS"
            self.trigger_sweep = "NORM"
            self.waveform_source = f"CHAN{setup.voltage.number}"
            self.waveform_format = "BYTE"
            self.waveform_byte_order = "LSBF"
            self.waveform_unsigned = True
            self.waveform_points_mode = "RAW"
            self.waveform_points = max(MIN_POINTS, points_needed(setup.sample_rate_hz, window))
        self.points = self.waveform_points
        self._setup = setup

    def arm(self) -> None:
        """`:SING`, then wait until the scope reports itself armed (`:AER?` = 1)."""
        setup = self.require_setup()
        self._acquired = None
        self.query(":STOP;*OPC?")
        self.query(":AER?")  # read-and-clear: a stale 1 must not pass for this arm
        self.write(":SING")
        if self.poll(":AER?", lambda r: r in ("1", "+1"), self.timeout_s) is None:
            raise InstrumentTimeout(
                f"{self.label} did not arm within {self.timeout_s:g} s after :SING; check that "
                f"it is not in ROLL or XY mode and that {setup.segments} segment(s) fit"
            )

    def wait_complete(self, timeout_s: float) -> int:
        """Poll the RUN bit of `:OPER:COND?`; return the number of captures.

        In segmented mode a train that ends early leaves segments unfilled:
        at the deadline the scope is stopped and the captures it has are
        returned; with none at all this raises `InstrumentTimeout`.
        """
        setup = self.require_setup()
        finished = self.poll(":OPER:COND?", _run_bit_clear, timeout_s)
        if setup.segments == 1:
            if finished is None:
                self.query(":STOP;*OPC?")
                raise self.not_triggered(timeout_s)
            self._acquired = 1
            return 1
        if finished is None:
            self.query(":STOP;*OPC?")
        count = parse_int(self.query(":WAV:SEGM:COUN?"))
        if count < 1:
            raise self.not_triggered(timeout_s)
        self._acquired = min(count, setup.segments)
        return self._acquired

    def fetch(self) -> tuple[Capture, ...]:
        """Read every capture (segment) of the last acquisition, both channels each."""
        count = self.acquired()
        setup = self.require_setup()
        segmented = setup.segments > 1
        channels = (setup.voltage, setup.current)
        preambles: dict[int, Preamble] = {}
        captures = []
        for index in range(count):
            time_tag = 0.0
            if segmented:
                self.segment_index = index + 1
                time_tag = parse_float(self.query(":WAV:SEGM:TTAG?"))
            voltage, current = (self._read_channel(channel, preambles) for channel in channels)
            captures.append(Capture(index, time_tag, voltage, current))
        return tuple(captures)

    # ---- internals -----------------------------------------------------------------------

    def _configure_channel(self, channel: ScopeChannel) -> None:
        ch = self.channels[channel.number]
        vertical = plan_vertical(channel.full_scale, VERTICAL_DIVISIONS)
        ch.display = True
        ch.probe = channel.units_per_volt
        ch.units = "AMP" if channel.quantity == "current" else "VOLT"
        ch.coupling = "DC"
        ch.scale = vertical.scale
        ch.offset = vertical.center

    def _read_channel(self, channel: ScopeChannel, preambles: dict[int, Preamble]) -> Waveform:
        self.waveform_source = f"CHAN{channel.number}"
        preamble = preambles.get(channel.number)
        if preamble is None:
            preamble = Preamble.parse(self.query(":WAV:PRE?"), self.label)
            preambles[channel.number] = preamble
        data = self.query_block(":WAV:DATA?")
        codes = np.frombuffer(data, dtype=np.uint8)
        if preamble.format != 0 or codes.size != preamble.points:
            raise InstrumentError(
                f"{self.label} sent {codes.size} samples for CHAN{channel.number} in format "
                f"{preamble.format}; its preamble announced {preamble.points} BYTE samples"
            )
        return keysight_waveform(
            preamble, codes, channel.quantity, QUANTITY_UNITS[channel.quantity]
        )


def _run_bit_clear(reply: str) -> bool:
    try:
        condition = int(float(reply))
    except ValueError:
        raise InstrumentError(
            f"scope answered :OPER:COND? with {reply!r}; expected a register value"
        ) from None
    return not condition & RUN_BIT
