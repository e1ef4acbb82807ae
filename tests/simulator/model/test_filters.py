"""The numpy filters against plain sample-by-sample recurrences written out here."""

from __future__ import annotations

import math

import numpy as np
import pytest

from simulator.model import filters


def _direct_form(b: list[float], a: list[float], x: np.ndarray) -> np.ndarray:
    """Textbook IIR difference equation, one sample at a time (what lfilter computes)."""
    y = np.zeros_like(x)
    for n in range(x.shape[0]):
        acc = sum(b[i] * x[n - i] for i in range(len(b)) if n - i >= 0)
        acc -= sum(a[i] * y[n - i] for i in range(1, len(a)) if n - i >= 0)
        y[n] = acc / a[0]
    return y


def _fft_filter(x: np.ndarray, response_of: object, pad: int) -> np.ndarray:
    n_fft = filters.fast_length(x.shape[1] + pad)
    tan_half = filters.warped_tan(n_fft)
    spec = filters.spectrum(x, n_fft) * response_of(tan_half)  # type: ignore[operator]
    return filters.back_to_time(spec, n_fft, x.shape[1])


def test_fast_length_is_the_smallest_5_smooth_number() -> None:
    def smooth(m: int) -> bool:
        for p in (2, 3, 5):
            while m % p == 0:
                m //= p
        return m == 1

    for n in range(1, 400):
        got = filters.fast_length(n)
        assert got >= n and smooth(got)
        assert not any(smooth(m) for m in range(n, got))


def test_second_order_section_matches_the_bilinear_difference_equation() -> None:
    fs, fn, zeta = 100e6, 8e6, 0.7
    rng = np.random.default_rng(3)
    x = np.zeros(1500)
    x[100:900] = rng.normal(size=800).cumsum() / 10  # rough signal, then silence
    # Bilinear transform of ωn²/(s² + 2ζωn s + ωn²), prewarped at fn, by hand.
    wn = 2 * math.pi * fn
    k = wn / math.tan(wn / (2 * fs))
    b = [wn * wn, 2 * wn * wn, wn * wn]
    a = [
        k * k + 2 * zeta * wn * k + wn * wn,
        2 * wn * wn - 2 * k * k,
        k * k - 2 * zeta * wn * k + wn * wn,
    ]
    expected = _direct_form(b, a, x)
    got = _fft_filter(
        x[None, :], lambda th: filters.second_order_lowpass(th, fs, fn, zeta), pad=400
    )[0]
    assert np.max(np.abs(got - expected)) < 1e-9 * np.max(np.abs(expected))


@pytest.mark.parametrize(("zeta", "overshoot"), [(0.5, 0.163), (0.6, 0.095), (0.7, 0.046)])
def test_ringing_overshoot_follows_zeta(zeta: float, overshoot: float) -> None:
    # simulator-model eq. 12: overshoot e^(-πζ/√(1-ζ²)): 16 / 9.5 / 4.6 %.
    fs, fn = 2e9, 8e6
    x = np.zeros((1, 20000))
    x[0, 1000:12000] = 1.0
    y = _fft_filter(x, lambda th: filters.second_order_lowpass(th, fs, fn, zeta), pad=2000)
    assert y[0].max() - 1.0 == pytest.approx(overshoot, abs=0.003)
    assert y[0, 11990] == pytest.approx(1.0, abs=1e-3)


def test_first_order_lowpass_is_3_db_down_at_its_corner() -> None:
    fs, corner = 100e6, 20e6
    n_fft = 1000
    tan_half = filters.warped_tan(n_fft)
    response = filters.first_order_lowpass(tan_half, fs, corner)
    corner_bin = round(corner / fs * n_fft)
    assert abs(response[corner_bin]) == pytest.approx(1 / math.sqrt(2), rel=1e-6)
    assert abs(response[0]) == pytest.approx(1.0)


def test_highpass_turns_a_step_into_a_decaying_exponential() -> None:
    fs, tau = 200e6, 0.5e-6
    x = np.zeros((1, 4000))
    x[0, 500:] = 1.0
    x[0, 3000:] = 0.0
    y = _fft_filter(x, lambda th: filters.first_order_highpass(th, fs, tau), pad=2000)[0]
    t = np.arange(1, 400) / fs
    assert np.allclose(y[501:900], np.exp(-t / tau), atol=5e-3)
    assert y[3000] == pytest.approx(-1.0 + math.exp(-2500 / fs / tau), abs=5e-3)


def _recurrence(x: np.ndarray, a: float, y0: float) -> np.ndarray:
    y = np.empty_like(x)
    previous = y0
    for n, value in enumerate(x):
        previous = a * previous + (1 - a) * value
        y[n] = previous
    return y


@pytest.mark.parametrize("tau_samples", [0.7, 5.0, 123.0, 1e7])
def test_recursive_lowpass_equals_the_recurrence(tau_samples: float) -> None:
    fs = 1e6
    tau = tau_samples / fs
    rng = np.random.default_rng(7)
    x = rng.normal(size=(3, 700)) + 2.0
    initial = np.array([0.0, 1.5, -4.0])
    got, decay = filters.first_order_lowpass_recursive(x, tau, fs, initial)
    a = math.exp(-1 / tau_samples)
    for row in range(3):
        expected = _recurrence(x[row], a, initial[row])
        assert np.allclose(got[row], expected, rtol=1e-10, atol=1e-12)
    assert np.allclose(decay, a ** np.arange(1, 701), rtol=1e-12)


def test_quiet_tail_counts_trailing_silence() -> None:
    x = np.zeros((2, 100))
    x[0, 10] = 1.0
    x[1, 60] = -2.0
    assert filters.quiet_tail(x) == 39
    assert filters.quiet_tail(np.zeros((2, 5))) == 5
