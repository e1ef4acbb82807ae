"""What the simulated generator says about itself in HELLO_ACK, and its fixed timings."""

from __future__ import annotations

from dataclasses import dataclass

from drivers.link.messages import CAP_ECG_GATE, CAP_WAVEFORMS


@dataclass(frozen=True)
class DeviceInfo:
    """Identity and ceilings of the simulated generator (the handshake's third limit)."""

    serial: str = "SIM-0001"
    fw_major: int = 1
    fw_minor: int = 0
    fw_patch: int = 3
    v_max_v: float = 3000.0
    i_max_a: float = 50.0
    max_rate_hz: int = 5000
    max_count: int = 1000
    caps: int = CAP_ECG_GATE | CAP_WAVEFORMS

    @property
    def serial_bytes(self) -> bytes:
        raw = self.serial.encode("ascii")
        if len(raw) > 16:
            raise ValueError(f"serial {self.serial!r} is longer than the 16 bytes of HELLO_ACK")
        return raw.ljust(16, b"\x00")

    @property
    def v_max_mv(self) -> int:
        return round(self.v_max_v * 1000)

    @property
    def i_max_ma(self) -> int:
        return round(self.i_max_a * 1000)


@dataclass(frozen=True)
class Timings:
    """Firmware timers in seconds (docs/firmware-link.md §6).

    Safety timers (`link_timeout_s`, `token_s`, `armed_s`, the reply and event
    retry timers) always run in wall-clock time. `charge_*` and `ecg_wait_s`
    are nominal: the bench's time scale compresses them together with the
    pulse periods and the ECG beats.
    """

    status_period_s: float = 0.100
    link_timeout_s: float = 0.400
    token_s: float = 15.0
    armed_s: float = 10.0
    event_retry_s: float = 0.050
    event_sends: int = 4  # first send plus three retries, as the host does for commands
    charge_min_s: float = 0.050  # nominal: an empty bank to a small set-point
    charge_full_s: float = 0.150  # nominal: to v_max
    discharge_tau_s: float = 0.010  # the dump resistor, wall clock
    safe_v: float = 50.0  # below this the bank counts as discharged
    residual_v: float = 0.12  # what the HV monitor reads on an empty bank
    ecg_wait_s: float = 3.0  # nominal
    gated_single_beat_s: float = 0.100  # a train this short goes on one beat
    stream_min_period_s: float = 0.020  # PULSE_SUMMARY streamed at or above this period
