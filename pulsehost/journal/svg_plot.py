"""Small inline SVG plots of pulse waveforms, for self-contained HTML reports."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape

import numpy as np

from pulsehost.journal.waveform import WaveformBlock

COLOURS = {"V": "#1f4e9c", "A": "#b8430f"}
OTHER_COLOUR = "#2d6a2d"


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


def _number(value: float) -> str:
    return f"{value:.4g}"


def waveform_svg(
    blocks: Mapping[str, WaveformBlock], *, width: int = 320, panel_height: int = 84
) -> str:
    """One SVG with a panel per channel (voltage first, then current, then others)."""
    order = sorted(blocks, key=lambda c: (blocks[c].units != "V", blocks[c].units != "A", c))
    left, right, top, gap = 46, 6, 4, 16
    plot_w = width - left - right
    height = top + len(order) * (panel_height + gap)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" class="wave">'
    ]
    for row, channel in enumerate(order):
        block = blocks[channel]
        y0 = top + row * (panel_height + gap)
        t_us = block.time_s() * 1e6
        values = block.values()
        if values.size == 0:
            parts.append(
                f'<text x="{left}" y="{y0 + panel_height / 2}" class="ax">{escape(channel)}: '
                "no samples</text>"
            )
            continue
        xs, ys = envelope(t_us, values, plot_w)
        lo, hi = float(values.min()), float(values.max())
        if hi - lo < 1e-12:
            lo, hi = lo - 1, hi + 1
        pad = 0.06 * (hi - lo)
        lo, hi = lo - pad, hi + pad
        t_lo, t_hi = float(t_us[0]), float(t_us[-1]) if t_us.size > 1 else float(t_us[0]) + 1
        span = (t_hi - t_lo) or 1.0
        px = left + (xs - t_lo) / span * plot_w
        py = y0 + (hi - ys) / (hi - lo) * panel_height
        points = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(px, py, strict=True))
        colour = COLOURS.get(block.units, OTHER_COLOUR)
        label = f"{channel} ({block.units})" if block.units else channel
        parts.append(
            f'<rect x="{left}" y="{y0}" width="{plot_w}" height="{panel_height}" class="frame"/>'
        )
        if lo < 0 < hi:
            zero = y0 + hi / (hi - lo) * panel_height
            parts.append(
                f'<line x1="{left}" x2="{left + plot_w}" y1="{zero:.1f}" y2="{zero:.1f}" '
                'class="zero"/>'
            )
        parts.append(f'<polyline points="{points}" fill="none" stroke="{colour}"/>')
        parts.append(
            f'<text x="{left - 3}" y="{y0 + 9}" class="ax" text-anchor="end">{_number(hi)}</text>'
            f'<text x="{left - 3}" y="{y0 + panel_height}" class="ax" text-anchor="end">'
            f"{_number(lo)}</text>"
            f'<text x="{left + 4}" y="{y0 + 11}" class="lab">{escape(label)}</text>'
            f'<text x="{left}" y="{y0 + panel_height + 11}" class="ax">{_number(t_lo)} µs</text>'
            f'<text x="{left + plot_w}" y="{y0 + panel_height + 11}" class="ax" '
            f'text-anchor="end">{_number(t_hi)} µs</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
