"""`pulsehost verify`: can this plan be delivered within a generator's limits?

The limits come from the command line today. `GeneratorCeiling` is the seam where a
rig's limits (read from the instrument at connect time) replace them.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pulsehost.cli import exit_codes
from pulsehost.cli.errors import CliError
from pulsehost.cli.plan_cmd import add_plan_arguments, build_plan, print_refusal

if TYPE_CHECKING:
    from protocols import Plan, Problem

DEFAULT_V_MAX_V = 3000.0  # variable-geometry device caps (Bertacchini 2007)
DEFAULT_I_MAX_A = 50.0


@dataclass(frozen=True)
class GeneratorCeiling:
    """The limits a plan is verified against, and where they came from."""

    v_max_v: float
    i_max_a: float
    source: str
    max_rate_hz: float | None = None
    max_count: int | None = None
    ecg_gate: bool | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "v_max_v": self.v_max_v,
            "i_max_a": self.i_max_a,
            "max_rate_hz": self.max_rate_hz,
            "max_count": self.max_count,
            "ecg_gate": self.ecg_gate,
            "source": self.source,
        }


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "verify",
        help="check a plan against generator limits (exit 1 if not deliverable)",
        description=(
            "Build the plan and check it against the generator's limits: voltage per pair, "
            "predicted current, rate, pulses per train, ECG gate. Exit 0 deliverable, "
            "1 not deliverable (with every reason), 2 bad input."
        ),
    )
    add_plan_arguments(parser)
    parser.add_argument(
        "--limits-v",
        type=float,
        metavar="V",
        help=f"generator voltage limit (default {DEFAULT_V_MAX_V:g} V)",
    )
    parser.add_argument(
        "--limits-a",
        type=float,
        metavar="A",
        help=f"generator current limit (default {DEFAULT_I_MAX_A:g} A)",
    )
    parser.add_argument("--json", action="store_true", help="print the verdict as JSON")
    parser.set_defaults(handler=run)


def ceiling_from_args(args: argparse.Namespace) -> GeneratorCeiling:
    """Limits given on the command line (defaults 3000 V / 50 A)."""
    v_max = DEFAULT_V_MAX_V if args.limits_v is None else args.limits_v
    i_max = DEFAULT_I_MAX_A if args.limits_a is None else args.limits_a
    for option, value in (("--limits-v", v_max), ("--limits-a", i_max)):
        if not value > 0 or value == float("inf"):
            raise CliError(f"{option} must be a positive number, got {value:g}")
    given = args.limits_v is not None or args.limits_a is not None
    return GeneratorCeiling(v_max, i_max, "command line" if given else "default")


def verify(plan: Plan, ceiling: GeneratorCeiling) -> list[Problem]:
    """Every problem delivering `plan` within `ceiling`, plan warnings included."""
    from protocols import check_plan

    problems = check_plan(
        plan,
        ceiling.v_max_v,
        ceiling.i_max_a,
        max_rate_hz=ceiling.max_rate_hz,
        max_count=ceiling.max_count,
        ecg_gate=ceiling.ecg_gate,
    )
    return [*problems, *plan.warnings]


def run(args: argparse.Namespace) -> int:
    import json

    from protocols import PlanRefused

    ceiling = ceiling_from_args(args)
    plan: Plan | None
    try:
        plan = build_plan(args)
        problems = verify(plan, ceiling)
    except PlanRefused as refused:
        plan, problems = None, list(refused.problems)
    deliverable = not any(p.blocking for p in problems)
    code = exit_codes.OK if deliverable else exit_codes.CHECK_FAILED
    if args.json:
        verdict = {
            "deliverable": deliverable,
            "limits": ceiling.to_dict(),
            "problems": [p.to_dict() for p in problems],
            "plan": plan.to_dict() if plan is not None else None,
        }
        print(json.dumps(verdict, indent=2, ensure_ascii=False))
        return code
    if not deliverable:
        print_refusal("verify", problems)
    _print_summary(plan, ceiling, problems, deliverable)
    return code


def _print_summary(
    plan: Plan | None, ceiling: GeneratorCeiling, problems: list[Problem], deliverable: bool
) -> None:
    from protocols.fields import fmt

    print(
        f"generator limits: {fmt(ceiling.v_max_v)} V, {fmt(ceiling.i_max_a)} A ({ceiling.source})"
    )
    if plan is not None:
        p = plan.protocol
        v_top = max(t.voltage_v for t in plan.trains)
        i_top = max(t.predicted_current_a_max for t in plan.trains)
        print(
            f"plan: {p.id} {p.version}, {len(plan.trains)} train(s), {plan.total_pulses} pulses; "
            f"highest voltage {fmt(v_top)} V, highest predicted current {i_top:.1f} A"
        )
    for problem in problems:
        if not problem.blocking:
            print(f"warning: {problem.message}")
    print("DELIVERABLE" if deliverable else "NOT DELIVERABLE")
