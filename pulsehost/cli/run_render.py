"""Renders engine events on a terminal for `pulsehost run` (rich, one line per pulse)."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

from pulsehost.engine.events import (
    EcgSeen,
    EngineEvent,
    Notice,
    PulseResult,
    SessionFinished,
    SessionStarted,
    StateChanged,
    TrainArming,
    TrainFinished,
    TrainStarted,
)

VERDICT_STYLE = {"ok": "green", "warn": "yellow", "stop": "bold red", "unmeasured": "magenta"}
OUTCOME_STYLE = {
    "completed": "bold green",
    "aborted": "bold red",
    "fault": "bold red",
    "interrupted": "bold yellow",
}


def _num(value: float | None, fmt: str) -> str:
    return "—" if value is None else format(value, fmt)


class RunConsole:
    """An `EventSink` that prints a live per-pulse table as the session runs."""

    def __init__(self, console: Console, *, simulated: bool) -> None:
        self._console = console
        self._simulated = simulated
        self._header_done = False
        self._planned = 0
        self._seen = 0

    def __call__(self, event: EngineEvent) -> None:
        c = self._console
        match event:
            case SessionStarted():
                self._planned = event.pulses_planned
                tag = " [bold black on yellow] SIMULATED [/]" if event.simulated else ""
                c.print(
                    f"[bold]Session {event.session_id}[/]{tag}  "
                    f"protocol {escape(event.protocol_id)}  "
                    f"{event.trains} train(s), {event.pulses_planned} pulses"
                )
                for line in event.instruments:
                    c.print(f"  {escape(line)}")
                c.print(f"  journal {escape(event.journal)}")
            case StateChanged():
                reason = f" ({escape(event.reason)})" if event.reason else ""
                c.print(f"[dim]state {event.previous.value} -> {event.state.value}{reason}[/]")
            case Notice():
                style = {"warn": "yellow", "error": "bold red"}.get(event.level, "")
                text = escape(event.message)
                c.print(f"[{style}]{text}[/]" if style else text)
            case TrainArming():
                c.print(
                    f"\n[bold]Train {event.train}/{event.trains}[/]  pair {event.pair[0]}-"
                    f"{event.pair[1]}  {event.voltage_v:g} V  {event.pulses} x "
                    f"{event.width_us:g} us at {event.rate_hz:g} Hz"
                )
            case TrainStarted():
                self._print_header()
            case PulseResult():
                self._seen += 1
                self._print_header()
                style = VERDICT_STYLE.get(event.verdict, "")
                findings = "; ".join(f"{f.code}: {f.message}" for f in event.findings)
                c.print(
                    f"{event.index:>5} {event.train:>5} {event.pulse:>5} "
                    f"{_num(event.voltage_v, '8.1f')} {_num(event.current_a, '8.2f')} "
                    f"{_num(event.width_us, '7.1f')} {_num(event.resistance_ohm, '8.1f')}  "
                    f"[{style}]{event.verdict:<10}[/] {escape(findings)}"
                )
            case EcgSeen():
                c.print(
                    f"[cyan]ECG {event.kind.lower()} {event.reason.lower()} RR {event.rr_ms} ms[/]"
                )
            case TrainFinished():
                style = VERDICT_STYLE.get(event.verdict, "")
                c.print(
                    f"train {event.train}: {event.delivered}/{event.requested} pulses, "
                    f"[{style}]{event.verdict}[/]   "
                    f"[dim]session progress {self._seen}/{self._planned} pulses[/]"
                )
                self._header_done = False
            case SessionFinished():
                style = OUTCOME_STYLE.get(event.outcome, "bold")
                reason = f" — {escape(event.stop_reason)}" if event.stop_reason else ""
                tag = " (SIMULATED)" if self._simulated else ""
                c.print(
                    f"\n[{style}]{event.outcome.upper()}[/]{reason}: {escape(event.message)}\n"
                    f"{event.pulses_delivered}/{event.pulses_planned} pulses delivered{tag}; "
                    f"session {event.session_id}\njournal {escape(event.journal)}"
                )

    def _print_header(self) -> None:
        if not self._header_done:
            self._console.print(
                "[bold]pulse train     #      V        A      us      ohm  verdict    findings[/]"
            )
            self._header_done = True
