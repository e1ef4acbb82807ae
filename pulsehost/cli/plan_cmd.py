"""`pulsehost plan`: the trains a protocol delivers on an electrode, with predicted currents."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from pulsehost.cli import exit_codes
from pulsehost.cli.errors import CliError
from pulsehost.cli.protocols_cmd import add_override_arguments, load_protocol_from_args

if TYPE_CHECKING:
    from protocols import Plan, Problem


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "plan",
        help="show the trains a protocol delivers, with predicted currents",
        description=(
            "Expand a protocol (and, for variable geometry, a needles file) into the ordered "
            "trains a session delivers: pair, distance, voltage, pulses and the predicted "
            "current band. Exit 1 when the protocol refuses the geometry."
        ),
    )
    add_plan_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print the plan as JSON (docs/cli.md)")
    parser.set_defaults(handler=run)


def add_plan_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments that name a plan: protocol, needles and overrides."""
    parser.add_argument("protocol", metavar="ID|FILE", help="a preset id or a protocol .toml file")
    parser.add_argument(
        "--needles",
        metavar="FILE",
        help="needle coordinates for variable geometry (a .toml file or a bundled example name)",
    )
    add_override_arguments(parser)


def build_plan(args: argparse.Namespace) -> Plan:
    """The plan named on the command line. Bad files raise CliError (exit 2);
    a refused geometry propagates as `protocols.PlanRefused`."""
    from protocols import PlanRefused, ProtocolError, load_needles, make_plan

    protocol = load_protocol_from_args(args)
    if protocol.electrode.kind == "needles" and not args.needles:
        raise CliError(
            f"protocol '{protocol.id}' places single needles: give their coordinates with "
            "--needles FILE (try --needles example-4-needles)"
        )
    try:
        needles = load_needles(args.needles) if args.needles else None
        return make_plan(protocol, needles)
    except PlanRefused:
        raise
    except ProtocolError as exc:
        raise CliError(str(exc), exit_codes.BAD_INPUT) from None


def print_refusal(command: str, problems: tuple[Problem, ...] | list[Problem]) -> None:
    """The reasons a plan is not deliverable, one per line on stderr."""
    print(f"pulsehost {command}: not deliverable:", file=sys.stderr)
    for problem in problems:
        if problem.blocking:
            print(f"  - {problem.message}", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    import json

    from protocols import PlanRefused

    try:
        plan = build_plan(args)
    except PlanRefused as refused:
        print_refusal("plan", refused.problems)
        return exit_codes.CHECK_FAILED
    if args.json:
        print(json.dumps(plan.to_dict(), indent=2, ensure_ascii=False))
        return exit_codes.OK
    print_plan(plan)
    return exit_codes.OK


def print_plan(plan: Plan) -> None:
    """The plan as people read it: a header, the train table, then warnings."""
    from rich.console import Console
    from rich.table import Table

    from protocols.fields import fmt

    p = plan.protocol
    d = p.delivery
    console = Console(highlight=False)
    console.print(f"[bold]{p.id}[/bold] {p.version}: {p.title}")
    source = f"{p.source.path}  sha256 {p.source.sha256[:16]}"
    if plan.needles is not None:
        source += f"\nneedles {plan.needles.source.path}  sha256 {plan.needles.source.sha256[:16]}"
    console.print(source)
    t = p.tissue
    console.print(
        f"{d.pulses_per_train} × {fmt(d.width_us)} µs at {fmt(d.rate_hz)} Hz, "
        f"{fmt(d.field_v_per_cm)} V/cm; electrode {p.electrode.kind}; tissue {t.name} "
        f"(σ {fmt(t.sigma0_s_per_m)} → {fmt(t.sigma1_s_per_m)} S/m)"
    )
    if p.ecg.gated:
        console.print(f"ECG-gated: R + {p.ecg.delay_ms} ms")
    if p.drug is not None:
        console.print(
            f"drug window: {p.drug.agent} {p.drug.route.upper()}, pulses "
            f"{fmt(p.drug.window_start_min)}-{fmt(p.drug.window_end_min)} min after "
            f"(warning from {fmt(p.drug.warn_after_min)} min)"
        )

    table = Table()
    table.add_column("train", justify="right")
    table.add_column("pair")
    table.add_column("distance mm", justify="right")
    table.add_column("voltage V", justify="right")
    table.add_column("pulses", justify="right")
    table.add_column("R Ω", justify="right")
    table.add_column("current A", justify="right")
    for train in plan.trains:
        table.add_row(
            str(train.index),
            train.pair_label,
            f"{train.distance_mm:.2f}",
            f"{train.voltage_v:.0f}",
            str(train.pulses),
            f"{train.predicted_resistance_ohm:.0f}",
            f"{train.predicted_current_a_min:.1f}..{train.predicted_current_a_max:.1f}",
        )
    console.print(table)
    console.print(
        f"{len(plan.trains)} train(s), {plan.total_pulses} pulses; "
        f"current limit {fmt(p.checks.i_max_a)} A, voltage limit {fmt(p.limits.v_max_v)} V"
    )
    for warning in plan.warnings:
        console.print(f"warning: {warning.message}")
