"""Linear filters on (pulses × samples) grids, in numpy only.

Two exact methods, chosen by the filter's time constant against the window:

* Short responses (ringing, probe bandwidths, the membrane high-pass): the
  bilinear-transformed filter is applied in the frequency domain along axis 1.
  On the unit circle the bilinear map is s = jK·tan(Ω/2), so the discrete
  response is the analog one evaluated at warped frequencies; multiplying
  the FFT of a zero-padded row by it reproduces the IIR filter (what
  `scipy.signal.lfilter` would give) once the padding outlasts the impulse
  response. One FFT pass serves a whole cascade.
* Long responses (the current probe's droop, τ of 0.2 s against a 200 µs
  window): a frequency-domain filter would wrap around, so the first-order
  recurrence y[n] = a·y[n-1] + (1-a)·x[n] is solved in closed form,
  y = aⁿ·cumsum(x·a⁻ᵐ), block by block so a⁻ᵐ stays small, and all rows at once.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]
Response = npt.NDArray[np.complexfloating[Any, Any]]

# Prewarping above this share of fs would push tan() past its pole.
_MAX_PREWARP_SHARE = 0.4
# Padding that lets an impulse response decay by e^-40 before it could wrap around.
_DECAYS_TO_PAD = 40.0


def fast_length(n: int) -> int:
    """The smallest 2^a·3^b·5^c ≥ n (lengths numpy's FFT handles fastest)."""
    best = 1 << max(n - 1, 0).bit_length()
    p5 = 1
    while p5 < best:
        p35 = p5
        while p35 < best:
            candidate = p35
            while candidate < n:
                candidate *= 2
            best = min(best, candidate)
            p35 *= 3
        p5 *= 5
    return best


def warped_tan(n_fft: int) -> Array:
    """tan(Ω/2) for each rfft bin of an n_fft-point transform (Ω = 2πk/n_fft)."""
    omega = np.pi * np.arange(n_fft // 2 + 1) / n_fft
    return np.tan(omega)


def bilinear_k(fs_hz: float, prewarp_hz: float) -> float:
    """Bilinear constant K, prewarped so the response is exact at `prewarp_hz`."""
    f = min(prewarp_hz, _MAX_PREWARP_SHARE * fs_hz)
    w = 2.0 * math.pi * f
    return w / math.tan(w / (2.0 * fs_hz))


def second_order_lowpass(tan_half: Array, fs_hz: float, fn_hz: float, zeta: float) -> Response:
    """ωn²/(s² + 2ζωn·s + ωn²), unity at DC; overshoot e^(-πζ/√(1-ζ²)) on a step."""
    wn = 2.0 * math.pi * fn_hz
    s = 1j * bilinear_k(fs_hz, fn_hz) * tan_half
    response: Response = wn * wn / (s * s + 2.0 * zeta * wn * s + wn * wn)
    return response


def first_order_lowpass(tan_half: Array, fs_hz: float, corner_hz: float) -> Response:
    """1/(1 + s/ωc): a probe's bandwidth."""
    wc = 2.0 * math.pi * corner_hz
    s = 1j * bilinear_k(fs_hz, corner_hz) * tan_half
    response: Response = 1.0 / (1.0 + s / wc)
    return response


def first_order_highpass(tan_half: Array, fs_hz: float, tau_s: float) -> Response:
    """sτ/(1 + sτ): a step in gives e^(-t/τ) out."""
    s = 1j * bilinear_k(fs_hz, 1.0 / (2.0 * math.pi * tau_s)) * tan_half
    response: Response = s * tau_s / (1.0 + s * tau_s)
    return response


def padded_length(
    n_samples: int, fs_hz: float, slowest_tau_s: float, quiet_samples: int = 0, shift_s: float = 0.0
) -> int:
    """FFT length for rows of `n_samples` whose last `quiet_samples` are already ~0.

    The padding outlasts the slowest impulse response (and any delay `shift_s`),
    so the circular convolution of the FFT equals the linear one.
    """
    needed = math.ceil((_DECAYS_TO_PAD * slowest_tau_s + abs(shift_s)) * fs_hz) - max(
        quiet_samples, 0
    )
    return fast_length(n_samples + max(needed, 0))


def quiet_tail(x: Array, relative: float = 1e-12) -> int:
    """Samples at the end of every row of `x` below `relative` of its largest magnitude."""
    magnitude = np.abs(x)
    peak = float(magnitude.max()) if magnitude.size else 0.0
    active = np.flatnonzero((magnitude > relative * peak).any(axis=0))
    return int(x.shape[1] - (active[-1] + 1)) if active.size else int(x.shape[1])


def first_order_lowpass_recursive(
    x: Array, tau_s: float, fs_hz: float, initial: Array | None = None
) -> tuple[Array, Array]:
    """Exact y[n] = a·y[n-1] + (1-a)·x[n] along axis 1, a = e^(-1/(fs·τ)).

    `initial` is y[-1] per row (zeros if None). Returns (y, a^(n+1) for n in
    the row), the second so callers can add the response to a later initial
    state without filtering again.
    """
    rows, n = x.shape
    dt_over_tau = 1.0 / (fs_hz * tau_s)
    one_minus_a = -math.expm1(-dt_over_tau)
    decay = np.exp(-dt_over_tau * np.arange(1, n + 1))  # a^(n+1)
    # Blocks short enough that a^-m stays below e, so the cumsum keeps full precision.
    block = max(1, int(1.0 / dt_over_tau))
    y = np.empty_like(x)
    carry = np.zeros(rows) if initial is None else np.asarray(initial, dtype=np.float64).copy()
    for b0 in range(0, n, block):
        b1 = min(b0 + block, n)
        local = decay[: b1 - b0]  # a^(j+1), j = 0..len-1
        grow = np.exp(dt_over_tau * np.arange(b1 - b0))  # a^-j
        summed = np.cumsum(x[:, b0:b1] * grow, axis=1)
        y[:, b0:b1] = local * carry[:, None] + one_minus_a * (local / (1.0 - one_minus_a)) * summed
        carry = y[:, b1 - 1].copy()
    return y, decay


def spectrum(x: Array, n_fft: int) -> Response:
    """rfft of each row, zero-padded to n_fft."""
    result: Response = np.fft.rfft(x, n=n_fft, axis=1)
    return result


def back_to_time(spec: Response, n_fft: int, n_samples: int) -> Array:
    """Inverse of `spectrum`, cropped to the original row length."""
    result: Array = np.fft.irfft(spec, n=n_fft, axis=1)[:, :n_samples]
    return result
