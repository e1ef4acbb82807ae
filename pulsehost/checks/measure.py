"""Vectorised measurement of a whole train of raw scope codes.

All rows are read in the same columns, placed around their rising edges:
segment sums over a partition of the pulse window (pre-rise, the 10 % and
90 % windows, the plateau, the tail) come from one integer pass per channel
over those columns, and the few samples by which a row's own rise differs
from the others' are added or removed afterwards. Codes become volts and
amperes only in the per-pulse results, so the float work grows with the
number of pulses, not of samples. Nothing the size of the train is copied:
fresh large arrays cost page faults that outweigh the arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pulsehost.checks.expectation import TrainExpectation
from pulsehost.checks.measurements import TrainMeasurements
from pulsehost.checks.raw import RawChannel, RawTrain
from pulsehost.checks.thresholds import Thresholds

# Fewer samples per set width than this cannot place a 10 %-90 % plateau,
# 5 % current windows and 50 % crossings with any meaning.
MIN_WIDTH_SAMPLES = 40

# Cuts of the pulse window as fractions of the set width after the rise. The
# segments between consecutive bounds (window start, the cuts, window end)
# are: 0 before 7.5 %, 1 7.5-10 %, 2 10-12.5 %, 3 12.5-87.5 %, 4 87.5-90 %,
# 5 90-92.5 %, 6 the tail.
_CUTS = (0.075, 0.10, 0.125, 0.875, 0.90, 0.925)
# Windows as (first, last) segments: the plateau (10-90 %), "at 10 %" (7.5-12.5 %)
# and "at 90 %" (87.5-92.5 %).
_WINDOW_FIRST = (2, 1, 4)
_WINDOW_LAST = (4, 2, 5)
_CORE = 3  # 12.5-87.5 %: a sound pulse stays high here
_MARGIN = 0.10  # the window starts this far before the rise and ends this far after the width
_NEAR = 0.025  # edges are first looked for this close to the rise (fraction of the width)
# Rows whose rises lie further apart than this are measured in separate groups.
_MAX_SPREAD = 64
_PRODUCT_CHUNK_BYTES = 1 << 19  # scratch for the energy products, kept in cache


class MeasurementError(ValueError):
    """The raw train cannot be measured against this expectation (sampling, record length)."""


@dataclass(frozen=True, eq=False)
class _Geometry:
    """Window bounds relative to each row's rise, in samples."""

    bounds: tuple[int, ...]  # window start (negative), the cuts, window end
    near: int  # half-width of the first search for an edge
    # Per window: the running-sum columns bounding it (first - 1, last) and its length.
    below: np.ndarray
    upto: np.ndarray
    lengths: np.ndarray

    @classmethod
    def of(cls, width: float, end: int | None = None) -> _Geometry:
        natural = round((1 + _MARGIN) * width)
        cuts = tuple(round(f * width) for f in _CUTS)
        bounds = (-round(_MARGIN * width), *cuts, natural if end is None else max(end, natural))
        first, last = np.array(_WINDOW_FIRST), np.array(_WINDOW_LAST)
        lengths = np.array(bounds)[last + 1] - np.array(bounds)[first]
        return cls(bounds, max(2, round(_NEAR * width)), first - 1, last, lengths)

    @property
    def start(self) -> int:
        return self.bounds[0]

    @property
    def end(self) -> int:
        return self.bounds[-1]


def measure_train(
    raw: RawTrain, expectation: TrainExpectation, thresholds: Thresholds
) -> TrainMeasurements:
    """Measure every pulse of `raw`; docs/checks.md defines each quantity."""
    width = expectation.width_s / raw.dt_s
    if width < MIN_WIDTH_SAMPLES:
        raise MeasurementError(
            f"the set width of {expectation.width_s * 1e6:g} us spans only {width:.1f} "
            f"samples at {1e-6 / raw.dt_s:g} MS/s; need at least {MIN_WIDTH_SAMPLES}: "
            "raise the scope's sample rate"
        )
    if raw.samples < width:
        raise MeasurementError(
            f"each record holds {raw.samples} samples, fewer than the set width "
            f"({width:.0f} samples); lengthen the scope's time window"
        )
    volt = raw.voltage
    trigger = np.clip(np.round(-raw.t0_s / raw.dt_s), 0, raw.samples - 1).astype(np.int64)
    half_target = _thresholds(volt.codes.dtype, volt.code_of(0.5 * expectation.v_set_v))
    rise, found = _first_above(volt.codes, half_target, trigger, width)
    rise = np.where(found, rise, trigger)

    order = np.argsort(rise, kind="stable")
    breaks = np.flatnonzero(np.diff(rise[order]) > _MAX_SPREAD) + 1
    if not breaks.size:
        columns = _measure_rows(raw, None, rise, found, width, expectation, thresholds)
    else:
        groups = np.split(order, breaks)
        parts = [
            _measure_rows(raw, rows, rise, found, width, expectation, thresholds) for rows in groups
        ]
        columns = {}
        for name in parts[0]:
            merged = np.empty(raw.pulses, dtype=parts[0][name].dtype)
            for rows, part in zip(groups, parts, strict=True):
                merged[rows] = part[name]
            columns[name] = merged
    return TrainMeasurements(slots=raw.slots.copy(), timed=raw.time_tags_s is not None, **columns)


def _measure_rows(
    raw: RawTrain,
    rows: np.ndarray | None,
    rise: np.ndarray,
    found: np.ndarray,
    width: float,
    expectation: TrainExpectation,
    thresholds: Thresholds,
) -> dict[str, np.ndarray]:
    """Measure rows `rows` (None: all), whose rises lie within _MAX_SPREAD of each other."""
    volt, amp = raw.voltage, raw.current
    t0 = raw.t0_s
    tags = raw.time_tags_s if raw.time_tags_s is not None else np.zeros(raw.pulses)
    if rows is not None:
        volt, amp = _subset(volt, rows), _subset(amp, rows)
        rise, found, t0, tags = rise[rows], found[rows], t0[rows], tags[rows]

    geo = _Geometry.of(width)
    longest = raw.samples - int(rise.min())
    while True:
        frame = _Frame(volt, amp, rise, geo)
        v_means = _to_values(volt, frame.window_means(frame.v_sums))
        plateau_v = v_means[:, 0]
        levels = _to_codes(volt, plateau_v[:, None] * np.array([0.1, 0.5, 0.9]))
        t10, t50, t90 = frame.rising(levels).T
        # Noise around the rising 50 % crossing is no fall: search after the top.
        fall = frame.fall(levels[:, 1], np.where(np.isnan(t90), t50, t90))
        # A pulse longer than its window: widen the window and measure again, so
        # that the charge and energy hold the whole pulse. Half the margin is
        # slack, so that noise on a sound fall never triggers it.
        ends = np.where(np.isnan(fall), float(longest), fall - rise)[found]
        last = float(ends.max(initial=0.0))
        if last - geo.start // 2 <= geo.end or geo.end >= longest:
            break
        geo = _Geometry.of(width, min(int(np.ceil(last)) - geo.start, longest))

    v_peak = _to_values(volt, frame.v_max[:, None])[:, 0]
    i_values = _to_values(amp, np.column_stack([frame.window_means(frame.i_sums), frame.i_max]))
    i_means, i_peak = i_values[:, :3], i_values[:, 3]
    charge, energy = frame.integrals(raw.dt_s)
    plateau_i, v10, v90 = i_means[:, 0], v_means[:, 1], v_means[:, 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        resistance = np.where(plateau_i > 0, plateau_v / plateau_i, np.nan)
        droop = np.where(v10 > 0, (v10 - v90) / v10, np.nan)
    unless_missing = np.where(found, 1.0, np.nan)
    clipped_v, clipped_i = frame.clipped()
    return {
        "start_s": (tags + t0 + t50 * raw.dt_s) * unless_missing,
        "v_plateau_v": plateau_v,
        "i_plateau_a": plateau_i,
        "v_peak_v": v_peak,
        "i_peak_a": i_peak,
        "width_s": (fall - t50) * raw.dt_s * unless_missing,
        "rise_time_s": (t90 - t10) * raw.dt_s * unless_missing,
        "droop": droop * unless_missing,
        "resistance_ohm": resistance,
        "charge_c": charge,
        "energy_j": energy,
        "i10_a": i_means[:, 1],
        "i90_a": i_means[:, 2],
        "clipped_voltage": clipped_v,
        "clipped_current": clipped_i,
        "arc": _arcs(frame, expectation, thresholds) & found,
        "missing": ~found,
    }


def _subset(channel: RawChannel, rows: np.ndarray) -> RawChannel:
    return RawChannel(
        channel.codes[rows],
        channel.scale[rows],
        channel.offset[rows],
        channel.reference[rows],
        (channel.clip_low, channel.clip_high),
    )


def _to_values(channel: RawChannel, codes: np.ndarray) -> np.ndarray:
    """(pulses, k) mean codes to physical values, each row with its own scaling."""
    return (codes - channel.reference[:, None]) * channel.scale[:, None] + channel.offset[:, None]


def _to_codes(channel: RawChannel, values: np.ndarray) -> np.ndarray:
    """(pulses, k) physical values to fractional codes."""
    return channel.reference[:, None] + (values - channel.offset[:, None]) / channel.scale[:, None]


def _thresholds(dtype: np.dtype, levels: np.ndarray) -> np.ndarray:
    """Integer thresholds t in the codes' dtype, with code > t exactly when code > level.

    Comparing codes with an integer of their own dtype keeps every pass in the
    narrow type; a float threshold would widen the whole array first.
    """
    lowest, highest = (0, 255) if dtype == np.uint8 else _range(dtype)
    return np.floor(levels).clip(lowest, highest).astype(dtype)


def _range(dtype: np.dtype) -> tuple[int, int]:
    info = np.iinfo(dtype)
    return int(info.min), int(info.max)


def _first_above(
    codes: np.ndarray, threshold: np.ndarray, trigger: np.ndarray, width: float
) -> tuple[np.ndarray, np.ndarray]:
    """First column above each row's threshold, searched first just around the trigger."""
    rows = np.arange(codes.shape[0])
    lo = max(0, int(trigger.min() - _NEAR * width))
    hi = min(codes.shape[1], int(trigger.max() + 2 * _NEAR * width) + 1)
    above = codes[:, lo:hi] > threshold[:, None]
    j = above.argmax(axis=1)
    found = above[rows, j]
    # Already high where the search began, or nothing there: search the whole record.
    retry = ~found | ((j == 0) & (lo > 0))
    index = j + lo
    if retry.any():
        again = codes[retry] > threshold[retry, None]
        k = again.argmax(axis=1)
        index[retry] = k
        found[retry] = again[np.arange(k.size), k]
    return index, found


class _Frame:
    """Both channels of a group of rows, read in columns common to all of them.

    Offsets are relative to each row's rise. The common column of offset o is
    `base + o`, `base` being the earliest rise; a row whose rise comes `shift`
    samples later owns the columns shifted by that much, which the sums
    correct with the few samples after each bound.
    """

    def __init__(self, volt: RawChannel, amp: RawChannel, rise: np.ndarray, geo: _Geometry):
        self.samples = volt.codes.shape[1]
        v, i, self.pad = _padded(volt, amp, rise, geo)
        self.volt, self.amp, self.geo, self.v, self.i = volt, amp, geo, v, i
        self.rise = rise + self.pad
        self.rows = np.arange(v.shape[0])
        self.base = int(self.rise.min())
        self.shift = self.rise - self.base
        self.spread = int(self.shift.max())
        columns = self.base + np.array(geo.bounds)
        first, last = int(columns[0]), int(columns[-1])
        acc = _accumulator(v.dtype, last - first)
        self.v_sums = _segment_sums(v, columns, acc)
        self.i_sums = _segment_sums(i, columns, acc)
        self.products = _product_sum(v, i, first, last)
        if self.spread:
            self._own_columns(columns)
        stop = last + self.spread
        self.v_max = v[:, first:stop].max(axis=1)
        self.i_max = i[:, first:stop].max(axis=1)
        self.i_min = i[:, first:stop].min(axis=1)
        # The core's minimum serves the fall and arc searches; the window's
        # minimum needs only the rest of the window on top of it.
        core_lo, core_hi = int(columns[_CORE]) + self.spread, int(columns[_CORE + 1])
        self.core_min = v[:, core_lo:core_hi].min(axis=1)
        self.v_min = np.minimum(
            self.core_min,
            np.minimum(v[:, first:core_lo].min(axis=1), v[:, core_hi:stop].min(axis=1)),
        )

    def _own_columns(self, columns: np.ndarray) -> None:
        """Move each row's sums from the common columns onto its own."""
        pulses, spread = self.v.shape[0], self.spread
        index = (columns[:, None] + np.arange(spread)).ravel()
        owned = (np.arange(spread) < self.shift[:, None]).astype(np.float64)[:, :, None]
        v = self.v[:, index].reshape(pulses, columns.size, spread).astype(np.float64)
        i = self.i[:, index].reshape(pulses, columns.size, spread).astype(np.float64)
        # Batched products with the ownership mask: exact, as all values are small integers.
        v_after = np.matmul(v, owned)[:, :, 0]
        i_after = np.matmul(i, owned)[:, :, 0]
        vi_after = np.matmul(v[:, [0, -1]] * i[:, [0, -1]], owned)[:, :, 0]
        self.v_sums += (v_after[:, 1:] - v_after[:, :-1]).astype(np.int64)
        self.i_sums += (i_after[:, 1:] - i_after[:, :-1]).astype(np.int64)
        self.products = self.products + (vi_after[:, 1] - vi_after[:, 0]).astype(np.int64)

    def window_means(self, sums: np.ndarray) -> np.ndarray:
        """(pulses, 3) mean codes over the plateau, "at 10 %" and "at 90 %" windows."""
        geo = self.geo
        running = sums.cumsum(axis=1)
        return (running[:, geo.upto] - running[:, geo.below]) / geo.lengths

    def rising(self, levels: np.ndarray) -> np.ndarray:
        """(pulses, k) record columns where each row first rises above each of its k levels.

        Looked for near the rise first; where that fails (a slow edge), from the
        window start to the end of the core. NaN where never.
        """
        near = self.geo.near
        at = self._rising(levels, self.rows, -near, near)
        missed = np.isnan(at)
        for k in np.flatnonzero(missed.any(axis=0)):
            rows = self.rows[missed[:, k]]
            far = self._rising(levels[rows, k : k + 1], rows, self.geo.start, self.geo.bounds[4])
            at[rows, k] = far[:, 0]
        return at - self.pad

    def _rising(self, levels: np.ndarray, rows: np.ndarray, lo: int, hi: int) -> np.ndarray:
        v = self.v
        first = self.base + lo
        threshold = _thresholds(v.dtype, levels)
        columns = slice(first, self.base + hi + self.spread)
        region = v[:, columns] if rows.size == v.shape[0] else v[rows, columns]
        above = region[:, None, :] > threshold[:, :, None]
        j = above.argmax(axis=2)
        picked = (np.arange(rows.size)[:, None], np.arange(levels.shape[1]), j)
        j = j + first
        # A hit in the first column says the crossing came before the search began.
        valid = above[picked] & (j > first) & (j < self.rise[rows, None] + hi)
        before = v[rows[:, None], j - 1].astype(np.float64)
        after = v[rows[:, None], j].astype(np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            frac = np.clip((levels - before) / (after - before), 0.0, 1.0)
        return np.where(valid, j - 1 + frac, np.nan)

    def fall(self, levels: np.ndarray, top: np.ndarray) -> np.ndarray:
        """Record column of the first fall to or below each row's level after its top; NaN if none.

        A pulse that stayed high through its core is searched only from 87.5 %
        of the set width on; one that dropped early (a trip, an arc) from its top.
        """
        v, rows = self.v, self.rows
        threshold = _thresholds(v.dtype, levels)
        first = self.base + self.geo.bounds[_CORE + 1]
        end = self.base + self.geo.end + self.spread
        below = v[:, first:end] <= threshold[:, None]
        j = below.argmax(axis=1)
        seen = below[rows, j]
        j = j + first
        early = self.core_min <= threshold
        if early.any():
            start = self.base + self.geo.start
            top_column = np.where(np.isnan(top[early]), 0.0, top[early] + self.pad)
            after_top = np.arange(start, end) > top_column[:, None]
            dropped = (v[early, start:end] <= threshold[early, None]) & after_top
            k = dropped.argmax(axis=1)
            j[early] = k + start
            seen[early] = dropped[np.arange(k.size), k]
        # A fall found only in the padding means the pulse outlasted the record.
        seen &= (j >= 1) & (j < self.rise + self.geo.end) & (j < self.pad + self.samples)
        before = v[rows, j - 1].astype(np.float64)
        after = v[rows, j].astype(np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            frac = np.clip((before - levels) / (before - after), 0.0, 1.0)
        return np.where(seen, j - 1 + frac, np.nan) - self.pad

    def integrals(self, dt_s: float) -> tuple[np.ndarray, np.ndarray]:
        """Charge and energy over the whole window, from code sums and the product sum."""
        n = self.geo.end - self.geo.start
        sv = self.v_sums.sum(axis=1).astype(np.float64)
        si = self.i_sums.sum(axis=1).astype(np.float64)
        svi = self.products.astype(np.float64)
        rv, kv, ov = self.volt.reference, self.volt.scale, self.volt.offset
        ri, ki, oi = self.amp.reference, self.amp.scale, self.amp.offset
        # sum of ((cv - rv) kv + ov)((ci - ri) ki + oi), expanded over the code sums
        centred_v = sv - n * rv
        centred_i = si - n * ri
        centred_vi = svi - ri * sv - rv * si + n * rv * ri
        energy = kv * ki * centred_vi + kv * oi * centred_v + ki * ov * centred_i + n * ov * oi
        charge = ki * centred_i + n * oi
        return charge * dt_s, energy * dt_s

    def clipped(self) -> tuple[np.ndarray, np.ndarray]:
        """Per channel: a sample at or beyond a clip code somewhere in the window."""
        volt, amp = self.volt, self.amp
        return (
            (self.v_min <= volt.clip_low) | (self.v_max >= volt.clip_high),
            (self.i_min <= amp.clip_low) | (self.i_max >= amp.clip_high),
        )


def _padded(
    volt: RawChannel, amp: RawChannel, rise: np.ndarray, geo: _Geometry
) -> tuple[np.ndarray, np.ndarray, int]:
    """The codes, padded with the zero-value code where the window leaves the record.

    Returns both channels and the padding added before column 0; without
    padding the codes are returned as they are, uncopied.
    """
    samples = volt.codes.shape[1]
    before = max(0, -(int(rise.min()) + geo.start))
    after = max(0, int(rise.max()) + geo.end + 1 - samples)
    if not before and not after:
        return volt.codes, amp.codes, 0
    padded = []
    for channel in (volt, amp):
        info = np.iinfo(channel.codes.dtype)
        zero = np.clip(np.round(channel.code_of(0.0)), info.min, info.max)
        codes = np.empty((channel.codes.shape[0], before + samples + after), channel.codes.dtype)
        codes[:] = zero.astype(channel.codes.dtype)[:, None]
        codes[:, before : before + samples] = channel.codes
        padded.append(codes)
    return padded[0], padded[1], before


def _accumulator(dtype: np.dtype, length: int) -> type[np.integer]:
    """The narrowest accumulator that cannot overflow over `length` codes; numpy sums it fastest."""
    info = np.iinfo(dtype)
    largest = max(-int(info.min), int(info.max))
    if dtype.kind == "u":
        return np.uint32 if length * largest < 2**32 else np.uint64
    return np.int32 if length * largest < 2**31 else np.int64


def _segment_sums(codes: np.ndarray, columns: np.ndarray, acc: type[np.integer]) -> np.ndarray:
    """Sum of each row over [columns[k], columns[k + 1]) for every k, as int64."""
    sums = np.empty((codes.shape[0], columns.size - 1), dtype=acc)
    for k, (a, b) in enumerate(zip(columns[:-1].tolist(), columns[1:].tolist(), strict=True)):
        codes[:, a:b].sum(axis=1, dtype=acc, out=sums[:, k])
    return sums.astype(np.int64)


def _product_sum(v: np.ndarray, i: np.ndarray, first: int, last: int) -> np.ndarray:
    """Sum over columns [first, last) of each row's code products, exact in integers.

    Worked in column chunks through one small scratch array: BYTE codes
    multiply in 16 bits (255 * 255 fits) and the chunk stays in cache.
    """
    rows = v.shape[0]
    narrow = v.dtype == np.uint8 and i.dtype == np.uint8
    scratch_type = np.uint16 if narrow else np.int64
    chunk = max(256, _PRODUCT_CHUNK_BYTES // (np.dtype(scratch_type).itemsize * rows))
    chunk = min(chunk, 65536, last - first)  # 65536 * 255 * 255 < 2**32
    scratch = np.empty((rows, chunk), dtype=scratch_type)
    total = np.zeros(rows, dtype=np.int64)
    for a in range(first, last, chunk):
        b = min(a + chunk, last)
        part = scratch[:, : b - a]
        np.copyto(part, v[:, a:b])
        np.multiply(part, i[:, a:b], out=part)
        total += part.sum(axis=1, dtype=np.uint32 if narrow else np.int64)
    return total


def _arcs(frame: _Frame, expectation: TrainExpectation, thresholds: Thresholds) -> np.ndarray:
    """Rows where, inside the pulse, the voltage collapsed while the current held or rose.

    A resistive load whose voltage halves draws half the current; an arc
    draws more at far less voltage, so its apparent resistance falls below
    `arc_voltage_fraction` of the lowest the load showed at full voltage.
    Only rows whose core dipped below the arc level are examined sample by
    sample.
    """
    fraction = thresholds.arc_voltage_fraction
    arc_v = fraction * expectation.v_set_v
    candidates = frame.core_min < frame.volt.code_of(arc_v)
    result = np.zeros(candidates.size, dtype=bool)
    if not candidates.any():
        return result
    core_lo, core_hi = frame.geo.bounds[_CORE], frame.geo.bounds[_CORE + 1]
    a, b = frame.base + core_lo, frame.base + core_hi + frame.spread
    v = _values(frame.volt, frame.v[candidates, a:b], candidates)
    i = _values(frame.amp, frame.i[candidates, a:b], candidates)
    loaded = i > thresholds.current_low_factor * expectation.i_pred_low_a
    with np.errstate(divide="ignore", invalid="ignore"):
        load_r = np.where(loaded & (v >= arc_v), v / i, np.inf).min(axis=1)
    load_r = np.where(np.isfinite(load_r), load_r, expectation.v_set_v / expectation.i_pred_high_a)
    collapsed = loaded & (v < arc_v) & (v < fraction * load_r[:, None] * i)
    result[candidates] = collapsed.any(axis=1)
    return result


def _values(channel: RawChannel, codes: np.ndarray, rows: np.ndarray) -> np.ndarray:
    scale = channel.scale[rows, None]
    return (codes - channel.reference[rows, None]) * scale + channel.offset[rows, None]
