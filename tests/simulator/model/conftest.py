"""Shared helpers for the model tests: requests, time axes and plateau readings."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from simulator.model import LoadModel, ModelConfig
from simulator.train import DeliveredTrain, TrainRequest

FIVE_KHZ = 200e-6
ONE_HZ = 1.0


def request(
    amplitude_v: float = 400.0,
    *,
    count: int = 8,
    period_s: float = FIVE_KHZ,
    width_s: float = 100e-6,
    i_limit_a: float = 50.0,
    **extra: object,
) -> TrainRequest:
    return TrainRequest(
        amplitude_v=amplitude_v,
        width_s=width_s,
        count=count,
        period_s=period_s,
        i_limit_a=i_limit_a,
        **extra,  # type: ignore[arg-type]
    )


def axis(train: DeliveredTrain) -> npt.NDArray[np.float64]:
    """Each row's time relative to its nominal pulse start."""
    return train.t0_s + np.arange(train.voltage_v.shape[1]) / train.fs_hz


def plateau(train: DeliveredTrain, rows: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Mean of each row from 10 % to 90 % of the set width after the nominal start."""
    t = axis(train)
    w = train.request.width_s
    window = (t >= 0.1 * w) & (t <= 0.9 * w)
    result: npt.NDArray[np.float64] = rows[:, window].mean(axis=1)
    return result


def at(
    train: DeliveredTrain, rows: npt.NDArray[np.float64], when_s: float
) -> npt.NDArray[np.float64]:
    """Each row sampled at `when_s` after the nominal start (linear interpolation)."""
    t = axis(train)
    return np.array([np.interp(when_s, t, row) for row in rows])


@pytest.fixture
def model() -> LoadModel:
    return LoadModel(ModelConfig())
