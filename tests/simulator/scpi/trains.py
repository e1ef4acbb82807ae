"""Synthetic delivered trains: trapezoid pulses into a resistor, built from the request."""

from __future__ import annotations

import numpy as np

from simulator.train import DeliveredTrain, TrainRequest


def trapezoid_train(
    request: TrainRequest,
    *,
    fs_hz: float = 50e6,
    pre_s: float = 20e-6,
    post_s: float = 80e-6,
    edge_s: float = 2e-6,
    load_ohm: float = 100.0,
    delivered: tuple[bool, ...] | None = None,
) -> DeliveredTrain:
    """Linear edges, flat top at the requested amplitude; missing rows are zero."""
    n = round((pre_s + request.width_s + post_s) * fs_hz)
    t = -pre_s + np.arange(n) / fs_hz
    shape = np.clip(np.minimum(t / edge_s, (request.width_s - t) / edge_s), 0.0, 1.0)
    flags = np.ones(request.count, bool) if delivered is None else np.array(delivered)
    voltage = np.outer(flags, shape * request.amplitude_v)
    times = request.start_s + request.period_s * np.arange(request.count)
    return DeliveredTrain(
        request=request,
        fs_hz=fs_hz,
        t0_s=-pre_s,
        pulse_times_s=times,
        voltage_v=voltage,
        current_a=voltage / load_ohm,
        delivered=flags,
        flags=tuple(frozenset() if f else frozenset({"MISSING"}) for f in flags),
        tripped=False,
    )


def request(
    amplitude_v: float = 1000.0,
    *,
    count: int = 8,
    width_s: float = 100e-6,
    period_s: float = 200e-6,
    start_s: float = 10.0,
) -> TrainRequest:
    return TrainRequest(
        amplitude_v=amplitude_v,
        width_s=width_s,
        count=count,
        period_s=period_s,
        i_limit_a=50.0,
        start_s=start_s,
    )


def row_axis(train: DeliveredTrain) -> np.ndarray:
    """The rows' own time axis, relative to each pulse's nominal start."""
    return train.t0_s + np.arange(train.voltage_v.shape[1]) / train.fs_hz
