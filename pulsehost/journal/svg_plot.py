"""Small inline SVG plots of pulse waveforms, for self-contained HTML reports.

Each plot is sized to be read as one of a grid of small multiples: the
plots of one train share their axes (`shared_ranges`), so a pulse that
differs from its neighbours stands out at a glance.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from html import escape
from typing import Any

import numpy as np

from pulsehost.journal.waveform import WaveformBlock

COLOURS = {"V": "#1f4e9c", "A": "#b8430f"}
OTHER_COLOUR = "#2d6a2d"
NAMES = {"V": "voltage", "A": "current"}

# Geometry in SVG user units; the report shows a plot about 1:1 on screen and in print.
LEFT, RIGHT, TITLE, BOTTOM = 36, 6, 13, 14


def envelope(x: np.ndarray, y: np.ndarray, columns: int) -> tuple[np.ndarray, np.ndarray]:
    """Down-sample to at most 2 x `columns` points keeping each column's min and max,
    so narrow spikes (an arc, a clip) survive the reduction."""
    if y.size <= 2 * columns:
        return x, y
    edges = np.linspace(0, y.size, columns + 1).astype(int)
    lows = np.minimum.reduceat(y, edges[:-1])
    highs = np.maximum.reduceat(y, edges[:-1])
    centres = x[(edges[:-1] + edges[1:]) // 2]
    xs = np.repeat(centres, 2)
    ys = np.empty(2 * columns)
    ys[0::2], ys[1::2] = lows, highs
    return xs, ys


def nice_step(span: float, count: int) -> float:
    """A 1, 2, 2.5 or 5 x 10^n step giving about `count` intervals over `span`."""
    if not math.isfinite(span) or span <= 0:
        return 1.0
    raw = span / max(count, 1)
    power = 10.0 ** math.floor(math.log10(raw))
    for factor in (1.0, 2.0, 2.5, 5.0, 10.0):
        if raw <= factor * power * 1.0000001:
            return factor * power
    return 10.0 * power


def nice_ticks(lo: float, hi: float, count: int = 4) -> list[float]:
    """Round tick values inside [lo, hi], about `count` intervals apart."""
    step = nice_step(hi - lo, count)
    first = math.ceil(lo / step - 1e-9) * step
    ticks = []
    value = first
    while value <= hi + step * 1e-9:
        ticks.append(0.0 if abs(value) < step * 1e-9 else value)
        value += step
    return ticks


def tick_label(value: float, step: float) -> str:
    """A tick value with just the decimals its step needs (250 -> 0, 0.25 -> 2)."""
    decimals = 0
    while decimals < 6 and abs(round(step, decimals) - step) > abs(step) * 1e-6:
        decimals += 1
    text = f"{value:.{decimals}f}"
    return text.lstrip("-") if float(text) == 0 else text


def channel_order(blocks: Mapping[str, WaveformBlock]) -> list[str]:
    """Voltage first, then current, then any other channel by name."""
    return sorted(blocks, key=lambda c: (blocks[c].units != "V", blocks[c].units != "A", c))


def shared_ranges(
    block_sets: Iterable[Mapping[str, WaveformBlock]], target_v: float | None = None
) -> dict[str, tuple[float, float]]:
    """Value range per channel (and `"time"` in µs) over several pulses, padded a little
    and always including zero (and the target voltage on voltage channels)."""
    lows: dict[str, float] = {}
    highs: dict[str, float] = {}
    for blocks in block_sets:
        for channel, block in blocks.items():
            values = block.values()
            if values.size == 0:
                continue
            t_us = block.time_s() * 1e6
            for key, lo, hi in (
                (channel, float(values.min()), float(values.max())),
                ("time", float(t_us[0]), float(t_us[-1])),
            ):
                lows[key] = min(lows.get(key, lo), lo)
                highs[key] = max(highs.get(key, hi), hi)
            if block.units == "V" and target_v is not None and math.isfinite(target_v):
                lows[channel] = min(lows[channel], target_v)
                highs[channel] = max(highs[channel], target_v)
    out = {}
    for key, lo in lows.items():
        hi = highs[key]
        if key != "time":
            lo, hi = min(lo, 0.0), max(hi, 0.0)
            pad = 0.06 * (hi - lo) or 1.0
            lo, hi = (lo - pad if lo < 0 else lo), hi + pad
        elif hi <= lo:
            hi = lo + 1.0
        out[key] = (lo, hi)
    return out


def waveform_svg(
    blocks: Mapping[str, WaveformBlock],
    *,
    width: int = 200,
    panel_height: int = 50,
    target_v: float | None = None,
    ranges: Mapping[str, tuple[float, float]] | None = None,
    label: str = "",
) -> str:
    """One SVG with a panel per channel (voltage first, then current, then others):
    a y axis with ticks in the channel's units, a grid, the set voltage as a dashed
    line on the voltage panel, and a time axis in µs under the last panel."""
    order = channel_order(blocks)
    ranges = dict(ranges or shared_ranges([blocks], target_v))
    plot_w = width - LEFT - RIGHT
    height = len(order) * (TITLE + panel_height) + BOTTOM
    title = (
        escape(label or "pulse") + ": " + ", ".join(NAMES.get(blocks[c].units, c) for c in order)
    )
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" class="wave" aria-label="{title}"><title>{title}</title>'
    ]
    t_lo, t_hi = ranges.get("time", (0.0, 1.0))
    t_ticks = nice_ticks(t_lo, t_hi, 4)
    t_step = t_ticks[1] - t_ticks[0] if len(t_ticks) > 1 else 1.0

    def x_of(t: Any) -> Any:  # µs -> SVG x, for a number or an array
        return LEFT + (t - t_lo) / (t_hi - t_lo) * plot_w

    for row, channel in enumerate(order):
        block = blocks[channel]
        top = row * (TITLE + panel_height) + TITLE
        bottom = top + panel_height
        unit = block.units
        name = NAMES.get(unit, channel)
        parts.append(
            f'<text x="{LEFT}" y="{top - 3}" class="lab">{escape(name)}'
            f"{f' ({escape(unit)})' if unit else ''}</text>"
        )
        if unit == "V" and target_v is not None:
            parts.append(
                f'<text x="{LEFT + plot_w}" y="{top - 3}" class="ax tgt" text-anchor="end">'
                f"- - set {tick_label(target_v, 1)} V</text>"
            )
        values = block.values()
        if values.size == 0:
            parts.append(
                f'<rect x="{LEFT}" y="{top}" width="{plot_w}" height="{panel_height}" '
                f'class="frame"/><text x="{LEFT + 4}" y="{top + panel_height / 2}" class="ax">'
                "no samples</text>"
            )
            continue
        lo, hi = ranges.get(channel) or shared_ranges([{channel: block}], target_v)[channel]

        def y_of(v: Any, lo: float = lo, hi: float = hi, top: int = top) -> Any:
            return top + (hi - v) / (hi - lo) * panel_height

        y_ticks = nice_ticks(lo, hi, 4)
        y_step = y_ticks[1] - y_ticks[0] if len(y_ticks) > 1 else 1.0
        for tick in y_ticks:
            y = y_of(tick)
            css = "zero" if tick == 0 else "grid"
            parts.append(
                f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y:.1f}" y2="{y:.1f}" class="{css}"/>'
                f'<text x="{LEFT - 3}" y="{y + 3.3:.1f}" class="ax" text-anchor="end">'
                f"{tick_label(tick, y_step)}</text>"
            )
        for tick in t_ticks:
            x = x_of(tick)
            parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{bottom}" class="grid"/>')
        if unit == "V" and target_v is not None and lo <= target_v <= hi:
            y = y_of(target_v)
            parts.append(
                f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y:.1f}" y2="{y:.1f}" class="target"/>'
            )
        t_us = block.time_s() * 1e6
        xs, ys = envelope(t_us, values, plot_w)
        px = x_of(np.clip(xs, t_lo, t_hi))
        py = y_of(np.clip(ys, lo, hi))
        points = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(px, py, strict=True))
        colour = COLOURS.get(unit, OTHER_COLOUR)
        parts.append(f'<polyline points="{points}" fill="none" stroke="{colour}"/>')
        parts.append(
            f'<rect x="{LEFT}" y="{top}" width="{plot_w}" height="{panel_height}" class="frame"/>'
        )
    axis_y = len(order) * (TITLE + panel_height)
    for tick in t_ticks:
        parts.append(
            f'<text x="{x_of(tick):.1f}" y="{axis_y + 11}" class="ax" text-anchor="middle">'
            f"{tick_label(tick, t_step)}</text>"
        )
    parts.append(
        f'<text x="{LEFT - 3}" y="{axis_y + 11}" class="ax" text-anchor="end">µs</text></svg>'
    )
    return "".join(parts)
