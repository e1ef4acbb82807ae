"""Values the drivers return and accept. Units are SI unless the name says otherwise."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Identity:
    """Who answered: `*IDN?` fields or the firmware handshake."""

    maker: str
    model: str
    serial: str
    firmware: str
    resource: str  # the address it was opened at


@dataclass(frozen=True)
class GeneratorLimits:
    """What the generator says it can do (a ceiling independent of any site limit)."""

    v_max_v: float
    i_max_a: float
    max_rate_hz: float
    max_count: int
    ecg_gate: bool = False
    waveforms: bool = False


@dataclass(frozen=True)
class PulseParams:
    """One train as the generator is asked to deliver it."""

    amplitude_v: float
    width_us: float
    count: int
    period_us: float
    i_limit_a: float
    v_tolerance: float = 0.10  # fraction of amplitude
    ecg_gated: bool = False
    ecg_delay_ms: int = 50
    electrode_a: int = 0
    electrode_b: int = 1
    polarity: int = 0  # 0: electrode_a positive


@dataclass(frozen=True)
class ArmOffer:
    """Step one of arming: the parameters the generator holds, decoded from its reply.

    The operator confirms *these* (not the host's copy); `confirm_arm` needs
    the offer back, so nothing can be armed that was not shown.
    """

    params: PulseParams
    param_hash: int
    expires_in_s: float
    token: int = field(repr=False)


@dataclass(frozen=True)
class PulseTelemetry:
    """The generator's own per-pulse summary (PULSE_SUMMARY)."""

    train_id: int
    pulse_idx: int
    flags: frozenset[str]  # subset of {"OC", "UV", "ARC", "CLIP", "LATE", "MISSING"}
    t_start_us: int  # generator clock
    width_us: float
    v_peak_v: float
    v_mean_v: float
    i_peak_a: float
    i_mean_a: float
    charge_uc: float
    energy_j: float
    r_to_pulse_us: int | None  # None when not ECG-gated


@dataclass(frozen=True)
class EcgReport:
    """ECG gate decisions reported during a train."""

    train_id: int
    kind: str  # TRIGGER | WITHHELD | TIMEOUT | LEAD_OFF
    reason: str  # NONE | RR_OUT_OF_BAND | ECTOPIC | NOISE
    rr_ms: int
    t_r_us: int
    next_pulse: int


@dataclass(frozen=True)
class GeneratorFault:
    code: str  # FaultCode name, e.g. "OVERCURRENT"
    latched: bool
    state_before: str
    hv_v: float
    train_id: int
    pulse_idx: int | None
    detail: int


@dataclass(frozen=True)
class TrainReport:
    """Everything the generator said about one train."""

    train_id: int
    n_requested: int
    n_delivered: int
    result: str  # COMPLETE | ABORTED | FAULT | ECG_TIMEOUT
    flags: frozenset[str]
    withheld: int
    pulses: tuple[PulseTelemetry, ...]
    ecg: tuple[EcgReport, ...] = ()
    faults: tuple[GeneratorFault, ...] = ()


@dataclass(frozen=True)
class GeneratorStatus:
    state: str  # BOOT | IDLE | CHARGING | ARMED | FIRING | DONE | FAULT
    hv_bank_v: float
    interlocks: int
    faults: frozenset[str]
    param_hash: int
    link_stats: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class ScopeChannel:
    """How one scope input is wired: the probe scale turns volts at the input into
    the physical quantity (V per V for an HV probe, A per V for a current probe)."""

    number: int
    quantity: str  # "voltage" | "current"
    units_per_volt: float  # probe attenuation (e.g. 1000 V/V) or 1/sensitivity (10 A/V)
    full_scale: float  # expected peak in physical units; the range is set a bit above it


@dataclass(frozen=True)
class ScopeSetup:
    voltage: ScopeChannel
    current: ScopeChannel
    sample_rate_hz: float
    pre_trigger_s: float
    post_trigger_s: float  # window after the trigger, pulse included
    trigger_level: float  # physical units on the voltage channel
    segments: int = 1


@dataclass(frozen=True, eq=False)
class Waveform:
    """One channel of one capture, as values with their time base and raw codes."""

    quantity: str
    units: str  # "V" or "A"
    t0_s: float  # time of sample 0 relative to the trigger
    dt_s: float
    values: np.ndarray  # float32, physical units
    codes: np.ndarray  # raw ADC codes as read
    clipped: bool
    scale: float  # physical units per code
    offset: float  # value = (code - reference) * scale + offset
    reference: float

    @property
    def times(self) -> np.ndarray:
        return self.t0_s + self.dt_s * np.arange(self.values.size)


@dataclass(frozen=True, eq=False)
class Capture:
    """One trigger's worth of data (one segment in segmented mode)."""

    index: int
    time_tag_s: float  # seconds since the first trigger of the acquisition
    voltage: Waveform
    current: Waveform
