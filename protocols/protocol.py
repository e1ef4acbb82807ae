"""A treatment protocol file: what to deliver, with which electrode, within which limits.

    [protocol]   id, version, title, description, sources
    [delivery]   field_v_per_cm, pulses_per_train, width_us, rate_hz, allowed_rates_hz, polarity
    [electrode]  kind and its geometry (see protocols.electrode)
    [limits]     v_max_v, min_spacing_mm, max_spacing_mm
    [checks]     per-pulse thresholds (optional; see protocols.thresholds)
    [tissue]     conductivity assumed for predictions (optional; see protocols.tissue)
    [ecg]        ECG gating (optional)
    [drug]       drug timing window (optional)

docs/protocols.md describes every field.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from protocols.bundled import resolve_protocol
from protocols.drug import DrugTiming, read_drug
from protocols.ecg import EcgSettings, read_ecg
from protocols.electrode import ElectrodeGeometry, Limits, read_electrode, read_limits
from protocols.fields import TableReader, fmt
from protocols.source import SourceFile, read_toml
from protocols.thresholds import CheckThresholds, read_checks
from protocols.tissue import Tissue, read_tissue

POLARITIES = ("a-positive", "alternate")
PROTOCOL_ID = r"[a-z0-9][a-z0-9\-]{0,63}"
MAX_RATE_HZ = 10_000.0


@dataclass(frozen=True)
class Delivery:
    """The electrical protocol of every train (`[delivery]`)."""

    field_v_per_cm: float  # U/d: voltage = field × distance
    pulses_per_train: int
    width_us: float
    rate_hz: float  # the rate in use (the file's default or an override)
    allowed_rates_hz: tuple[float, ...]
    polarity: str  # "a-positive": electrode a positive; "alternate": flips every train

    @property
    def period_us(self) -> float:
        return 1e6 / self.rate_hz

    def to_dict(self) -> dict[str, object]:
        return {
            "field_v_per_cm": self.field_v_per_cm,
            "pulses_per_train": self.pulses_per_train,
            "width_us": self.width_us,
            "rate_hz": self.rate_hz,
            "period_us": self.period_us,
            "allowed_rates_hz": list(self.allowed_rates_hz),
            "polarity": self.polarity,
        }


@dataclass(frozen=True)
class TreatmentProtocol:
    """A validated protocol file, with any overrides applied and recorded."""

    id: str
    version: str
    title: str
    description: str
    sources: tuple[str, ...]
    delivery: Delivery
    electrode: ElectrodeGeometry
    limits: Limits
    checks: CheckThresholds
    tissue: Tissue
    ecg: EcgSettings
    drug: DrugTiming | None
    source: SourceFile
    overrides: tuple[tuple[str, float | str], ...] = ()

    def to_dict(self, *, with_text: bool = True) -> dict[str, object]:
        """A JSON-ready description (stable shape; docs/cli.md)."""
        return {
            "id": self.id,
            "version": self.version,
            "title": self.title,
            "description": self.description,
            "sources": list(self.sources),
            "path": self.source.path,
            "sha256": self.source.sha256,
            "overrides": dict(self.overrides),
            "delivery": self.delivery.to_dict(),
            "electrode": self.electrode.to_dict(),
            "limits": self.limits.to_dict(),
            "checks": self.checks.to_dict(),
            "tissue": self.tissue.to_dict(),
            "ecg": self.ecg.to_dict(),
            "drug": self.drug.to_dict() if self.drug else None,
            "text": self.source.text if with_text else None,
        }


def load_protocol(
    id_or_path: str | Path,
    *,
    rate_hz: float | None = None,
    gap_mm: float | None = None,
    tissue: str | None = None,
) -> TreatmentProtocol:
    """Load a preset (by id) or a protocol file (by path) and validate it.

    `rate_hz` picks one of the protocol's allowed rates, `gap_mm` sets a plate
    electrode's gap, `tissue` names the tissue assumed for predictions. Every
    problem raises `ProtocolError` naming file, line and field.
    """
    path, display = resolve_protocol(id_or_path)
    source, data = read_toml(path, display)
    root = TableReader(source, "", data)

    head = root.table("protocol")
    protocol_id = head.text(
        "id", pattern=PROTOCOL_ID, meaning="an id of lower-case letters, digits and '-'"
    )
    version = head.text("version", pattern=r"\S{1,32}", meaning="a version such as '1.0.0'")
    title = head.text("title", pattern=r".*\S.*", meaning="a non-empty title")
    description = head.text("description", "")
    sources = head.texts("sources", min_items=1)
    head.finish("in [protocol]")

    # Order matters: limits depend on the field ratio, the electrode on the limits.
    delivery = _read_delivery(root.table("delivery"), rate_hz)
    limits = read_limits(root.table("limits"), delivery.field_v_per_cm)
    electrode = read_electrode(root.table("electrode"), limits, gap_mm)

    checks = read_checks(root.optional_table("checks"))
    tissue_block = read_tissue(root.optional_table("tissue"), root, tissue)
    ecg = read_ecg(root.optional_table("ecg"))
    drug = read_drug(root.optional_table("drug"))
    root.finish("at the top level of a protocol file")

    overrides: list[tuple[str, float | str]] = []
    for name, value in (("rate_hz", rate_hz), ("gap_mm", gap_mm), ("tissue", tissue)):
        if value is not None:
            overrides.append((name, value))
    return TreatmentProtocol(
        id=protocol_id,
        version=version,
        title=title,
        description=description,
        sources=sources,
        delivery=delivery,
        electrode=electrode,
        limits=limits,
        checks=checks,
        tissue=tissue_block,
        ecg=ecg,
        drug=drug,
        source=source,
        overrides=tuple(overrides),
    )


def _read_delivery(reader: TableReader, rate_override: float | None) -> Delivery:
    field = reader.number("field_v_per_cm", "V/cm", 100.0, 3000.0)
    count = reader.integer("pulses_per_train", 1, 1000)
    width = reader.number("width_us", "µs", 1.0, 10_000.0)
    rate = reader.number("rate_hz", "Hz", 0.0, MAX_RATE_HZ, above=True)
    allowed = reader.numbers("allowed_rates_hz", "Hz", 0.0, MAX_RATE_HZ, above=True)
    polarity = reader.text("polarity", "a-positive", choices=POLARITIES)
    reader.finish("in [delivery]")
    accepted = ", ".join(fmt(r) for r in allowed) + " Hz"
    if rate not in allowed:
        raise reader.error(
            "rate_hz", f"{fmt(rate)} Hz is not in allowed_rates_hz: accepted {accepted}"
        )
    if rate_override is not None:
        if rate_override not in allowed:
            raise reader.error(
                "allowed_rates_hz",
                f"requested rate {fmt(rate_override)} Hz is not allowed by this protocol: "
                f"accepted {accepted}",
            )
        rate = rate_override
    for allowed_rate in allowed:
        period_us = 1e6 / allowed_rate
        if width >= period_us:
            raise reader.error(
                "width_us",
                f"a {fmt(width)} µs pulse does not fit in the {fmt(period_us)} µs period of "
                f"{fmt(allowed_rate)} Hz: accepted widths below {fmt(period_us)} µs",
            )
    return Delivery(field, count, width, rate, allowed, polarity)
