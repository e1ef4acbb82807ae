"""`pulsehost sessions list|show|verify|export|report`: review recorded sessions."""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from pulsehost.cli import exit_codes
from pulsehost.cli.errors import CliError

if TYPE_CHECKING:
    from pulsehost.journal import Session, SessionSummary

OUTCOMES = ("completed", "aborted", "fault", "interrupted")
LIST_FORMAT = "pulsehost-sessions/1"
VERIFY_FORMAT = "pulsehost-verify/1"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "sessions",
        help="review recorded sessions: list, show, verify, export, report",
        description=(
            "Review the sessions in the journal store: list them, show one, verify its "
            "hash chain and seal, export it (JSON, CSV, NPZ) or write an HTML report. "
            "An ID may be any unambiguous prefix of a session id or directory name."
        ),
    )
    store = argparse.ArgumentParser(add_help=False)
    store.add_argument(
        "--store",
        type=Path,
        metavar="DIR",
        help="the session store (default: $PULSEHOST_STORE, else the user data dir)",
    )
    actions = parser.add_subparsers(dest="sessions_action", metavar="ACTION")

    listing = actions.add_parser("list", parents=[store], help="sessions, newest first")
    listing.add_argument(
        "--since", metavar="DATE", help="started on or after (UTC) YYYY-MM-DD[THH:MM]"
    )
    listing.add_argument("--outcome", choices=OUTCOMES, help="only sessions with this outcome")
    listing.add_argument("--protocol", metavar="P", help="protocol id contains P (any case)")
    listing.add_argument(
        "--limit", type=int, metavar="N", help="at most N rows (table default 100; 0: all)"
    )
    listing.add_argument("--json", action="store_true", help="print JSON (docs/cli.md)")
    listing.set_defaults(handler=run_list)

    show = actions.add_parser("show", parents=[store], help="one session in full")
    show.add_argument("session", metavar="ID", help="session id, prefix, or directory")
    show.add_argument("--json", action="store_true", help="print JSON (docs/cli.md)")
    show.set_defaults(handler=run_show)

    verify = actions.add_parser(
        "verify", parents=[store], help="check hash chains, waveform bytes and seals"
    )
    which = verify.add_mutually_exclusive_group(required=True)
    which.add_argument("session", metavar="ID", nargs="?", help="session id, prefix, or directory")
    which.add_argument("--all", action="store_true", help="every session in the store")
    verify.add_argument("--json", action="store_true", help="print JSON (docs/cli.md)")
    verify.set_defaults(handler=run_verify)

    export = actions.add_parser("export", parents=[store], help="JSON, CSV pulse table or NPZ")
    export.add_argument("session", metavar="ID", help="session id, prefix, or directory")
    export.add_argument("--format", required=True, choices=("json", "csv", "npz"))
    export.add_argument(
        "-o", "--output", required=True, metavar="PATH", help="file to write ('-': stdout)"
    )
    export.set_defaults(handler=run_export)

    report = actions.add_parser("report", parents=[store], help="self-contained HTML report")
    report.add_argument("session", metavar="ID", help="session id, prefix, or directory")
    report.add_argument("-o", "--output", required=True, metavar="PATH", help="HTML file")
    report.set_defaults(handler=run_report)

    parser.set_defaults(handler=lambda _args: _usage(parser))


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return exit_codes.BAD_INPUT


def _store(args: argparse.Namespace) -> Path:
    from pulsehost.journal import default_store

    return Path(args.store) if args.store is not None else default_store()


def _open(args: argparse.Namespace) -> Session:
    from pulsehost.journal import JournalReadError, open_session

    try:
        return open_session(_store(args), args.session)
    except JournalReadError as exc:
        raise CliError(str(exc), exit_codes.BAD_INPUT) from None


def _since(text: str) -> str:
    """`--since` as an ISO UTC stamp comparable with `utc` fields."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise CliError(
            f"--since: {text!r} is not a date; use YYYY-MM-DD or YYYY-MM-DDTHH:MM (UTC)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def run_list(args: argparse.Namespace) -> int:
    from pulsehost.journal import JournalReadError, list_sessions

    if args.limit is not None and args.limit < 0:
        raise CliError(f"--limit: {args.limit} is negative; give 0 (all) or more")
    store = _store(args)
    since = _since(args.since) if args.since else None
    try:
        found = list_sessions(store)
    except JournalReadError as exc:
        raise CliError(str(exc)) from None
    chosen = [
        s
        for s in found
        if (since is None or (s.started_utc or "") >= since)
        and (args.outcome is None or s.outcome == args.outcome)
        and (args.protocol is None or args.protocol.lower() in (s.protocol_id or "").lower())
    ]
    limit = args.limit if args.limit is not None else (0 if args.json else 100)
    shown = chosen[:limit] if limit else chosen
    if args.json:
        import json

        document = {
            "format": LIST_FORMAT,
            "store": str(store),
            "total": len(found),
            "matching": len(chosen),
            "sessions": [_summary_json(s) for s in shown],
        }
        print(json.dumps(document, indent=2, ensure_ascii=False))
        return exit_codes.OK
    _print_list(store, found, chosen, shown)
    return exit_codes.OK


def _summary_json(summary: SessionSummary) -> dict[str, Any]:
    return {"short_id": summary.short_id, **summary.to_json()}


def _print_list(
    store: Path,
    found: list[SessionSummary],
    chosen: list[SessionSummary],
    shown: list[SessionSummary],
) -> None:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    from pulsehost.journal.show import wide_console

    console = wide_console()
    if not found:
        console.print(Text(f"No sessions in {store}."))
        return
    if not chosen:
        console.print(Text(f"No session in {store} matches ({len(found)} sessions in all)."))
        return
    table = Table(
        title=Text(f"Sessions in {store}"),
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    wide = console.width >= 100  # the operator column only where it fits
    names = ["id", "started (UTC)", "outcome", "protocol", "pulses", "operator", ""]
    for name in names if wide else [n for n in names if n != "operator"]:
        table.add_column(name, no_wrap=name not in ("protocol", "operator"), overflow="fold")
    styles = {"completed": "green", "aborted": "red", "fault": "bold red", "interrupted": "yellow"}
    for s in shown:
        planned = "?" if s.pulses_planned is None else str(s.pulses_planned)
        cells = [
            Text(s.short_id),
            Text((s.started_utc or "?")[:16].replace("T", " ")),
            Text(s.outcome, style=styles.get(s.outcome, "")),
            Text(s.protocol),
            Text(f"{s.pulses_delivered}/{planned}"),
            Text(s.operator or ""),
            Text("SIMULATED", style="bold black on yellow") if s.simulated else Text(""),
        ]
        if not wide:
            del cells[5]
        table.add_row(*cells)
    console.print(table)
    if len(shown) < len(chosen):
        console.print(Text(f"{len(shown)} of {len(chosen)} shown; --limit 0 shows all."))
    elif len(chosen) < len(found):
        console.print(Text(f"{len(chosen)} of {len(found)} sessions match."))


def run_show(args: argparse.Namespace) -> int:
    session = _open(args)
    if args.json:
        import json

        from pulsehost.journal.export import export_document

        print(json.dumps(export_document(session), indent=2, ensure_ascii=False))
        return exit_codes.OK
    from pulsehost.journal.show import print_session

    print_session(session)
    return exit_codes.OK


def run_verify(args: argparse.Namespace) -> int:
    import json

    from pulsehost.journal import JournalReadError, Session
    from pulsehost.journal.export import integrity_record
    from pulsehost.journal.store import find_session_dir, session_directories

    store = _store(args)
    try:
        if args.all:
            directories = session_directories(store)
        else:
            directories = [find_session_dir(store, args.session)]
    except JournalReadError as exc:
        raise CliError(str(exc)) from None
    rows: list[dict[str, Any]] = []  # one per session, as printed by --json
    lines: list[str] = []
    for directory in directories:
        try:
            session = Session.read(directory)
        except JournalReadError as exc:  # e.g. its journal was deleted
            summary = f"BROKEN: {exc}"
            rows.append(
                {
                    "session_id": None,
                    "directory": directory.name,
                    "status": "broken",
                    "reason": str(exc),
                    "summary": summary,
                }
            )
            lines.append(f"{directory.name}: {summary}")
            continue
        rows.append(
            {"session_id": session.session_id, "directory": directory.name}
            | integrity_record(session)
        )
        lines.append(f"{directory.name} ({session.outcome}): {session.integrity.describe()}")
    broken = sum(row["status"] == "broken" for row in rows)
    if args.json:
        document = {"format": VERIFY_FORMAT, "ok": not broken, "sessions": rows}
        print(json.dumps(document, indent=2, ensure_ascii=False))
    else:
        print("\n".join(lines) if lines else f"No sessions in {store}.")
        if args.all and rows:
            print(f"{len(rows)} sessions: {len(rows) - broken} intact, {broken} broken")
    return exit_codes.CHECK_FAILED if broken else exit_codes.OK


@contextlib.contextmanager
def _output(path: str, binary: bool) -> Iterator[IO[Any]]:
    """The file to write (stdout for '-'); a failure to write is a one-line error."""
    if path == "-":
        if binary:
            raise CliError("-o -: NPZ is binary; give a file name")
        yield sys.stdout
        return
    try:
        if binary:
            with open(path, "wb") as raw:
                yield raw
        else:
            with open(path, "w", encoding="utf-8", newline="") as text:
                yield text
    except OSError as exc:
        raise CliError(f"cannot write {path}: {exc.strerror or exc}") from None


def _warn_if_broken(session: Session, command: str) -> None:
    if not session.integrity.ok:
        print(
            f"pulsehost sessions {command}: warning: {session.directory.name} is "
            f"{session.integrity.describe()}; the output holds what could be read",
            file=sys.stderr,
        )


def run_export(args: argparse.Namespace) -> int:
    from pulsehost.journal import JournalReadError
    from pulsehost.journal.export import write_csv, write_json, write_npz

    session = _open(args)
    _warn_if_broken(session, "export")
    writers: dict[str, Callable[[Session, Any], None]] = {
        "json": write_json,
        "csv": write_csv,
        "npz": write_npz,
    }
    try:
        with _output(args.output, binary=args.format == "npz") as out:
            writers[args.format](session, out)
    except JournalReadError as exc:
        raise CliError(str(exc), exit_codes.CHECK_FAILED) from None
    if args.output != "-":
        print(
            f"Wrote {args.output} ({args.format}, {len(session.pulses)} pulses).", file=sys.stderr
        )
    return exit_codes.OK


def run_report(args: argparse.Namespace) -> int:
    from pulsehost.journal import JournalReadError
    from pulsehost.journal.report import render_report

    session = _open(args)
    _warn_if_broken(session, "report")
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    try:
        html = render_report(session, generated_utc=stamp)
    except JournalReadError as exc:
        raise CliError(str(exc), exit_codes.CHECK_FAILED) from None
    with _output(args.output, binary=False) as out:
        out.write(html)
    if args.output != "-":
        print(f"Wrote {args.output}.", file=sys.stderr)
    return exit_codes.OK
