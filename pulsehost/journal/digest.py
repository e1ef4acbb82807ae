"""A session read for a reviewer: what both views show, in plain words and house precision.

The terminal view (`show`) and the HTML report render the same digest, so a
number, a reason or a finding reads the same wherever it is looked at. Every
builder here tolerates missing or oddly shaped fields: a journal from an older
engine, or one cut short by a crash, still reads.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from pulsehost.journal.integrity import ChainStatus, SealStatus
from pulsehost.journal.precision import (
    MISSING,
    band,
    duration,
    fixed,
    is_number,
    keyed,
    label_of,
    measured,
    parse_utc,
    ranges,
    setting,
    unit_of,
    utc_text,
    with_unit,
)
from pulsehost.journal.session import Session

# Worst first when a train or a session is summed up in one word.
VERDICT_ORDER = ("stop", "unmeasured", "warn", "ok")
SEAL_WORDS = {
    SealStatus.VALID: "sealed; the seal was checked with the site key and holds",
    SealStatus.INVALID: "sealed; the seal does NOT hold",
    SealStatus.UNSEALED: "unsealed",
    SealStatus.NOT_CHECKED: "sealed; seal not checked (no key given)",
}
# Stop reasons whose code alone reads badly; any other code is shown with its
# hyphens and underscores as spaces.
REASON_WORDS = {
    "generator-fault": "latched generator fault",
    "operator-declined": "the operator stood down",
    "plan-refused": "plan refused by the limits",
    "drug-window": "outside the drug window",
    "link-lost": "link to the generator lost",
    "ecg-timeout": "no R wave from the ECG",
}
CHECK_LABELS = {
    "voltage_tolerance_pct": "voltage tolerance",
    "current_low_factor": "low-current factor (of the predicted low end)",
    "current_high_factor": "high-current factor (of the predicted high end)",
    "width_tolerance_pct": "width tolerance",
    "timing_tolerance_pct": "timing tolerance (of the period)",
    "crosscheck_tolerance_pct": "generator/scope agreement",
    "no_ep_ratio": "no-electroporation current ratio",
    "arc_voltage_fraction": "arc: voltage fraction of the set value",
    "current_margin_warn_pct": "warn at this share of the current limit",
    "i_max_a": "current limit",
}
DOSE_UNITS = {
    "dose_iu_per_m2": "IU/m²",
    "dose_iu_per_cm3": "IU/cm³",
    "dose_mg_per_cm3": "mg/cm³",
    "dose_iu": "IU",
    "dose_mg": "mg",
}
ECG_WORDS = {
    "TRIGGER": "triggered on the R wave",
    "WITHHELD": "pulse withheld",
    "TIMEOUT": "no R wave in time",
    "LEAD_OFF": "ECG lead off",
}
_PULSE_PREFIX = re.compile(r"^Pulse (\d+):\s*")


@dataclass(frozen=True)
class Fact:
    """One labelled line of a summary."""

    label: str
    text: str


@dataclass(frozen=True)
class Header:
    """What identifies the session and how it ended."""

    simulated: bool
    title: str  # the protocol's title, else its id
    protocol: str  # "id version"
    session_id: str
    short_id: str
    outcome: str  # completed | aborted | fault | interrupted
    reason: str | None  # the stop reason in words
    reason_code: str | None  # the stop reason as journalled
    message: str | None
    delivered: int
    planned: int | None
    verdicts: tuple[tuple[str, int], ...]  # (verdict, count), worst first
    broken: bool
    integrity: str  # Integrity.describe()
    seal: str
    facts: tuple[Fact, ...]

    @property
    def delivered_text(self) -> str:
        planned = "?" if self.planned is None else str(self.planned)
        return f"{self.delivered} of {planned} pulses delivered"

    @property
    def verdict_text(self) -> str:
        return ", ".join(f"{verdict} {count}" for verdict, count in self.verdicts) or "none"


@dataclass(frozen=True)
class TrainRow:
    """One planned (or delivered) train: the plan beside what was measured."""

    index: int
    pair: str
    distance_mm: str
    voltage_v: str
    pulses: str
    predicted_a: str  # the predicted current band
    delivered: int
    measured_a: str  # lowest to highest plateau current measured
    result: str  # the worst pulse verdict, or "not delivered"


@dataclass(frozen=True)
class Measure:
    """A per-pulse column: header, unit and the journal key it shows."""

    title: str
    unit: str
    key: str
    as_set: bool = False  # a setting: shown as set, not to measurement precision

    def format(self, value: Any) -> str:
        return setting(value) if self.as_set else measured(value, self.unit)


PULSE_MEASURES = (
    Measure("V set", "V", "target_v", as_set=True),
    Measure("V", "V", "voltage_v"),
    Measure("I", "A", "current_a"),
    Measure("width", "µs", "width_us"),
    Measure("R", "Ω", "resistance_ohm"),
    Measure("E", "J", "energy_j"),
    Measure("Q", "µC", "charge_uc"),
)


@dataclass(frozen=True)
class PulseRow:
    """One pulse, formatted; `values` follow `PULSE_MEASURES`."""

    index: int
    train: str
    pulse: str
    pair: str
    values: tuple[str, ...]
    verdict: str
    findings: tuple[tuple[str, str], ...]  # (level, code) in journal order
    by_generator: bool  # the scope did not measure it; the values are the generator's


@dataclass(frozen=True)
class FindingGroup:
    """One finding text and every pulse (or the train) it was raised for."""

    level: str
    code: str
    text: str
    pulses: tuple[int, ...]
    train: int | None = None  # for a train-level finding

    @property
    def where(self) -> str:
        if self.pulses:
            noun = "pulse" if len(self.pulses) == 1 else "pulses"
            return f"{noun} {ranges(list(self.pulses))}"
        return f"train {self.train}" if self.train is not None else "session"

    @property
    def name(self) -> str:
        return self.code.replace("-", " ").replace("_", " ")


@dataclass(frozen=True)
class TimelineEntry:
    """One moment of the session, with its time since the start document."""

    seconds: float | None
    utc: str | None
    category: str  # state, alarm, ecg, operator, intent, pulses, finding, drug, stop, other
    what: str
    text: str


@dataclass(frozen=True)
class InstrumentRow:
    role: str
    maker: str
    model: str
    serial: str
    firmware: str
    address: str


# -- header ---------------------------------------------------------------------------------


def header(session: Session) -> Header:
    start = session.start
    stop = session.stop or {}
    protocol = _mapping(start.get("protocol"))
    plan_protocol = _mapping(_mapping(start.get("plan")).get("protocol"))
    pid = _text(protocol.get("id") or plan_protocol.get("id")) or "?"
    version = _text(protocol.get("version") or plan_protocol.get("version"))
    title = _text(protocol.get("title") or plan_protocol.get("title")) or pid
    code = _text(stop.get("reason"))
    counts = Counter(str(p.get("verdict")) for p in session.pulses)
    verdicts = tuple(sorted(counts.items(), key=lambda item: _severity(item[0])))
    started, stopped = parse_utc(start.get("utc")), parse_utc(stop.get("utc"))
    facts = [
        Fact("operator", _text(start.get("operator")) or MISSING),
        Fact("subject (pseudonymous)", _text(start.get("subject")) or MISSING),
        Fact("started", utc_text(start.get("utc")) if start.get("utc") else MISSING),
        Fact(
            "stopped",
            utc_text(stop.get("utc"))
            if stop.get("utc")
            else "no stop document (the session did not end normally)",
        ),
        Fact(
            "duration",
            duration((stopped - started).total_seconds()) if started and stopped else MISSING,
        ),
        Fact("session id", session.session_id),
        Fact("protocol sha256", _text(protocol.get("sha256")) or MISSING),
        Fact("software", _software(start.get("software"))),
        Fact("directory", str(session.directory)),
    ]
    notes = _text(start.get("notes"))
    if notes:
        facts.append(Fact("notes", notes))
    return Header(
        simulated=session.simulated,
        title=title,
        protocol=f"{pid} {version}" if version else pid,
        session_id=session.session_id,
        short_id=session.short_id,
        outcome=session.outcome,
        reason=reason_words(code),
        reason_code=code,
        message=_text(stop.get("message")),
        delivered=session.pulses_delivered,
        planned=session.pulses_planned,
        verdicts=verdicts,
        broken=session.integrity.status is ChainStatus.BROKEN,
        integrity=session.integrity.describe(),
        seal=SEAL_WORDS[session.integrity.seal],
        facts=tuple(facts),
    )


def reason_words(code: str | None) -> str | None:
    """A stop reason code in plain words (`OPERATOR_ABORT` -> `operator abort`)."""
    if not code:
        return None
    return REASON_WORDS.get(code, code.replace("_", " ").replace("-", " ").lower())


def _software(value: Any) -> str:
    if isinstance(value, Mapping):
        words = [_text(value.get("name")) or "", _text(value.get("version")) or ""]
        text = " ".join(w for w in words if w)
        if value.get("commit"):
            text += f" (commit {str(value['commit'])[:12]})"
        return text or MISSING
    return _text(value) or MISSING


# -- plan -----------------------------------------------------------------------------------


def plan_facts(
    start: Mapping[str, Any], events: Sequence[Mapping[str, Any]] = ()
) -> tuple[Fact, ...]:
    """The plan in sentences: electrode, field, pulses, tissue, ECG, drug, limits, warnings."""
    plan = _mapping(start.get("plan"))
    trains = _trains(plan)
    facts = []
    electrode = electrode_text(plan)
    if electrode:
        facts.append(Fact("electrode", electrode))
    delivery = _mapping(plan.get("delivery"))
    first = trains[0] if trains else {}
    field = delivery.get("field_v_per_cm", first.get("field_v_per_cm"))
    if is_number(field):
        text = f"{setting(field)} V/cm voltage-to-distance ratio: each pair's set voltage is "
        text += "this field times the pair's distance"
        facts.append(Fact("field", text))
    pulses_text = _pulses_text(delivery, first)
    if pulses_text:
        facts.append(Fact("pulses", pulses_text))
    totals = _mapping(plan.get("totals"))
    n_trains = totals.get("trains", len(trains) if trains else None)
    n_pulses = totals.get("pulses")
    if is_number(n_trains) or is_number(n_pulses):
        parts = []
        if is_number(n_pulses):
            parts.append(f"{setting(n_pulses)} pulses")
        if is_number(n_trains):
            parts.append(f"in {setting(n_trains)} train{'s' if n_trains != 1 else ''}")
        facts.append(Fact("total", " ".join(parts)))
    tissue = _mapping(plan.get("tissue"))
    if tissue:
        text = _text(tissue.get("name")) or "unnamed tissue"
        s0, s1 = tissue.get("sigma0_s_per_m"), tissue.get("sigma1_s_per_m")
        if is_number(s0) and is_number(s1):
            text += (
                f", conductivity {fixed(s0, 2)} → {fixed(s1, 2)} S/m before → after "
                "electroporation; the predicted current band comes from it"
            )
        facts.append(Fact("tissue assumed", text))
    ecg = ecg_text(_mapping(plan.get("ecg")) or _mapping(start.get("ecg")))
    if ecg:
        facts.append(Fact("ECG", ecg))
    drug = drug_text(start, events)
    if drug:
        facts.append(Fact("drug", drug))
    limits = limits_text(start)
    if limits:
        facts.append(Fact("limits", limits))
    for warning in plan.get("warnings") or ():
        if isinstance(warning, Mapping):
            facts.append(Fact("plan warning", _text(warning.get("message")) or str(warning)))
    return tuple(facts)


def electrode_text(plan: Mapping[str, Any]) -> str:
    """The electrode and its geometry in one sentence."""
    electrode = _mapping(plan.get("electrode"))
    kind = _text(electrode.get("kind"))
    used: set[str] = {"kind"}

    def mm(key: str) -> str | None:
        value = electrode.get(key)
        if not is_number(value):
            return None
        used.add(key)
        return f"{setting(value)} mm"

    sizes = [
        f"Ø {d}" if (d := mm("needle_diameter_mm")) else None,
        f"{a} active" if (a := mm("active_length_mm")) else None,
    ]
    size = ", ".join(s for s in sizes if s)
    if kind == "plates":
        text = "Two parallel plates"
        if gap := mm("gap_mm"):
            text += f" {gap} apart"
        length, depth = mm("plate_length_mm"), mm("contact_depth_mm")
        if length and depth:
            text += f", contact {length.removesuffix(' mm')} × {depth}"
    elif kind == "needle-rows":
        count = electrode.get("needles_per_row")
        used.add("needles_per_row")
        text = f"Two rows of {setting(count)} needles" if is_number(count) else "Two needle rows"
        if spacing := mm("row_spacing_mm"):
            text += f" {spacing} apart"
        if pitch := mm("needle_pitch_mm"):
            size = f"{pitch} pitch, {size}" if size else f"{pitch} pitch"
        text += ", row against row"
    elif kind == "hexagonal":
        text = "Hexagonal array: a centre needle and six around it"
        if spacing := mm("neighbour_spacing_mm"):
            text += f", {spacing} between neighbours"
    elif kind == "needles":
        electrodes = [e for e in plan.get("electrodes") or () if isinstance(e, Mapping)]
        needles = _mapping(plan.get("needles"))
        text = f"{len(electrodes)} single needles" if electrodes else "Single needles"
        text += " placed by the operator"
        used.update({"min_needles", "max_needles"})
        first = electrodes[0] if electrodes else {}
        sizes = [
            f"Ø {setting(first['diameter_mm'])} mm"
            if is_number(first.get("diameter_mm"))
            else None,
            f"{setting(first['active_length_mm'])} mm active"
            if is_number(first.get("active_length_mm"))
            else None,
        ]
        size = ", ".join(s for s in sizes if s)
        if size:
            text += f", {size}"
            size = ""
        where = []
        if needles.get("path"):
            where.append(f"coordinates from {PurePath(str(needles['path'])).name}")
        if needles.get("description"):
            where.append(f"“{needles['description']}”")
        if where:
            text += "; " + ": ".join(where)
    elif kind:
        text = f"Electrode {kind}"
    else:
        return ""
    if size:
        text += f" ({size})"
    rest = [
        f"{label_of(k)} {keyed(k, v)}"
        for k, v in electrode.items()
        if k not in used
        and k not in ("cell_constant_per_m", "cell_constant_length_mm")
        and not isinstance(v, Mapping | list)
    ]
    if rest:
        text += "; " + ", ".join(rest)
    return text


def electrode_positions(plan: Mapping[str, Any]) -> tuple[tuple[str, str, str, str], ...]:
    """(label, x, y, z) in mm of electrodes placed by coordinates; empty for fixed arrays."""
    if _mapping(plan.get("electrode")).get("kind") != "needles":
        return ()
    rows = []
    for e in plan.get("electrodes") or ():
        if isinstance(e, Mapping) and is_number(e.get("x_mm")) and is_number(e.get("y_mm")):
            rows.append(
                (
                    _text(e.get("label")) or str(e.get("index", "?")),
                    fixed(e["x_mm"], 1),
                    fixed(e["y_mm"], 1),
                    fixed(e.get("z_mm"), 1),
                )
            )
    return tuple(rows)


def _pulses_text(delivery: Mapping[str, Any], first: Mapping[str, Any]) -> str:
    count = delivery.get("pulses_per_train", first.get("pulses", first.get("count")))
    width = delivery.get("width_us", first.get("width_us"))
    rate = delivery.get("rate_hz", first.get("rate_hz"))
    if not (is_number(count) or is_number(width)):
        return ""
    text = f"{setting(count)} × {setting(width)} µs"
    if is_number(rate):
        text += f" at {setting(rate)} Hz"
    text += " per train"
    if delivery.get("polarity"):
        text += f", polarity {delivery['polarity']}"
    return text


def ecg_text(ecg: Mapping[str, Any]) -> str:
    """ECG gating in words."""
    if not ecg:
        return ""
    if ecg.get("gated") is True:
        delay = ecg.get("delay_ms")
        return (
            f"gated: each pulse is fired {setting(delay)} ms after an R wave"
            if is_number(delay)
            else "gated on the R wave"
        )
    if ecg.get("gated") is False:
        return "not gated"
    return ", ".join(f"{label_of(k)} {keyed(k, v)}" for k, v in ecg.items())


def drug_text(start: Mapping[str, Any], events: Sequence[Mapping[str, Any]] = ()) -> str:
    """The drug, its window and when it was given, in words."""
    given = _mapping(start.get("drug"))
    protocol = _mapping(given.get("protocol")) or _mapping(_mapping(start.get("plan")).get("drug"))
    if not protocol and not given:
        return ""
    source = protocol or given
    words = [w for w in (_text(source.get("agent")), _text(source.get("route"))) if w]
    if len(words) == 2:
        words[1] = words[1].upper()
    text = " ".join(words) or "drug"
    for key, unit in DOSE_UNITS.items():
        if is_number(source.get(key)):
            text += f", {setting(source[key])} {unit}"
            break
    low, high = protocol.get("window_start_min"), protocol.get("window_end_min")
    if is_number(low) and is_number(high):
        text += f"; arming window {setting(low)}–{setting(high)} min after the dose"
        if is_number(protocol.get("warn_after_min")):
            text += f" (warning from {setting(protocol['warn_after_min'])} min)"
    moment = given.get("given_at", given.get("given_utc"))
    event = next((e for e in events if e.get("event") == "drug"), {})
    if moment:
        text += f". Given {utc_text(moment)}"
        if given.get("entered_by"):
            text += f", entered by {given['entered_by']}"
        if is_number(event.get("minutes_since")):
            text += f"; {fixed(event['minutes_since'], 1)} min before arming"
        if event.get("window"):
            text += f" (window {event['window']})"
    elif given:
        text += ". Time given not recorded"
    if given.get("override_reason"):
        text += f". Window overridden: {given['override_reason']}"
    return text


def limits_text(start: Mapping[str, Any]) -> str:
    """The voltage and current ceilings from the protocol, the rig/site and the generator."""
    parts = []
    for label, limits in (
        ("protocol", _mapping(_mapping(start.get("plan")).get("limits"))),
        ("site/rig", _mapping(start.get("limits"))),
        ("generator", _mapping(start.get("generator_limits"))),
    ):
        values = [
            f"{setting(limits[k])} {unit}"
            for k, unit in (("v_max_v", "V"), ("i_max_a", "A"))
            if is_number(limits.get(k))
        ]
        if values:
            source = _text(limits.get("source"))
            parts.append(f"{' and '.join(values)} ({label}{': ' + source if source else ''})")
    return "; ".join(parts)


def train_rows(session: Session) -> tuple[TrainRow, ...]:
    """One row per planned train, plus any train the pulses name that the plan does not."""
    plan = _mapping(session.start.get("plan"))
    by_train: dict[int, list[Mapping[str, Any]]] = {}
    for pulse in session.pulses:
        if type(pulse.get("train")) is int:
            by_train.setdefault(pulse["train"], []).append(pulse)
    rows = []
    seen = set()
    for number, train in enumerate(_trains(plan), start=1):
        index = train["index"] if type(train.get("index")) is int else number
        seen.add(index)
        rows.append(_train_row(index, train, by_train.get(index, [])))
    for index in sorted(set(by_train) - seen):
        first = by_train[index][0]
        rows.append(
            _train_row(
                index,
                {"pair": first.get("pair"), "voltage_v": first.get("target_v")},
                by_train[index],
            )
        )
    return tuple(rows)


def _train_row(index: int, train: Mapping[str, Any], pulses: list[Mapping[str, Any]]) -> TrainRow:
    currents = [p["current_a"] for p in pulses if is_number(p.get("current_a"))]
    worst = min((str(p.get("verdict")) for p in pulses), key=_severity, default=None)
    count = train.get("pulses", train.get("count"))
    return TrainRow(
        index=index,
        pair=pair_text(train.get("labels"), train.get("pair")),
        distance_mm=fixed(train.get("distance_mm"), 1),
        voltage_v=setting(train.get("voltage_v")),
        pulses=setting(count),
        predicted_a=band(
            train.get("predicted_current_a_min"), train.get("predicted_current_a_max")
        ),
        delivered=len(pulses),
        measured_a=band(min(currents), max(currents), 2) if currents else MISSING,
        result=worst if worst is not None else "not delivered",
    )


def pair_text(labels: Any, pair: Any) -> str:
    """`A–B` from labels, else from the generator's electrode indices."""
    for value in (labels, pair):
        if isinstance(value, list | tuple) and value:
            return "–".join(str(v) for v in value)
    return MISSING


# -- pulses ---------------------------------------------------------------------------------


def pulse_rows(session: Session) -> tuple[PulseRow, ...]:
    labels = _labels_by_train(_mapping(session.start.get("plan")))
    rows = []
    for pulse in session.pulses:
        train = pulse.get("train")
        findings = tuple(
            (str(f.get("level", "?")), str(f.get("code", "?")))
            for f in pulse.get("findings") or ()
            if isinstance(f, Mapping)
        )
        rows.append(
            PulseRow(
                index=pulse["index"] if type(pulse.get("index")) is int else 0,
                train=setting(train),
                pulse=setting(pulse.get("pulse")),
                pair=pair_text(
                    labels.get(train) if type(train) is int else None, pulse.get("pair")
                ),
                values=tuple(m.format(pulse.get(m.key)) for m in PULSE_MEASURES),
                verdict=str(pulse.get("verdict", "?")),
                findings=findings,
                by_generator=pulse.get("source") == "firmware",
            )
        )
    return tuple(rows)


def finding_groups(session: Session) -> tuple[FindingGroup, ...]:
    """Every finding once: equal texts across pulses are merged; worst level first,
    then in order of first appearance."""
    groups: dict[tuple[str, str, str], list[int]] = {}
    train_level: list[FindingGroup] = []
    for pulse in session.pulses:
        index = pulse.get("index")
        for finding in pulse.get("findings") or ():
            if not isinstance(finding, Mapping):
                continue
            text = str(finding.get("message") or "")
            match = _PULSE_PREFIX.match(text)
            if match and int(match[1]) == index:  # the row already says which pulse
                text = text[match.end() :]
            key = (str(finding.get("level", "?")), str(finding.get("code", "?")), text)
            groups.setdefault(key, []).append(index if type(index) is int else 0)
    for event in session.events:
        if event.get("event") == "finding":
            train = event.get("train")
            train_level.append(
                FindingGroup(
                    level=str(event.get("level", "?")),
                    code=str(event.get("code", "?")),
                    text=str(event.get("message") or ""),
                    pulses=(),
                    train=train if type(train) is int else None,
                )
            )
    merged = [
        FindingGroup(level=level, code=code, text=text, pulses=tuple(pulses))
        for (level, code, text), pulses in groups.items()
    ] + train_level
    return tuple(sorted(merged, key=lambda g: _severity(g.level)))


# -- timeline -------------------------------------------------------------------------------


def timeline(session: Session) -> tuple[TimelineEntry, ...]:
    """Events, intents, pulses (one entry per train) and the stop, in journal order."""
    base_mono = session.start.get("mono_ns")
    base_utc = parse_utc(session.start.get("utc"))

    def seconds(document: Mapping[str, Any]) -> float | None:
        mono = document.get("mono_ns")
        if type(base_mono) is int and type(mono) is int:
            return (mono - base_mono) / 1e9
        moment = parse_utc(document.get("utc"))
        return (moment - base_utc).total_seconds() if moment and base_utc else None

    labels = _labels_by_train(_mapping(session.start.get("plan")))
    entries: list[TimelineEntry] = []
    run: list[Mapping[str, Any]] = []

    def flush() -> None:
        if run:
            entries.append(_pulse_entry(run, seconds(run[0])))
            run.clear()

    for document in session.documents:
        kind = document.get("kind")
        if kind == "pulse":
            if run and run[-1].get("train") != document.get("train"):
                flush()
            run.append(document)
            continue
        flush()
        if kind in ("start", None):
            continue
        category, what, text = describe(document, labels)
        entries.append(
            TimelineEntry(seconds(document), _text(document.get("utc")), category, what, text)
        )
    flush()
    return tuple(entries)


def _pulse_entry(run: list[Mapping[str, Any]], at: float | None) -> TimelineEntry:
    indices = [p["index"] for p in run if type(p.get("index")) is int]
    counts = Counter(str(p.get("verdict")) for p in run)
    tally = ", ".join(f"{v} {counts[v]}" for v in sorted(counts, key=_severity))
    train = run[0].get("train")
    noun = "pulse" if len(run) == 1 else "pulses"
    text = f"{noun} {ranges(indices)} recorded"
    if train is not None:
        text += f" (train {train})"
    return TimelineEntry(at, _text(run[0].get("utc")), "pulses", noun, f"{text}: {tally}")


def describe(
    document: Mapping[str, Any], labels: Mapping[int, Any] | None = None
) -> tuple[str, str, str]:
    """(category, short label, text) of an event, intent or stop document; `labels`
    (train -> electrode labels, from the plan) names a pair an intent gives by index."""
    kind = document.get("kind")
    if kind == "intent":
        train = document.get("train")
        planned = (labels or {}).get(train) if type(train) is int else None
        pair = pair_text(document.get("labels") or planned, document.get("pair"))
        volts = document.get("target_v", document.get("voltage_v"))
        count = document.get("pulses", document.get("count"))
        text = f"train {setting(document.get('train'))} written before firing: {pair}"
        text += f", {setting(volts)} V × {setting(count)}"
        if is_number(document.get("width_us")):
            text += f" × {setting(document['width_us'])} µs"
        if document.get("ecg_gated") is True:
            text += ", ECG-gated"
        if document.get("confirmed_by"):
            text += f"; confirmed by {document['confirmed_by']}"
        return "intent", "intent", text
    if kind == "stop":
        outcome = _text(document.get("outcome")) or "?"
        text = outcome
        if document.get("reason"):
            text += f", reason {document['reason']}"
        # The message is the header's; the timeline keeps to the code and counts.
        counts = (document.get("pulses_delivered"), document.get("pulses_planned"))
        if all(is_number(c) for c in counts):
            text += f" ({counts[0]} of {counts[1]} pulses)"
        return "stop", "stop", text
    event = _text(document.get("event")) or "?"
    fields = {k: v for k, v in document.items() if k not in _ENVELOPE}
    if event == "state":
        before = fields.pop("previous", fields.pop("from", None))
        after = fields.pop("state", fields.pop("to", None))
        text = f"{before or '?'} → {after or '?'}"
        reason = fields.pop("reason", None)
        if reason:
            text += f": {reason}"
        return "state", "state", _with_rest(text, fields)
    if event == "alarm":
        fault = fields.pop("fault", fields.pop("code", "?"))
        text = f"{fault}"
        if fields.pop("latched", None) is True:
            text += ", latched"
        source = fields.pop("source", None)
        if source:
            text += f", from the {source}"
        train, pulse = fields.pop("train", None), fields.pop("pulse", None)
        if train is not None:
            text += f"; train {train}"
        if type(pulse) is int:
            # The generator counts the pulses of a train from 0 (firmware link).
            text += f", pulse {pulse + 1}" if source == "generator" else f", pulse {pulse}"
        return "alarm", "ALARM", _with_rest(text, fields)
    if event == "ecg":
        kind_text = fields.pop("ecg_kind", fields.pop("kind", "?"))
        reason = fields.pop("reason", None)
        text = ECG_WORDS.get(str(kind_text), str(kind_text))
        if reason and reason != "NONE":
            text += f" ({str(reason).replace('_', ' ').lower()})"
        if is_number(fields.get("rr_ms")):
            text += f", R–R {setting(fields.pop('rr_ms'))} ms"
        train = fields.pop("train", None)
        if train is not None:
            text += f"; train {train}"
        fields.pop("t_r_us", None)
        next_pulse = fields.pop("next_pulse", None)
        if type(next_pulse) is int:  # counted from 0 by the generator
            text += f", pulse {next_pulse + 1}"
        category = "ecg" if kind_text == "TRIGGER" else "alarm"
        return category, "ECG", _with_rest(text, fields)
    if event == "operator":
        who = fields.pop("by", fields.pop("user", None))
        action = fields.pop("action", "?")
        text = f"{action}" + (f" by {who}" if who else "")
        return "operator", "operator", _with_rest(text, fields)
    if event == "drug":
        text = "drug time entered"
        if fields.get("given_at"):
            text = f"drug given {utc_text(fields.pop('given_at'))}"
        if fields.get("entered_by"):
            text += f", entered by {fields.pop('entered_by')}"
        if is_number(fields.get("minutes_since")):
            text += f"; {fixed(fields.pop('minutes_since'), 1)} min ago"
        if fields.get("window"):
            text += f"; window {fields.pop('window')}"
        return "drug", "drug", _with_rest(text, fields)
    if event == "finding":
        level, code = fields.pop("level", "?"), fields.pop("code", "?")
        message = fields.pop("message", "")
        train = fields.pop("train", None)
        text = f"{level} {code}" + (f" (train {train})" if train is not None else "")
        return "finding", "finding", _with_rest(f"{text}: {message}" if message else text, fields)
    if event == "notice":
        level = fields.pop("level", "")
        message = fields.pop("message", "")
        return "finding", f"notice {level}".strip(), _with_rest(str(message), fields)
    if event == "safe-off":
        return "state", "safe-off", _with_rest(str(fields.pop("action", "")), fields)
    if event == "preflight":
        text = f"generator {fields.pop('generator_state', '?')}"
        if is_number(fields.get("hv_bank_v")):
            text += f", HV bank at {keyed('hv_bank_v', fields.pop('hv_bank_v'))}"
        return "state", "preflight", _with_rest(text, fields)
    if event == "preflight-problem":
        message = fields.pop("message", "")
        return "finding", "preflight", _with_rest(str(message), fields)
    return "other", event.replace("_", " "), _with_rest("", fields)


_ENVELOPE = ("kind", "seq", "mono_ns", "prev", "hash", "utc", "event")


def _with_rest(text: str, fields: Mapping[str, Any]) -> str:
    rest = ", ".join(
        f"{label_of(k)} {keyed(k, v) if not isinstance(v, Mapping) else _compact(v)}"
        for k, v in fields.items()
        if v is not None and v != ""
    )
    if text and rest:
        return f"{text} ({rest})"
    return text or rest


# -- set-up ---------------------------------------------------------------------------------


def instrument_rows(start: Mapping[str, Any]) -> tuple[InstrumentRow, ...]:
    rows = []
    for role, identity in _mapping(start.get("instruments")).items():
        if not isinstance(identity, Mapping):
            continue
        rows.append(
            InstrumentRow(
                role=str(role),
                maker=_text(identity.get("maker")) or MISSING,
                model=_text(identity.get("model")) or MISSING,
                serial=_text(identity.get("serial")) or MISSING,
                firmware=_text(identity.get("firmware")) or MISSING,
                address=_text(identity.get("resource")) or MISSING,
            )
        )
    return tuple(rows)


def rig_facts(start: Mapping[str, Any]) -> tuple[Fact, ...]:
    rig = _mapping(start.get("rig"))
    facts = []
    if rig.get("name"):
        facts.append(Fact("rig", str(rig["name"])))
    if rig.get("generator_kind"):
        facts.append(Fact("generator path", str(rig["generator_kind"])))
    rig_file = _mapping(rig.get("file"))
    if rig_file.get("path"):
        sha = _text(rig_file.get("sha256"))
        facts.append(
            Fact("rig file", f"{rig_file['path']}" + (f" (sha256 {sha[:16]}…)" if sha else ""))
        )
    scope = _mapping(rig.get("scope"))
    probes = [
        f"{label_of(k)} {with_unit(setting(v), unit_of(k) or '')}"
        for k, v in scope.items()
        if k.endswith(("_v_per_v", "_v_per_a"))
    ]
    if probes:
        facts.append(Fact("probes", ", ".join(probes)))
    simulation = _mapping(start.get("simulation"))
    if simulation:
        faults = simulation.get("faults") or []
        text = f"seed {simulation.get('seed', '?')}; "
        text += ("faults " + ", ".join(map(str, faults))) if faults else "no injected fault"
        facts.append(Fact("simulation", text))
    for key, value in rig.items():
        if key in ("name", "generator_kind", "file", "scope", "simulated", "limits"):
            continue
        if not isinstance(value, Mapping | list):
            facts.append(Fact(label_of(key), keyed(key, value)))
    return tuple(facts)


def check_rows(start: Mapping[str, Any]) -> tuple[Fact, ...]:
    """The protocol's check thresholds in words."""
    checks = _mapping(_mapping(start.get("plan")).get("checks"))
    rows = []
    for key, value in checks.items():
        label = CHECK_LABELS.get(key, label_of(key))
        unit = unit_of(key)
        text = setting(value) if is_number(value) else keyed(key, value)
        if unit:
            text = with_unit(text, unit)
        elif key.endswith(("_factor", "_ratio", "_fraction")) and is_number(value):
            text = f"× {text}"
        rows.append(Fact(label, text))
    return tuple(rows)


def raw_json(value: Any) -> str:
    """JSON of a journal value for the appendix: valid, with one line per top-level
    field (and per item of a list of objects), so it stays short on paper."""

    def inline(item: Any) -> str:
        return json.dumps(item, ensure_ascii=False, sort_keys=True, separators=(", ", ": "))

    def field(item: Any) -> str:
        if isinstance(item, list) and item and all(isinstance(i, Mapping) for i in item):
            return "[\n" + ",\n".join(f"  {inline(i)}" for i in item) + "\n ]"
        return inline(item)

    if not isinstance(value, Mapping) or not value:
        return inline(value)
    lines = [f" {inline(str(k))}: {field(v)}" for k, v in sorted(value.items())]
    return "{\n" + ",\n".join(lines) + "\n}"


def without_texts(plan: Mapping[str, Any]) -> dict[str, Any]:
    """The plan with the files' verbatim texts elided (the appendix shows them apart)."""
    out = dict(plan)
    for key in ("protocol", "needles"):
        part = out.get(key)
        if isinstance(part, Mapping) and "text" in part:
            out[key] = {**part, "text": "(shown above)"}
    return out


# -- helpers --------------------------------------------------------------------------------


def _labels_by_train(plan: Mapping[str, Any]) -> dict[int, Any]:
    return {t["index"]: t.get("labels") for t in _trains(plan) if type(t.get("index")) is int}


def _trains(plan: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    trains = plan.get("trains")
    if not isinstance(trains, list):
        return []
    return [t for t in trains if isinstance(t, Mapping)]


def _severity(verdict: str) -> int:
    return VERDICT_ORDER.index(verdict) if verdict in VERDICT_ORDER else 1


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, str) else str(value)


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "), sort_keys=True)
