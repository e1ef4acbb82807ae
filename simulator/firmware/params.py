"""What the simulated generator accepts in SET_PARAMS, and how a train request follows."""

from __future__ import annotations

from drivers.link.messages import OPTION_ECG_GATING, Result, SetParams
from simulator.firmware.device import DeviceInfo
from simulator.train import TrainRequest

MIN_WIDTH_NS = 1_000
MAX_WIDTH_NS = 100_000_000  # 100 ms: long enough for gene-electrotransfer pulses
MAX_PERIOD_US = 60_000_000
MAX_ECG_DELAY_MS = 1_000
ELECTRODES = 16  # outputs of the HV switch matrix


def check_params(p: SetParams, device: DeviceInfo) -> Result:
    """OK, or the NAK result for the first thing the hardware could not do exactly.

    The firmware never rounds (docs/firmware-link.md §3): every integer in
    range is realisable, anything else is refused, so the host's hash of
    what it sent is the hash of what will be delivered.
    """
    if p.rsv != 0 or p.options & ~OPTION_ECG_GATING:
        return Result.BAD_PARAM
    if p.amplitude_mv == 0 or p.count == 0 or p.width_ns == 0 or p.period_us == 0:
        return Result.BAD_PARAM
    if p.i_limit_ma == 0 or p.v_tol_permille == 0 or p.v_tol_permille > 1000:
        return Result.BAD_PARAM
    if p.polarity not in (0, 1) or p.electrode_a == p.electrode_b:
        return Result.BAD_PARAM
    if p.electrode_a >= ELECTRODES or p.electrode_b >= ELECTRODES:
        return Result.OUT_OF_LIMITS
    if p.count > 1 and p.period_us * 1000 <= p.width_ns:
        return Result.BAD_PARAM  # pulses would overlap
    if p.amplitude_mv > device.v_max_mv or p.i_limit_ma > device.i_max_ma:
        return Result.OUT_OF_LIMITS
    if p.count > device.max_count:
        return Result.OUT_OF_LIMITS
    if not MIN_WIDTH_NS <= p.width_ns <= MAX_WIDTH_NS:
        return Result.OUT_OF_LIMITS
    if p.count > 1 and (
        p.period_us * device.max_rate_hz < 1_000_000 or p.period_us > MAX_PERIOD_US
    ):
        return Result.OUT_OF_LIMITS
    if p.ecg_delay_ms > MAX_ECG_DELAY_MS:
        return Result.OUT_OF_LIMITS
    return Result.OK


def is_gated(p: SetParams) -> bool:
    return bool(p.options & OPTION_ECG_GATING)


def train_request(
    p: SetParams, start_s: float, pulse_times_s: tuple[float, ...] | None = None
) -> TrainRequest:
    """The model's view of the held parameters; `pulse_times_s` for ECG-gated trains."""
    return TrainRequest(
        amplitude_v=p.amplitude_mv / 1000,
        width_s=p.width_ns * 1e-9,
        count=p.count if pulse_times_s is None else len(pulse_times_s),
        period_s=p.period_us * 1e-6,
        i_limit_a=p.i_limit_ma / 1000,
        pair=(p.electrode_a, p.electrode_b),
        polarity=p.polarity,
        start_s=start_s if pulse_times_s is None else pulse_times_s[0],
        pulse_times_s=pulse_times_s,
    )
