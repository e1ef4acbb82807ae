"""`pulsehost devices`: serial ports and VISA instruments on this computer, and who they are."""

from __future__ import annotations

import argparse
import re
from typing import TYPE_CHECKING, Any

from pulsehost.cli import exit_codes
from pulsehost.cli.errors import CliError

if TYPE_CHECKING:
    from drivers.discovery import Discovery, Found

FORMAT = "pulsehost-devices/1"
_USB_ID = re.compile(r"^[0-9a-fA-F]{4}:[0-9a-fA-F]{4}$")
MAX_TIMEOUT_S = 60.0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "devices",
        help="list serial ports and VISA instruments (and identify them)",
        description=(
            "List serial ports (with USB VID:PID and serial numbers) and the VISA resources "
            "pyvisa-py finds. With --identify, ask each VISA instrument *IDN? and each serial "
            "port that is clearly a pulsehost generator for a firmware HELLO; nothing else is "
            "ever sent, and other serial ports are left alone. Raw-socket instruments "
            "(TCPIP::host::5025::SOCKET) cannot be discovered; name them in the rig file."
        ),
    )
    parser.add_argument("--json", action="store_true", help="print JSON (docs/cli.md)")
    parser.add_argument("--identify", action="store_true", help="ask each allowed device who it is")
    parser.add_argument(
        "--timeout",
        type=float,
        default=1.0,
        metavar="S",
        help="seconds to wait for each identity answer (default 1)",
    )
    parser.add_argument(
        "--link-usb",
        action="append",
        default=[],
        metavar="VID:PID",
        help="treat serial ports with this USB id as pulsehost generators (repeatable)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if not 0 < args.timeout <= MAX_TIMEOUT_S:
        raise CliError(
            f"--timeout {args.timeout:g}: give seconds above 0 and at most {MAX_TIMEOUT_S:g}"
        )
    for usb_id in args.link_usb:
        if not _USB_ID.match(usb_id):
            raise CliError(
                f"--link-usb {usb_id!r}: give the USB id as four hex digits, a colon and four "
                "more, e.g. 1209:5050"
            )

    from drivers.discovery import discover

    found = discover(identify=args.identify, timeout_s=args.timeout, link_usb_ids=args.link_usb)
    if args.json:
        import json

        print(json.dumps(to_json(found), indent=2, ensure_ascii=False))
    else:
        _print_table(found, args.identify)
    return exit_codes.OK


def to_json(found: Discovery) -> dict[str, object]:
    """The `--json` document (shape in docs/cli.md)."""
    return {
        "format": FORMAT,
        "devices": [_device_json(d) for d in found.devices],
        "problems": list(found.problems),
    }


def _device_json(device: Found) -> dict[str, object]:
    identity = device.identity
    return {
        "kind": device.kind,
        "address": device.address,
        "description": device.description or None,
        "usb_id": device.usb_id,
        "serial_number": device.serial_number,
        "firmware_link": device.firmware_link,
        "identity": None
        if identity is None
        else {
            "maker": identity.maker,
            "model": identity.model,
            "serial": identity.serial,
            "firmware": identity.firmware,
        },
        "note": device.note or None,
    }


def _print_table(found: Discovery, identified: bool) -> None:
    import sys

    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console(highlight=False)
    if not found.devices:
        console.print("no serial ports or VISA resources found")
    else:
        table = Table(box=None, header_style="bold")
        table.add_column("kind", no_wrap=True)
        table.add_column("address", no_wrap=True)
        table.add_column("USB id", no_wrap=True)
        table.add_column("serial no.", no_wrap=True)
        table.add_column("identity" if identified else "description")
        for device in found.devices:
            cells = (device.kind, device.address, device.usb_id, device.serial_number)
            # Text, not markup: USB descriptions and notes may hold brackets.
            table.add_row(*(Text(c or "") for c in (*cells, _describe(device))))
        console.print(table)
    for problem in found.problems:
        print(f"pulsehost devices: note: {problem}", file=sys.stderr)


def _describe(device: Found) -> str:
    parts = []
    if device.identity is not None:
        i = device.identity
        parts.append(f"{i.maker} {i.model}, serial {i.serial}, firmware {i.firmware}")
    elif device.description:
        parts.append(device.description)
    if device.firmware_link and device.identity is None:
        parts.append("(pulsehost generator)")
    if device.note:
        parts.append(f"({device.note})")
    return " ".join(parts)
