"""Cell constants K (m⁻¹): the geometry part of R = K/σ (simulator-model §1, ect-reference §6).

Choices, all estimates to calibrate on measured currents:
- needle pair: the exact result for two parallel cylinders in an infinite medium,
  K = arccosh((D² − a² − b²) / (2ab)) / (2πL) with radii a, b; for equal diameters d
  this is the familiar arccosh(D/d)/(πL). End effects (L ≲ D) lower R by 10-30 %.
- plates: K = f·g/A, a parallel-plate capacitor with a fringing factor f (0.6-0.9)
  because field lines bulge past the plate edges; intact skin adds series
  resistance that this ignores, so the first pulse on skin draws less.
- two rows of needles (the linear array, driven row against row): no closed form; we
  take the published range K ≈ 40-60 m⁻¹ at 10 mm insertion, scaled as 1/L, and let
  the protocol name the reference value (50 m⁻¹ at 10 mm in the ESOPE preset).
"""

from __future__ import annotations

import math


def needle_pair(
    distance_mm: float, diameter_a_mm: float, diameter_b_mm: float, length_mm: float
) -> float:
    """K of two parallel needles `distance_mm` apart (centre to centre) over `length_mm`."""
    a = diameter_a_mm / 2.0
    b = diameter_b_mm / 2.0
    if distance_mm <= a + b:
        raise ValueError(f"needles {distance_mm:g} mm apart touch (radii {a:g} + {b:g} mm)")
    if length_mm <= 0:
        raise ValueError("active length must be positive")
    ratio = (distance_mm**2 - a**2 - b**2) / (2.0 * a * b)
    return math.acosh(ratio) / (2.0 * math.pi * length_mm * 1e-3)


def plates(gap_mm: float, area_mm2: float, fringing_factor: float) -> float:
    """K of two parallel plates `gap_mm` apart with `area_mm2` in contact."""
    if gap_mm <= 0 or area_mm2 <= 0 or fringing_factor <= 0:
        raise ValueError("gap, area and fringing factor must be positive")
    return fringing_factor * (gap_mm * 1e-3) / (area_mm2 * 1e-6)


def needle_rows(k_ref_per_m: float, ref_length_mm: float, length_mm: float) -> float:
    """K of a two-row array at insertion `length_mm`, scaled from a reference value as 1/L."""
    if k_ref_per_m <= 0 or ref_length_mm <= 0 or length_mm <= 0:
        raise ValueError("cell constant and lengths must be positive")
    return k_ref_per_m * ref_length_mm / length_mm
