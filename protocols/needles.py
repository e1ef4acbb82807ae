"""Needle coordinates files: where each single needle sits, for variable geometry.

    [needles]                      # optional defaults for every needle
    description = "..."
    diameter_mm = 1.2
    active_length_mm = 20.0

    [[needle]]
    id = "A"
    x_mm = 0.0                     # position in the plane across the needles
    y_mm = 0.0
    z_mm = 0.0                     # optional: depth of the centre of the active part
    diameter_mm = 1.2              # optional when given in [needles]
    active_length_mm = 20.0        # optional when given in [needles]

    [[pair]]                       # optional: the pairs to treat, in order
    a = "A"
    b = "B"

The needles are taken as parallel: the distance of a pair is measured in the x-y
plane, and the length that conducts is the overlap of the two active parts in z.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from protocols.bundled import resolve_needles
from protocols.electrode import ACTIVE_LENGTH_MM, NEEDLE_DIAMETER_MM
from protocols.fields import TableReader
from protocols.source import SourceFile, read_toml

COORDINATE_MM = 1000.0  # |x|, |y|, |z| bound: a typo guard, far beyond any body
NEEDLE_ID = r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,15}"


@dataclass(frozen=True)
class Needle:
    """One needle: its id, the position of its active part and its size."""

    id: str
    x_mm: float
    y_mm: float
    z_mm: float
    diameter_mm: float
    active_length_mm: float

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "x_mm": self.x_mm,
            "y_mm": self.y_mm,
            "z_mm": self.z_mm,
            "diameter_mm": self.diameter_mm,
            "active_length_mm": self.active_length_mm,
        }


@dataclass(frozen=True)
class NeedleSet:
    """A needles file as read: the needles, the listed pairs (None: every pair), the text."""

    needles: tuple[Needle, ...]
    pairs: tuple[tuple[str, str], ...] | None
    description: str
    source: SourceFile

    def index_of(self, needle_id: str) -> int:
        for index, needle in enumerate(self.needles):
            if needle.id == needle_id:
                return index
        raise KeyError(needle_id)

    def line_of_needle(self, needle_id: str) -> int | None:
        """Line of the `[[needle]]` block with this id, for messages."""
        return self.source.line_of(f"needle[{self.index_of(needle_id) + 1}]")


def load_needles(id_or_path: str | Path) -> NeedleSet:
    """Read and validate a needles file (a path, or the name of a bundled example)."""
    path, display = resolve_needles(id_or_path)
    source, data = read_toml(path, display)
    root = TableReader(source, "", data)
    defaults = root.optional_table("needles")
    description = ""
    default_diameter = default_length = None
    if defaults is not None:
        description = defaults.text("description", "")
        default_diameter = defaults.optional_number("diameter_mm", "mm", *NEEDLE_DIAMETER_MM)
        default_length = defaults.optional_number("active_length_mm", "mm", *ACTIVE_LENGTH_MM)
        defaults.finish("in [needles]")

    needles: list[Needle] = []
    for block in root.tables("needle", min_items=2):
        needle_id = block.text(
            "id", pattern=NEEDLE_ID, meaning="an id of 1-16 letters, digits, '_', '.' or '-'"
        )
        if any(n.id == needle_id for n in needles):
            raise block.error("id", f"needle id '{needle_id}' is used twice; ids must be unique")
        needles.append(
            Needle(
                id=needle_id,
                x_mm=block.number("x_mm", "mm", -COORDINATE_MM, COORDINATE_MM),
                y_mm=block.number("y_mm", "mm", -COORDINATE_MM, COORDINATE_MM),
                z_mm=block.number("z_mm", "mm", -COORDINATE_MM, COORDINATE_MM, 0.0),
                diameter_mm=_with_default(
                    block, "diameter_mm", NEEDLE_DIAMETER_MM, default_diameter
                ),
                active_length_mm=_with_default(
                    block, "active_length_mm", ACTIVE_LENGTH_MM, default_length
                ),
            )
        )
        block.finish("in [[needle]]")

    ids = [n.id for n in needles]
    pairs: list[tuple[str, str]] = []
    for block in root.tables("pair"):
        a = block.text("a", choices=ids)
        b = block.text("b", choices=ids)
        block.finish("in [[pair]]")
        if a == b:
            raise block.error("b", f"a pair needs two different needles, got '{a}' twice")
        if (a, b) in pairs or (b, a) in pairs:
            raise block.error("b", f"pair {a}–{b} is listed twice")
        pairs.append((a, b))
    root.finish("at the top level of a needles file")
    return NeedleSet(tuple(needles), tuple(pairs) if pairs else None, description, source)


def _with_default(
    block: TableReader, key: str, bounds: tuple[float, float], default: float | None
) -> float:
    if default is None and not block.has(key):
        raise block.error(
            key, "missing required field: give it here or once in the [needles] table"
        )
    return block.number(key, "mm", *bounds, default)
