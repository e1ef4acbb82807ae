"""`pulsehost ui`: the terminal app (setup, plan, deliver, review)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from pulsehost.cli import exit_codes
from pulsehost.cli.errors import CliError
from pulsehost.cli.session_options import (
    add_simulator_options,
    check_simulator_options,
    login_name,
)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "ui",
        help="the terminal app: set up, plan, deliver and review sessions",
        description=(
            "Open the terminal app: set up a session, check its plan, deliver it with "
            "arm and fire as two keys and a stop key in every state, and review recorded "
            "sessions. Without --rig the built-in SIMULATED bench is used. F1 lists the keys."
        ),
    )
    parser.add_argument("--rig", metavar="FILE", help="rig file (default: built-in simulator)")
    parser.add_argument("--store", metavar="DIR", help="session store (default: PULSEHOST_STORE)")
    add_simulator_options(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from pulsehost.journal import default_store
    from pulsehost.rig import RigError
    from pulsehost.ui import RigFileBackend, SimulatedBackend, UiConfig, make_app
    from pulsehost.ui.backend import Backend

    check_simulator_options(args)
    backend: Backend
    try:
        if args.rig:
            backend = RigFileBackend(Path(args.rig))
        else:
            backend = SimulatedBackend(
                seed=args.seed, faults=args.fault, time_scale=args.time_scale
            )
    except RigError as exc:
        raise CliError(str(exc)) from None
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise CliError("the app needs a terminal; for scripts use `pulsehost run`")
    store = Path(args.store) if args.store else default_store()
    make_app(backend, UiConfig(store=store, operator=login_name(default=""))).run()
    return exit_codes.OK
