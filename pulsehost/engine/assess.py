"""From what the instruments reported about a train to journal documents, events and a verdict.

The checks package judges; this module gathers its inputs (scope captures,
firmware summaries, ECG and scope events) and shapes its outputs for the
journal and the event stream, so the engine itself stays a state machine.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np

from drivers.values import Capture, PulseTelemetry, TrainReport, Waveform
from protocols import Plan
from protocols.plan import Train
from pulsehost.checks import (
    Evaluation,
    Finding,
    Level,
    MeasurementError,
    PulseMeasurement,
    RawTrain,
    Thresholds,
    TrainExpectation,
    TrainMeasurements,
    ecg_timeout,
    ecg_withheld,
    evaluate,
    evaluate_telemetry,
    measure_train,
    scope_error,
    scope_timeout,
)
from pulsehost.engine.events import FindingView, PulseResult
from pulsehost.journal import WaveformBlock

# Names and units of the per-pulse fields, recorded in the start document.
FIELD_UNITS: Mapping[str, str] = MappingProxyType(
    {
        "target_v": "V",
        "voltage_v": "V",
        "current_a": "A",
        "v_peak_v": "V",
        "i_peak_a": "A",
        "width_us": "us",
        "rise_us": "us",
        "droop_pct": "%",
        "resistance_ohm": "ohm",
        "charge_uc": "uC",
        "energy_j": "J",
        "i10_a": "A",
        "i90_a": "A",
        "t_start_us": "us (generator clock)",
        "r_to_pulse_us": "us",
    }
)
# Streaming telemetry can be judged before the next pulse only when pulses are this far apart.
STREAMED_PERIOD_US = 20_000.0


def thresholds_of(plan: Plan) -> Thresholds:
    return Thresholds.from_table(plan.checks.to_dict(), where=f"{plan.protocol.id} [checks]")


def expectation_of(
    plan: Plan, train: Train, count: int | None = None, report: TrainReport | None = None
) -> TrainExpectation:
    """The planned train; with the generator's report, gated starts follow the R waves."""
    n = train.pulses if count is None else count
    return TrainExpectation(
        v_set_v=train.voltage_v,
        width_s=train.width_us * 1e-6,
        period_s=train.period_us * 1e-6,
        count=n,
        i_pred_low_a=train.predicted_current_a_min,
        i_pred_high_a=train.predicted_current_a_max,
        i_limit_a=plan.checks.i_max_a,
        start_offsets_s=None if report is None else gated_offsets(plan, train, report, n),
    )


def gated_offsets(
    plan: Plan, train: Train, report: TrainReport, count: int
) -> tuple[float, ...] | None:
    """Planned pulse starts of a gated train, relative to the first (ect-reference §7).

    A gated pulse is due at its R wave + delay, not one period after the one
    before: a 1 Hz train follows the heart. Each TRIGGER names the first pulse
    fired on that beat; a short train goes on one beat, its pulses a period
    apart. None when the train is not gated or the beats are not all known,
    and the checks then time the pulses by the period.
    """
    if not plan.ecg.gated:
        return None
    beats = sorted((e.next_pulse, e.t_r_us * 1e-6) for e in report.ecg if e.kind == "TRIGGER")
    period_s = train.period_us * 1e-6
    starts = []
    for k in range(count):
        on = [(first, t_r) for first, t_r in beats if first <= k]
        if not on:
            return None
        first, t_r = on[-1]
        starts.append(t_r + (k - first) * period_s)
    return tuple(s - starts[0] for s in starts)


@dataclass(frozen=True)
class ScopeProblem:
    """Why a train has no usable scope data.

    `kind` is "timeout" (no answer in time), "error" (an answer that cannot be
    used) or "absent" (no scope in the rig, or the session stopped before the
    read): the first two make every delivered pulse unmeasured, the last is a
    note about the train.
    """

    kind: str
    detail: str


@dataclass
class EarlyStop:
    """A stop decided from a streamed summary, while the train was still running."""

    finding: Finding | None = None


def telemetry_watch(
    plan: Plan, train: Train, early: EarlyStop, abort: Callable[[str], None]
) -> Callable[[PulseTelemetry], None]:
    """At 1 Hz, judge each summary as it arrives and abort before the next pulse on a stop.

    At 5 kHz the summaries only arrive after the train, so there is nothing
    to stop early; the full checks run after the train instead.
    """
    streamed = train.period_us >= STREAMED_PERIOD_US
    expectation = expectation_of(plan, train)
    thresholds = thresholds_of(plan)

    def watch(summary: PulseTelemetry) -> None:
        if not streamed or early.finding is not None:
            return
        judged = evaluate_telemetry(summary, expectation, thresholds)
        stop = next((f for f in judged.findings if f.level is Level.STOP), None)
        if stop is not None:
            early.finding = stop
            abort("host_fault")

    return watch


@dataclass(frozen=True)
class StopDecision:
    outcome: str  # aborted | fault
    code: str
    message: str


@dataclass(frozen=True, eq=False)
class JudgedPulse:
    document: dict[str, Any]
    waveforms: dict[str, WaveformBlock]
    event: PulseResult


@dataclass(frozen=True)
class JudgedTrain:
    pulses: tuple[JudgedPulse, ...]
    train_findings: tuple[dict[str, Any], ...]
    verdict: str  # ok | warn | stop
    stop: StopDecision | None = field(default=None)


def judge_train(
    plan: Plan,
    train: Train,
    report: TrainReport,
    captures: Sequence[Capture],
    scope_problem: ScopeProblem | None,
    *,
    first_index: int,
    early: EarlyStop,
) -> JudgedTrain:
    """Run the checks over one train and shape the results for journal and UI."""
    thresholds = thresholds_of(plan)
    attempted = _attempted(report)
    events: list[Finding] = []
    if report.result == "ECG_TIMEOUT":
        events.append(ecg_timeout(3.0))
    for e in report.ecg:
        if e.kind == "WITHHELD":
            events.append(ecg_withheld(e.reason.lower().replace("_", " "), e.rr_ms))
    if attempted == 0:
        evaluation = Evaluation((), tuple(events))
        measurements = None
    else:
        expectation = expectation_of(plan, train, attempted, report)
        captures = tuple(captures)[:attempted]
        measurements = None
        if captures:
            try:
                raw = RawTrain.from_captures(captures, slots=range(len(captures)))
                measurements = measure_train(raw, expectation, thresholds)
            except (MeasurementError, ValueError) as exc:
                scope_problem = ScopeProblem("error", f"scope data unusable: {exc}")
        if measurements is None and scope_problem is not None:
            unmeasured = {"timeout": scope_timeout, "error": scope_error}.get(scope_problem.kind)
            if unmeasured is not None:
                events.extend(
                    unmeasured(slot, scope_problem.detail) for slot in range(report.n_delivered)
                )
        evaluation = evaluate(measurements, expectation, thresholds, report.pulses, events)

    telemetry = {t.pulse_idx: t for t in report.pulses}
    by_slot = {c.index: c for c in captures}
    pulses = []
    for judged in evaluation.pulses:
        slot = judged.pulse
        scope = _scope_row(measurements, slot)
        pulses.append(
            _pulse(
                train,
                first_index + slot,
                slot,
                judged.verdict.value,
                judged.findings,
                judged.source,
                scope,
                telemetry.get(slot),
                by_slot.get(slot),
            )
        )
    train_findings = tuple(_finding_dict(f) for f in evaluation.train)
    if scope_problem is not None and scope_problem.kind == "absent" and report.n_delivered:
        train_findings += (
            {"code": "scope-unavailable", "level": "warn", "message": scope_problem.detail},
        )
    return JudgedTrain(
        pulses=tuple(pulses),
        train_findings=train_findings,
        verdict=evaluation.level.value,
        stop=_stop_decision(report, evaluation, early),
    )


def _attempted(report: TrainReport) -> int:
    """Pulse slots the generator got to: all of them unless the train ended early."""
    if report.result == "COMPLETE":
        return report.n_requested
    seen = max((t.pulse_idx + 1 for t in report.pulses), default=0)
    return max(seen, report.n_delivered)


def _stop_decision(
    report: TrainReport, evaluation: Evaluation, early: EarlyStop
) -> StopDecision | None:
    if early.finding is not None:
        f = early.finding
        return StopDecision("aborted", f.code, f.message)
    first = evaluation.first_stop()
    if first is not None:
        return StopDecision("aborted", first.code, first.message)
    if report.result == "FAULT":
        codes = ", ".join(f.code for f in report.faults) or "unreported"
        return StopDecision(
            "fault",
            "generator-fault",
            f"the generator faulted during the train ({codes}); it discharges and latches the "
            "fault until an operator clears it",
        )
    if report.result != "COMPLETE":
        return StopDecision(
            "aborted",
            "train-incomplete",
            f"the generator ended the train as {report.result} after {report.n_delivered} "
            f"of {report.n_requested} pulses",
        )
    return None


def _scope_row(measurements: TrainMeasurements | None, slot: int) -> PulseMeasurement | None:
    if measurements is None:
        return None
    row = measurements.row_of(slot)
    return None if row is None else measurements.pulse(row)


def _pulse(
    train: Train,
    index: int,
    slot: int,
    verdict: str,
    findings: Sequence[Finding],
    source: str,
    scope: PulseMeasurement | None,
    telemetry: PulseTelemetry | None,
    capture: Capture | None,
) -> JudgedPulse:
    # The scope's numbers when they were the ones judged; otherwise the generator's own.
    judged = scope if source == "scope" else None
    t = telemetry
    voltage = judged.v_plateau_v if judged else (t.v_mean_v if t else None)
    current = judged.i_plateau_a if judged else (t.i_mean_a if t else None)
    width = _us(judged.width_s) if judged else (t.width_us if t else None)
    resistance = judged.resistance_ohm if judged else _ratio(voltage, current)
    scope_charge_c = judged.charge_c if judged else None
    charge_uc = scope_charge_c * 1e6 if scope_charge_c is not None else (t.charge_uc if t else None)
    document: dict[str, Any] = {
        "index": index,
        "train": train.index,
        "pulse": slot + 1,
        "pair": [train.a, train.b],
        "target_v": train.voltage_v,
        "voltage_v": _clean(voltage),
        "current_a": _clean(current),
        "width_us": _clean(width),
        "resistance_ohm": _clean(resistance),
        "energy_j": _clean(judged.energy_j if judged else (t.energy_j if t else None)),
        "charge_uc": _clean(charge_uc),
        "v_peak_v": _clean(scope.v_peak_v if scope else (t.v_peak_v if t else None)),
        "i_peak_a": _clean(scope.i_peak_a if scope else (t.i_peak_a if t else None)),
        "rise_us": _clean(_us(scope.rise_time_s) if scope else None),
        "droop_pct": _clean(scope.droop * 100 if scope and scope.droop is not None else None),
        "i10_a": _clean(scope.i10_a if scope else None),
        "i90_a": _clean(scope.i90_a if scope else None),
        "clipped": bool(scope.clipped) if scope else None,
        "arc": bool(scope.arc) if scope else None,
        "verdict": verdict,
        "source": source,
        "findings": [_finding_dict(f) for f in findings],
        "firmware": None if t is None else _telemetry_fields(t),
    }
    waveforms: dict[str, WaveformBlock] = {}
    times = volts = amps = None
    if capture is not None:
        waveforms = {"voltage": _block(capture.voltage), "current": _block(capture.current)}
        times = capture.voltage.times
        volts = capture.voltage.values
        amps = capture.current.values
    event = PulseResult(
        index=index,
        train=train.index,
        pulse=slot + 1,
        pair=(train.a, train.b),
        target_v=train.voltage_v,
        voltage_v=document["voltage_v"],
        current_a=document["current_a"],
        width_us=document["width_us"],
        resistance_ohm=document["resistance_ohm"],
        verdict=verdict,
        findings=tuple(
            FindingView(code=f.code, level=f.level.value, message=f.message, pulse=index)
            for f in findings
        ),
        source=source,
        time_s=times,
        voltage_trace=volts,
        current_trace=amps,
    )
    return JudgedPulse(document=document, waveforms=waveforms, event=event)


def _finding_dict(f: Finding) -> dict[str, Any]:
    return {"code": f.code, "level": f.level.value, "message": f.message}


def _telemetry_fields(t: PulseTelemetry) -> dict[str, Any]:
    return {
        "train_id": t.train_id,
        "pulse_idx": t.pulse_idx,
        "flags": sorted(t.flags),
        "t_start_us": t.t_start_us,
        "width_us": t.width_us,
        "v_peak_v": t.v_peak_v,
        "v_mean_v": t.v_mean_v,
        "i_peak_a": t.i_peak_a,
        "i_mean_a": t.i_mean_a,
        "charge_uc": t.charge_uc,
        "energy_j": t.energy_j,
        "r_to_pulse_us": t.r_to_pulse_us,
    }


def _block(wave: Waveform) -> WaveformBlock:
    return WaveformBlock(
        codes=np.ascontiguousarray(wave.codes),
        scale=float(wave.scale),
        offset=float(wave.offset),
        reference=float(wave.reference),
        t0_s=float(wave.t0_s),
        dt_s=float(wave.dt_s),
        units=wave.units,
    )


def _us(seconds: float | None) -> float | None:
    return None if seconds is None else seconds * 1e6


def _ratio(v: float | None, i: float | None) -> float | None:
    if v is None or i is None or not i:
        return None
    return v / i


def _clean(value: float | None) -> float | None:
    """Finite numbers as plain floats; anything else is not measured."""
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None
