"""Electrode geometries a protocol can name in its `[electrode]` table.

Four kinds: `plates` (one pair), `needle-rows` (two rows driven row against row, one
pair), `hexagonal` (a centre needle and six around it, driven pair by neighbouring
pair) and `needles` (variable geometry: single needles placed by the operator, their
coordinates in a separate needles file).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import ClassVar

from protocols.fields import TableReader, fmt

# Accepted ranges for physical needle and plate sizes (mm): wide enough for every
# commercial electrode we know of, narrow enough to catch cm typed as mm.
NEEDLE_DIAMETER_MM = (0.1, 3.0)
ACTIVE_LENGTH_MM = (1.0, 200.0)


@dataclass(frozen=True)
class Limits:
    """The protocol's own limits (`[limits]`): what it allows whatever the generator can do."""

    v_max_v: float
    min_spacing_mm: float
    max_spacing_mm: float

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


@dataclass(frozen=True)
class Plates:
    """Two parallel plates `gap_mm` apart; contact area = plate_length × contact_depth."""

    kind: ClassVar[str] = "plates"
    gap_mm: float
    plate_length_mm: float
    contact_depth_mm: float
    fringing_factor: float

    def to_dict(self) -> dict[str, object]:
        return {"kind": self.kind, **asdict(self)}


@dataclass(frozen=True)
class NeedleRows:
    """Two parallel rows of needles `row_spacing_mm` apart, each row one pole."""

    kind: ClassVar[str] = "needle-rows"
    needles_per_row: int
    row_spacing_mm: float
    needle_pitch_mm: float
    needle_diameter_mm: float
    active_length_mm: float
    cell_constant_per_m: float  # of the whole array at cell_constant_length_mm
    cell_constant_length_mm: float

    def to_dict(self) -> dict[str, object]:
        return {"kind": self.kind, **asdict(self)}


@dataclass(frozen=True)
class Hexagonal:
    """A centre needle and six on a regular hexagon, neighbours `neighbour_spacing_mm` apart."""

    kind: ClassVar[str] = "hexagonal"
    neighbour_spacing_mm: float
    needle_diameter_mm: float
    active_length_mm: float

    def to_dict(self) -> dict[str, object]:
        return {"kind": self.kind, **asdict(self)}


@dataclass(frozen=True)
class NeedleArray:
    """Single needles placed by the operator; coordinates come from a needles file."""

    kind: ClassVar[str] = "needles"
    min_needles: int
    max_needles: int

    def to_dict(self) -> dict[str, object]:
        return {"kind": self.kind, **asdict(self)}


ElectrodeGeometry = Plates | NeedleRows | Hexagonal | NeedleArray
KINDS = ("plates", "needle-rows", "hexagonal", "needles")


def read_limits(reader: TableReader, field_v_per_cm: float) -> Limits:
    """The `[limits]` table. max_spacing_mm defaults to v_max_v / field (ect-reference §2)."""
    v_max = reader.number("v_max_v", "V", 0.0, 10_000.0, above=True)
    min_spacing = reader.number("min_spacing_mm", "mm", 0.0, 100.0, 2.0, above=True)
    reachable_mm = v_max / field_v_per_cm * 10.0
    max_spacing = reader.number(
        "max_spacing_mm", "mm", 0.0, 1000.0, round(reachable_mm, 6), above=True
    )
    reader.finish("in [limits]")
    if max_spacing > reachable_mm + 1e-9:
        raise reader.error(
            "max_spacing_mm",
            f"{fmt(max_spacing)} mm would need {fmt(round(max_spacing * field_v_per_cm / 10.0))} V "
            f"at {fmt(field_v_per_cm)} V/cm, above v_max_v ({fmt(v_max)} V); "
            f"accepted up to {fmt(round(reachable_mm, 3))} mm",
        )
    if min_spacing >= max_spacing:
        raise reader.error(
            "min_spacing_mm",
            f"{fmt(min_spacing)} mm is not below max_spacing_mm ({fmt(max_spacing)} mm)",
        )
    return Limits(v_max, min_spacing, max_spacing)


def read_electrode(
    reader: TableReader, limits: Limits, gap_override_mm: float | None = None
) -> ElectrodeGeometry:
    """The `[electrode]` table; `gap_override_mm` replaces a plate electrode's gap."""
    kind = reader.text("kind", choices=KINDS)
    if gap_override_mm is not None and kind != "plates":
        raise reader.error(
            "kind", f"a gap override applies to plate electrodes only; this electrode is '{kind}'"
        )
    geometry: ElectrodeGeometry
    if kind == "plates":
        geometry = _read_plates(reader, limits, gap_override_mm)
    elif kind == "needle-rows":
        geometry = _read_rows(reader, limits)
    elif kind == "hexagonal":
        geometry = _read_hexagonal(reader, limits)
    else:
        low = reader.integer("min_needles", 2, 64, 2)
        high = reader.integer("max_needles", 2, 64, 6)
        if high < low:
            raise reader.error("max_needles", f"{high} is below min_needles ({low})")
        geometry = NeedleArray(low, high)
    reader.finish(f"for electrode kind '{kind}'")
    return geometry


def _spacing(
    reader: TableReader, key: str, limits: Limits, requested: float | None = None
) -> float:
    """A spacing from the file, or `requested` (an override of it), within the limits."""
    value = reader.number(key, "mm", 0.0, 1000.0, above=True) if requested is None else requested
    if not limits.min_spacing_mm <= value <= limits.max_spacing_mm:
        told = "requested " if requested is not None else ""
        raise reader.error(
            key,
            f"{told}{fmt(value)} mm is out of range: accepted {fmt(limits.min_spacing_mm)} "
            f"to {fmt(limits.max_spacing_mm)} mm (from [limits])",
        )
    return value


def _read_plates(reader: TableReader, limits: Limits, gap_override_mm: float | None) -> Plates:
    gap = _spacing(reader, "gap_mm", limits)
    if gap_override_mm is not None:
        gap = _spacing(reader, "gap_mm", limits, gap_override_mm)
    return Plates(
        gap_mm=gap,
        plate_length_mm=reader.number("plate_length_mm", "mm", 1.0, 100.0),
        contact_depth_mm=reader.number("contact_depth_mm", "mm", 0.5, 100.0),
        fringing_factor=reader.number("fringing_factor", "", 0.3, 1.0, 0.75),
    )


def _needle_size(reader: TableReader) -> tuple[float, float]:
    return (
        reader.number("needle_diameter_mm", "mm", *NEEDLE_DIAMETER_MM),
        reader.number("active_length_mm", "mm", *ACTIVE_LENGTH_MM),
    )


def _read_rows(reader: TableReader, limits: Limits) -> NeedleRows:
    count = reader.integer("needles_per_row", 1, 32)
    spacing = _spacing(reader, "row_spacing_mm", limits)
    pitch = reader.number("needle_pitch_mm", "mm", 0.0, 100.0, above=True)
    diameter, length = _needle_size(reader)
    if diameter >= spacing:
        raise reader.error(
            "needle_diameter_mm",
            f"{fmt(diameter)} mm needles would touch across a {fmt(spacing)} mm row spacing",
        )
    return NeedleRows(
        needles_per_row=count,
        row_spacing_mm=spacing,
        needle_pitch_mm=pitch,
        needle_diameter_mm=diameter,
        active_length_mm=length,
        cell_constant_per_m=reader.number("cell_constant_per_m", "m⁻¹", 1.0, 10_000.0),
        cell_constant_length_mm=reader.number("cell_constant_length_mm", "mm", *ACTIVE_LENGTH_MM),
    )


def _read_hexagonal(reader: TableReader, limits: Limits) -> Hexagonal:
    spacing = _spacing(reader, "neighbour_spacing_mm", limits)
    diameter, length = _needle_size(reader)
    if diameter >= spacing:
        raise reader.error(
            "needle_diameter_mm",
            f"{fmt(diameter)} mm needles would touch at {fmt(spacing)} mm spacing",
        )
    return Hexagonal(spacing, diameter, length)
