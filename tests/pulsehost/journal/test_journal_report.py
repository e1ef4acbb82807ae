"""The HTML report: self-contained, complete, escaped; renders in a headless browser."""

from __future__ import annotations

import json
import re
import shutil
import struct
import subprocess
import zlib
from collections.abc import Callable, Iterator
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


class Node:
    """An element of the parsed report: its tag, attributes, children and text."""

    def __init__(self, tag: str, attrs: dict[str, str]) -> None:
        self.tag, self.attrs = tag, attrs
        self.children: list[Node] = []
        self.parts: list[str] = []

    @property
    def text(self) -> str:
        return "".join(self.parts)

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def walk(self) -> Iterator[Node]:
        yield self
        for child in self.children:
            yield from child.walk()

    def find(self, element_id: str) -> Node:
        found = [n for n in self.walk() if n.attrs.get("id") == element_id]
        assert len(found) == 1, f"{len(found)} elements with id {element_id!r}"
        return found[0]

    def all(self, tag: str, css: str | None = None) -> list[Node]:
        return [n for n in self.walk() if n.tag == tag and (css is None or css in n.classes)]

    def rows(self) -> list[list[Node]]:
        """The body rows of a table, as lists of cells."""
        (body,) = self.all("tbody")
        return [row.all("td") for row in body.children if row.tag == "tr"]


class Tree(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.root = Node("root", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(Node(tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        if tag not in VOID and len(self.stack) > 1:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        for node in self.stack:
            node.parts.append(data)


def tree(html: str) -> Node:
    parser = Tree()
    parser.feed(html)
    parser.close()
    return parser.root


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
    root = tree(html)
    assert 'id="simulated"' in html and "SIMULATED" in html
    assert session.session_id in html and "completed" in root.find("verdict").text
    assert parsed.counts["svg"] == len(session.pulses) == 96
    assert parsed.counts["polyline"] == 2 * 96  # voltage and current for every pulse
    verdicts = [row[-2] for row in root.find("pulse-table").rows()]
    assert len(verdicts) == 96 and {tuple(sorted(c.classes)) for c in verdicts} <= {
        ("v-ok",),
        ("v-warn",),
    }
    assert "esope-needle-row" in html and session.start["protocol"]["sha256"] in html
    assert root.find("events").text.count("confirm-arm") == 12  # every operator event
    assert "Integrity" in html and "intact" in html and "unsealed" in html
    assert session.integrity.final_hash in html  # type: ignore[operator]


def test_report_is_deterministic(report: tuple[Session, str]) -> None:
    session, html = report
    assert render_report(session, generated_utc="2025-03-03 12:00 UTC") == html


def test_header_block_reads_like_a_record(review_session: Session) -> None:
    root = tree(render_report(review_session))
    assert not [n for n in root.walk() if n.attrs.get("id") == "simulated"]
    assert root.all("h1")[0].text == "Long needles <deep> & bone"
    verdict = root.find("verdict")
    assert verdict.classes == {"verdict", "aborted"}
    assert "overcurrent — Pulse 5: peak current 21.4 A" in verdict.text
    assert "5 of 6 pulses delivered" in verdict.text
    assert "stop 1, warn 3, ok 1" in verdict.text
    journal = root.find("journal-status")
    assert "intact" in journal.classes and "unsealed" in journal.text
    facts = {
        div.all("dt")[0].text: div.all("dd")[0].text
        for div in root.find("session-facts").all("div")
    }
    assert facts["operator"] == "dr-a" and facts["subject (pseudonymous)"] == "S-042"
    assert facts["started"].endswith("UTC") and facts["stopped"].endswith("UTC")
    assert facts["duration"].endswith("s") and facts["session id"] == review_session.session_id


def test_trains_table_has_one_row_per_train(review_session: Session) -> None:
    rows = tree(render_report(review_session)).find("trains").rows()
    cells = [[c.text for c in row] for row in rows]
    assert cells == [
        ["1", "A–B", "15.0", "1500", "3", "8.8–22.0", "3", "19.42–21.97", "warn"],
        ["2", "B–A", "15.0", "1500", "3", "8.8–22.0", "2", "9.61–19.41", "stop"],
    ]


def test_pulse_table_numbers_have_the_house_precision(review_session: Session) -> None:
    rows = tree(render_report(review_session)).find("pulse-table").rows()
    assert len(rows) == len(review_session.pulses)
    decimals = {
        "voltage_v": 1,
        "current_a": 2,
        "width_us": 1,
        "resistance_ohm": 1,
        "energy_j": 3,
        "charge_uc": 1,
    }
    for row, pulse in zip(rows, review_session.pulses, strict=True):
        cells = [c.text for c in row]
        assert cells[0].rstrip("†") == str(pulse["index"]) and cells[4] == "1500"
        shown = dict(zip(decimals, cells[5:11], strict=True))
        for key, places in decimals.items():
            assert re.fullmatch(rf"-?\d+\.\d{{{places}}}", shown[key]), (key, shown[key])
            assert abs(float(shown[key]) - pulse[key]) <= 0.5 * 10**-places + 1e-9
        assert row[-2].classes == {f"v-{pulse['verdict']}"}
    assert rows[4][0].text == "5†"  # measured by the generator only
    assert rows[2][-1].text == "width deviation, timing deviation"


def test_each_finding_is_written_once(review_session: Session) -> None:
    html = render_report(review_session)
    items = tree(html).find("findings").all("li")
    assert [i.text.split(":")[0] for i in items] == [
        "stop · overcurrent, pulse 5",
        "warn · width deviation, pulses 1–3",
        "warn · timing deviation, pulse 3",
    ]
    assert html.count("width 108.0 µs (+8.0 %) for 100.0 µs set") == 1
    assert "Pulse 1: width" not in html


def test_plan_summary_in_sentences_and_positions(review_session: Session) -> None:
    root = tree(render_report(review_session))
    summary = {row[0].text: row[1].text for row in _kv_rows(root.find("plan-summary"))}
    assert set(summary) >= {"electrode", "field", "pulses", "tissue assumed", "ECG", "drug"}
    assert "checks.voltage_tolerance_pct" not in root.find("plan").text  # no dotted dump
    assert "ECG-gated" in root.find("events").text


def test_waveforms_have_axes_units_target_and_shared_scales(review_session: Session) -> None:
    root = tree(render_report(review_session))
    groups = root.find("waveforms").all("div", "train-waves")
    assert [len(g.all("svg")) for g in groups] == [3, 2]
    for svg in root.all("svg"):
        labels = [t.text for t in svg.all("text")]
        assert "voltage (V)" in labels and "current (A)" in labels and "µs" in labels
        assert "- - set 1500 V" in labels and len(svg.all("line", "target")) == 1
        assert {"0", "50", "100", "150"} <= set(labels)  # time ticks in µs
    # Within a train every plot has the same axes, though train 2's currents differ twofold.
    for group in groups:
        axes = {
            tuple(t.text for t in svg.all("text") if t.attrs.get("text-anchor") == "end")
            for svg in group.all("svg")
        }
        assert len(axes) == 1


def test_timeline_has_relative_times_and_categories(review_session: Session) -> None:
    table = tree(render_report(review_session)).find("events")
    rows = [row for row in table.all("tr") if row.all("td")]
    times = [row.all("td")[0].text for row in rows]
    assert all(re.fullmatch(r"\+\d+:\d\d\.\d{3}", t) for t in times)
    assert times == sorted(times)
    kinds = {row.attrs.get("class") for row in rows}
    assert {"c-state", "c-alarm", "c-ecg", "c-intent", "c-pulses", "c-stop", "c-drug"} <= kinds


def test_appendix_holds_protocol_text_thresholds_and_raw_plan(review_session: Session) -> None:
    html = render_report(review_session)
    root = tree(html)
    appendix = root.find("appendix")
    protocol = appendix.find("protocol-text")
    assert protocol.tag == "details" and "open" not in protocol.attrs
    assert protocol.all("pre")[0].text == review_session.start["protocol"]["text"]
    assert (
        appendix.find("needles-text").all("pre")[0].text
        == '[needles]\ndescription = "two needles"\n'
    )
    thresholds = {r[0].text: r[1].text for r in _kv_rows(appendix.find("check-thresholds"))}
    assert thresholds["voltage tolerance"] == "10\u202f%"
    raw = appendix.find("raw-plan").all("pre")[0].text
    assert json.loads(raw)["trains"][1]["labels"] == ["B", "A"]
    # Collapsed on screen, printed in full.
    assert re.search(r"@media print \{[^@]*details::details-content \{[^}]*visible", html)


def _kv_rows(node: Node) -> list[list[Node]]:
    return [row.all("th") + row.all("td") for row in node.all("tr")]


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
    assert 'id="simulated"' not in html and "SIMULATED" not in html
    assert "<script>" not in html and "&lt;script&gt;alert(&quot;x&quot;)" in html
    assert "interrupted" in html and "No stop document" in html
    assert not parse(html).problems


def test_simulated_sessions_say_so_on_every_printed_page(report: tuple[Session, str]) -> None:
    _, html = report
    assert tree(html).find("simulated").text.startswith("SIMULATED")
    assert '@top-center { content: "SIMULATED' in html.split("@page", 1)[1]


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
    assert "broken" in tree(html).find("journal-status").classes


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


def test_a_session_whose_start_cannot_be_read_still_reports(
    make_session: Callable[..., JournalWriter],
) -> None:
    writer = make_session(trains=2, pulses_per_train=2, outcome="interrupted")
    path = writer.directory / "journal.jsonl"
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"{not json\n" + b"".join(lines[1:]))
    root = tree(render_report(Session.read(writer.directory)))
    assert "broken" in root.find("journal-status").classes
    assert "No plan recorded. The trains below are those the pulses name." in root.find("plan").text
    assert [[c.text for c in row][:2] for row in root.find("trains").rows()] == [
        ["1", "0–1"],
        ["2", "1–2"],
    ]
    assert len(root.find("pulse-table").rows()) == 4
