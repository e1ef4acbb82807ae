"""Which electrodes a geometry has, and which pairs of them are driven, in order.

Electrode indices are the generator's HV-switch outputs (`electrode_a/_b` in the
firmware link). For plates and needle rows there are two poles (a plate, a row);
for hexagonal and single needles each needle is one output.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from protocols import cell_constant
from protocols.electrode import (
    ElectrodeGeometry,
    Hexagonal,
    Limits,
    NeedleArray,
    NeedleRows,
    Plates,
)
from protocols.fields import fmt
from protocols.needles import Needle, NeedleSet
from protocols.problems import REFUSE, WARN, Problem


@dataclass(frozen=True)
class Electrode:
    """One switch output; position and size are given for single needles only."""

    index: int
    label: str
    x_mm: float | None = None
    y_mm: float | None = None
    z_mm: float | None = None
    diameter_mm: float | None = None
    active_length_mm: float | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "index": self.index,
            "label": self.label,
            "x_mm": self.x_mm,
            "y_mm": self.y_mm,
            "z_mm": self.z_mm,
            "diameter_mm": self.diameter_mm,
            "active_length_mm": self.active_length_mm,
        }


@dataclass(frozen=True)
class PairGeometry:
    """A driven pair: its outputs, spacing, and the cell constant of the tissue between."""

    a: int
    b: int
    distance_mm: float
    cell_constant_per_m: float


@dataclass(frozen=True)
class Layout:
    electrodes: tuple[Electrode, ...]
    pairs: tuple[PairGeometry, ...]
    problems: tuple[Problem, ...] = ()


def layout(geometry: ElectrodeGeometry, limits: Limits, needles: NeedleSet | None) -> Layout:
    """The electrodes and driven pairs of `geometry` (with `needles` for variable geometry)."""
    if isinstance(geometry, NeedleArray):
        if needles is None:
            raise ValueError("variable geometry needs a needles file")
        return _needle_layout(geometry, limits, needles)
    if needles is not None:
        raise ValueError("a needles file applies to variable geometry only")
    if isinstance(geometry, Plates):
        area = geometry.plate_length_mm * geometry.contact_depth_mm
        k = cell_constant.plates(geometry.gap_mm, area, geometry.fringing_factor)
        return Layout(
            (Electrode(0, "plate A"), Electrode(1, "plate B")),
            (PairGeometry(0, 1, geometry.gap_mm, k),),
        )
    if isinstance(geometry, NeedleRows):
        k = cell_constant.needle_rows(
            geometry.cell_constant_per_m,
            geometry.cell_constant_length_mm,
            geometry.active_length_mm,
        )
        rows = tuple(
            Electrode(
                i,
                f"row {i + 1}",
                diameter_mm=geometry.needle_diameter_mm,
                active_length_mm=geometry.active_length_mm,
            )
            for i in range(2)
        )
        return Layout(rows, (PairGeometry(0, 1, geometry.row_spacing_mm, k),))
    return _hexagonal_layout(geometry)


def _hexagonal_layout(geometry: Hexagonal) -> Layout:
    """Centre "C" (output 0) and vertices "1".."6" (outputs 1-6) counter-clockwise from +x.

    Driven in turn: C–1, 1–2, C–2, 2–3, ... C–6, 6–1: each spoke then the rim edge
    that follows it, so all 12 neighbouring pairs are covered once.
    """
    s = geometry.neighbour_spacing_mm
    d = geometry.needle_diameter_mm
    length = geometry.active_length_mm
    electrodes = [Electrode(0, "C", 0.0, 0.0, 0.0, d, length)]
    for k in range(1, 7):
        angle = math.radians(60.0 * (k - 1))
        electrodes.append(
            Electrode(
                k,
                str(k),
                round(s * math.cos(angle), 6),
                round(s * math.sin(angle), 6),
                0.0,
                d,
                length,
            )
        )
    pairs: list[PairGeometry] = []
    for k in range(1, 7):
        for a, b in ((0, k), (k, k % 6 + 1)):
            distance = round(_distance(electrodes[a], electrodes[b]), 6)
            k_pair = cell_constant.needle_pair(distance, d, d, length)
            pairs.append(PairGeometry(a, b, distance, k_pair))
    return Layout(tuple(electrodes), tuple(pairs))


def _distance(a: Electrode, b: Electrode) -> float:
    assert a.x_mm is not None and a.y_mm is not None and b.x_mm is not None and b.y_mm is not None
    return math.hypot(a.x_mm - b.x_mm, a.y_mm - b.y_mm)


def _needle_layout(geometry: NeedleArray, limits: Limits, needle_set: NeedleSet) -> Layout:
    needles = needle_set.needles
    problems: list[Problem] = []
    if not geometry.min_needles <= len(needles) <= geometry.max_needles:
        problems.append(
            Problem(
                "needle-count",
                REFUSE,
                f"{len(needles)} needles given; this protocol takes {geometry.min_needles} "
                f"to {geometry.max_needles} (electrode.min_needles/max_needles)",
            )
        )
    electrodes = tuple(
        Electrode(i, n.id, n.x_mm, n.y_mm, n.z_mm, n.diameter_mm, n.active_length_mm)
        for i, n in enumerate(needles)
    )
    # Any two needles too close risk a flash-over whether or not they are driven together.
    for i, first in enumerate(needles):
        for second in needles[i + 1 :]:
            spacing = _spacing(first, second)
            touching = spacing <= (first.diameter_mm + second.diameter_mm) / 2
            if spacing < limits.min_spacing_mm or touching:
                why = (
                    f"closer than the {fmt(limits.min_spacing_mm)} mm minimum "
                    "(limits.min_spacing_mm)"
                    if spacing < limits.min_spacing_mm
                    else f"so close that needles of {fmt(first.diameter_mm)} and "
                    f"{fmt(second.diameter_mm)} mm touch"
                )
                problems.append(
                    Problem(
                        "needles-too-close",
                        REFUSE,
                        f"needles {first.id} and {second.id} are {fmt(round(spacing, 2))} mm "
                        f"apart, {why}",
                        pair=(first.id, second.id),
                    )
                )
    if needle_set.pairs is not None:
        wanted = needle_set.pairs
    else:
        wanted = tuple((a.id, b.id) for i, a in enumerate(needles) for b in needles[i + 1 :])
    pairs: list[PairGeometry] = []
    for id_a, id_b in wanted:
        a_index, b_index = needle_set.index_of(id_a), needle_set.index_of(id_b)
        first, second = needles[a_index], needles[b_index]
        spacing = _spacing(first, second)
        overlap = _overlap_mm(first, second)
        if overlap <= 0:
            problems.append(
                Problem(
                    "no-overlap",
                    REFUSE,
                    f"pair {id_a}–{id_b}: the active parts do not overlap in depth "
                    f"(z {fmt(first.z_mm)} mm and {fmt(second.z_mm)} mm); no field between them",
                    pair=(id_a, id_b),
                )
            )
            continue
        if spacing <= (first.diameter_mm + second.diameter_mm) / 2:
            continue  # touching needles are refused above; no cell constant exists
        shorter = min(first.active_length_mm, second.active_length_mm)
        if overlap < shorter - 1e-9:
            problems.append(
                Problem(
                    "partial-overlap",
                    WARN,
                    f"pair {id_a}–{id_b}: active parts overlap over {fmt(round(overlap, 2))} mm "
                    f"of {fmt(shorter)} mm; the prediction uses the overlap",
                    pair=(id_a, id_b),
                )
            )
        k = cell_constant.needle_pair(spacing, first.diameter_mm, second.diameter_mm, overlap)
        pairs.append(PairGeometry(a_index, b_index, spacing, k))
    return Layout(electrodes, tuple(pairs), tuple(problems))


def _spacing(a: Needle, b: Needle) -> float:
    # Needles are parallel along z: their spacing is measured across, in x-y.
    return math.hypot(a.x_mm - b.x_mm, a.y_mm - b.y_mm)


def _overlap_mm(a: Needle, b: Needle) -> float:
    top = min(a.z_mm + a.active_length_mm / 2, b.z_mm + b.active_length_mm / 2)
    bottom = max(a.z_mm - a.active_length_mm / 2, b.z_mm - b.active_length_mm / 2)
    return top - bottom
