"""One train of raw scope codes, ready for vectorised measurement.

Rows are pulses, columns samples. Codes stay as the scope sent them (uint8
for BYTE, 16-bit for WORD); the scaling turns a code into a physical value,
value = (code - reference) * scale + offset, which covers the Keysight,
Rigol and Tektronix preambles alike. Measurements work on the codes and
convert only the per-pulse results.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from drivers.values import Capture, Waveform

_INTEGER_KINDS = "ui"


def default_clip_codes(dtype: np.dtype) -> tuple[int, int]:
    """The codes a scope writes for clipped-low and clipped-high samples.

    Keysight BYTE uses 0x01 and 0xFF (0x00 marks a hole), WORD 0x0100 and
    0xFF00; signed formats clip at the ends of their range.
    """
    dtype = np.dtype(dtype)
    if dtype == np.uint8:
        return 0x01, 0xFF
    if dtype == np.uint16:
        return 0x0100, 0xFF00
    info = np.iinfo(dtype)
    return int(info.min), int(info.max)


def _per_row(name: str, value: float | np.ndarray | Sequence[float], rows: int) -> np.ndarray:
    array = np.broadcast_to(np.asarray(value, dtype=np.float64), (rows,)).copy()
    if not np.all(np.isfinite(array)):
        raise ValueError(f"raw train: {name} must be finite")
    return array


@dataclass(frozen=True, eq=False)
class RawChannel:
    """Codes of one channel for every pulse of a train, with their scaling.

    `scale`, `offset` and `reference` may be scalars or one value per row;
    they are stored per row. A sample at or beyond `clip_low` / `clip_high`
    is clipped (or a hole) and makes its pulse unmeasured.
    """

    codes: np.ndarray  # (pulses, samples), integer
    scale: np.ndarray  # (pulses,) physical units per code
    offset: np.ndarray  # (pulses,)
    reference: np.ndarray  # (pulses,)
    clip_low: int
    clip_high: int

    def __init__(
        self,
        codes: np.ndarray,
        scale: float | np.ndarray,
        offset: float | np.ndarray,
        reference: float | np.ndarray,
        clip_codes: tuple[int, int] | None = None,
    ) -> None:
        codes = np.asarray(codes)
        if codes.ndim != 2 or codes.dtype.kind not in _INTEGER_KINDS:
            raise ValueError(
                f"raw train: codes must be a 2-D integer array (pulses x samples), "
                f"got {codes.ndim}-D {codes.dtype}"
            )
        if not codes.dtype.isnative:
            codes = codes.astype(codes.dtype.newbyteorder("="))
        rows = codes.shape[0]
        scale_rows = _per_row("scale", scale, rows)
        if np.any(scale_rows <= 0):
            raise ValueError("raw train: scale must be positive (physical units per code)")
        low, high = default_clip_codes(codes.dtype) if clip_codes is None else clip_codes
        if not low < high:
            raise ValueError(f"raw train: clip codes {low}, {high} are not low < high")
        object.__setattr__(self, "codes", np.ascontiguousarray(codes))
        object.__setattr__(self, "scale", scale_rows)
        object.__setattr__(self, "offset", _per_row("offset", offset, rows))
        object.__setattr__(self, "reference", _per_row("reference", reference, rows))
        object.__setattr__(self, "clip_low", int(low))
        object.__setattr__(self, "clip_high", int(high))

    def code_of(self, value: float | np.ndarray) -> np.ndarray:
        """The (fractional) code of a physical value, per row."""
        return self.reference + (np.asarray(value, dtype=np.float64) - self.offset) / self.scale

    def value_of(self, code: float | np.ndarray) -> np.ndarray:
        """The physical value of a (possibly fractional or summed-then-averaged) code, per row."""
        return (np.asarray(code, dtype=np.float64) - self.reference) * self.scale + self.offset


@dataclass(frozen=True, eq=False)
class RawTrain:
    """Both channels of a train plus its time base.

    Row k holds pulse slot `slots[k]` of the train (0-based). `t0_s` is the
    time of sample 0 relative to that row's trigger; `time_tags_s` is each
    row's trigger time on a clock common to the train (the scope's segment
    time tags), or None when the rows were separate acquisitions.
    """

    voltage: RawChannel
    current: RawChannel
    dt_s: float
    t0_s: np.ndarray  # (pulses,)
    time_tags_s: np.ndarray | None  # (pulses,)
    slots: np.ndarray  # (pulses,) int

    def __init__(
        self,
        voltage: RawChannel,
        current: RawChannel,
        dt_s: float,
        t0_s: float | np.ndarray,
        time_tags_s: np.ndarray | Sequence[float] | None = None,
        slots: np.ndarray | Sequence[int] | None = None,
    ) -> None:
        if voltage.codes.shape != current.codes.shape:
            raise ValueError(
                f"raw train: voltage codes {voltage.codes.shape} and current codes "
                f"{current.codes.shape} differ in shape"
            )
        if not (np.isfinite(dt_s) and dt_s > 0):
            raise ValueError(f"raw train: dt_s must be positive, got {dt_s!r}")
        rows = voltage.codes.shape[0]
        slot_rows = np.arange(rows) if slots is None else np.asarray(slots, dtype=np.int64)
        if slot_rows.shape != (rows,) or np.any(slot_rows < 0):
            raise ValueError(f"raw train: need {rows} non-negative slot numbers")
        if np.any(np.diff(slot_rows) <= 0):
            raise ValueError("raw train: slot numbers must increase from row to row")
        tags = None if time_tags_s is None else _per_row("time tags", time_tags_s, rows)
        object.__setattr__(self, "voltage", voltage)
        object.__setattr__(self, "current", current)
        object.__setattr__(self, "dt_s", float(dt_s))
        object.__setattr__(self, "t0_s", _per_row("t0_s", t0_s, rows))
        object.__setattr__(self, "time_tags_s", tags)
        object.__setattr__(self, "slots", slot_rows)

    @property
    def pulses(self) -> int:
        return int(self.voltage.codes.shape[0])

    @property
    def samples(self) -> int:
        return int(self.voltage.codes.shape[1])

    @classmethod
    def from_captures(
        cls,
        captures: Sequence[Capture],
        *,
        slots: Sequence[int] | None = None,
        timed: bool = True,
        clip_codes: tuple[int, int] | None = None,
    ) -> RawTrain:
        """Stack the codes of one capture per pulse (segments of one acquisition).

        `timed=False` when the captures were separate acquisitions whose time
        tags share no clock (then timing is judged from the firmware).
        """
        if not captures:
            raise ValueError("raw train: no captures to measure")
        first = captures[0]
        for k, capture in enumerate(captures):
            for wave, ref in ((capture.voltage, first.voltage), (capture.current, first.current)):
                if wave.codes.shape != ref.codes.shape or wave.codes.dtype != ref.codes.dtype:
                    raise ValueError(
                        f"raw train: capture {k} {wave.quantity} has {wave.codes.size} "
                        f"{wave.codes.dtype} codes, capture 0 has {ref.codes.size} "
                        f"{ref.codes.dtype}; all pulses of a train need the same record"
                    )
                if not np.isclose(wave.dt_s, ref.dt_s, rtol=1e-9, atol=0.0):
                    raise ValueError(
                        f"raw train: capture {k} samples every {wave.dt_s:g} s, capture 0 "
                        f"every {ref.dt_s:g} s"
                    )
        tags = [c.time_tag_s for c in captures] if timed else None
        return cls(
            voltage=_channel([c.voltage for c in captures], clip_codes),
            current=_channel([c.current for c in captures], clip_codes),
            dt_s=first.voltage.dt_s,
            t0_s=np.array([c.voltage.t0_s for c in captures]),
            time_tags_s=tags,
            slots=slots,
        )


def _channel(waves: Sequence[Waveform], clip_codes: tuple[int, int] | None) -> RawChannel:
    return RawChannel(
        codes=np.stack([w.codes for w in waves]),
        scale=np.array([w.scale for w in waves]),
        offset=np.array([w.offset for w in waves]),
        reference=np.array([w.reference for w in waves]),
        clip_codes=clip_codes,
    )
