"""The firmware's own sample records of the last train, served by GET_WAVE."""

from __future__ import annotations

import numpy as np

from drivers.link.messages import MAX_WAVE_SAMPLES, WaveChunk
from simulator.train import DeliveredTrain

ADC_RATE_HZ = 10e6  # the firmware digitiser: coarser than a scope, enough for plateau and edges
VOLTAGE_LSB_UV = 125_000  # 0.125 V per count: +-4 kV in i16
CURRENT_LSB_UA = 2_500  # 2.5 mA per count: +-82 A in i16


class StoredWaves:
    """Voltage and current of every delivered pulse of one train, as i16 codes.

    Taken from the model's true (unmeasured) load signals, decimated to the
    firmware's ADC rate; independent of anything the scope measures, which is
    the point of comparing the two.
    """

    def __init__(self, train_id: int, train: DeliveredTrain, stored: int) -> None:
        self.train_id = train_id
        step = max(1, round(train.fs_hz / ADC_RATE_HZ))
        self.dt_ns = round(1e9 * step / train.fs_hz)
        n = min(stored, train.voltage_v.shape[0])
        self.stored = n
        self._codes = (
            _quantise(train.voltage_v[:n, ::step], VOLTAGE_LSB_UV * 1e-6),
            _quantise(train.current_a[:n, ::step], CURRENT_LSB_UA * 1e-6),
        )
        self._delivered = np.asarray(train.delivered[:n], dtype=bool)

    def has(self, pulse_idx: int) -> bool:
        return 0 <= pulse_idx < self.stored and bool(self._delivered[pulse_idx])

    def total(self, pulse_idx: int, channel: int) -> int:
        return int(self._codes[channel].shape[1])

    def chunk(self, pulse_idx: int, channel: int, offset: int, max_samples: int) -> WaveChunk:
        """Samples [offset, offset + max_samples) of one record; the caller checked the bounds."""
        row = self._codes[channel][pulse_idx]
        n = min(max_samples, MAX_WAVE_SAMPLES, max(0, row.shape[0] - offset))
        return WaveChunk(
            train_id=self.train_id,
            pulse_idx=pulse_idx,
            channel=channel,
            format=0,
            offset=offset,
            total=int(row.shape[0]),
            dt_ns=self.dt_ns,
            lsb=VOLTAGE_LSB_UV if channel == 0 else CURRENT_LSB_UA,
            samples=tuple(int(x) for x in row[offset : offset + n]),
        )


def _quantise(values: np.ndarray, lsb: float) -> np.ndarray:
    return np.clip(np.round(values / lsb), -32768, 32767).astype(np.int16)
