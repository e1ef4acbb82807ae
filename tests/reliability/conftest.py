"""Reports of the reliability suite, echoed in pytest's terminal summary.

A test hands a title and a text to the `reliability_report` fixture; the text
is written under pytest's temporary directory and printed at the end of the
run, whether or not output capture is on (`-s`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

REPORTS = pytest.StashKey[list[tuple[str, Path]]]()

Reporter = Callable[[str, str], Path]


@pytest.fixture(scope="session")
def reliability_report(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Reporter:
    """Call with (title, text): writes the text to a file and lists it for the summary."""
    folder = tmp_path_factory.mktemp("reliability-reports", numbered=False)
    reports = request.config.stash.setdefault(REPORTS, [])

    def report(title: str, text: str) -> Path:
        slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
        path = folder / f"{slug}.txt"
        path.write_text(text + "\n", encoding="utf-8")
        reports.append((title, path))
        return path

    return report


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, exitstatus: int, config: pytest.Config
) -> None:
    for title, path in config.stash.get(REPORTS, []):
        terminalreporter.write_sep("=", title)
        terminalreporter.write_line(f"(written to {path})")
        for line in path.read_text(encoding="utf-8").splitlines():
            terminalreporter.write_line(line)
