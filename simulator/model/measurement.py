"""The measurement chain between the load and the scope's inputs (eq. 14–15, before Q)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from simulator.model import filters
from simulator.model.validation import require_non_negative, require_positive
from simulator.train import DeliveredTrain

Array = npt.NDArray[np.float64]


@dataclass(frozen=True)
class MeasurementChain:
    """HV differential probe on channel 1, current transformer on channel 2.

    Noise is white, `noise_fraction` of each channel's full scale rms; without a
    full scale from the scope, the channel's peak over the train stands in for
    it, with `noise_floor_v` as the least noise an input shows. `skew_s` delays
    the current channel against the voltage channel.
    """

    hv_probe_v_per_v: float = 1000.0  # attenuation: load volts per scope volt
    hv_bandwidth_hz: float = 75e6
    current_probe_v_per_a: float = 0.1
    current_bandwidth_hz: float = 20e6
    current_droop_tau_s: float = 0.2  # 0.5 %/ms: the transformer has no DC response
    noise_fraction: float = 0.005
    skew_s: float = 0.0
    noise_floor_v: float = 1e-4

    def __post_init__(self) -> None:
        require_positive(
            "measurement chain",
            hv_probe_v_per_v=self.hv_probe_v_per_v,
            hv_bandwidth_hz=self.hv_bandwidth_hz,
            current_probe_v_per_a=self.current_probe_v_per_a,
            current_bandwidth_hz=self.current_bandwidth_hz,
            current_droop_tau_s=self.current_droop_tau_s,
        )
        require_non_negative(
            "measurement chain",
            noise_fraction=self.noise_fraction,
            noise_floor_v=self.noise_floor_v,
        )
        if not math.isfinite(self.skew_s):
            raise ValueError(f"measurement chain: skew_s must be finite, got {self.skew_s}")


def measure(
    train: DeliveredTrain,
    chain: MeasurementChain,
    rng: np.random.Generator,
    full_scale_v: tuple[float, float] | None = None,
) -> tuple[Array, Array]:
    """Volts at the scope's two inputs, (n, samples) each, before quantisation.

    `full_scale_v` (channel 1, channel 2) is the scope's vertical full scale in
    input volts, which sets the noise; without it the channels' peaks do.
    """
    fs = train.fs_hz
    voltage, current = train.voltage_v, train.current_a
    rows, n = voltage.shape
    if rows == 0 or n == 0:
        return np.zeros_like(voltage), np.zeros_like(current)
    slowest = 1.0 / (2 * math.pi * min(chain.current_bandwidth_hz, chain.hv_bandwidth_hz))
    quiet = min(filters.quiet_tail(voltage), filters.quiet_tail(current))
    n_fft = filters.padded_length(n, fs, slowest, quiet, shift_s=chain.skew_s)
    tan_half = filters.warped_tan(n_fft)
    v_spec = filters.spectrum(voltage, n_fft)
    v_spec *= (
        filters.first_order_lowpass(tan_half, fs, chain.hv_bandwidth_hz) / chain.hv_probe_v_per_v
    )
    channel_1 = filters.back_to_time(v_spec, n_fft, n)

    i_spec = filters.spectrum(current, n_fft)
    i_spec *= filters.first_order_lowpass(tan_half, fs, chain.current_bandwidth_hz)
    i_spec *= chain.current_probe_v_per_a
    if chain.skew_s:
        # A pure delay; exact for the band-limited signal, and the padding absorbs the shift.
        bins = np.arange(tan_half.shape[0])
        i_spec *= np.exp(-2j * math.pi * bins / n_fft * chain.skew_s * fs)
    channel_2 = filters.back_to_time(i_spec, n_fft, n)
    channel_2 -= _droop(channel_2, train, chain.current_droop_tau_s)

    if full_scale_v is None:
        scales = (float(np.max(np.abs(channel_1))), float(np.max(np.abs(channel_2))))
    else:
        scales = full_scale_v
    for channel, scale in ((channel_1, scales[0]), (channel_2, scales[1])):
        sigma = max(chain.noise_fraction * scale, chain.noise_floor_v)
        if sigma > 0:
            noise = rng.standard_normal(channel.shape, dtype=np.float32)
            channel += sigma * noise
    return channel_1, channel_2


def _droop(signal: Array, train: DeliveredTrain, tau_s: float) -> Array:
    """The part of `signal` a transformer does not pass: its first-order low-pass.

    The core's state carries from one pulse window to the next (it decays over
    the gap between windows), so droop accumulates along a 5 kHz train.
    """
    fs = train.fs_hz
    lowpassed, decay = filters.first_order_lowpass_recursive(signal, tau_s, fs)
    rows, n = signal.shape
    if rows > 1:
        times = np.asarray(train.pulse_times_s, dtype=np.float64)
        # Time from the last sample of one window to the first of the next, minus the
        # one sample step the recurrence itself takes; overlapping windows count as adjacent.
        gaps = np.maximum(np.diff(times) - n / fs, 0.0)
        initial = np.zeros(rows)
        for k in range(1, rows):
            end = lowpassed[k - 1, -1] + decay[-1] * initial[k - 1]
            initial[k] = end * math.exp(-gaps[k - 1] / tau_s)
        lowpassed += initial[:, None] * decay[None, :]
    return lowpassed
