"""From a protocol and an electrode layout to the ordered trains a session delivers.

Voltage is never typed: it is the protocol's field ratio times the distance of each
pair (ect-reference §2), rounded to the nearest volt. A pair the protocol cannot
treat (too far apart, voltage or predicted current beyond its limits) refuses the
whole plan with every reason at once; nothing is lowered to fit.

Predicted current (ect-reference §6): R = K/σ with the cell constant K of the pair;
the band runs from the first pulse (σ0) to electroporated tissue (σ1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from protocols.drug import DrugTiming
from protocols.ecg import EcgSettings
from protocols.electrode import Limits, NeedleArray
from protocols.errors import PlanRefused, ProtocolError
from protocols.fields import fmt
from protocols.layout import Electrode, layout
from protocols.needles import NeedleSet
from protocols.problems import REFUSE, WARN, Problem
from protocols.protocol import TreatmentProtocol
from protocols.thresholds import CheckThresholds
from protocols.tissue import Tissue

PLAN_FORMAT = "pulsehost-plan/1"


@dataclass(frozen=True)
class Train:
    """One train: `pulses` pulses between electrodes `a` and `b` (switch outputs)."""

    index: int  # from 1, in delivery order
    a: int
    b: int
    a_label: str
    b_label: str
    polarity: int  # 0: electrode a positive, 1: electrode b positive (firmware convention)
    distance_mm: float
    field_v_per_cm: float
    voltage_v: float
    pulses: int
    width_us: float
    rate_hz: float
    period_us: float
    cell_constant_per_m: float
    predicted_resistance_ohm: float  # at σ0, the first pulse
    predicted_current_a_min: float  # first pulse, σ0
    predicted_current_a_max: float  # electroporated tissue, σ1

    @property
    def pair_label(self) -> str:
        return f"{self.a_label}–{self.b_label}"

    @property
    def duration_ms(self) -> float:
        """From the first pulse's start to the last pulse's end (ungated)."""
        return ((self.pulses - 1) * self.period_us + self.width_us) / 1000.0

    def to_dict(self) -> dict[str, object]:
        return {
            "index": self.index,
            "pair": [self.a, self.b],
            "labels": [self.a_label, self.b_label],
            "polarity": self.polarity,
            "distance_mm": self.distance_mm,
            "field_v_per_cm": self.field_v_per_cm,
            "voltage_v": self.voltage_v,
            "pulses": self.pulses,
            "width_us": self.width_us,
            "rate_hz": self.rate_hz,
            "period_us": self.period_us,
            "duration_ms": self.duration_ms,
            "cell_constant_per_m": self.cell_constant_per_m,
            "predicted_resistance_ohm": self.predicted_resistance_ohm,
            "predicted_current_a_min": self.predicted_current_a_min,
            "predicted_current_a_max": self.predicted_current_a_max,
        }


@dataclass(frozen=True)
class Plan:
    """Everything a session needs to deliver and judge a protocol on one electrode layout."""

    protocol: TreatmentProtocol
    electrodes: tuple[Electrode, ...]
    trains: tuple[Train, ...]
    warnings: tuple[Problem, ...] = ()
    needles: NeedleSet | None = None

    @property
    def checks(self) -> CheckThresholds:
        return self.protocol.checks

    @property
    def ecg(self) -> EcgSettings:
        return self.protocol.ecg

    @property
    def drug(self) -> DrugTiming | None:
        return self.protocol.drug

    @property
    def limits(self) -> Limits:
        return self.protocol.limits

    @property
    def tissue(self) -> Tissue:
        return self.protocol.tissue

    @property
    def total_pulses(self) -> int:
        return sum(t.pulses for t in self.trains)

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready plan with a stable shape (`format` names its version; docs/cli.md)."""
        p = self.protocol
        needles: dict[str, object] | None = None
        if self.needles is not None:
            n = self.needles
            needles = {
                "path": n.source.path,
                "sha256": n.source.sha256,
                "description": n.description,
                "needles": [needle.to_dict() for needle in n.needles],
                "pairs": [list(pair) for pair in n.pairs] if n.pairs is not None else None,
                "text": n.source.text,
            }
        return {
            "format": PLAN_FORMAT,
            "protocol": {
                "id": p.id,
                "version": p.version,
                "title": p.title,
                "path": p.source.path,
                "sha256": p.source.sha256,
                "sources": list(p.sources),
                "overrides": dict(p.overrides),
                "text": p.source.text,
            },
            "electrode": p.electrode.to_dict(),
            "needles": needles,
            "electrodes": [e.to_dict() for e in self.electrodes],
            "delivery": p.delivery.to_dict(),
            "tissue": p.tissue.to_dict(),
            "limits": {**p.limits.to_dict(), "i_max_a": p.checks.i_max_a},
            "checks": p.checks.to_dict(),
            "ecg": p.ecg.to_dict(),
            "drug": p.drug.to_dict() if p.drug else None,
            "trains": [t.to_dict() for t in self.trains],
            "totals": {
                "trains": len(self.trains),
                "pulses": self.total_pulses,
                "pulse_time_ms": round(sum(t.duration_ms for t in self.trains), 6),
            },
            "warnings": [w.to_dict() for w in self.warnings],
        }


def make_plan(protocol: TreatmentProtocol, needles: NeedleSet | None = None) -> Plan:
    """The ordered trains for `protocol` (and `needles`, for variable geometry).

    Raises `ProtocolError` when a needles file is missing or not applicable, and
    `PlanRefused` (a `ProtocolError`) listing every pair the protocol cannot treat.
    """
    geometry = protocol.electrode
    if isinstance(geometry, NeedleArray) and needles is None:
        raise ProtocolError(
            "this protocol places single needles: give a needles file "
            "(for example the bundled 'example-4-needles')",
            path=protocol.source.path,
            line=protocol.source.line_of("electrode.kind"),
            field="electrode.kind",
        )
    if needles is not None and not isinstance(geometry, NeedleArray):
        raise ProtocolError(
            f"a needles file applies to variable geometry only; protocol '{protocol.id}' uses "
            f"the fixed layout of a '{geometry.kind}' electrode",
            path=needles.source.path,
        )
    lay = layout(geometry, protocol.limits, needles)
    problems = list(lay.problems)
    delivery = protocol.delivery
    tissue = protocol.tissue
    limits = protocol.limits
    checks = protocol.checks
    trains: list[Train] = []
    for number, pair in enumerate(lay.pairs, start=1):
        a, b = lay.electrodes[pair.a], lay.electrodes[pair.b]
        label = f"train {number}, pair {a.label}–{b.label}"
        distance = round(pair.distance_mm, 6)
        voltage = float(math.floor(delivery.field_v_per_cm * distance / 10.0 + 0.5))
        needed = (
            f"needs {fmt(voltage)} V ({fmt(delivery.field_v_per_cm)} V/cm × "
            f"{fmt(round(distance, 2))} mm)"
        )
        if distance > limits.max_spacing_mm + 1e-9:
            problems.append(
                Problem(
                    "pair-too-far",
                    REFUSE,
                    f"{label}: {fmt(round(distance, 2))} mm apart, beyond the "
                    f"{fmt(limits.max_spacing_mm)} mm maximum spacing (limits.max_spacing_mm); "
                    f"it {needed}, limit {fmt(limits.v_max_v)} V. Move the needles closer "
                    "or leave this pair out with [[pair]] blocks",
                    train=number,
                    pair=(a.label, b.label),
                )
            )
        elif voltage > limits.v_max_v:
            problems.append(
                Problem(
                    "voltage-above-limit",
                    REFUSE,
                    f"{label}: {needed}, above the protocol limit of {fmt(limits.v_max_v)} V "
                    "(limits.v_max_v)",
                    train=number,
                    pair=(a.label, b.label),
                )
            )
        k = pair.cell_constant_per_m
        current_min = voltage * tissue.sigma0_s_per_m / k
        current_max = voltage * tissue.sigma1_s_per_m / k
        if current_max > checks.i_max_a:
            problems.append(
                Problem(
                    "current-above-limit",
                    REFUSE,
                    f"{label}: predicted current up to {current_max:.1f} A in {tissue.name} "
                    f"exceeds the {fmt(checks.i_max_a)} A limit (checks.i_max_a)",
                    train=number,
                    pair=(a.label, b.label),
                )
            )
        elif current_max >= checks.current_margin_warn_pct / 100.0 * checks.i_max_a:
            problems.append(
                Problem(
                    "current-margin",
                    WARN,
                    f"{label}: predicted current up to {current_max:.1f} A is "
                    f"{100.0 * current_max / checks.i_max_a:.0f} % of the "
                    f"{fmt(checks.i_max_a)} A limit (warning from "
                    f"{fmt(checks.current_margin_warn_pct)} %)",
                    train=number,
                    pair=(a.label, b.label),
                )
            )
        trains.append(
            Train(
                index=number,
                a=a.index,
                b=b.index,
                a_label=a.label,
                b_label=b.label,
                polarity=0 if delivery.polarity == "a-positive" else (number - 1) % 2,
                distance_mm=distance,
                field_v_per_cm=delivery.field_v_per_cm,
                voltage_v=voltage,
                pulses=delivery.pulses_per_train,
                width_us=delivery.width_us,
                rate_hz=delivery.rate_hz,
                period_us=delivery.period_us,
                cell_constant_per_m=k,
                predicted_resistance_ohm=k / tissue.sigma0_s_per_m,
                predicted_current_a_min=current_min,
                predicted_current_a_max=current_max,
            )
        )
    refusals = tuple(p for p in problems if p.blocking)
    if refusals:
        path = needles.source.path if needles is not None else protocol.source.path
        raise PlanRefused(refusals, path=path)
    if not trains:
        raise PlanRefused(
            (Problem("no-pairs", REFUSE, "the layout has no pair to treat"),),
            path=protocol.source.path,
        )
    return Plan(
        protocol=protocol,
        electrodes=lay.electrodes,
        trains=tuple(trains),
        warnings=tuple(p for p in problems if not p.blocking),
        needles=needles,
    )
