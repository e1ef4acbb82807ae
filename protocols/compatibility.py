"""Whether a plan fits a generator: static checks before anything is armed."""

from __future__ import annotations

from protocols.fields import fmt
from protocols.plan import Plan
from protocols.problems import REFUSE, WARN, Problem


def check_plan(
    plan: Plan,
    v_max_v: float,
    i_max_a: float,
    *,
    max_rate_hz: float | None = None,
    max_count: int | None = None,
    ecg_gate: bool | None = None,
    limit_owner: str = "the generator's",
) -> list[Problem]:
    """Problems delivering `plan` on a generator with these limits; deliverable iff none blocks.

    The current limit that applies is the lower of the generator's and the protocol's
    (checks.i_max_a). The plan itself already warns about its current margin against
    the protocol's limit; a margin warning here appears only when the generator's
    limit is the lower one. Optional limits (rate, pulses per train, ECG gate) are
    checked when given. `limit_owner` names whose voltage and current limits these
    are in the messages (a site limit from a rig file may be the lower one).
    """
    if not v_max_v > 0 or not i_max_a > 0:
        raise ValueError("generator limits must be positive")
    problems: list[Problem] = []
    checks = plan.checks
    generator_lower = i_max_a < checks.i_max_a
    for train in plan.trains:
        label = f"train {train.index}, pair {train.pair_label}"
        pair = (train.a_label, train.b_label)
        if train.voltage_v > v_max_v:
            problems.append(
                Problem(
                    "voltage-above-generator",
                    REFUSE,
                    f"{label}: needs {fmt(train.voltage_v)} V "
                    f"({fmt(train.field_v_per_cm)} V/cm × {fmt(round(train.distance_mm, 2))} mm), "
                    f"{limit_owner} limit is {fmt(v_max_v)} V; the voltage is never lowered: "
                    "bring the electrodes closer",
                    train=train.index,
                    pair=pair,
                )
            )
        current = train.predicted_current_a_max
        if current > i_max_a:
            problems.append(
                Problem(
                    "current-above-generator",
                    REFUSE,
                    f"{label}: predicted current up to {current:.1f} A exceeds {limit_owner} "
                    f"{fmt(i_max_a)} A limit",
                    train=train.index,
                    pair=pair,
                )
            )
        elif generator_lower and current >= checks.current_margin_warn_pct / 100.0 * i_max_a:
            problems.append(
                Problem(
                    "current-margin",
                    WARN,
                    f"{label}: predicted current up to {current:.1f} A is "
                    f"{100.0 * current / i_max_a:.0f} % of {limit_owner} {fmt(i_max_a)} A limit",
                    train=train.index,
                    pair=pair,
                )
            )
        if max_rate_hz is not None and train.rate_hz > max_rate_hz:
            problems.append(
                Problem(
                    "rate-above-generator",
                    REFUSE,
                    f"{label}: {fmt(train.rate_hz)} Hz is above the generator's "
                    f"{fmt(max_rate_hz)} Hz",
                    train=train.index,
                    pair=pair,
                )
            )
        if max_count is not None and train.pulses > max_count:
            problems.append(
                Problem(
                    "count-above-generator",
                    REFUSE,
                    f"{label}: {train.pulses} pulses per train, the generator takes at most "
                    f"{max_count}",
                    train=train.index,
                    pair=pair,
                )
            )
    if ecg_gate is False and plan.ecg.gated:
        problems.append(
            Problem(
                "no-ecg-gate",
                REFUSE,
                "the protocol is ECG-gated but the generator has no ECG gate",
            )
        )
    return problems
