"""A self-contained HTML report of one session: no network, prints on A4.

It reads like a treatment record: who, what and how it ended first; then the
plan, every pulse with its checks, every waveform, what happened when, the
instruments, and the journal's integrity. The raw material (protocol text,
check thresholds, the plan and start document as journalled) closes it in a
collapsed appendix that still prints.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from html import escape
from typing import Any

from pulsehost import __version__
from pulsehost.journal import digest
from pulsehost.journal.digest import PULSE_MEASURES, Fact, Header
from pulsehost.journal.precision import MISSING, is_number, offset, setting
from pulsehost.journal.session import Session
from pulsehost.journal.svg_plot import shared_ranges, waveform_svg

STYLE = """
:root { --ink: #1b1b1b; --muted: #5b5b5b; --line: #c9c9c9; --soft: #f3f3f3; --ok: #1d6b2f;
        --warn: #8a5a00; --bad: #a4161a; --warn-bg: #fff4dc; --bad-bg: #fde8e8; }
* { box-sizing: border-box; }
body { font-family: "Helvetica Neue", Arial, "Liberation Sans", sans-serif; color: var(--ink);
       margin: 0 auto; max-width: 1060px; padding: 16px; font-size: 13px; line-height: 1.35; }
h1 { font-size: 21px; margin: 0 0 2px; } h3 { font-size: 13px; margin: 12px 0 4px; }
h2 { font-size: 16px; margin: 22px 0 8px; border-bottom: 2px solid var(--ink);
     padding-bottom: 2px; }
.sub, .note { color: var(--muted); margin: 0 0 8px; } .note { font-size: 11px; }
.banner { background: repeating-linear-gradient(135deg, #ffd23f 0 14px, #1b1b1b 14px 28px);
          padding: 6px; margin: 0 0 12px; }
.banner span { display: block; background: #ffd23f; color: #1b1b1b; font-weight: 700;
               text-align: center; letter-spacing: .2em; padding: 4px; font-size: 15px; }
.status { display: grid; grid-template-columns: 3fr 2fr; gap: 8px; margin: 8px 0; }
.verdict, .journal { border: 3px solid var(--ink); padding: 6px 10px; }
.verdict .outcome { font-size: 18px; font-weight: 700; text-transform: uppercase;
                    letter-spacing: .05em; }
.verdict.completed { border-color: var(--ok); } .verdict.completed .outcome { color: var(--ok); }
.verdict.aborted, .verdict.fault, .verdict.broken { border-color: var(--bad); }
.verdict.aborted .outcome, .verdict.fault .outcome, .verdict.broken .outcome { color: var(--bad); }
.verdict.interrupted { border-color: var(--warn); }
.verdict.interrupted .outcome { color: var(--warn); }
.journal.intact { border-color: var(--ok); } .journal.broken { border-color: var(--bad);
                  background: var(--bad-bg); }
.journal b { text-transform: uppercase; }
.facts { display: grid; grid-template-columns: 1fr 1fr; gap: 0 16px; margin: 6px 0 0;
         border-top: 1px solid var(--line); }
.facts div { display: flex; gap: 8px; border-bottom: 1px solid var(--line); padding: 2px 0; }
.facts div.wide { grid-column: 1 / -1; }
.facts dt { color: var(--muted); min-width: 11em; } .facts dd { margin: 0; word-break: break-all; }
table { border-collapse: collapse; width: 100%; margin: 4px 0 8px; }
th, td { border: 1px solid var(--line); padding: 2px 5px; text-align: left; vertical-align: top; }
th { background: var(--soft); font-weight: 600; } td.n, th.n { text-align: right; }
td.n { font-variant-numeric: tabular-nums; white-space: nowrap; }
th small { font-weight: 400; color: var(--muted); }
table.kv th { width: 26%; font-weight: 600; } table.positions { width: auto; }
tr.first td { border-top: 2px solid #8a8a8a; }
tr.row-warn td { background: var(--warn-bg); } tr.row-stop td, tr.row-unmeasured td {
  background: var(--bad-bg); }
.v-ok { color: var(--ok); } .v-warn { color: var(--warn); font-weight: 600; }
.v-stop, .v-unmeasured { color: var(--bad); font-weight: 700; }
.f-warn { color: var(--warn); } .f-stop, .f-unmeasured { color: var(--bad); font-weight: 600; }
.f-ok { color: var(--ok); }
td.fnd { font-size: 11px; }
ul.findings { padding-left: 18px; margin: 4px 0; } ul.findings li { margin: 2px 0; }
.train-waves { break-inside: avoid-page; }
.waves { display: grid; grid-template-columns: repeat(4, 1fr); gap: 6px; }
figure { margin: 0; border: 1px solid var(--line); padding: 3px 3px 1px; break-inside: avoid; }
figcaption { font-size: 10px; color: var(--muted); }
svg.wave { display: block; }
svg.wave text { font-size: 10px; fill: #333; font-family: inherit; }
svg.wave .lab { font-weight: 700; } svg.wave .frame { fill: none; stroke: #888; stroke-width: .6; }
svg.wave .grid { stroke: #e2e2e2; stroke-width: .5; }
svg.wave .zero { stroke: #aaa; stroke-width: .6; }
svg.wave .target { stroke: #a4161a; stroke-dasharray: 3 2; stroke-width: .7; }
svg.wave .tgt { fill: #a4161a; }
svg.wave polyline { stroke-width: .9; }
table.timeline td.t { white-space: nowrap; font-variant-numeric: tabular-nums; width: 6.5em; }
table.timeline td.k { white-space: nowrap; width: 6em; font-weight: 600; }
tr.c-alarm td.k { color: var(--bad); } tr.c-alarm td { background: var(--bad-bg); }
tr.c-state td.k { color: var(--muted); } tr.c-operator td.k, tr.c-intent td.k { color: #1f4e9c; }
tr.c-ecg td.k { color: #6b2d8c; } tr.c-finding td.k { color: var(--warn); }
tr.c-pulses td.k { color: var(--ok); } tr.c-stop td { font-weight: 600; }
details { border: 1px solid var(--line); margin: 6px 0; padding: 4px 8px; }
summary { cursor: pointer; font-weight: 600; }
pre { white-space: pre-wrap; background: #f6f6f6; border: 1px solid var(--line); padding: 6px;
      font-size: 10.5px; margin: 6px 0; }
code { font-size: 11px; word-break: break-all; }
footer { margin-top: 24px; color: var(--muted); font-size: 11px; }
@media print {
  body { max-width: none; padding: 0; font-size: 10.5px; }
  h1 { font-size: 17px; } h2 { font-size: 13.5px; margin: 14px 0 6px; }
  h3 { font-size: 11.5px; } .note { font-size: 9px; } .verdict .outcome { font-size: 15px; }
  .banner, .banner span, th, tr.row-warn td, tr.row-stop td, tr.row-unmeasured td,
  tr.c-alarm td, .journal.broken {
    -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  h2, h3, section > p.note:first-of-type { break-after: avoid; }
  tr, .status, figure { break-inside: avoid; }
  thead { display: table-header-group; }
  td.fnd { font-size: 9px; } figcaption { font-size: 8px; }
  #appendix { break-before: page; }
  details::details-content { content-visibility: visible; display: block; }
  summary { list-style: none; } summary::-webkit-details-marker { display: none; }
  pre { font-size: 8.5px; }
}
"""


MARGIN_FONT = 'font: 8px "Helvetica Neue", Arial, "Liberation Sans", sans-serif; color: #555;'


def _page_style(header: Header) -> str:
    """Running page margins: which session, which page, and SIMULATED on every page."""
    short = re.sub(r"[^0-9A-Za-z-]", "", header.short_id)
    boxes = [
        f'@bottom-left {{ content: "pulsehost session {short}"; {MARGIN_FONT} }}',
        f'@bottom-right {{ content: "page " counter(page) " of " counter(pages); {MARGIN_FONT} }}',
    ]
    if header.simulated:
        boxes.append(
            '@top-center { content: "SIMULATED — no patient, no real generator"; '
            f"{MARGIN_FONT} font-size: 9px; font-weight: 700; letter-spacing: .15em; "
            "color: #1b1b1b; }"
        )
    return "@page { size: A4; margin: 14mm 12mm; " + " ".join(boxes) + " }"


def render_report(session: Session, *, generated_utc: str | None = None) -> str:
    """The whole report as one HTML string (deterministic for a session and stamp)."""
    head = digest.header(session)
    title = f"{head.title} — session {head.short_id}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)} — pulsehost report</title>",
        f"<style>{STYLE}{_page_style(head)}</style></head><body>",
    ]
    parts.append(_header(head))
    parts.append(_plan(session))
    parts.append(_pulses(session))
    parts.append(_waveforms(session))
    parts.append(_timeline(session))
    parts.append(_setup(session))
    parts.append(_integrity(session, head))
    parts.append(_appendix(session))
    stamp = f" on {escape(generated_utc)}" if generated_utc else ""
    parts.append(
        f"<footer>Generated by pulsehost {escape(__version__)}{stamp} from "
        f"<code>{escape(str(session.directory))}</code>. The journal is the record; "
        "this report is derived from it.</footer>"
    )
    parts.append("</body></html>")
    return "\n".join(parts)


# -- building blocks ------------------------------------------------------------------------


def _table(
    headers: Sequence[str],
    rows: Iterable[Sequence[str]],
    numeric: set[int] = frozenset(),  # type: ignore[assignment]
    *,
    css: str = "",
    row_classes: Sequence[str] = (),
    table_id: str = "",
) -> str:
    """A table from already-escaped cells; `numeric` columns align right."""
    head = "".join(
        f'<th class="n">{h}</th>' if i in numeric else f"<th>{h}</th>"
        for i, h in enumerate(headers)
    )
    body = []
    for r, row in enumerate(rows):
        klass = f' class="{row_classes[r]}"' if r < len(row_classes) and row_classes[r] else ""
        cells = "".join(
            c
            if c.startswith("<td")
            else (f'<td class="n">{c}</td>' if i in numeric else f"<td>{c}</td>")
            for i, c in enumerate(row)
        )
        body.append(f"<tr{klass}>{cells}</tr>")
    attributes = (f' class="{css}"' if css else "") + (f' id="{table_id}"' if table_id else "")
    return (
        f"<table{attributes}><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
    )


def _facts_table(facts: Iterable[Fact], *, table_id: str = "") -> str:
    rows = "".join(f"<tr><th>{escape(f.label)}</th><td>{escape(f.text)}</td></tr>" for f in facts)
    attribute = f' id="{table_id}"' if table_id else ""
    return f'<table class="kv"{attribute}><tbody>{rows}</tbody></table>'


def _verdict_span(verdict: str) -> str:
    return f'<span class="v-{_css(verdict)}">{escape(verdict)}</span>'


def _css(word: str) -> str:
    return re.sub(r"[^a-z0-9-]", "", word.lower()) or "unknown"


def _unit_header(title: str, unit: str) -> str:
    return f"{escape(title)} <small>{escape(unit)}</small>" if unit else escape(title)


# -- sections -------------------------------------------------------------------------------


def _header(head: Header) -> str:
    parts = ["<header>"]
    if head.simulated:
        parts.append(
            '<div class="banner" id="simulated"><span>SIMULATED — no patient, no real generator'
            "</span></div>"
        )
    parts.append(f"<h1>{escape(head.title)}</h1>")
    started = next((f.text for f in head.facts if f.label == "started"), MISSING)
    parts.append(
        f'<p class="sub">protocol {escape(head.protocol)} · session {escape(head.short_id)} · '
        f"{escape(started)}</p>"
    )
    css = "broken" if head.broken else head.outcome
    why = []
    if head.reason:
        why.append(escape(head.reason))
    if head.message:
        why.append(escape(head.message))
    lines = [
        f'<div class="verdict {_css(css)}" id="verdict">',
        f'<div class="outcome">{escape(head.outcome)}</div>',
    ]
    if why:
        lines.append(f'<div class="why">{" — ".join(why)}</div>')
    if head.outcome == "interrupted":
        lines.append(
            '<div class="why">No stop document: the session ended without a recorded outcome.</div>'
        )
    lines.append(
        f'<div class="count"><b>{escape(head.delivered_text)}</b> · pulse verdicts: '
        f"{escape(head.verdict_text)}</div></div>"
    )
    journal_css = "broken" if head.broken else "intact"
    state = "journal BROKEN" if head.broken else "journal intact"
    journal = (
        f'<div class="journal {journal_css}" id="journal-status"><b>{state}</b><br>'
        f"{escape(head.integrity)}</div>"
    )
    parts.append(f'<div class="status">{"".join(lines)}{journal}</div>')
    # Long values take a whole row, after the short ones, so the two columns stay filled.
    wide = [f for f in head.facts if len(f.text) > 36 or f.label in ("notes", "directory")]
    narrow = [f for f in head.facts if f not in wide]
    items = "".join(
        f'<div class="{"wide" if f in wide else "pair"}"><dt>{escape(f.label)}</dt>'
        f"<dd>{escape(f.text)}</dd></div>"
        for f in narrow + wide
    )
    parts.append(f'<dl class="facts" id="session-facts">{items}</dl></header>')
    return "".join(parts)


def _plan(session: Session) -> str:
    start = session.start
    plan = start.get("plan")
    parts = ['<section id="plan"><h2>Plan</h2>']
    rows = digest.train_rows(session)
    if not isinstance(plan, Mapping):
        plan = {}
        named = " The trains below are those the pulses name." if rows else ""
        parts.append(f"<p>No plan recorded.{named}</p>")
    else:
        facts = digest.plan_facts(start, session.events)
        parts.append(_facts_table(facts, table_id="plan-summary"))
    positions = digest.electrode_positions(plan)
    if positions:
        parts.append("<h3>Electrode positions</h3>")
        parts.append(
            _table(
                ["electrode", "x <small>mm</small>", "y <small>mm</small>", "z <small>mm</small>"],
                [[escape(cell) for cell in row] for row in positions],
                {1, 2, 3},
                css="positions",
            )
        )
    if rows:
        parts.append("<h3>Trains</h3>")
        headers = [
            "train",
            "pair",
            _unit_header("distance", "mm"),
            _unit_header("voltage", "V"),
            "pulses",
            _unit_header("predicted I", "A"),
            "delivered",
            _unit_header("measured I", "A"),
            "result",
        ]
        body = [
            [
                str(r.index),
                escape(r.pair),
                escape(r.distance_mm),
                escape(r.voltage_v),
                escape(r.pulses),
                escape(r.predicted_a),
                str(r.delivered),
                escape(r.measured_a),
                _verdict_span(r.result) if r.delivered else escape(r.result),
            ]
            for r in rows
        ]
        parts.append(_table(headers, body, {0, 2, 3, 4, 5, 6, 7}, table_id="trains"))
        parts.append(
            '<p class="note">Predicted I: the plateau current band the plan expects from the '
            "electrode geometry and the tissue assumed. Measured I: the lowest and highest "
            "plateau current of the train's pulses.</p>"
        )
    parts.append("</section>")
    return "".join(parts)


def _pulses(session: Session) -> str:
    rows = digest.pulse_rows(session)
    if not rows:
        return '<section id="pulses"><h2>Pulses</h2><p>No pulse was delivered.</p></section>'
    headers = ["#", "train", "pulse", "pair"]
    headers += [_unit_header(m.title, m.unit) for m in PULSE_MEASURES]
    headers += ["verdict", "findings"]
    numeric = set(range(0, 3)) | set(range(4, 4 + len(PULSE_MEASURES)))
    body = []
    classes = []
    last_train = rows[0].train
    for row in rows:
        mark = "†" if row.by_generator else ""
        findings = ", ".join(
            f'<span class="f-{_css(level)}">{escape(code.replace("-", " "))}</span>'
            for level, code in row.findings
        )
        body.append(
            [
                f"{row.index}{mark}",
                escape(row.train),
                escape(row.pulse),
                escape(row.pair),
                *(escape(v) for v in row.values),
                f'<td class="v-{_css(row.verdict)}">{escape(row.verdict)}</td>',
                f'<td class="fnd">{findings}</td>',
            ]
        )
        klass = f"row-{_css(row.verdict)}" if row.verdict != "ok" else ""
        if row.train != last_train:  # a rule between trains
            klass = f"{klass} first".strip()
            last_train = row.train
        classes.append(klass)
    parts = ['<section id="pulses"><h2>Pulses</h2>']
    parts.append(_table(headers, body, numeric, row_classes=classes, table_id="pulse-table"))
    if any(r.by_generator for r in rows):
        parts.append(
            '<p class="note">† The scope did not measure this pulse; its values are the '
            "generator's own summary.</p>"
        )
    parts.append(_findings(digest.finding_groups(session)))
    parts.append("</section>")
    return "".join(parts)


def _findings(groups: Sequence[digest.FindingGroup]) -> str:
    if not groups:
        return '<h3>Findings</h3><p id="findings">None: every pulse passed every check.</p>'
    items = "".join(
        f'<li><b class="f-{_css(g.level)}">{escape(g.level)} · {escape(g.name)}</b>, '
        f"{escape(g.where)}: {escape(g.text)}</li>"
        for g in groups
    )
    return f'<h3>Findings</h3><ul class="findings" id="findings">{items}</ul>'


def _waveforms(session: Session) -> str:
    plan = session.start.get("plan")
    planned: dict[Any, Mapping[str, Any]] = {}
    if isinstance(plan, Mapping) and isinstance(plan.get("trains"), list):
        planned = {t.get("index"): t for t in plan["trains"] if isinstance(t, Mapping)}
    by_train: dict[Any, list[Mapping[str, Any]]] = {}
    for document in session.pulses:
        by_train.setdefault(document.get("train"), []).append(document)
    sections = []
    for train, pulses in by_train.items():
        with_waves = [p for p in pulses if p.get("waveforms")]
        if not with_waves:
            continue
        blocks = [session.waveforms(p) for p in with_waves]
        plan_train = planned.get(train, {})
        target = plan_train.get("voltage_v", with_waves[0].get("target_v"))
        target_v = float(target) if is_number(target) else None
        ranges = shared_ranges(blocks, target_v)
        pair = digest.pair_text(plan_train.get("labels"), with_waves[0].get("pair"))
        heading = f"Train {setting(train)} · {pair}"
        if target_v is not None:
            heading += f" · {setting(target_v)} V"
        heading += f" · {len(with_waves)} of {len(pulses)} pulses with waveforms"
        figures = []
        for pulse, channels in zip(with_waves, blocks, strict=True):
            index = pulse.get("index")
            verdict = str(pulse.get("verdict"))
            svg = waveform_svg(channels, target_v=target_v, ranges=ranges, label=f"pulse {index}")
            figures.append(
                f"<figure>{svg}<figcaption>pulse {escape(str(index))} "
                f"(train pulse {escape(setting(pulse.get('pulse')))}) · "
                f"{_verdict_span(verdict)}</figcaption></figure>"
            )
        sections.append(
            f'<div class="train-waves"><h3>{escape(heading)}</h3>'
            f'<div class="waves">{"".join(figures)}</div></div>'
        )
    if not sections:
        return (
            '<section id="waveforms"><h2>Waveforms</h2><p>No waveforms were recorded.</p></section>'
        )
    note = (
        '<p class="note">Voltage above, current below; the dashed line is the set voltage. '
        "The plots of one train share their axes, so a pulse unlike its neighbours stands "
        "out.</p>"
    )
    return f'<section id="waveforms"><h2>Waveforms</h2>{note}{"".join(sections)}</section>'


def _timeline(session: Session) -> str:
    entries = digest.timeline(session)
    if not entries:
        return '<section id="events"><h2>Timeline</h2><p>No events.</p></section>'
    rows = [
        [
            f'<td class="t" title="{escape(e.utc or "")}">{escape(offset(e.seconds))}</td>',
            f'<td class="k">{escape(e.what)}</td>',
            escape(e.text),
        ]
        for e in entries
    ]
    classes = [f"c-{_css(e.category)}" for e in entries]
    return (
        '<section id="events"><h2>Timeline</h2><p class="note">Times are since the start '
        "of the session (minutes:seconds).</p>"
        + _table(["time", "what", "details"], rows, css="timeline", row_classes=classes)
        + "</section>"
    )


def _setup(session: Session) -> str:
    start = session.start
    parts = ['<section id="setup"><h2>Instruments and rig</h2>']
    instruments = digest.instrument_rows(start)
    if instruments:
        parts.append(
            _table(
                ["role", "maker", "model", "serial", "firmware", "address"],
                [
                    [
                        escape(r.role),
                        escape(r.maker),
                        escape(r.model),
                        escape(r.serial),
                        escape(r.firmware),
                        f"<code>{escape(r.address)}</code>",
                    ]
                    for r in instruments
                ],
                table_id="instruments",
            )
        )
    facts = digest.rig_facts(start)
    if facts:
        parts.append(_facts_table(facts, table_id="rig"))
    if not instruments and not facts:
        parts.append("<p>No instruments or rig recorded.</p>")
    parts.append("</section>")
    return "".join(parts)


def _integrity(session: Session, head: Header) -> str:
    integrity = session.integrity
    rows = [
        Fact("status", str(integrity.status).upper()),
        Fact("detail", integrity.describe()),
        Fact("lines verified", f"{integrity.verified} of {integrity.lines}"),
        Fact("final hash", integrity.final_hash or MISSING),
        Fact("seal", head.seal),
    ]
    return (
        f'<section id="integrity"><h2>Integrity</h2>{_facts_table(rows)}'
        f"<p>Check it again at any time: <code>pulsehost sessions verify "
        f"{escape(session.short_id)}</code>.</p></section>"
    )


def _appendix(session: Session) -> str:
    start = session.start
    plan: Mapping[str, Any] = start["plan"] if isinstance(start.get("plan"), Mapping) else {}
    parts = [
        '<section id="appendix"><h2>Appendix</h2><p class="note">The material the session '
        "ran from, as journalled. Collapsed on screen; printed in full.</p>"
    ]
    protocol = start.get("protocol")
    if isinstance(protocol, Mapping) and isinstance(protocol.get("text"), str):
        digest_text = f", sha256 {protocol['sha256']}" if protocol.get("sha256") else ""
        parts.append(
            f'<details id="protocol-text"><summary>Protocol file as loaded '
            f"({escape(str(protocol.get('id', '?')))}{escape(digest_text)})</summary>"
            f"<pre>{escape(protocol['text'])}</pre></details>"
        )
    needles = plan.get("needles") if isinstance(plan, Mapping) else None
    if isinstance(needles, Mapping) and isinstance(needles.get("text"), str):
        sha = f", sha256 {needles['sha256']}" if needles.get("sha256") else ""
        parts.append(
            f'<details id="needles-text"><summary>Needles file as loaded'
            f"{escape(sha)}</summary><pre>{escape(needles['text'])}</pre></details>"
        )
    checks = digest.check_rows(start)
    if checks:
        parts.append(
            '<details id="check-thresholds"><summary>Check thresholds</summary>'
            f"{_facts_table(checks)}</details>"
        )
    if plan:
        parts.append(
            '<details id="raw-plan"><summary>Plan as journalled (JSON)</summary>'
            f"<pre>{escape(digest.raw_json(digest.without_texts(plan)))}</pre></details>"
        )
    rest = {
        k: v
        for k, v in start.items()
        if k not in ("plan", "protocol", "kind", "seq", "mono_ns", "prev", "hash")
    }
    if rest:
        parts.append(
            '<details id="raw-start"><summary>Start document: every other field '
            "(JSON)</summary>"
            f"<pre>{escape(digest.raw_json(rest))}</pre></details>"
        )
    parts.append("</section>")
    return "".join(parts)
