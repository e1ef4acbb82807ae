"""The Rigol DS1000Z dialect of the simulated scope (a DS1104Z-like model).

Record grid: 12 divisions; 1 GSa/s and 24 Mpts (the memory option) with one channel on, half with
two, a quarter with three or four. `:ACQ:MDEP AUTO` takes the fastest 1-2-5
rate the memory allows; a fixed depth sets rate = depth / window (capped).
`:WAV:MODE NORM` reads the 1200-point screen record, RAW the memory (only when
stopped), MAX whichever applies. `:WAV:STAR`/`:WAV:STOP` (1-based, inclusive)
pick the points of one read, at most 250 000 in BYTE, 125 000 in WORD and
15 625 in ASCii; the preamble describes the whole record, so point STAR sits at
xorigin + (STAR - 1) * xincrement.

Codes: 25 per division around yreference 127, saturating at 0 and 255 (no
clip codes), V = (code - yorigin - yreference) * yincrement; WORD carries the
same codes in the low byte. No segmented memory: one capture per trigger.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from types import MappingProxyType
from typing import TYPE_CHECKING

import numpy as np

from simulator.scpi.acquisition import RUNNING, SINGLE, STOPPED, EdgeTrigger
from simulator.scpi.commands import Call, Command, action, query, setting
from simulator.scpi.digitiser import ChannelSettings, CodeScale, Record, Segment, one_two_five_rate
from simulator.scpi.error_queue import ScpiError
from simulator.scpi.parameters import Choice, Number

if TYPE_CHECKING:
    from simulator.scpi.scope import SimulatedScope

DIVISIONS = 12
SCREEN_POINTS = 1200
MAX_RATE_HZ = 1e9
MEMORY_POINTS = 24_000_000  # with the memory option
BLOCK_DIGITS = 9
READ_LIMITS = MappingProxyType({"BYTE": 250_000, "WORD": 125_000, "ASC": 15_625})
FORMAT_CODES = MappingProxyType({"BYTE": 0, "WORD": 1, "ASC": 2})
MODE_CODES = MappingProxyType({"NORM": 0, "MAX": 1, "RAW": 2})
DEPTHS = (
    3_000,
    6_000,
    12_000,
    30_000,
    60_000,
    120_000,
    300_000,
    600_000,
    1_200_000,
    3_000_000,
    6_000_000,
    12_000_000,
    24_000_000,
)
PROBE_RATIOS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)
_F = "{:.6e}"


def code_scale(channel: ChannelSettings) -> CodeScale:
    step = channel.scale / 25
    origin = round(channel.offset / step)  # Rigol reports yorigin as a whole number of codes
    return CodeScale(step, 0.0, 127 + origin, 0, 255, 0, 255)


def _channel_share(scope: SimulatedScope) -> int:
    """Rate and memory are shared: 1, 2 or 4 ways by the channels on."""
    on = sum(1 for s in scope.channels.values() if s.display)
    return 1 if on <= 1 else 2 if on == 2 else 4


class RigolDialect:
    """Commands and waveform readout of a DS1000Z scope."""

    name = "rigol"
    identity = "RIGOL TECHNOLOGIES,DS1104Z,DS1ZA000000001,00.04.04.SP4"
    error_capacity = 20

    def __init__(self) -> None:
        self._defaults()

    def _defaults(self) -> None:
        self.sweep = "AUTO"
        self.depth: int | None = None  # None: AUTO
        self.source = 1
        self.mode = "NORM"
        self.format = "BYTE"
        self.start = 1
        self.stop = SCREEN_POINTS

    def reset(self, scope: SimulatedScope) -> None:
        self._defaults()
        # DS1000Z channels come up expecting a 10:1 probe.
        scope.channels = {
            n: ChannelSettings(scale=1.0, offset=0.0, probe=10.0, unit="VOLT", display=n == 1)
            for n in (1, 2, 3, 4)
        }
        scope.timebase_scale = 1e-6
        scope.edge_trigger = EdgeTrigger("CHAN1", 0.0, "POS")
        scope.acquisition.run()

    def record(self, scope: SimulatedScope) -> Record:
        window = DIVISIONS * scope.timebase_scale
        share = _channel_share(scope)
        top_rate, memory = MAX_RATE_HZ / share, MEMORY_POINTS // share
        if self.depth is None:
            rate = one_two_five_rate(top_rate, memory / window)
        else:
            rate = min(top_rate, min(self.depth, memory) / window)
        return Record(rate, max(2, round(window * rate)), scope.timebase_position - window / 2)

    # -- command table ---------------------------------------------------------------

    def commands(self, scope: SimulatedScope) -> list[Command]:
        acq = scope.acquisition

        def single() -> None:
            self.sweep = "SING"
            acq.single()

        def set_sweep(call: Call, value: str) -> None:
            self.sweep = value
            if value == "SING":
                acq.single()

        def set_depth(call: Call) -> None:
            text = call.only()
            if text.upper() == "AUTO":
                self.depth = None
                return
            value = int(depth.parse(text, call))
            if value not in DEPTHS:
                listed = ", ".join(str(d) for d in DEPTHS)
                raise ScpiError(-224, f"{call.header} {value} is not AUTO or one of {listed}")
            self.depth = value

        def set_trigger(**changes: object) -> None:
            scope.edge_trigger = replace(scope.edge_trigger, **changes)  # type: ignore[arg-type]

        def preamble_field(index: int) -> Callable[[Call], str]:
            return lambda call: self._preamble(scope)[index]

        points = Number(1, 24_000_000, integer=True, fmt="{:d}")
        depth = points
        return [
            action(":RUN", acq.run),
            action(":STOP", acq.stop),
            action(":SINGle", single),
            action(":TFORce", scope.force_trigger),
            query(":TRIGger:STATus", lambda c: self._status(scope)),
            setting(
                ":TIMebase[:MAIN]:SCALe",
                Number(5e-9, 50, unit="S", fmt=_F),
                lambda c: scope.timebase_scale,
                lambda c, v: setattr(scope, "timebase_scale", v),
            ),
            setting(
                ":TIMebase[:MAIN]:OFFSet",
                Number(-500, 500, unit="S", fmt=_F),
                lambda c: scope.timebase_position,
                lambda c, v: setattr(scope, "timebase_position", v),
            ),
            setting(
                ":TIMebase:MODE",
                Choice(("MAIN", "XY", "ROLL")),
                lambda c: scope.timebase_mode,
                lambda c, v: setattr(scope, "timebase_mode", v),
            ),
            query(":ACQuire:SRATe", lambda c: _F.format(self.record(scope).sample_rate_hz)),
            Command(
                ":ACQuire:MDEPth",
                write=set_depth,
                query=lambda c: "AUTO" if self.depth is None else str(self.depth),
            ),
            *scope.channel_commands(
                probe=Number(0.01, 1000, fmt=_F),
                units=Choice(("VOLTage", "WATT", "AMPere", "UNKNown")),
                coupling=Choice(("DC", "AC", "GND")),
                scale_per_probe=(1e-3, 10.0),
                offset_per_probe=100.0,
                fmt=_F,
                probe_values=PROBE_RATIOS,
            ),
            setting(
                ":CHANnel<1-4>:BWLimit",
                Choice(("20M", "OFF")),
                scope.channel_value("bandwidth_limit"),
                lambda c, v: scope.update_channel(c, bandwidth_limit=v),
            ),
            setting(":ACQuire:TYPE", Choice(("NORMal",)), lambda c: "NORM", lambda c, v: None),
            setting(":TRIGger:MODE", Choice(("EDGE",)), lambda c: "EDGE", lambda c, v: None),
            setting(
                ":TRIGger:SWEep",
                Choice(("AUTO", "NORMal", "SINGle")),
                lambda c: self.sweep,
                set_sweep,
            ),
            setting(
                ":TRIGger:EDGe:SOURce",
                Choice(("CHANnel<1-4>",)),
                lambda c: scope.edge_trigger.source,
                lambda c, v: set_trigger(source=v),
            ),
            setting(
                ":TRIGger:EDGe:LEVel",
                Number(-1e6, 1e6, fmt=_F),
                lambda c: scope.edge_trigger.level,
                lambda c, v: set_trigger(level=v),
            ),
            setting(
                ":TRIGger:EDGe:SLOPe",
                Choice(("POSitive", "NEGative", "RFALl")),
                lambda c: scope.edge_trigger.slope,
                lambda c, v: set_trigger(slope=v),
            ),
            setting(
                ":WAVeform:SOURce",
                Choice(("CHANnel<1-4>",)),
                lambda c: f"CHAN{self.source}",
                lambda c, v: setattr(self, "source", int(v[4:])),
            ),
            setting(
                ":WAVeform:MODE",
                Choice(("NORMal", "MAXimum", "RAW")),
                lambda c: self.mode,
                lambda c, v: setattr(self, "mode", v),
            ),
            setting(
                ":WAVeform:FORMat",
                Choice(("WORD", "BYTE", "ASCii")),
                lambda c: self.format,
                lambda c, v: setattr(self, "format", v),
            ),
            setting(
                ":WAVeform:STARt",
                points,
                lambda c: self.start,
                lambda c, v: setattr(self, "start", int(v)),
            ),
            setting(
                ":WAVeform:STOP",
                points,
                lambda c: self.stop,
                lambda c, v: setattr(self, "stop", int(v)),
            ),
            query(":WAVeform:PREamble", lambda c: ",".join(self._preamble(scope))),
            query(":WAVeform:DATA", lambda c: self._data(scope, c)),
            *(
                query(f":WAVeform:{name}", preamble_field(index))
                for name, index in (
                    ("XINCrement", 4),
                    ("XORigin", 5),
                    ("XREFerence", 6),
                    ("YINCrement", 7),
                    ("YORigin", 8),
                    ("YREFerence", 9),
                )
            ),
        ]

    # -- readout ---------------------------------------------------------------------

    def _status(self, scope: SimulatedScope) -> str:
        acq = scope.acquisition
        if acq.state == STOPPED:
            return "STOP"
        if acq.state == SINGLE:
            return "WAIT"
        assert acq.state == RUNNING
        if acq.trigger_event:
            acq.trigger_event = False
            return "TD"
        return "AUTO" if self.sweep == "AUTO" else "RUN"

    def _view(self, scope: SimulatedScope) -> tuple[Segment | None, Record, str]:
        """The capture read now, the grid of the mode in force and that mode."""
        segments = scope.acquisition.segments
        segment = segments[-1] if segments else None
        record = segment.record if segment else self.record(scope)
        mode = self.mode
        if mode == "MAX":
            mode = "NORM" if scope.acquisition.accepting else "RAW"
        if mode == "NORM":
            record = Record(SCREEN_POINTS / record.window_s, SCREEN_POINTS, record.start_s)
        return segment, record, mode

    def _preamble(self, scope: SimulatedScope) -> list[str]:
        segment, record, _ = self._view(scope)
        channel = (segment.channels if segment else scope.channels).get(self.source)
        scale = code_scale(channel or scope.channels[self.source])
        origin = int(scale.reference) - 127
        return [
            str(FORMAT_CODES[self.format]),
            str(MODE_CODES[self.mode]),
            str(record.points),
            "1",
            _F.format(1 / record.sample_rate_hz),
            _F.format(record.start_s),
            "0",
            _F.format(scale.increment),
            str(origin),
            "127",
        ]

    def _data(self, scope: SimulatedScope, call: Call) -> bytes:
        call.no_params()
        segment, record, mode = self._view(scope)
        if scope.timebase_mode != "MAIN":
            raise ScpiError(-221, f":WAV:DATA? is not available in :TIM:MODE {scope.timebase_mode}")
        if mode == "RAW" and scope.acquisition.accepting:
            raise ScpiError(-221, ":WAV:MODE RAW reads memory only after :STOP")
        if segment is None:
            raise ScpiError(-230, "no acquisition since the scope was armed")
        channel = segment.channels.get(self.source)
        if channel is None:
            raise ScpiError(-221, f"CHAN{self.source} was off when the acquisition triggered")
        stop = min(self.stop, record.points)
        if self.start > stop:
            raise ScpiError(-222, f":WAV:STAR {self.start} is beyond the {record.points} points")
        count = stop - self.start + 1
        if count > READ_LIMITS[self.format]:
            raise ScpiError(
                -222,
                f":WAV:STAR..STOP spans {count} points; one {self.format} read takes at most "
                f"{READ_LIMITS[self.format]}",
            )
        scale = code_scale(channel)
        key = (segment.number, self.source, self.format, mode, self.start, count)

        def build() -> bytes:
            values = segment.values(self.source, record.times(self.start - 1, 1, count))
            codes = scale.encode(values, segment.ceilings.get(self.source))
            if self.format == "ASC":
                return ",".join(map(_F.format, scale.decode(codes).tolist())).encode("ascii")
            return codes.astype(np.uint8 if self.format == "BYTE" else "<u2").tobytes()

        return scope.block_reply(build, key, BLOCK_DIGITS)
