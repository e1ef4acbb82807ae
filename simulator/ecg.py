"""A simulated ECG: R waves with realistic RR variability, and the gate that judges them.

`EcgSource` gives the R waves of a subject (simulator-model §4): sinus rhythm
with respiratory (RSA) and low-frequency modulation and white noise, an
occasional premature ventricular beat (PVC) with its compensatory pause, an
AF-like irregular rhythm, or no beats at all. `EcgGate` is the judgement a
generator applies to each beat before it fires on it (ect-reference §5,
firmware-link §7): withhold on an RR off the running mean by more than 20 %,
an ectopic beat, or a noisy lead.
"""

from __future__ import annotations

import bisect
import enum
import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from simulator.faults import Fault, find
from simulator.model.validation import require_non_negative, require_positive

MODES = ("normal", "arrhythmia", "none")
# The T peak comes this long before the end of QT (estimate).
T_PEAK_BEFORE_QT_END_S = 0.08
# Half-width of the vulnerable window around the T peak: ≈R + 250–350 ms at 75 bpm.
VULNERABLE_HALF_WIDTH_S = 0.05
PVC_COUPLING = 0.6  # a PVC comes at 0.6·RR after the previous beat
# Physiological bounds on one RR interval, so extreme random draws stay credible.
RR_BOUNDS_S = (0.3, 2.0)
LATENCY_BOUNDS_S = (0.005, 0.020)
# Random streams spawned from SeedSequence(seed), in this order.
STREAMS = ("phase", "rr", "ectopic", "noise", "latency")


@dataclass(frozen=True)
class Beat:
    """One R wave. Times are on the bench clock in seconds."""

    t_r_s: float  # the R peak
    rr_s: float  # since the previous R peak
    kind: str  # "normal" or "ectopic"
    noisy: bool  # the lead was noisy around this beat
    detect_latency_s: float  # the monitor's trigger output follows the R peak by this much
    t_peak_s: float  # the T-wave peak

    @property
    def t_detect_s(self) -> float:
        """When the monitor's trigger reaches the generator."""
        return self.t_r_s + self.detect_latency_s

    @property
    def vulnerable_s(self) -> tuple[float, float]:
        """The window around the T peak that a pulse must never hit."""
        return (
            self.t_peak_s - VULNERABLE_HALF_WIDTH_S,
            self.t_peak_s + VULNERABLE_HALF_WIDTH_S,
        )


class EcgSource:
    """R waves of one simulated subject, deterministic for a seed.

    Beats are generated forward from t = 0 and kept, so any query for the same
    time range returns the same beats whatever was asked before.
    """

    def __init__(
        self,
        seed: int,
        rr0_s: float = 0.8,
        mode: str = "normal",
        *,
        rsa_s: float = 0.030,
        respiration_hz: float = 0.25,
        lf_s: float = 0.015,
        white_s: float = 0.010,
        pvc_fraction: float = 0.015,
        af_cv: float = 0.20,
        noise_fraction: float = 0.0,
        qtc_s: float = 0.42,
        latency_s: float = 0.010,
        latency_sd_s: float = 0.002,
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"ECG mode {mode!r} unknown; use one of: {', '.join(MODES)}")
        lo, hi = RR_BOUNDS_S
        if not lo <= rr0_s <= hi:
            raise ValueError(f"ECG rr0_s must be within {lo}..{hi} s, got {rr0_s}")
        for label, value in (("pvc_fraction", pvc_fraction), ("noise_fraction", noise_fraction)):
            if not 0 <= value <= 1:
                raise ValueError(f"ECG {label} must be within 0..1, got {value}")
        if not 0 <= af_cv < 1:
            raise ValueError(f"ECG af_cv must be within 0..1 (0.15–0.25 is AF-like), got {af_cv}")
        require_non_negative(
            "ECG",
            rsa_s=rsa_s,
            lf_s=lf_s,
            white_s=white_s,
            latency_s=latency_s,
            latency_sd_s=latency_sd_s,
        )
        require_positive("ECG", qtc_s=qtc_s, respiration_hz=respiration_hz)
        self.mode = mode
        self.rr0_s = rr0_s
        self._rsa_s, self._respiration_hz, self._lf_s, self._white_s = (
            rsa_s,
            respiration_hz,
            lf_s,
            white_s,
        )
        self._pvc_fraction, self._af_cv, self._noise_fraction = pvc_fraction, af_cv, noise_fraction
        self._qtc_s, self._latency_s, self._latency_sd_s = qtc_s, latency_s, latency_sd_s
        children = np.random.SeedSequence(seed).spawn(len(STREAMS))
        self._rng = {
            name: np.random.default_rng(s) for name, s in zip(STREAMS, children, strict=True)
        }
        self._beats: list[Beat] = []
        self._times: list[float] = []
        # The sinus node's last beat and, after a PVC, the sinus beat it still owes.
        self._sinus_s = -self._rng["phase"].random() * rr0_s
        self._pending: float | None = None

    @classmethod
    def from_faults(
        cls, seed: int, faults: Sequence[Fault], rr0_s: float = 0.8, **options: float
    ) -> EcgSource:
        """The source a simulator with these faults uses: `ecg-none`, `ecg-arrhythmia:cv=`."""
        if find(faults, "ecg-none") is not None:
            return cls(seed, rr0_s, "none", **options)
        arrhythmia = find(faults, "ecg-arrhythmia")
        if arrhythmia is not None:
            options = {**options, "af_cv": arrhythmia.get("cv", options.get("af_cv", 0.20))}
            return cls(seed, rr0_s, "arrhythmia", **options)
        return cls(seed, rr0_s, "normal", **options)

    def beats(self, start_s: float, end_s: float) -> tuple[Beat, ...]:
        """R waves with start_s ≤ t_r < end_s."""
        if self.mode == "none" or end_s <= start_s:
            return ()
        self._extend(end_s)
        lo = bisect.bisect_left(self._times, start_s)
        hi = bisect.bisect_left(self._times, end_s)
        return tuple(self._beats[lo:hi])

    def next_beat(self, after_s: float) -> Beat | None:
        """The first R wave strictly after `after_s` (None when there are no beats)."""
        if self.mode == "none":
            return None
        self._extend(after_s + RR_BOUNDS_S[1] * 3)
        index = bisect.bisect_right(self._times, after_s)
        return self._beats[index]

    def _extend(self, until_s: float) -> None:
        while not self._times or self._times[-1] < until_s:
            self._append_next()

    def _append_next(self) -> None:
        previous = self._times[-1] if self._times else self._sinus_s
        if self._pending is not None:
            t_r, kind, self._pending = self._pending, "normal", None
            self._sinus_s = t_r
        else:
            rr = self._next_rr(self._sinus_s)
            ectopic = self._rng["ectopic"].random() < self._pvc_fraction and self.mode == "normal"
            if ectopic:
                # Premature beat; the sinus beat after it falls two cycles on (a full
                # compensatory pause), because the PVC does not reset the sinus node.
                t_r, kind = self._sinus_s + PVC_COUPLING * rr, "ectopic"
                self._pending = self._sinus_s + 2.0 * rr
            else:
                t_r, kind = self._sinus_s + rr, "normal"
                self._sinus_s = t_r
        rr_actual = t_r - previous
        noisy = bool(self._rng["noise"].random() < self._noise_fraction)
        latency = float(
            np.clip(
                self._latency_s + self._latency_sd_s * self._rng["latency"].standard_normal(),
                *LATENCY_BOUNDS_S,
            )
        )
        qt = self._qtc_s * math.sqrt(max(rr_actual, RR_BOUNDS_S[0]))
        beat = Beat(
            t_r_s=t_r,
            rr_s=rr_actual,
            kind=kind,
            noisy=noisy,
            detect_latency_s=latency,
            t_peak_s=t_r + qt - T_PEAK_BEFORE_QT_END_S,
        )
        if t_r >= 0:
            self._beats.append(beat)
            self._times.append(t_r)

    def _next_rr(self, t_s: float) -> float:
        """The next sinus RR interval, starting from the beat at t_s."""
        z = float(self._rng["rr"].standard_normal())
        if self.mode == "arrhythmia":
            # Log-normal with the requested coefficient of variation.
            s = math.sqrt(math.log1p(self._af_cv**2))
            rr = self.rr0_s * math.exp(s * z - 0.5 * s * s)
        else:
            rr = (
                self.rr0_s
                + self._rsa_s * math.sin(2 * math.pi * self._respiration_hz * t_s)
                + self._lf_s * math.sin(2 * math.pi * 0.1 * t_s)
                + self._white_s * z
            )
        return min(max(rr, RR_BOUNDS_S[0]), RR_BOUNDS_S[1])


class WithholdReason(enum.IntEnum):
    """Why a beat was refused; the values are the ECG_EVENT reason codes on the wire."""

    RR_OUT_OF_BAND = 1
    ECTOPIC = 2
    NOISE = 3


@dataclass(frozen=True)
class GateDecision:
    """The gate's verdict on one beat."""

    accept: bool
    reason: WithholdReason | None
    rr_s: float
    mean_rr_s: float | None  # the running mean the RR was judged against


class EcgGate:
    """Judges each R wave: fire on it, or withhold with a reason.

    The running mean covers the last `history` RR intervals between two clean
    sinus beats (not ectopic, not noisy, not the pause after an ectopic), so it
    follows a genuine change of rate. Until `min_history` such intervals have
    been seen there is no band, and beats are withheld as RR_OUT_OF_BAND.
    """

    def __init__(self, tolerance: float = 0.20, history: int = 8, min_history: int = 3) -> None:
        if not 0 < tolerance < 1:
            raise ValueError(f"ECG gate tolerance must be within 0..1, got {tolerance}")
        if not 1 <= min_history <= history:
            raise ValueError(
                f"ECG gate needs 1 <= min_history <= history, got {min_history} and {history}"
            )
        self.tolerance = tolerance
        self._min_history = min_history
        self._rr: deque[float] = deque(maxlen=history)
        self._previous_clean = False

    @property
    def mean_rr_s(self) -> float | None:
        """The running mean RR, or None while it is still being learned."""
        if len(self._rr) < self._min_history:
            return None
        return sum(self._rr) / len(self._rr)

    def judge(self, beat: Beat) -> GateDecision:
        """Decide on `beat` and learn from it."""
        mean = self.mean_rr_s
        reason: WithholdReason | None = None
        if beat.noisy:
            reason = WithholdReason.NOISE
        elif beat.kind != "normal":
            reason = WithholdReason.ECTOPIC
        elif mean is None or abs(beat.rr_s - mean) > self.tolerance * mean:
            reason = WithholdReason.RR_OUT_OF_BAND
        clean = beat.kind == "normal" and not beat.noisy
        if clean and self._previous_clean:
            self._rr.append(beat.rr_s)
        self._previous_clean = clean
        return GateDecision(reason is None, reason, beat.rr_s, mean)
