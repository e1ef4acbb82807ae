"""`pulsehost run`: deliver a protocol, checking every pulse, and journal the session."""

from __future__ import annotations

import argparse
import datetime as dt
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from pulsehost.cli import exit_codes
from pulsehost.cli.errors import CliError
from pulsehost.cli.protocols_cmd import add_override_arguments
from pulsehost.cli.session_options import (
    add_simulator_options,
    check_simulator_options,
    login_name,
)

if TYPE_CHECKING:
    from pulsehost.engine.session import DrugEntry

DEFAULT_PROTOCOL = "esope-needle-rows"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "run",
        help="deliver a protocol with per-pulse checks (default: standard ECT on the simulator)",
        description=(
            "Deliver a protocol train by train: two-step arming with confirmation, per-pulse "
            "voltage and current checks, and a hash-chained journal of the session. Without "
            "--rig the built-in SIMULATED bench is used. Exit codes: 0 completed, 1 stopped "
            "by a check or refused, 2 bad input, 3 instrument or link fault, 130 interrupted."
        ),
    )
    parser.add_argument(
        "protocol",
        metavar="ID|FILE",
        nargs="?",
        default=DEFAULT_PROTOCOL,
        help=f"a preset id or a protocol .toml file (default: {DEFAULT_PROTOCOL})",
    )
    parser.add_argument("--rig", metavar="FILE", help="rig file (default: built-in simulator)")
    parser.add_argument(
        "--needles", metavar="FILE", help="needle coordinates for variable geometry"
    )
    add_override_arguments(parser)
    parser.add_argument(
        "--yes", action="store_true", help="confirm arming of every planned train up front"
    )
    parser.add_argument("--operator", help="who delivers (default: the login name)")
    parser.add_argument(
        "--subject", default="unspecified", help="pseudonymous subject id (never a name)"
    )
    parser.add_argument(
        "--drug-time",
        metavar="WHEN",
        help="when the drug was given: HH:MM (today, local time) or an ISO date-time",
    )
    parser.add_argument(
        "--drug-override",
        metavar="REASON",
        help="arm after the drug window closed, with a written reason (journalled)",
    )
    parser.add_argument(
        "--acknowledge-fault",
        action="store_true",
        help="clear a latched generator fault at preflight (the cause must be removed)",
    )
    add_simulator_options(parser)
    parser.add_argument("--store", metavar="DIR", help="session store (default: PULSEHOST_STORE)")
    parser.add_argument("--notes", default="", help="free text kept in the journal as given")
    parser.add_argument(
        "--json", action="store_true", help="print one JSON summary on stdout (docs/cli.md)"
    )
    parser.set_defaults(handler=run)


def parse_drug_time(text: str, now: dt.datetime | None = None) -> dt.datetime:
    """--drug-time as given: HH:MM today (local time) or an ISO date-time."""
    from pulsehost.engine.session import parse_drug_time as parse_session_drug_time

    try:
        return parse_session_drug_time(text, now or dt.datetime.now().astimezone())
    except ValueError as exc:
        raise CliError(f"--drug-time: {exc}") from None


@contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM ends a run like Ctrl-C: through the engine's safe-off and stop document."""

    def handler(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread (e.g. embedded in a test runner thread)
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def run(args: argparse.Namespace) -> int:
    import json

    from rich.console import Console

    from protocols import PlanRefused
    from pulsehost.cli.plan_cmd import build_plan, print_refusal
    from pulsehost.cli.run_render import RunConsole
    from pulsehost.engine.confirm import AlwaysConfirm, Confirmer, PromptConfirm
    from pulsehost.engine.engine import Engine
    from pulsehost.engine.session import SessionRequest
    from pulsehost.journal import default_store
    from pulsehost.rig import RigError, open_rig

    check_simulator_options(args)
    try:
        plan = build_plan(args)
    except PlanRefused as refused:
        print_refusal("run", refused.problems)
        return exit_codes.CHECK_FAILED
    operator = args.operator or login_name()
    drug = _drug_entry(args, operator)
    if args.yes:
        confirmer: Confirmer = AlwaysConfirm()
    elif sys.stdin.isatty():
        confirmer = PromptConfirm()
    else:
        raise CliError("no terminal to confirm arming on: run interactively or pass --yes")
    from pathlib import Path

    store = Path(args.store) if args.store else default_store()
    console = Console(stderr=args.json, highlight=False)
    request = SessionRequest(
        plan=plan,
        operator=operator,
        subject=args.subject,
        drug=drug,
        acknowledge_faults=args.acknowledge_fault,
        notes=args.notes,
    )
    try:
        with _rig_config(args, plan) as (config, extra), _terminate_as_interrupt():
            if config.simulated:
                console.print(
                    "[bold black on yellow] SIMULATED [/] built-in simulated bench: "
                    "no pulses reach a patient"
                )
            with open_rig(config) as rig:
                engine = Engine(
                    rig,
                    store,
                    RunConsole(console, simulated=config.simulated),
                    confirmer,
                    start_extra=extra,
                )
                outcome = engine.run(request)
    except RigError as exc:
        raise CliError(str(exc), exit_codes.INSTRUMENT_FAULT) from None
    if args.json:
        summary = {**outcome.to_dict(), "simulated": config.simulated}
        print(json.dumps(summary, indent=2))
    return outcome.exit_code


@contextmanager
def _rig_config(args: argparse.Namespace, plan: Any) -> Iterator[tuple[Any, dict[str, Any]]]:
    """The rig named by --rig, or the built-in simulated one for this plan."""
    from pathlib import Path

    from pulsehost.rig import RigError, load_rig

    if args.rig:
        try:
            config = load_rig(Path(args.rig))
        except RigError as exc:  # the file is bad input; an instrument that fails is a fault
            raise CliError(str(exc), exit_codes.BAD_INPUT) from None
        yield config, {}
        return
    from pulsehost.simulated_rig import simulated_rig

    with simulated_rig(plan, seed=args.seed, faults=args.fault, time_scale=args.time_scale) as sim:
        yield sim.config, {"simulation": sim.describe()}


def _drug_entry(args: argparse.Namespace, operator: str) -> DrugEntry | None:
    from pulsehost.engine.session import DrugEntry

    if args.drug_override and not args.drug_time:
        raise CliError("--drug-override needs --drug-time")
    if not args.drug_time:
        return None
    reason = args.drug_override.strip() if args.drug_override else None
    if args.drug_override is not None and not reason:
        raise CliError("--drug-override needs a written reason")
    return DrugEntry(
        given_at=parse_drug_time(args.drug_time), entered_by=operator, override_reason=reason
    )
