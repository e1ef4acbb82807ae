"""Print every benchmark figure with its ratio to its bound."""

from __future__ import annotations

import argparse
import importlib
import platform
import sys
import time

from benchmarks.figure import Figure

MODULES = (
    "benchmarks.bench_model",
    "benchmarks.bench_checks",
    "benchmarks.bench_fetch",
    "benchmarks.bench_journal",
    "benchmarks.bench_session",
    "benchmarks.bench_startup",
)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("--quick", action="store_true", help="reduced run (under 30 s)")
    parser.add_argument("--only", help="run modules whose name contains this text")
    args = parser.parse_args()
    print(
        f"pulsehost benchmarks on {platform.node()} ({platform.machine()}, "
        f"{platform.python_implementation()} {platform.python_version()}), "
        f"{'quick' if args.quick else 'full'} run"
    )
    print(f"{'figure':<52} {'value':>14} {'bound':>14}  {'ratio':>8}  bound is")
    started = time.perf_counter()
    for name in MODULES:
        if args.only and args.only not in name:
            continue
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        figures: list[Figure] = module.measure(args.quick)
        for f in figures:
            print(
                f"{f.name:<52} {f.value:>10.4g} {f.unit:<3} {f.bound:>10.4g} {f.unit:<3} "
                f"{f.ratio:>7.2f}x  {f.bound_label}"
            )
        sys.stdout.flush()
    print(f"total {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
