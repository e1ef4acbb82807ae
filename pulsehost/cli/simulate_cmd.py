"""`pulsehost simulate`: run the SIMULATED bench in the foreground until Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import math
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from pulsehost.cli import exit_codes
from pulsehost.cli.errors import CliError

if TYPE_CHECKING:
    from simulator.bench import Bench
    from simulator.model import Pair


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "simulate",
        help="run the SIMULATED bench (generator firmware, function generator, scope)",
        description=(
            "Start the SIMULATED bench and keep it running: the generator firmware on a "
            "pseudo-terminal (or TCP), and a function generator and an oscilloscope as SCPI "
            "servers on 127.0.0.1, all driving one tissue model. Prints where to connect and a "
            "rig file for `pulsehost run --rig`. Nothing here reaches real hardware. Stop with "
            "Ctrl-C or SIGTERM."
        ),
    )
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="SPEC",
        help=(
            "inject a fault, KIND[@N][:KEY=VALUE,...], e.g. overcurrent@5 or "
            "link-drop@10:rate=0.2 (repeatable; --fault help lists the kinds)"
        ),
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--tissue", default="tumour", help="tissue model (default tumour)")
    parser.add_argument(
        "--serial",
        choices=("pty", "tcp"),
        default="pty",
        help="firmware port: a pseudo-terminal (default) or socket://127.0.0.1:PORT",
    )
    parser.add_argument(
        "--scope",
        choices=("keysight", "rigol"),
        default="keysight",
        help="scope dialect (default keysight)",
    )
    parser.add_argument(
        "--time-scale",
        type=float,
        default=1.0,
        metavar="X",
        help=(
            "run pulse periods, charging and ECG beats X times faster (default 1); safety "
            "timers stay in real time and reported times stay nominal"
        ),
    )
    parser.add_argument(
        "--protocol",
        metavar="ID|FILE",
        help=(
            "wire the simulated electrodes as this protocol's plan drives them (every pair "
            "with its planned geometry); default: one pair, electrodes 0 and 1"
        ),
    )
    parser.add_argument(
        "--needles",
        metavar="FILE",
        help="needle coordinates, with --protocol for variable geometry",
    )
    parser.add_argument(
        "--rig-out", type=Path, metavar="FILE", help="also write the rig file to FILE"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from simulator.faults import KINDS, FaultSpecError, parse_faults
    from simulator.model import TISSUES

    if "help" in args.fault:
        print("Fault kinds (KIND[@N][:KEY=VALUE,...]):")
        for kind, (what, keys) in KINDS.items():
            accepts = f" [{', '.join(sorted(keys))}]" if keys else ""
            print(f"  {kind:<16} {what}{accepts}")
        return exit_codes.OK
    try:
        faults = parse_faults(args.fault)
    except FaultSpecError as exc:
        raise CliError(f"--fault: {exc}") from None
    if args.tissue not in TISSUES:
        raise CliError(f"--tissue {args.tissue!r} unknown; known tissues: {', '.join(TISSUES)}")
    if not (args.time_scale > 0 and math.isfinite(args.time_scale)):
        raise CliError(f"--time-scale {args.time_scale:g}: give a number above 0, e.g. 1 or 20")

    pairs = _protocol_pairs(args)

    from simulator.bench import Bench

    stop = threading.Event()
    previous = _install_stop_handlers(stop)
    try:
        bench = Bench(
            seed=args.seed,
            tissue=args.tissue,
            faults=faults,
            pairs=pairs,
            time_scale=args.time_scale,
            serial=args.serial,
            scope_dialect=args.scope,
        )
        try:
            bench.start()
        except OSError as exc:
            raise CliError(
                f"could not open the simulated bench's ports: {exc}", exit_codes.INSTRUMENT_FAULT
            ) from None
        with bench:
            rig = bench.rig_toml()
            if args.rig_out is not None:
                _write_rig(args.rig_out, rig)
            _announce(bench, args, rig)
            while not stop.wait(0.5):
                pass
    finally:
        _restore_handlers(previous)
    print("pulsehost simulate: SIMULATED bench stopped", flush=True)
    return exit_codes.OK


def _protocol_pairs(args: argparse.Namespace) -> dict[tuple[int, int], Pair] | None:
    """The electrode pairs of --protocol's plan, so multi-pair protocols can run here."""
    if args.needles and not args.protocol:
        raise CliError("--needles needs --protocol (the protocol that places the needles)")
    if not args.protocol:
        return None
    from protocols import ProtocolError, load_needles, load_protocol, make_plan
    from pulsehost.simulated_rig import bench_pairs

    try:
        protocol = load_protocol(args.protocol)
        needles = load_needles(args.needles) if args.needles else None
        return bench_pairs(make_plan(protocol, needles))
    except ProtocolError as exc:
        raise CliError(f"--protocol: {exc}") from None


def _announce(bench: Bench, args: argparse.Namespace, rig: str) -> None:
    faults = ", ".join(str(f) for f in bench.faults) or "none"
    electrodes = f"wired for {args.protocol}" if args.protocol else "one pair (0-1)"
    lines = [
        "SIMULATED bench running; no real hardware is connected.",
        f"  seed {bench.seed}, tissue {bench.tissue_name}, time scale {bench.time_scale:g}, "
        f"faults: {faults}; electrodes {electrodes}",
        f"  generator firmware  {bench.firmware_url}",
        f"  function generator  {bench.fg_resource}",
        f"  oscilloscope        {bench.scope_resource} ({args.scope})",
    ]
    if args.rig_out is not None:
        lines.append(f"  rig file written to {args.rig_out}")
    lines += ["", rig, "Stop with Ctrl-C."]
    print("\n".join(lines), flush=True)


def _write_rig(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise CliError(f"--rig-out {path}: cannot write the rig file ({exc.strerror})") from None


_Handler = Any  # what signal.signal returns: a callable, an int or None


def _install_stop_handlers(stop: threading.Event) -> dict[int, _Handler]:
    """Ctrl-C and SIGTERM end the run cleanly (the `with` block closes every port)."""

    def handle(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous: dict[int, _Handler] = {}
    if threading.current_thread() is not threading.main_thread():
        return previous  # signals reach only the main thread; the caller stops us otherwise
    for signum in (signal.SIGINT, signal.SIGTERM):
        previous[signum] = signal.signal(signum, handle)
    return previous


def _restore_handlers(previous: dict[int, _Handler]) -> None:
    for signum, handler in previous.items():
        signal.signal(signum, handler)
    sys.stdout.flush()
