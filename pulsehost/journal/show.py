"""A session on the terminal (rich): header, outcome, plan, pulses, findings, timeline.

Laid out to read at 100 columns: numbers to the house precision, a finding's
code in the pulse table and its full text once in a list under it.
"""

from __future__ import annotations

from rich import box
from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from pulsehost.journal import digest
from pulsehost.journal.digest import PULSE_MEASURES, Fact
from pulsehost.journal.precision import MISSING, offset
from pulsehost.journal.session import Session

OUTCOME_STYLES = {
    "completed": "bold green",
    "aborted": "bold red",
    "fault": "bold red",
    "interrupted": "bold yellow",
}
VERDICT_STYLES = {"ok": "green", "warn": "yellow", "stop": "bold red", "unmeasured": "bold red"}
CATEGORY_STYLES = {
    "alarm": "bold red",
    "state": "dim",
    "operator": "cyan",
    "intent": "cyan",
    "ecg": "magenta",
    "finding": "yellow",
    "pulses": "green",
    "stop": "bold",
}
SHOW_WIDTH = 100  # `show` is laid out for this many columns


def wide_console(piped_width: int = 140) -> Console:
    """A console for tables: the terminal's width, or `piped_width` columns when piped."""
    console = Console(highlight=False)
    if not console.is_terminal:
        console.width = piped_width
    return console


def print_session(session: Session, console: Console | None = None) -> None:
    """Print everything a reviewer reads first. Free text is never taken as markup."""
    console = console or wide_console(SHOW_WIDTH)
    for part in session_view(session):
        console.print(part)


def session_view(session: Session) -> list[RenderableType]:
    """The renderables `print_session` prints, in order."""
    parts: list[RenderableType] = [_header(digest.header(session))]
    parts.extend(_plan(session))
    parts.extend(_pulses(session))
    parts.extend(_timeline(session))
    instruments = _instruments(session)
    if instruments is not None:
        parts.append(instruments)
    return parts


def _table() -> Table:
    return Table(box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 1), collapse_padding=True)


def _section(title: str) -> Text:
    return Text(f"\n{title}", style="bold underline")


def _facts(facts: list[Fact] | tuple[Fact, ...], indent: int = 2) -> Table:
    grid = Table.grid(padding=(0, 2), pad_edge=False)
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    for fact in facts:
        grid.add_row(Text(" " * indent + fact.label), Text(fact.text))
    return grid


def _header(head: digest.Header) -> Group:
    lines: list[RenderableType] = []
    if head.simulated:
        lines.append(
            Text(" SIMULATED SESSION — no patient, no real generator ", "bold black on yellow")
        )
    lines.append(Text(head.title, style="bold"))
    facts = {f.label: f.text for f in head.facts}
    lines.append(Text(f"protocol {head.protocol} · session {head.session_id}"))
    who = (
        f"operator {facts.get('operator')} · subject {facts.get('subject (pseudonymous)')} · "
        f"started {facts.get('started')} · duration {facts.get('duration')}"
    )
    lines.append(Text(who))
    lines.append(Text(f"software {facts.get('software')} · {facts.get('directory')}", style="dim"))
    lines.append(Text(f"protocol sha256 {facts.get('protocol sha256')}", style="dim"))
    if facts.get("notes"):
        lines.append(Text(f"notes: {facts['notes']}"))
    outcome = Text()
    outcome.append(head.outcome.upper(), style=OUTCOME_STYLES.get(head.outcome, "bold"))
    outcome.append(f"  {head.delivered_text} · pulse verdicts: {head.verdict_text}")
    lines.append(outcome)
    why = [t for t in (head.reason, head.message) if t]
    if head.outcome == "interrupted":
        why.append("No stop document: the session ended without a recorded outcome.")
    if why:
        grid = Table.grid(padding=(0, 0), pad_edge=False)
        grid.add_column(no_wrap=True)
        grid.add_column(overflow="fold")
        grid.add_row(Text("  "), Text(" — ".join(why)))
        lines.append(grid)
    integrity = Text("Integrity: ", style="bold")
    integrity.append(head.integrity, style="bold red" if head.broken else "green")
    lines.append(integrity)
    return Group(*lines)


def _plan(session: Session) -> list[RenderableType]:
    facts = digest.plan_facts(session.start, session.events)
    rows = digest.train_rows(session)
    if not facts and not rows:
        return [_section("Plan"), Text("  No plan recorded.")]
    positions = digest.electrode_positions(session.start.get("plan") or {})
    if positions:
        where = ", ".join(f"{label} ({x}, {y}, {z})" for label, x, y, z in positions)
        facts = (*facts, Fact("positions (mm)", where))
    parts: list[RenderableType] = [_section("Plan")]
    if facts:
        parts.append(_facts(facts))
    else:
        parts.append(Text("  No plan recorded; the trains below are those the pulses name."))
    if rows:
        table = _table()
        for name, right in (
            ("train", True),
            ("pair", False),
            ("distance\nmm", True),
            ("voltage\nV", True),
            ("pulses", True),
            ("predicted\nA", True),
            ("delivered", True),
            ("measured\nA", True),
            ("result", False),
        ):
            table.add_column(name, justify="right" if right else "left")
        for r in rows:
            table.add_row(
                str(r.index),
                Text(r.pair),
                r.distance_mm,
                r.voltage_v,
                r.pulses,
                r.predicted_a,
                str(r.delivered),
                r.measured_a,
                Text(r.result, style=VERDICT_STYLES.get(r.result, "")),
            )
        parts.append(table)
    return parts


def _pulses(session: Session) -> list[RenderableType]:
    rows = digest.pulse_rows(session)
    if not rows:
        return [_section("Pulses"), Text("  No pulse was delivered.")]
    table = _table()
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("train", justify="right", no_wrap=True)
    table.add_column("pair", no_wrap=True)
    for measure in PULSE_MEASURES:
        table.add_column(f"{measure.title}\n{measure.unit}", justify="right", no_wrap=True)
    table.add_column("verdict", no_wrap=True)
    table.add_column("findings", overflow="fold")
    for n, row in enumerate(rows):
        findings = Text()
        for n, (level, code) in enumerate(row.findings):
            if n:
                findings.append(", ")
            findings.append(code, style=VERDICT_STYLES.get(level, ""))
        table.add_row(
            f"{row.index}{'†' if row.by_generator else ''}",
            row.train,
            Text(row.pair),
            *row.values,
            Text(row.verdict, style=VERDICT_STYLES.get(row.verdict, "")),
            findings,
            end_section=n + 1 < len(rows) and rows[n + 1].train != row.train,  # a rule per train
        )
    parts: list[RenderableType] = [_section("Pulses"), table]
    if any(r.by_generator for r in rows):
        parts.append(Text("† not measured by the scope: the generator's own summary", "dim"))
    groups = digest.finding_groups(session)
    if groups:
        grid = Table.grid(padding=(0, 1), pad_edge=False)
        grid.add_column(no_wrap=True)
        grid.add_column(overflow="fold")
        for group in groups:
            label = Text(f"  {group.level}", style=VERDICT_STYLES.get(group.level, "bold"))
            text = Text()
            text.append(f"{group.code}, {group.where}: ", style="bold")
            text.append(group.text)
            grid.add_row(label, text)
        parts.extend([Text("Findings", style="bold"), grid])
    else:
        parts.append(Text("No findings: every pulse passed every check."))
    return parts


def _timeline(session: Session) -> list[RenderableType]:
    entries = digest.timeline(session)
    if not entries:
        return [_section("Timeline"), Text("  No events.")]
    table = _table()
    table.add_column("time", justify="right", no_wrap=True)
    table.add_column("what", no_wrap=True)
    table.add_column("details", overflow="fold")
    for entry in entries:
        table.add_row(
            offset(entry.seconds),
            Text(entry.what, style=CATEGORY_STYLES.get(entry.category, "")),
            Text(entry.text),
        )
    return [_section("Timeline (since the start, m:ss)"), table]


def _instruments(session: Session) -> Table | None:
    rows = digest.instrument_rows(session.start)
    if not rows:
        return None
    facts = [
        Fact(
            r.role,
            f"{r.maker} {r.model}, serial {r.serial}, firmware {r.firmware}"
            + (f" at {r.address}" if r.address != MISSING else ""),
        )
        for r in rows
    ]
    grid = _facts(facts)
    grid.title = "Instruments"
    grid.title_justify = "left"
    grid.title_style = "bold"
    return grid
