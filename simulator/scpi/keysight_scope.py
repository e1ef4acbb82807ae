"""The Keysight InfiniiVision dialect of the simulated scope (a 3000T-like model).

Record grid: 10 divisions, up to 2.5 GSa/s and 4 Mpts shared by the
segments; the rate is the fastest 1-2-5 step of the maximum that fits the
memory. `:WAV:POIN:MODE NORM` offers at most 62 500 points, RAW (or MAX when
stopped) the whole record; asking for fewer keeps every n-th point.

Codes: BYTE 32 per division around 128 (offset at screen centre), valid
0x02..0xFE, clip codes 0x01 low and 0xFF high; WORD the same × 256 around
0x8000, clip codes 0x0100 and 0xFF00. `:WAV:UNS 0` shifts codes and yreference
by 0x80 (0x8000). A query that fails (no data, channel off, XY mode) adds its
error to the queue and sends no reply, as IEEE 488.2 prescribes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from types import MappingProxyType
from typing import TYPE_CHECKING

import numpy as np

from simulator.scpi.acquisition import EdgeTrigger
from simulator.scpi.commands import Call, Command, action, query, setting
from simulator.scpi.digitiser import (
    ChannelSettings,
    CodeScale,
    Record,
    Segment,
    decimation,
    one_two_five_rate,
)
from simulator.scpi.error_queue import ScpiError
from simulator.scpi.parameters import SCPI_INFINITY, Choice, Flag, Number

if TYPE_CHECKING:
    from simulator.scpi.scope import SimulatedScope

DIVISIONS = 10
MAX_RATE_HZ = 2.5e9
MEMORY_POINTS = 4_000_000
NORMAL_POINTS = 62_500
BLOCK_DIGITS = 8
FORMAT_CODES = MappingProxyType({"BYTE": 0, "WORD": 1, "ASC": 4})
_F = "{:+.6E}"
_PRE = "{:+.10E}"


def code_scale(channel: ChannelSettings, word: bool) -> CodeScale:
    """The unsigned code scale of one channel (BYTE or WORD)."""
    byte_step = channel.scale / 32
    if word:
        return CodeScale(byte_step / 256, channel.offset, 0x8000, 0x0101, 0xFEFF, 0x0100, 0xFF00)
    return CodeScale(byte_step, channel.offset, 0x80, 0x02, 0xFE, 0x01, 0xFF)


class KeysightDialect:
    """Commands and waveform readout of an InfiniiVision X-series scope."""

    name = "keysight"
    identity = "KEYSIGHT TECHNOLOGIES,DSOX3024T,SIM0000001,07.50.2021102830"
    error_capacity = 30

    def __init__(self) -> None:
        self._defaults()

    def _defaults(self) -> None:
        self.sweep = "AUTO"
        self.reference = "CENT"
        self.source = 1
        self.format = "BYTE"
        self.byte_order = "MSBF"
        self.unsigned = True
        self.points_mode = "NORM"
        self.points = 1000
        self.segment_index = 1

    def reset(self, scope: SimulatedScope) -> None:
        self._defaults()
        scope.channels = {
            n: ChannelSettings(scale=1.0, offset=0.0, probe=1.0, unit="VOLT", display=n == 1)
            for n in (1, 2, 3, 4)
        }
        scope.timebase_scale = 100e-6
        scope.edge_trigger = EdgeTrigger("CHAN1", 0.0, "POS")
        # The scope comes out of *RST running.
        scope.acquisition.run()

    def record(self, scope: SimulatedScope) -> Record:
        window = DIVISIONS * scope.timebase_scale
        acquisition = scope.acquisition
        memory = MEMORY_POINTS // (acquisition.segment_count if acquisition.segmented else 1)
        rate = one_two_five_rate(MAX_RATE_HZ, memory / window)
        points = max(2, round(window * rate))
        # The delay reference sits one division from the left, mid-screen or one from the right.
        before = {"LEFT": 1, "CENT": DIVISIONS / 2, "RIGH": DIVISIONS - 1}[self.reference]
        return Record(rate, points, scope.timebase_position - before * scope.timebase_scale)

    # -- command table -----------------------------------------------------------------

    def commands(self, scope: SimulatedScope) -> list[Command]:
        acq = scope.acquisition

        def read_clear(flag: str) -> str:
            value = getattr(acq, flag)
            setattr(acq, flag, False)
            return "1" if value else "0"

        def set_timebase(call: Call, value: float) -> None:
            scope.timebase_scale = value

        def set_segment_index(call: Call, value: float) -> None:
            if value > acq.segment_count:
                raise ScpiError(
                    -222, f"{call.header} {value:g} beyond :ACQ:SEGM:COUN {acq.segment_count}"
                )
            self.segment_index = int(value)

        def set_trigger(**changes: object) -> None:
            scope.edge_trigger = replace(scope.edge_trigger, **changes)  # type: ignore[arg-type]

        def seconds(low: float, high: float) -> Number:
            return Number(low, high, unit="S", fmt=_F)

        def preamble_field(index: int) -> Callable[[Call], str]:
            return lambda call: self._preamble(scope)[index]

        return [
            action(":RUN", acq.run),
            action(":STOP", acq.stop),
            action(":SINGle", acq.single),
            action(":TRIGger:FORCe", scope.force_trigger),
            query(":AER", lambda c: read_clear("armed_event")),
            query(":TER", lambda c: read_clear("trigger_event")),
            query(":OPERegister:CONDition", lambda c: f"{0x28 if acq.accepting else 0:+d}"),
            setting(
                ":TIMebase:SCALe",
                seconds(1e-9, 50),
                lambda c: scope.timebase_scale,
                set_timebase,
            ),
            setting(
                ":TIMebase:RANGe",
                seconds(10e-9, 500),
                lambda c: DIVISIONS * scope.timebase_scale,
                lambda c, v: set_timebase(c, v / DIVISIONS),
            ),
            setting(
                ":TIMebase:POSition",
                seconds(-500, 500),
                lambda c: scope.timebase_position,
                lambda c, v: setattr(scope, "timebase_position", v),
            ),
            setting(
                ":TIMebase:MODE",
                Choice(("MAIN", "WINDow", "XY", "ROLL")),
                lambda c: scope.timebase_mode,
                lambda c, v: setattr(scope, "timebase_mode", v),
            ),
            setting(
                ":TIMebase:REFerence",
                Choice(("LEFT", "CENTer", "RIGHt")),
                lambda c: self.reference,
                lambda c, v: setattr(self, "reference", v),
            ),
            query(":ACQuire:SRATe", lambda c: _F.format(self.record(scope).sample_rate_hz)),
            query(":ACQuire:POINts", lambda c: f"{self.record(scope).points:+d}"),
            setting(
                ":ACQuire:MODE",
                Choice(("RTIMe", "SEGMented")),
                lambda c: "SEGM" if acq.segmented else "RTIM",
                lambda c, v: setattr(acq, "segmented", v == "SEGM"),
            ),
            setting(":ACQuire:TYPE", Choice(("NORMal",)), lambda c: "NORM", lambda c, v: None),
            setting(
                ":ACQuire:SEGMented:COUNt",
                Number(2, 1000, integer=True),
                lambda c: acq.segment_count,
                lambda c, v: setattr(acq, "segment_count", int(v)),
            ),
            setting(
                ":ACQuire:SEGMented:INDex",
                Number(1, 1000, integer=True),
                lambda c: self.segment_index,
                set_segment_index,
            ),
            *scope.channel_commands(
                probe=Number(0.001, 10_000, fmt=_F),
                units=Choice(("VOLT", "AMPere")),
                coupling=Choice(("DC", "AC")),
                scale_per_probe=(1e-3, 5.0),
                offset_per_probe=40.0,
                fmt=_F,
            ),
            setting(
                ":CHANnel<1-4>:BWLimit",
                Flag(),
                lambda c: scope.channels[c.suffix()].bandwidth_limit == "ON",
                lambda c, v: scope.update_channel(c, bandwidth_limit="ON" if v else "OFF"),
            ),
            setting(
                ":CHANnel<1-4>:IMPedance",
                Choice(("ONEMeg", "FIFTy")),
                scope.channel_value("impedance"),
                lambda c, v: scope.update_channel(c, impedance=v),
            ),
            setting(
                ":TRIGger[:EDGE]:SOURce",
                Choice(("CHANnel<1-4>", "EXTernal")),
                lambda c: scope.edge_trigger.source,
                lambda c, v: set_trigger(source=v),
            ),
            setting(
                ":TRIGger[:EDGE]:LEVel",
                Number(-1e6, 1e6, fmt=_F),
                lambda c: scope.edge_trigger.level,
                lambda c, v: set_trigger(level=v),
            ),
            setting(
                ":TRIGger[:EDGE]:SLOPe",
                Choice(("POSitive", "NEGative", "EITHer", "ALTernate")),
                lambda c: scope.edge_trigger.slope,
                lambda c, v: set_trigger(slope=v),
            ),
            setting(":TRIGger:MODE", Choice(("EDGE",)), lambda c: "EDGE", lambda c, v: None),
            setting(
                ":TRIGger:SWEep",
                Choice(("AUTO", "NORMal")),
                lambda c: self.sweep,
                lambda c, v: setattr(self, "sweep", v),
            ),
            setting(
                ":WAVeform:SOURce",
                Choice(("CHANnel<1-4>",)),
                lambda c: f"CHAN{self.source}",
                lambda c, v: setattr(self, "source", int(v[4:])),
            ),
            setting(
                ":WAVeform:FORMat",
                Choice(("BYTE", "WORD", "ASCii")),
                lambda c: self.format,
                lambda c, v: setattr(self, "format", v),
            ),
            setting(
                ":WAVeform:BYTeorder",
                Choice(("LSBFirst", "MSBFirst")),
                lambda c: self.byte_order,
                lambda c, v: setattr(self, "byte_order", v),
            ),
            setting(
                ":WAVeform:UNSigned",
                Flag(),
                lambda c: self.unsigned,
                lambda c, v: setattr(self, "unsigned", v),
            ),
            setting(
                ":WAVeform:POINts:MODE",
                Choice(("NORMal", "MAXimum", "RAW")),
                lambda c: self.points_mode,
                lambda c, v: setattr(self, "points_mode", v),
            ),
            setting(
                ":WAVeform:POINts",
                Number(100, 8_000_000, integer=True),
                lambda c: self._plan(scope)[1],
                lambda c, v: setattr(self, "points", int(v)),
            ),
            query(":WAVeform:PREamble", lambda c: ",".join(self._preamble(scope))),
            query(":WAVeform:DATA", lambda c: self._data(scope, c)),
            query(
                ":WAVeform:SEGMented:COUNt",
                lambda c: f"{len(acq.segments) if acq.segmented else 0:+d}",
            ),
            query(":WAVeform:SEGMented:TTAG", lambda c: _PRE.format(self._tag(scope))),
            query(":WAVeform:COUNt", lambda c: "+1"),
            query(":WAVeform:TYPE", lambda c: "NORM"),
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

    # -- waveform readout ----------------------------------------------------------------

    def _segment(self, scope: SimulatedScope) -> Segment | None:
        segments = scope.acquisition.segments
        if not scope.acquisition.segmented:
            return segments[-1] if segments else None
        return segments[self.segment_index - 1] if self.segment_index <= len(segments) else None

    def _plan(self, scope: SimulatedScope) -> tuple[int, int]:
        """(step, count) of the points `:WAV:DATA?` returns now."""
        segment = self._segment(scope)
        record = segment.record if segment else self.record(scope)
        whole = self.points_mode == "RAW" or (
            self.points_mode == "MAX" and not scope.acquisition.accepting
        )
        available = record.points if whole else min(record.points, NORMAL_POINTS)
        step, _ = decimation(record.points, min(self.points, available))
        return step, record.points // step

    def _tag(self, scope: SimulatedScope) -> float:
        segment = self._segment(scope)
        return segment.tag_s if segment is not None and scope.acquisition.segmented else 0.0

    def _scale(self, channel: ChannelSettings) -> tuple[CodeScale, int]:
        """The code scale and the shift that `:WAV:UNS 0` applies to codes."""
        word = self.format == "WORD"
        shift = 0 if self.unsigned else (0x8000 if word else 0x80)
        return code_scale(channel, word), shift

    def _preamble(self, scope: SimulatedScope) -> list[str]:
        segment = self._segment(scope)
        record = segment.record if segment else self.record(scope)
        channel = (segment.channels if segment else scope.channels).get(self.source)
        channel = channel or scope.channels[self.source]
        step, count = self._plan(scope)
        scale, shift = self._scale(channel)
        return [
            f"{FORMAT_CODES[self.format]:+d}",
            "+0",
            f"{count:+d}",
            "+1",
            _PRE.format(step / record.sample_rate_hz),
            _PRE.format(record.start_s),
            "+0",
            _PRE.format(scale.increment),
            _PRE.format(scale.origin),
            f"{int(scale.reference) - shift:+d}",
        ]

    def _data(self, scope: SimulatedScope, call: Call) -> bytes:
        call.no_params()
        if scope.timebase_mode in ("XY", "ROLL"):
            raise ScpiError(-221, f":WAV:DATA? is not available in :TIM:MODE {scope.timebase_mode}")
        segment = self._segment(scope)
        if segment is None:
            if scope.acquisition.segmented and scope.acquisition.segments:
                raise ScpiError(-222, f"segment {self.segment_index} has not been acquired")
            raise ScpiError(-230, "no acquisition since the scope was armed")
        channel = segment.channels.get(self.source)
        if channel is None:
            raise ScpiError(-221, f"CHAN{self.source} was off when the acquisition triggered")
        step, count = self._plan(scope)
        scale, shift = self._scale(channel)
        key = (segment.number, self.source, self.format, self.byte_order, shift, step, count)

        def build() -> bytes:
            values = segment.values(self.source, segment.record.times(0, step, count))
            codes = scale.encode(values, segment.ceilings.get(self.source))
            if self.format == "ASC":
                shown = scale.decode(codes)
                shown[(codes == scale.clip_low) | (codes == scale.clip_high)] = SCPI_INFINITY
                return ",".join(map("{:+.6E}".format, shown.tolist())).encode("ascii")
            if self.format == "BYTE":
                return (codes - shift).astype(np.uint8 if self.unsigned else np.int8).tobytes()
            endian = ">" if self.byte_order == "MSBF" else "<"
            kind = "u2" if self.unsigned else "i2"
            return (codes - shift).astype(endian + kind).tobytes()

        return scope.block_reply(build, key, BLOCK_DIGITS)
