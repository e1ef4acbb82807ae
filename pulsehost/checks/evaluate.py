"""Turn measurements and firmware telemetry into findings and per-pulse verdicts.

Rules and levels are listed in docs/checks.md. One fault gives one finding:
once a pulse was cut short by a protection (over-current, arc) or has no
valid scope data (clipped, missing), the checks that would only echo it are
not run for that pulse.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from drivers.values import PulseTelemetry
from pulsehost.checks.expectation import TrainExpectation
from pulsehost.checks.findings import (
    ARC,
    CLIPPED,
    HIGH_CURRENT,
    LOW_CURRENT,
    MISSING_PULSE,
    NO_ELECTROPORATION,
    OPEN_CIRCUIT,
    OVERCURRENT,
    SENSOR_DISAGREEMENT,
    TIMING_DEVIATION,
    UNMEASURED_CODES,
    VOLTAGE_DEVIATION,
    WIDTH_DEVIATION,
    Finding,
    Level,
    Verdict,
)
from pulsehost.checks.measurements import PulseMeasurement, TrainMeasurements
from pulsehost.checks.thresholds import Thresholds

_RANK = MappingProxyType({Level.OK: 0, Level.WARN: 1, Level.STOP: 2})
_BAND_CODES = frozenset({OPEN_CIRCUIT, LOW_CURRENT, HIGH_CURRENT})


@dataclass(frozen=True)
class PulseEvaluation:
    """The findings and verdict of one pulse slot.

    `source` says whose numbers were judged: "scope", "firmware" (no valid
    scope data) or "none".
    """

    pulse: int
    verdict: Verdict
    findings: tuple[Finding, ...]
    source: str


@dataclass(frozen=True)
class Evaluation:
    """Every planned pulse of a train, plus the findings about the train as a whole."""

    pulses: tuple[PulseEvaluation, ...]
    train: tuple[Finding, ...]

    @property
    def findings(self) -> tuple[Finding, ...]:
        return tuple(f for p in self.pulses for f in p.findings) + self.train

    @property
    def stop(self) -> bool:
        """Whether delivery must end before the next pulse or train."""
        return any(f.level is Level.STOP for f in self.findings)

    @property
    def level(self) -> Level:
        """The worst level of all findings (ok when there are none)."""
        return _worst(f.level for f in self.findings)

    def first_stop(self) -> Finding | None:
        """The first stop finding in pulse order, the one that ended delivery."""
        return next((f for f in self.findings if f.level is Level.STOP), None)


def evaluate(
    measurements: TrainMeasurements | None,
    expectation: TrainExpectation,
    thresholds: Thresholds,
    telemetry: Sequence[PulseTelemetry] = (),
    events: Sequence[Finding] = (),
) -> Evaluation:
    """Judge a train: scope measurements, the generator's summaries and engine events.

    Every slot 0 .. count-1 gets a `PulseEvaluation`. `events` are findings
    the engine made itself (`scope_timeout`, `link_lost`, ...); those with a
    pulse index join that pulse, the others the train. A slot with neither
    scope data nor a summary nor an event is a missing pulse.
    """
    by_slot = {t.pulse_idx: t for t in telemetry}
    measured = {} if measurements is None else {m.slot: m for m in measurements.pulse_list()}
    timed = measurements is not None and measurements.timed
    pulses = []
    starts: dict[int, float] = {}
    scope_rows: list[PulseMeasurement] = []
    for slot in range(expectation.count):
        scope = measured.get(slot)
        evaluation = _evaluate_slot(
            slot,
            scope,
            by_slot.get(slot),
            [e for e in events if e.pulse == slot],
            expectation,
            thresholds,
        )
        pulses.append(evaluation)
        if evaluation.source == "scope" and scope is not None:
            scope_rows.append(scope)
            if scope.start_s is not None and timed:
                starts[slot] = scope.start_s
    if not starts:
        starts = {
            t.pulse_idx: t.t_start_us * 1e-6
            for t in telemetry
            if "MISSING" not in t.flags and t.pulse_idx < expectation.count
        }
    late = _timing(starts, expectation, thresholds)
    pulses = [
        _with(p, late[p.pulse]) if p.pulse in late and p.verdict is not Verdict.STOP else p
        for p in pulses
    ]
    train = list(e for e in events if e.pulse is None)
    train += _no_electroporation(scope_rows, pulses, thresholds)
    return Evaluation(tuple(pulses), tuple(train))


def evaluate_telemetry(
    telemetry: PulseTelemetry, expectation: TrainExpectation, thresholds: Thresholds
) -> PulseEvaluation:
    """A fast check of the generator's own summary of one pulse.

    At 1 Hz the host decides from this before the next pulse: voltage
    against the target, the current band, and the firmware's OC, ARC,
    MISSING, CLIP, UV and LATE flags.
    """
    findings = _telemetry_findings(telemetry, expectation, thresholds)
    unmeasured = any(f.code in UNMEASURED_CODES for f in findings)
    return PulseEvaluation(
        telemetry.pulse_idx, _verdict(findings, unmeasured), tuple(findings), "firmware"
    )


def _evaluate_slot(
    slot: int,
    scope: PulseMeasurement | None,
    telemetry: PulseTelemetry | None,
    events: list[Finding],
    expectation: TrainExpectation,
    thresholds: Thresholds,
) -> PulseEvaluation:
    valid_scope = scope is not None and not scope.clipped
    findings: list[Finding] = []
    if scope is not None:
        findings += _scope_findings(scope, expectation, thresholds)
    if telemetry is not None:
        firmware = _telemetry_findings(telemetry, expectation, thresholds)
        if valid_scope:
            # The scope is judged; the generator adds what only it can know
            # (its own trips and missed slots) and must agree with the scope.
            firmware = [f for f in firmware if f.code in (OVERCURRENT, ARC, MISSING_PULSE)]
            if scope is not None and not any(f.level is Level.STOP for f in findings):
                findings += _crosscheck(scope, telemetry, thresholds)
        findings += [f for f in firmware if f.code not in {g.code for g in findings}]
    if any(f.code == ARC for f in findings):  # the arc explains the over-current
        findings = [f for f in findings if f.code != OVERCURRENT]
    findings += events
    if scope is None and telemetry is None and not events:
        findings.append(
            Finding.of(
                MISSING_PULSE,
                f"Pulse {slot + 1}: neither the scope nor the generator recorded it, so it was "
                "most likely not delivered. The train is incomplete; count the pulses delivered "
                "before deciding on a repeat.",
                slot,
            )
        )
    source = "scope" if valid_scope else "firmware" if telemetry is not None else "none"
    unmeasured = (not valid_scope and telemetry is None) or any(
        f.code in UNMEASURED_CODES for f in findings
    )
    return PulseEvaluation(slot, _verdict(findings, unmeasured), tuple(findings), source)


def _scope_findings(
    m: PulseMeasurement, expectation: TrainExpectation, thresholds: Thresholds
) -> list[Finding]:
    k, n = m.slot, m.slot + 1
    limit = min(expectation.i_limit_a, thresholds.i_max_a)
    i_peak = m.i_peak_a if m.i_peak_a is not None else 0.0
    # A clipped-high current is a lower bound, so reaching the limit still counts.
    over = i_peak >= limit
    # A voltage clipped high was there, however far off the scope's range it went.
    if m.missing and not over and not m.clipped_voltage:
        return [
            Finding.of(
                MISSING_PULSE,
                f"Pulse {n}: no voltage above 50 % of the {expectation.v_set_v:.0f} V target in "
                "its slot: the pulse was not delivered. The train is incomplete; count the "
                "pulses delivered before deciding on a repeat.",
                k,
            )
        ]
    peak = f"at least {i_peak:.1f} A, clipped" if m.clipped_current else f"{i_peak:.1f} A"
    # The arc is what drove the current to the limit (and the spike off the scope's
    # range): one finding says it all.
    if m.arc:
        return [
            Finding.of(
                ARC,
                f"Pulse {n}: arc. The voltage collapsed below "
                f"{thresholds.arc_voltage_fraction * expectation.v_set_v:.0f} V while the current "
                f"rose (peak {peak}). Delivery is stopped and is not repeated "
                "automatically: check for touching needles, bubbles or a dry contact first.",
                k,
            )
        ]
    if over:
        return [_overcurrent(n, k, peak, limit, "scope")]
    if m.clipped:
        which = " and ".join(
            name
            for name, hit in (("voltage", m.clipped_voltage), ("current", m.clipped_current))
            if hit
        )
        return [
            Finding.of(
                CLIPPED,
                f"Pulse {n}: the oscilloscope clipped the {which} (samples at the converter's "
                f"limit), so the pulse is unmeasured. Widen the scope's {which} range before the "
                "next train.",
                k,
            )
        ]
    findings: list[Finding] = []
    findings += _band(n, k, m.i_plateau_a or 0.0, m.v_plateau_v or 0.0, expectation, thresholds)
    findings += _voltage(n, k, m.v_plateau_v or 0.0, expectation, thresholds)
    findings += _width(n, k, m.width_s, expectation, thresholds)
    return findings


def _telemetry_findings(
    t: PulseTelemetry, expectation: TrainExpectation, thresholds: Thresholds
) -> list[Finding]:
    k, n = t.pulse_idx, t.pulse_idx + 1
    if "MISSING" in t.flags:
        return [
            Finding.of(
                MISSING_PULSE,
                f"Pulse {n}: the generator reports its slot passed without a pulse. The train is "
                "incomplete; count the pulses delivered before deciding on a repeat.",
                k,
            )
        ]
    limit = min(expectation.i_limit_a, thresholds.i_max_a)
    if "ARC" in t.flags:
        return [
            Finding.of(
                ARC,
                f"Pulse {n}: the generator detected an arc (peak {t.i_peak_a:.1f} A) and tripped. "
                "Delivery is stopped and is not repeated automatically: check for touching "
                "needles, bubbles or a dry contact first.",
                k,
            )
        ]
    if "OC" in t.flags or t.i_peak_a >= limit:
        return [_overcurrent(n, k, f"{t.i_peak_a:.1f} A", limit, "generator")]
    if "CLIP" in t.flags:
        return [
            Finding.of(
                CLIPPED,
                f"Pulse {n}: the generator's own measurement saturated, so its summary of this "
                "pulse is unmeasured; rely on the oscilloscope for it.",
                k,
            )
        ]
    findings = _band(n, k, t.i_mean_a, t.v_mean_v, expectation, thresholds)
    voltage = _voltage(n, k, t.v_mean_v, expectation, thresholds)
    if not voltage and "UV" in t.flags:
        voltage = [
            Finding.of(
                VOLTAGE_DEVIATION,
                f"Pulse {n}: the generator flags its output below the voltage tolerance "
                f"(mean {t.v_mean_v:.0f} V for {expectation.v_set_v:.0f} V set). The train "
                "fails; check the generator before continuing.",
                k,
            )
        ]
    findings += voltage
    findings += _width(n, k, t.width_us * 1e-6, expectation, thresholds)
    if "LATE" in t.flags:
        findings.append(
            Finding.of(
                TIMING_DEVIATION,
                f"Pulse {n}: the generator reports it fired outside its timing tolerance. Check "
                "the rate setting and, when gated, the ECG trigger.",
                k,
            )
        )
    return findings


def _overcurrent(n: int, k: int, peak: str, limit: float, seen_by: str) -> Finding:
    return Finding.of(
        OVERCURRENT,
        f"Pulse {n}: peak current {peak} reached the {limit:.1f} A limit "
        f"(seen by the {seen_by}). Delivery is stopped: check for a short, needles too close "
        "together or a wrong electrode; a new train needs a new confirmation.",
        k,
    )


def _band(
    n: int,
    k: int,
    current: float,
    voltage: float,
    expectation: TrainExpectation,
    thresholds: Thresholds,
) -> list[Finding]:
    low_pred, high_pred = expectation.i_pred_low_a, expectation.i_pred_high_a
    if current < thresholds.open_circuit_factor * low_pred:
        return [
            Finding.of(
                OPEN_CIRCUIT,
                f"Pulse {n}: {voltage:.0f} V was applied but almost no current flowed "
                f"({current * 1000:.0f} mA, {low_pred:.2f} A expected): the circuit is open. "
                "Check the cable and that the electrodes are in the tissue.",
                k,
            )
        ]
    floor = thresholds.current_low_factor * low_pred
    if current < floor:
        return [
            Finding.of(
                LOW_CURRENT,
                f"Pulse {n}: current {current:.2f} A is below {floor:.2f} A "
                f"({thresholds.current_low_factor:g} x the {low_pred:.2f} A predicted): poor "
                "contact, dry skin or a needle in bone. Check the contact; the train may be "
                "repeated once it is fixed.",
                k,
            )
        ]
    ceiling = thresholds.current_high_factor * high_pred
    if current > ceiling:
        return [
            Finding.of(
                HIGH_CURRENT,
                f"Pulse {n}: current {current:.2f} A is above {ceiling:.2f} A "
                f"({thresholds.current_high_factor:g} x the {high_pred:.2f} A predicted). Check "
                "the electrode spacing against the plan before continuing.",
                k,
            )
        ]
    return []


def _voltage(
    n: int, k: int, voltage: float, expectation: TrainExpectation, thresholds: Thresholds
) -> list[Finding]:
    target = expectation.v_set_v
    error = (voltage - target) / target
    if abs(error) <= thresholds.voltage_tolerance:
        return []
    return [
        Finding.of(
            VOLTAGE_DEVIATION,
            f"Pulse {n}: plateau voltage {voltage:.0f} V is {error * 100:+.0f} % off the "
            f"{target:.0f} V set (tolerance ±{thresholds.voltage_tolerance * 100:g} %). The train "
            "fails; check the generator and the voltage probe before continuing.",
            k,
        )
    ]


def _width(
    n: int, k: int, width_s: float | None, expectation: TrainExpectation, thresholds: Thresholds
) -> list[Finding]:
    target = expectation.width_s
    tolerance = f"tolerance ±{thresholds.width_tolerance * 100:g} %"
    if width_s is None or not math.isfinite(width_s):
        seen = "the pulse did not end within the record"
    else:
        error = (width_s - target) / target
        if abs(error) <= thresholds.width_tolerance:
            return []
        seen = f"width {width_s * 1e6:.1f} µs ({error * 100:+.1f} %)"
    return [
        Finding.of(
            WIDTH_DEVIATION,
            f"Pulse {n}: {seen} for {target * 1e6:.1f} µs set ({tolerance}). Check the "
            "generator's pulse settings.",
            k,
        )
    ]


def _crosscheck(m: PulseMeasurement, t: PulseTelemetry, thresholds: Thresholds) -> list[Finding]:
    if "MISSING" in t.flags or m.missing:
        return []
    pairs = [("plateau voltage", "V", t.v_mean_v, m.v_plateau_v, 0)]
    pairs.append(("plateau current", "A", t.i_mean_a, m.i_plateau_a, 2))
    findings = []
    for what, unit, firmware, scope, digits in pairs:
        if scope is None:
            continue
        reference = max(abs(scope), abs(firmware))
        if reference == 0:
            continue
        apart = abs(firmware - scope) / reference
        if apart > thresholds.crosscheck_tolerance:
            findings.append(
                Finding.of(
                    SENSOR_DISAGREEMENT,
                    f"Pulse {m.slot + 1}: generator and oscilloscope disagree on the {what}: "
                    f"generator {firmware:.{digits}f} {unit}, scope {scope:.{digits}f} {unit} "
                    f"({apart * 100:.1f} % apart, tolerance "
                    f"{thresholds.crosscheck_tolerance * 100:g} %). Check the probe settings "
                    "and calibration.",
                    m.slot,
                )
            )
    return findings


def _timing(
    starts: dict[int, float], expectation: TrainExpectation, thresholds: Thresholds
) -> dict[int, Finding]:
    """Pulses whose start is off their planned time by more than the timing tolerance."""
    if len(starts) < 2:
        return {}
    first = min(starts)
    allowed = thresholds.timing_tolerance * expectation.period_s
    late = {}
    for slot, start in sorted(starts.items()):
        planned = expectation.start_offset_s(slot) - expectation.start_offset_s(first)
        error = (start - starts[first]) - planned
        if abs(error) > allowed:
            late[slot] = Finding.of(
                TIMING_DEVIATION,
                f"Pulse {slot + 1}: started {error * 1e6:+.1f} µs from its planned time "
                f"(tolerance ±{allowed * 1e6:.1f} µs). Check the rate setting and, when gated, "
                "the ECG trigger.",
                slot,
            )
    return late


def _no_electroporation(
    scope_rows: list[PulseMeasurement], pulses: list[PulseEvaluation], thresholds: Thresholds
) -> list[Finding]:
    """The advisory for a flat current, within the first pulse and across the train."""
    if len(scope_rows) < 2 or any(
        f.level is Level.STOP or f.code in _BAND_CODES for p in pulses for f in p.findings
    ):
        return []
    first, last = scope_rows[0], scope_rows[-1]
    if not (first.i10_a and first.i90_a and first.i_plateau_a and last.i_plateau_a):
        return []
    if min(first.i10_a, first.i_plateau_a) <= 0:
        return []
    within = first.i90_a / first.i10_a
    across = last.i_plateau_a / first.i_plateau_a
    ratio = thresholds.no_ep_ratio
    if within >= ratio or across >= ratio:
        return []
    return [
        Finding.of(
            NO_ELECTROPORATION,
            f"The current stayed flat: within pulse {first.slot + 1} I90/I10 = {within:.3f}, and "
            f"pulse {last.slot + 1} / pulse {first.slot + 1} = {across:.3f}, both below "
            f"{ratio:g}. The field may be below the electroporation threshold: check the "
            "electrode placement and spacing (advisory).",
        )
    ]


def _with(p: PulseEvaluation, finding: Finding) -> PulseEvaluation:
    findings = (*p.findings, finding)
    unmeasured = p.verdict is Verdict.UNMEASURED
    return PulseEvaluation(p.pulse, _verdict(findings, unmeasured), findings, p.source)


def _worst(levels: Iterable[Level]) -> Level:
    return max(levels, key=_RANK.__getitem__, default=Level.OK)


def _verdict(findings: Iterable[Finding], unmeasured: bool) -> Verdict:
    worst = _worst(f.level for f in findings)
    if worst is Level.STOP:
        return Verdict.STOP
    if unmeasured:
        return Verdict.UNMEASURED
    return Verdict(worst.value)
