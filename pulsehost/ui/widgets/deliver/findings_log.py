"""Findings, notices and state changes as they happen, newest at the bottom."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import RichLog

LEVEL_STYLES = {"stop": "bold red", "error": "bold red", "warn": "yellow", "info": "", "ok": ""}


class FindingsLog(RichLog):
    """A running log; `entries` keeps the plain lines (what a test or a copy reads)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, wrap=True, markup=False, highlight=False)
        self.entries: list[str] = []

    def add(self, level: str, message: str) -> None:
        line = f"{level.upper():<5} {message}" if level not in ("info", "") else message
        self.entries.append(line)
        self.write(Text(line, style=LEVEL_STYLES.get(level, "")))
