"""Options shared by the commands that open a delivery session (`run` and `ui`)."""

from __future__ import annotations

import argparse
import getpass

from pulsehost.cli.errors import CliError


def add_simulator_options(parser: argparse.ArgumentParser) -> None:
    """--fault, --seed and --time-scale: settings of the built-in simulated rig."""
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="SPEC",
        help="inject a fault into the built-in simulator (e.g. overcurrent@5, open, link-drop@3)",
    )
    parser.add_argument("--seed", type=int, default=0, help="simulator seed (default 0)")
    parser.add_argument(
        "--time-scale",
        type=float,
        default=1.0,
        metavar="X",
        help="simulator only: pace slow trains X times faster (safety timers stay real)",
    )


def check_simulator_options(args: argparse.Namespace) -> None:
    """Refuse simulator settings with a rig file, and bad fault specs, before anything opens."""
    if args.rig and args.fault:
        raise CliError("--fault works only on the built-in simulator; drop --rig or --fault")
    if args.rig and args.time_scale != 1.0:
        raise CliError("--time-scale works only on the built-in simulator; drop --rig or it")
    if args.rig:
        return
    if not args.time_scale > 0:
        raise CliError(f"--time-scale must be a positive number, got {args.time_scale:g}")
    from pulsehost.rig import RigError
    from pulsehost.simulated_rig import check_fault_specs

    try:
        check_fault_specs(args.fault)
    except RigError as exc:
        raise CliError(str(exc)) from None


def login_name(default: str = "operator") -> str:
    """Who is at the keyboard, as the system knows them."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return default
