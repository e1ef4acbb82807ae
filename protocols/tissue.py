"""Tissue conductivity assumed for predicting resistance and current.

Values are from the simulator model's tissue table (simulator-model §3.2): σ0 is
the conductivity at the first pulse, σ1 after electroporation. Most are estimates
or unverified; a protocol may override either number.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

from protocols.fields import TableReader, fmt


@dataclass(frozen=True)
class Tissue:
    """Conductivity before (σ0) and after (σ1) electroporation, in S/m."""

    name: str
    sigma0_s_per_m: float
    sigma1_s_per_m: float

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "sigma0_s_per_m": self.sigma0_s_per_m,
            "sigma1_s_per_m": self.sigma1_s_per_m,
        }


# Read-only: σ0 → σ1 per tissue (S/m).
TISSUES: MappingProxyType[str, Tissue] = MappingProxyType(
    {
        t.name: t
        for t in (
            Tissue("tumour", 0.30, 0.75),
            Tissue("liver", 0.08, 0.32),
            Tissue("muscle", 0.12, 0.30),
            Tissue("skin", 0.001, 0.3),
            Tissue("cortical-bone", 0.02, 0.02),
            Tissue("red-marrow", 0.07, 0.15),
            Tissue("yellow-marrow", 0.01, 0.02),
        )
    }
)

DEFAULT_TISSUE = "tumour"


def read_tissue(
    reader: TableReader | None, root: TableReader, override: str | None = None
) -> Tissue:
    """The `[tissue]` block: a named tissue, optionally with σ0/σ1 overrides.

    `override` (a tissue name from code or the command line) replaces the whole
    block; `root` is the file's top level, where an unknown override is reported.
    """
    # The block is read even when overridden, so its mistakes are still reported.
    tissue = _read_block(reader) if reader is not None else TISSUES[DEFAULT_TISSUE]
    if override is None:
        return tissue
    if override not in TISSUES:
        known = ", ".join(TISSUES)
        raise root.error("tissue", f"unknown tissue '{override}' requested; known: {known}")
    return TISSUES[override]


def _read_block(reader: TableReader) -> Tissue:
    name = reader.text("name", DEFAULT_TISSUE, choices=(*TISSUES, "custom"))
    base = TISSUES.get(name)
    if base is None and not (reader.has("sigma0_s_per_m") and reader.has("sigma1_s_per_m")):
        raise reader.error("name", "a 'custom' tissue needs both sigma0_s_per_m and sigma1_s_per_m")
    sigma0 = reader.number(
        "sigma0_s_per_m", "S/m", 0.0, 10.0, base.sigma0_s_per_m if base else None, above=True
    )
    sigma1 = reader.number(
        "sigma1_s_per_m", "S/m", 0.0, 10.0, base.sigma1_s_per_m if base else None, above=True
    )
    reader.finish("in [tissue]")
    if sigma1 < sigma0:
        raise reader.error(
            "sigma1_s_per_m",
            f"{fmt(sigma1)} S/m is below sigma0_s_per_m ({fmt(sigma0)} S/m); "
            "conductivity does not fall with electroporation: accepted sigma1 >= sigma0",
        )
    return Tissue(name, sigma0, sigma1)
