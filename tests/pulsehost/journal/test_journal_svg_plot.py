"""Waveform plots: round ticks, spikes kept, the set voltage where it belongs."""

from __future__ import annotations

import itertools
import math
import re

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from pulsehost.journal.svg_plot import (
    envelope,
    nice_step,
    nice_ticks,
    shared_ranges,
    tick_label,
    waveform_svg,
)
from pulsehost.journal.waveform import WaveformBlock


@given(
    st.floats(min_value=-1e4, max_value=1e4, allow_nan=False),
    st.floats(min_value=1e-3, max_value=2e4, allow_nan=False),
)
def test_ticks_are_round_inside_the_range_and_few(lo: float, span: float) -> None:
    hi = lo + span
    ticks = nice_ticks(lo, hi, 4)
    step = nice_step(span, 4)
    assert 2 <= len(ticks) <= 9
    assert all(lo - 1e-9 * span <= t <= hi + 1e-9 * span for t in ticks)
    mantissa = step / 10 ** math.floor(math.log10(step))
    assert any(math.isclose(mantissa, m, rel_tol=1e-9) for m in (1, 2, 2.5, 5))
    for a, b in itertools.pairwise(ticks):
        assert math.isclose(b - a, step, rel_tol=1e-6)
        assert math.isclose(round(a / step) * step, a, rel_tol=1e-9, abs_tol=step * 1e-9)


def test_tick_labels_carry_just_the_needed_decimals() -> None:
    assert [tick_label(v, 250) for v in (0, 250, 750)] == ["0", "250", "750"]
    assert [tick_label(v, 0.25) for v in (0, 0.25, 0.5)] == ["0.00", "0.25", "0.50"]
    assert tick_label(-1e-12, 0.5) == "0.0"


def test_envelope_keeps_a_one_sample_spike() -> None:
    y = np.zeros(10_000)
    y[4321] = 7.0
    y[7000] = -3.0
    _, ys = envelope(np.arange(y.size, dtype=float), y, 150)
    assert ys.size == 300 and ys.max() == 7.0 and ys.min() == -3.0


def trapezoid(volts: float, amps: float) -> dict[str, WaveformBlock]:
    t = np.arange(400)
    shape = ((t >= 50) & (t < 300)).astype(float)
    return {
        "voltage": WaveformBlock(
            np.round(volts * shape / 5).astype(np.int16), 5.0, 0.0, 0.0, -2e-5, 5e-7, "V"
        ),
        "current": WaveformBlock(
            np.round(amps * shape / 0.01).astype(np.int16), 0.01, 0.0, 0.0, -2e-5, 5e-7, "A"
        ),
    }


def test_target_line_sits_at_the_set_voltage_on_the_voltage_axis() -> None:
    blocks = trapezoid(700.0, 6.0)
    ranges = shared_ranges([blocks], 730.0)
    lo, hi = ranges["voltage"]
    assert lo <= 0 and hi >= 730.0
    svg = waveform_svg(blocks, target_v=730.0, ranges=ranges, label="pulse 3")
    panel = re.search(r'<rect x="[\d.]+" y="([\d.]+)" width="[\d.]+" height="([\d.]+)"', svg)
    assert panel is not None
    top, height = float(panel[1]), float(panel[2])
    (target_y,) = re.findall(r'y1="([\d.]+)" y2="[\d.]+" class="target"', svg)
    expected = top + (hi - 730.0) / (hi - lo) * height
    assert abs(float(target_y) - expected) < 0.1
    assert "set 730 V" in svg and 'aria-label="pulse 3: voltage, current"' in svg
    assert svg.count("<polyline") == 2


def test_shared_ranges_cover_every_pulse_of_a_train() -> None:
    small, large = trapezoid(700.0, 3.0), trapezoid(700.0, 9.0)
    ranges = shared_ranges([small, large], 730.0)
    assert ranges["current"][1] >= 9.0 and ranges["current"][0] <= 0.0
    assert ranges["time"] == (-20.0, (-2e-5 + 399 * 5e-7) * 1e6)
    a = waveform_svg(small, target_v=730.0, ranges=ranges)
    b = waveform_svg(large, target_v=730.0, ranges=ranges)
    ticks = re.compile(r'text-anchor="end">([^<]+)<')
    assert ticks.findall(a) == ticks.findall(b)


def test_a_channel_without_samples_says_so() -> None:
    empty = WaveformBlock(np.zeros(0, dtype=np.int16), 1.0, 0.0, 0.0, 0.0, 1e-6, "A")
    svg = waveform_svg({"voltage": trapezoid(100.0, 1.0)["voltage"], "current": empty})
    assert "no samples" in svg and svg.count("<polyline") == 1
