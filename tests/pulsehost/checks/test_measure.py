"""measure_train against trains whose true shape is known."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from train_synth import (
    ChainSpec,
    PulseSpec,
    Synth,
    TrainSpec,
    synth_train,
    uniform,
    with_pulse,
)

from pulsehost.checks import (
    MeasurementError,
    RawChannel,
    RawTrain,
    Thresholds,
    TrainExpectation,
    TrainMeasurements,
    measure_train,
)

WIDTH = 100e-6


def _expect(n: int = 8, v: float = 400.0, width: float = WIDTH) -> TrainExpectation:
    return TrainExpectation(v, width, 200e-6, n, 2.0, 4.0, 20.0)


def _measure(spec: TrainSpec, width: float = WIDTH) -> tuple[Synth, TrainMeasurements]:
    synth = synth_train(spec)
    v = spec.pulses[0].v
    raw = RawTrain.from_captures(synth.captures)
    return synth, measure_train(raw, _expect(len(spec.pulses), v, width), Thresholds())


def _window_mean(synth: Synth, signal: np.ndarray, k: int, p: PulseSpec, a: float, b: float):
    t = synth.t
    mask = (t >= p.delay_s + a * p.width_s) & (t < p.delay_s + b * p.width_s)
    return float(signal[k][mask].mean())


SHAPES = [
    pytest.param(PulseSpec(), id="needles-400V"),
    pytest.param(PulseSpec(v=1300.0, i=9.8, rise_s=5e-6, droop=0.05), id="plates-1300V-droop"),
    pytest.param(PulseSpec(v=730.0, i=1.5, in_pulse_rise=0.4, tau_s=10e-6), id="hex-fast-rise"),
]


@pytest.mark.parametrize("pulse", SHAPES)
def test_measurements_match_the_generated_pulses(pulse: PulseSpec) -> None:
    chain = ChainSpec(v_full_scale=1.25 * pulse.v, i_full_scale=2.5 * pulse.i)
    delays = (0.0, 0.3e-6, -0.2e-6, 0.1e-6)
    pulses = tuple(replace(pulse, delay_s=d) for d in delays)
    synth, m = _measure(TrainSpec(pulses, chain=chain, tag_errors_s=(0, 1e-6, -2e-6, 0)))
    dt = 1 / chain.fs_hz
    for k, p in enumerate(pulses):
        v_true = _window_mean(synth, synth.v_true, k, p, 0.1, 0.9)
        i_true = _window_mean(synth, synth.i_true, k, p, 0.1, 0.9)
        assert m.v_plateau_v[k] == pytest.approx(v_true, rel=0.01)
        assert m.i_plateau_a[k] == pytest.approx(i_true, rel=0.01)
        assert m.width_s[k] == pytest.approx(p.width_s, rel=0.01)
        assert m.rise_time_s[k] == pytest.approx(p.rise_s, rel=0.05)
        assert m.charge_c[k] == pytest.approx(synth.i_true[k].sum() * dt, rel=0.02)
        energy = (synth.v_true[k] * synth.i_true[k]).sum() * dt
        assert m.energy_j[k] == pytest.approx(energy, rel=0.02)
        i10 = _window_mean(synth, synth.i_true, k, p, 0.075, 0.125)
        i90 = _window_mean(synth, synth.i_true, k, p, 0.875, 0.925)
        assert m.i10_a[k] == pytest.approx(i10, rel=0.01)
        assert m.i90_a[k] == pytest.approx(i90, rel=0.01)
        assert m.resistance_ohm[k] == pytest.approx(v_true / i_true, rel=0.015)
        v10 = _window_mean(synth, synth.v_true, k, p, 0.075, 0.125)
        v90 = _window_mean(synth, synth.v_true, k, p, 0.875, 0.925)
        assert m.droop[k] == pytest.approx((v10 - v90) / v10, abs=0.005)
        # The rise is timed where the edge crosses half the pulse's own plateau.
        level = 0.5 * v_true
        j = int(np.argmax(synth.v_true[k] > level))
        a, b = synth.v_true[k][j - 1], synth.v_true[k][j]
        crossing = synth.t[j - 1] + (level - a) / (b - a) * dt
        # Noise moves a crossing by sigma / slope; allow three of those and two samples.
        jitter = chain.noise * chain.v_full_scale / ((b - a) / dt)
        assert m.start_s[k] == pytest.approx(synth.tags_s[k] + crossing, abs=2 * dt + 3 * jitter)
        # A peak is one sample: true peak plus up to about five noise sigmas and an LSB.
        for peak, true, full in (
            (m.v_peak_v[k], synth.v_true[k].max(), chain.v_full_scale),
            (m.i_peak_a[k], synth.i_true[k].max(), chain.i_full_scale),
        ):
            assert peak == pytest.approx(true, abs=(5 * chain.noise + 1.2 / 254) * full)
    assert not m.clipped.any() and not m.arc.any() and not m.missing.any()
    assert m.timed


def test_rows_are_measured_independently_of_each_other() -> None:
    """A row measured within a train equals the same row measured alone.

    The delays spread the rises both within and beyond one group, so the
    shared-column corrections and the grouping are both exercised.
    """
    delays = (0.0, 0.04e-6, 0.9e-6, 3e-6, 0.5e-6, 8e-6)
    pulses = tuple(PulseSpec(delay_s=d, in_pulse_rise=0.1 * k) for k, d in enumerate(delays))
    synth = synth_train(TrainSpec(pulses))
    expectation = _expect(len(pulses))
    together = measure_train(RawTrain.from_captures(synth.captures), expectation, Thresholds())
    for k, capture in enumerate(synth.captures):
        alone = measure_train(RawTrain.from_captures([capture]), expectation, Thresholds())
        for name in (
            "v_plateau_v",
            "i_plateau_a",
            "width_s",
            "rise_time_s",
            "charge_c",
            "energy_j",
            "i10_a",
            "i90_a",
            "v_peak_v",
            "droop",
        ):
            assert getattr(together, name)[k] == pytest.approx(getattr(alone, name)[0], rel=1e-9), (
                name
            )
        assert together.start_s[k] == pytest.approx(alone.start_s[0], abs=1e-12)


def test_a_pulse_at_the_very_start_of_the_record_is_still_whole() -> None:
    """Pre-trigger shorter than the window margin: the record is padded, nothing is lost."""
    chain = ChainSpec(pre_s=3e-6)
    synth, m = _measure(TrainSpec(uniform(3), chain=chain))
    dt = 1 / chain.fs_hz
    assert m.width_s == pytest.approx(np.full(3, WIDTH), rel=0.01)
    assert m.charge_c == pytest.approx(synth.i_true.sum(axis=1) * dt, rel=0.02)


def test_a_pulse_longer_than_set_is_measured_to_its_end() -> None:
    pulses = with_pulse(uniform(3), 1, width_s=135e-6)
    synth, m = _measure(TrainSpec(pulses))
    dt = 1 / ChainSpec().fs_hz
    assert m.width_s[1] == pytest.approx(135e-6, rel=0.01)
    assert m.width_s[0] == pytest.approx(WIDTH, rel=0.01)
    assert m.charge_c[1] == pytest.approx(synth.i_true[1].sum() * dt, rel=0.02)
    assert m.energy_j[1] == pytest.approx((synth.v_true[1] * synth.i_true[1]).sum() * dt, rel=0.02)


def test_a_pulse_running_past_the_record_has_no_width() -> None:
    chain = ChainSpec(post_s=110e-6)
    pulses = with_pulse(uniform(2), 0, width_s=150e-6)
    _, m = _measure(TrainSpec(pulses, chain=chain))
    assert np.isnan(m.width_s[0])
    assert m.pulse(0).width_s is None
    assert m.width_s[1] == pytest.approx(WIDTH, rel=0.01)


def test_missing_pulses_are_found_and_have_no_timing() -> None:
    pulses = with_pulse(uniform(4), 2, present=False)
    _, m = _measure(TrainSpec(pulses))
    np.testing.assert_array_equal(m.missing, [False, False, True, False])
    pulse = m.pulse(2)
    assert pulse.missing and pulse.start_s is None and pulse.width_s is None
    assert abs(pulse.v_plateau_v or 0.0) < 5.0


def test_a_late_pulse_in_its_record_is_found_all_the_same() -> None:
    pulses = with_pulse(uniform(3), 1, delay_s=60e-6)
    synth, m = _measure(TrainSpec(pulses, chain=ChainSpec(post_s=240e-6)))
    assert not m.missing.any()
    assert m.start_s[1] == pytest.approx(synth.tags_s[1] + 60e-6, abs=1e-7)
    assert m.width_s[1] == pytest.approx(WIDTH, rel=0.01)


@pytest.mark.parametrize(
    ("chain", "voltage", "current"),
    [
        pytest.param(ChainSpec(v_full_scale=380.0), True, False, id="voltage-over-range"),
        pytest.param(ChainSpec(i_full_scale=2.0), False, True, id="current-over-range"),
        pytest.param(ChainSpec(), False, False, id="in-range"),
    ],
)
def test_clipping_is_seen_per_channel(chain: ChainSpec, voltage: bool, current: bool) -> None:
    _, m = _measure(TrainSpec(uniform(2), chain=chain))
    assert m.clipped_voltage.tolist() == [voltage, voltage]
    assert m.clipped_current.tolist() == [current, current]


def test_a_hole_code_counts_as_clipped() -> None:
    synth = synth_train(TrainSpec(uniform(2)))
    raw = RawTrain.from_captures(synth.captures)
    codes = raw.voltage.codes.copy()
    codes[1, 2000 + 2500] = 0x00  # inside the pulse
    channel = RawChannel(codes, raw.voltage.scale, raw.voltage.offset, raw.voltage.reference)
    holed = RawTrain(channel, raw.current, raw.dt_s, raw.t0_s, raw.time_tags_s)
    m = measure_train(holed, _expect(2), Thresholds())
    assert m.clipped_voltage.tolist() == [False, True]


def test_arc_is_told_from_an_over_current_trip() -> None:
    """Both end the pulse early; only the arc draws more current at far less voltage."""
    pulses = uniform(4)
    pulses = with_pulse(pulses, 1, arc_at=0.4)
    # Current tripled inside the pulse, then the generator turns off: no arc.
    pulses = with_pulse(pulses, 2, trip_at=0.7, in_pulse_rise=2.0, tau_s=20e-6)
    _, m = _measure(TrainSpec(pulses, chain=ChainSpec(i_full_scale=25.0)))
    assert m.arc.tolist() == [False, True, False, False]
    assert m.width_s[1] == pytest.approx(0.4 * WIDTH, rel=0.03)
    assert m.width_s[2] == pytest.approx(0.7 * WIDTH, rel=0.03)


def test_an_open_circuit_has_edge_spikes_only() -> None:
    pulses = uniform(2, open_circuit=True)
    _, m = _measure(TrainSpec(pulses))
    assert np.all(np.abs(m.i_plateau_a) < 0.02 * 2.0)
    assert not m.arc.any()
    assert m.v_plateau_v == pytest.approx(np.full(2, 400.0), rel=0.01)


def test_rows_with_their_own_scaling() -> None:
    """Each row converts with its own scale (a scope re-ranged between acquisitions)."""
    synth = synth_train(TrainSpec(uniform(2)))
    raw = RawTrain.from_captures(synth.captures)
    v = raw.voltage
    codes = v.codes.astype(np.int16) - 128  # the same samples, signed, centred on 0
    codes[1] = (codes[1] - 10) // 2  # row 1 at half the resolution, shifted
    scale = v.scale * np.array([1.0, 2.0])
    offset = v.offset + np.array([0.0, 10 * v.scale[1]])
    channel = RawChannel(codes, scale, offset, reference=np.array([0.0, 0.0]))
    rescaled = RawTrain(channel, raw.current, raw.dt_s, raw.t0_s, raw.time_tags_s)
    m = measure_train(rescaled, _expect(2), Thresholds())
    plain = measure_train(raw, _expect(2), Thresholds())
    assert m.v_plateau_v == pytest.approx(plain.v_plateau_v, rel=0.005)
    assert m.width_s == pytest.approx(plain.width_s, rel=0.005)
    assert m.energy_j == pytest.approx(plain.energy_j, rel=0.005)


def test_word_codes_measure_like_byte_codes() -> None:
    synth = synth_train(TrainSpec(uniform(3)))
    raw = RawTrain.from_captures(synth.captures)
    word = [
        RawChannel(ch.codes.astype(np.uint16) << 8, ch.scale / 256, ch.offset, ch.reference * 256)
        for ch in (raw.voltage, raw.current)
    ]
    wide = RawTrain(word[0], word[1], raw.dt_s, raw.t0_s, raw.time_tags_s)
    m_word = measure_train(wide, _expect(3), Thresholds())
    m_byte = measure_train(raw, _expect(3), Thresholds())
    for name in ("v_plateau_v", "i_plateau_a", "charge_c", "energy_j", "i10_a", "i90_a"):
        assert getattr(m_word, name) == pytest.approx(getattr(m_byte, name), rel=1e-9), name
    assert m_word.width_s == pytest.approx(m_byte.width_s, rel=1e-3)


def test_too_coarse_sampling_is_refused_with_the_fix() -> None:
    synth = synth_train(TrainSpec(uniform(1), chain=ChainSpec(fs_hz=0.3e6)))
    with pytest.raises(MeasurementError, match="raise the scope's sample rate"):
        measure_train(RawTrain.from_captures(synth.captures), _expect(1), Thresholds())


def test_a_record_shorter_than_the_pulse_is_refused() -> None:
    synth = synth_train(TrainSpec(uniform(1), chain=ChainSpec(pre_s=5e-6, post_s=50e-6)))
    with pytest.raises(MeasurementError, match="lengthen the scope's time window"):
        measure_train(RawTrain.from_captures(synth.captures), _expect(1), Thresholds())


def test_pulse_values_are_plain_python() -> None:
    _, m = _measure(TrainSpec(uniform(2)))
    pulses = m.pulse_list()
    assert [p.slot for p in pulses] == [0, 1]
    assert isinstance(pulses[0].v_plateau_v, float) and isinstance(pulses[0].clipped, bool)
    assert m.row_of(1) == 1 and m.row_of(5) is None


def test_rise_time_follows_the_edge() -> None:
    pulses = (PulseSpec(rise_s=1e-6), PulseSpec(rise_s=4e-6), PulseSpec(rise_s=12e-6))
    _, m = _measure(TrainSpec(pulses))
    for k, p in enumerate(pulses):
        assert m.rise_time_s[k] == pytest.approx(p.rise_s, rel=0.05)
