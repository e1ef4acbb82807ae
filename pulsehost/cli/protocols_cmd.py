"""`pulsehost protocols list|show`: the bundled presets and what a protocol file holds."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from pulsehost.cli import exit_codes
from pulsehost.cli.errors import CliError

if TYPE_CHECKING:
    from protocols import TreatmentProtocol


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "protocols",
        help="list the bundled protocols or show one",
        description="List the bundled treatment protocols, or show what a protocol file holds.",
    )
    actions = parser.add_subparsers(dest="protocols_action", metavar="ACTION")
    listing = actions.add_parser("list", help="the bundled presets")
    listing.add_argument("--json", action="store_true", help="print JSON (docs/cli.md)")
    listing.set_defaults(handler=run_list)

    show = actions.add_parser("show", help="one protocol: delivery, electrode, limits, checks")
    show.add_argument("protocol", metavar="ID|FILE", help="a preset id or a protocol .toml file")
    add_override_arguments(show)
    output = show.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print JSON (docs/cli.md)")
    output.add_argument("--text", action="store_true", help="print the file exactly as stored")
    show.set_defaults(handler=run_show)
    parser.set_defaults(handler=lambda _args: _usage(parser))


def add_override_arguments(parser: argparse.ArgumentParser) -> None:
    """--rate, --gap and --tissue, shared by the commands that load a protocol."""
    parser.add_argument(
        "--rate", type=float, metavar="HZ", help="one of the protocol's allowed rates (e.g. 1)"
    )
    parser.add_argument("--gap", type=float, metavar="MM", help="plate gap (plate electrodes)")
    parser.add_argument(
        "--tissue", metavar="NAME", help="tissue assumed for predictions (e.g. liver)"
    )


def load_protocol_from_args(args: argparse.Namespace) -> TreatmentProtocol:
    """The protocol named on the command line; a bad file becomes exit code 2."""
    from protocols import ProtocolError, load_protocol

    try:
        return load_protocol(args.protocol, rate_hz=args.rate, gap_mm=args.gap, tissue=args.tissue)
    except ProtocolError as exc:
        raise CliError(str(exc), exit_codes.BAD_INPUT) from None


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return exit_codes.BAD_INPUT


def run_list(args: argparse.Namespace) -> int:
    import json

    from protocols import ProtocolError, list_presets, load_protocol

    loaded = []
    for preset in list_presets():
        try:
            loaded.append(load_protocol(preset))
        except ProtocolError as exc:  # a broken installation, not the user's input
            raise CliError(str(exc), exit_codes.BAD_INPUT) from None
    if args.json:
        rows = [_summary(protocol) for protocol in loaded]
        print(json.dumps({"presets": rows}, indent=2, ensure_ascii=False))
        return exit_codes.OK

    from rich.console import Console
    from rich.table import Table

    from protocols.fields import fmt

    table = Table(box=None, header_style="bold")
    table.add_column("id", no_wrap=True)
    table.add_column("V/cm", justify="right", no_wrap=True)
    table.add_column("pulses", no_wrap=True)
    table.add_column("rate Hz", no_wrap=True)
    table.add_column("title")
    for protocol in loaded:
        d = protocol.delivery
        table.add_row(
            protocol.id,
            fmt(d.field_v_per_cm),
            f"{d.pulses_per_train} × {fmt(d.width_us)} µs",
            " or ".join(fmt(r) for r in d.allowed_rates_hz),
            protocol.title,
        )
    Console(highlight=False).print(table)
    return exit_codes.OK


def _summary(protocol: TreatmentProtocol) -> dict[str, object]:
    d = protocol.delivery
    return {
        "id": protocol.id,
        "version": protocol.version,
        "title": protocol.title,
        "electrode": protocol.electrode.kind,
        "field_v_per_cm": d.field_v_per_cm,
        "pulses_per_train": d.pulses_per_train,
        "width_us": d.width_us,
        "rate_hz": d.rate_hz,
        "allowed_rates_hz": list(d.allowed_rates_hz),
        "ecg_gated": protocol.ecg.gated,
        "path": protocol.source.path,
        "sha256": protocol.source.sha256,
    }


def run_show(args: argparse.Namespace) -> int:
    import json

    protocol = load_protocol_from_args(args)
    if args.text:
        print(protocol.source.text, end="" if protocol.source.text.endswith("\n") else "\n")
        return exit_codes.OK
    if args.json:
        print(json.dumps(protocol.to_dict(), indent=2, ensure_ascii=False))
        return exit_codes.OK

    from rich.console import Console
    from rich.table import Table

    from protocols.fields import fmt

    console = Console(highlight=False)
    console.print(f"[bold]{protocol.id}[/bold] {protocol.version}: {protocol.title}")
    if protocol.description:
        console.print(protocol.description)
    console.print(f"file {protocol.source.path}")
    console.print(f"sha256 {protocol.source.sha256}")
    for name, value in protocol.overrides:
        console.print(f"override: {name} = {value}")

    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column()
    d = protocol.delivery
    table.add_row(
        "delivery",
        f"{d.pulses_per_train} × {fmt(d.width_us)} µs at {fmt(d.rate_hz)} Hz "
        f"(allowed {', '.join(fmt(r) for r in d.allowed_rates_hz)} Hz), "
        f"{fmt(d.field_v_per_cm)} V/cm × distance, polarity {d.polarity}",
    )
    table.add_row("electrode", _pairs_text(protocol.electrode.to_dict()))
    table.add_row("limits", _pairs_text(protocol.limits.to_dict()))
    table.add_row("checks", _pairs_text(protocol.checks.to_dict()))
    t = protocol.tissue
    table.add_row(
        "tissue", f"{t.name}: σ0 {fmt(t.sigma0_s_per_m)} → σ1 {fmt(t.sigma1_s_per_m)} S/m"
    )
    ecg = protocol.ecg
    table.add_row("ecg", f"gated, R + {ecg.delay_ms} ms" if ecg.gated else "not gated")
    drug = protocol.drug
    if drug is None:
        table.add_row("drug", "no timing window in this protocol")
    else:
        dose = f", {fmt(drug.dose)} ({drug.dose_field})" if drug.dose is not None else ""
        table.add_row(
            "drug",
            f"{drug.agent} {drug.route.upper()}{dose}: pulses {fmt(drug.window_start_min)}-"
            f"{fmt(drug.window_end_min)} min after, warning from {fmt(drug.warn_after_min)} min",
        )
    table.add_row("sources", "\n".join(protocol.sources))
    console.print(table)
    return exit_codes.OK


def _pairs_text(values: dict[str, Any]) -> str:
    from protocols.fields import fmt

    parts = []
    for key, value in values.items():
        shown = fmt(value) if isinstance(value, float) else str(value)
        parts.append(f"{key} {shown}")
    return ", ".join(parts)
