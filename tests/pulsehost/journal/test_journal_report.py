"""The HTML report: self-contained, complete, escaped; renders in a headless browser."""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import zlib
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

import pytest

from pulsehost.journal import JournalWriter, Session
from pulsehost.journal.report import render_report

VOID = {"meta", "br", "link", "img", "input", "hr", "col", "rect", "line", "polyline"}


class TagBalance(HTMLParser):
    """Counts elements and checks that every opened element is closed in order."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.counts: dict[str, int] = {}
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.counts[tag] = self.counts.get(tag, 0) + 1
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.counts[tag] = self.counts.get(tag, 0) + 1

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack.pop() != tag:
            self.problems.append(f"unexpected </{tag}>")


def parse(html: str) -> TagBalance:
    parser = TagBalance()
    parser.feed(html)
    parser.close()
    return parser


@pytest.fixture
def report(make_session: Callable[..., JournalWriter]) -> tuple[Session, str]:
    writer = make_session(samples=600)
    session = Session.read(writer.directory)
    return session, render_report(session, generated_utc="2025-03-03 12:00 UTC")


def test_report_is_one_well_formed_file_with_nothing_to_fetch(report: tuple[Session, str]) -> None:
    _, html = report
    parsed = parse(html)
    assert not parsed.problems and not parsed.stack
    assert "<script" not in html and "<link" not in html and "@import" not in html
    assert not re.search(r"\b(src|href)\s*=", html) and "url(" not in html
    # The only URL is the SVG namespace name, which is never fetched.
    assert set(re.findall(r"https?://[^\s\"'<>]+", html)) == {"http://www.w3.org/2000/svg"}
    assert "@page" in html and "@media print" in html


def test_report_shows_header_plan_verdict_pulses_waveforms_events_integrity(
    report: tuple[Session, str],
) -> None:
    session, html = report
    parsed = parse(html)
    assert 'id="simulated"' in html and "SIMULATED" in html
    assert session.session_id in html and "completed" in html
    assert parsed.counts["svg"] == len(session.pulses) == 96
    assert parsed.counts["polyline"] == 2 * 96  # voltage and current for every pulse
    assert html.count('class="v-ok"') + html.count('class="v-warn"') == 96
    assert "esope-needle-row" in html and session.start["protocol"]["sha256"] in html
    assert html.count("confirm-arm") == 12  # every operator event
    assert "Integrity" in html and "intact" in html and "unsealed" in html
    assert session.integrity.final_hash in html  # type: ignore[operator]


def test_report_of_a_real_session_has_no_banner_and_escapes_free_text(
    make_session: Callable[..., JournalWriter],
) -> None:
    nasty = '<script>alert("x")</script> & <b>'
    writer = make_session(
        trains=1,
        pulses_per_train=2,
        outcome="interrupted",
        extra_start={"simulated": False, "operator": nasty},
    )
    html = render_report(Session.read(writer.directory))
    assert 'id="simulated"' not in html
    assert "<script>" not in html and "&lt;script&gt;alert(&quot;x&quot;)" in html
    assert "interrupted" in html and "No stop document" in html
    assert not parse(html).problems


def test_report_says_when_a_journal_is_broken_and_when_a_seal_was_checked(
    make_session: Callable[..., JournalWriter],
) -> None:
    writer = make_session(trains=1, pulses_per_train=2, seal_key=b"k")
    assert "seal was checked" in render_report(Session.read(writer.directory, seal_key=b"k"))
    assert "seal not checked" in render_report(Session.read(writer.directory))
    path = writer.directory / "journal.jsonl"
    path.write_bytes(path.read_bytes().replace(b'"operator-1"', b'"operator-2"', 1))
    html = render_report(Session.read(writer.directory))
    assert "BROKEN at line 1" in html and 'class="verdict broken"' in html


def chromium() -> str | None:
    if Path("/usr/bin/chromium").exists():
        return "/usr/bin/chromium"
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.chromium
@pytest.mark.timeout(90)
@pytest.mark.skipif(
    chromium() is None, reason="no headless Chromium (/usr/bin/chromium or on PATH)"
)
def test_report_renders_in_headless_chromium(report: tuple[Session, str], tmp_path: Path) -> None:
    _, html = report
    page = tmp_path / "report.html"
    page.write_text(html, encoding="utf-8")
    shot = tmp_path / "shot.png"
    subprocess.run(
        [
            chromium() or "",
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            f"--user-data-dir={tmp_path / 'profile'}",
            f"--screenshot={shot}",
            "--window-size=1100,2400",
            page.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=80,
    )
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert width >= 800 and height >= 800
    pixels = zlib.decompress(b"".join(png_chunks(data, b"IDAT")))
    assert len(set(pixels)) > 16  # text, tables and traces, not a blank page
    assert len(data) > 20_000  # a blank page compresses to a few hundred bytes


def png_chunks(data: bytes, kind: bytes) -> list[bytes]:
    chunks, at = [], 8
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        if data[at + 4 : at + 8] == kind:
            chunks.append(data[at + 8 : at + 8 + length])
        at += 12 + length
    return chunks
