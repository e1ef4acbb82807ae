"""Entry point: `pulsehost COMMAND ...` and `python -m pulsehost`."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from pulsehost import __version__
from pulsehost.cli import exit_codes
from pulsehost.cli.errors import CliError

# Each module defines `register(subparsers)`; order is the order shown in --help.
COMMAND_MODULES = (
    "pulsehost.cli.protocols_cmd",
    "pulsehost.cli.plan_cmd",
    "pulsehost.cli.verify_cmd",
    "pulsehost.cli.run_cmd",
    "pulsehost.cli.sessions_cmd",
    "pulsehost.cli.simulate_cmd",
    "pulsehost.cli.devices_cmd",
    "pulsehost.cli.ui_cmd",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pulsehost",
        description=(
            "Plan, deliver, check and review electroporation (ECT) sessions. "
            "Without a rig file every command uses the built-in SIMULATED bench."
        ),
        epilog=(
            "Exit codes: 0 ok, 1 a check failed, 2 bad input or usage, "
            "3 instrument or link fault, 130 interrupted."
        ),
    )
    parser.add_argument("--version", action="version", version=f"pulsehost {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue  # a command not built into this install
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if not args_list and sys.stdin.isatty() and sys.stdout.isatty():
        args_list = ["ui"]  # bare `pulsehost` on a terminal opens the app
    args = parser.parse_args(args_list)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return exit_codes.BAD_INPUT
    try:
        return int(handler(args))
    except CliError as exc:
        print(f"pulsehost {args.command}: error: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        print(f"pulsehost {args.command}: interrupted", file=sys.stderr)
        return exit_codes.INTERRUPTED
    except BrokenPipeError:
        return exit_codes.OK
