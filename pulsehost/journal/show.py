"""A session on the terminal (rich): header, verdict, plan, pulses, events, integrity."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from pulsehost.journal.export import event_details, findings_text
from pulsehost.journal.integrity import ChainStatus
from pulsehost.journal.session import Session

OUTCOME_STYLES = {
    "completed": "bold green",
    "aborted": "bold red",
    "fault": "bold red",
    "interrupted": "bold yellow",
}
VERDICT_STYLES = {"ok": "green", "warn": "yellow", "stop": "bold red", "unmeasured": "bold red"}


def _text(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, bool | int):
        return str(value)
    if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
        return ", ".join(_text(v) for v in value)
    return json.dumps(value, ensure_ascii=False)


def wide_console() -> Console:
    """A console for tables: the terminal's width, or 140 columns when output is piped."""
    console = Console(highlight=False)
    if not console.is_terminal:
        console.width = 140
    return console


def print_session(session: Session, console: Console | None = None) -> None:
    """Print everything a reviewer reads first. Free text is never taken as markup."""
    console = console or wide_console()
    start = session.start
    if session.simulated:
        console.print(Text(" SIMULATED SESSION ", style="bold black on yellow"))
    header = Table.grid(padding=(0, 2))
    header.add_column(style="bold")
    header.add_column()
    for key, value in session.overview().items():
        header.add_row(key, Text(_text(value)))
    console.print(header)

    stop = session.stop or {}
    planned = session.pulses_planned
    verdict = Text()
    verdict.append(session.outcome.upper(), style=OUTCOME_STYLES.get(session.outcome, "bold"))
    verdict.append(
        f"  {session.pulses_delivered} of {'?' if planned is None else planned} pulses delivered"
    )
    if stop.get("reason") or stop.get("message"):
        verdict.append(f"  reason: {_text(stop.get('reason'))}; {_text(stop.get('message'))}")
    console.print(verdict)

    plan = start.get("plan")
    trains = plan.get("trains") if isinstance(plan, Mapping) else None
    if isinstance(trains, list) and trains and all(isinstance(t, Mapping) for t in trains):
        wanted = ("index", "pair", "labels", "voltage_v", "pulses", "count", "width_us", "rate_hz")
        columns = [c for c in wanted if any(c in t for t in trains)]
        table = Table(title="Plan", title_justify="left")
        for column in columns:
            table.add_column(column)
        for train in trains:
            table.add_row(*(Text(_text(train.get(c))) for c in columns))
        console.print(table)

    if session.pulses:
        table = Table(title="Pulses", title_justify="left")
        for column in ("#", "train", "pair", "V set", "V", "I (A)", "width µs", "R Ω", "E (J)"):
            table.add_column(column, justify="right")
        table.add_column("verdict")
        table.add_column("findings")
        for pulse in session.pulses:
            pair = pulse.get("pair")
            verdict_value = str(pulse.get("verdict"))
            table.add_row(
                *(
                    Text(_text(v))
                    for v in (
                        pulse.get("index"),
                        pulse.get("train"),
                        "-".join(map(str, pair)) if isinstance(pair, list) else pair,
                        pulse.get("target_v"),
                        pulse.get("voltage_v"),
                        pulse.get("current_a"),
                        pulse.get("width_us"),
                        pulse.get("resistance_ohm"),
                        pulse.get("energy_j"),
                    )
                ),
                Text(verdict_value, style=VERDICT_STYLES.get(verdict_value, "")),
                Text(findings_text(pulse.get("findings"))),
            )
        console.print(table)
    else:
        console.print(Text("No pulse was delivered."))

    if session.events:
        table = Table(title="Events", title_justify="left")
        for column in ("UTC", "event", "details"):
            table.add_column(column)
        for event in session.events:
            details = event_details(event)
            table.add_row(
                Text(_text(event.get("utc"))),
                Text(_text(event.get("event"))),
                Text("; ".join(f"{k}: {_text(v)}" for k, v in details.items())),
            )
        console.print(table)

    style = "bold red" if session.integrity.status is ChainStatus.BROKEN else "green"
    line = Text("Integrity: ", style="bold")
    line.append(session.integrity.describe(), style=style)
    console.print(line)
