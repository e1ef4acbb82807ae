from __future__ import annotations

import pytest

from simulator.model import DEFAULT_PAIRS, ModelConfig, Pair, needle_pair_cell_constant


@pytest.mark.parametrize(
    ("d_mm", "D_mm", "L_mm", "sigma", "r_ohm"),
    [
        # Worked values of ect-reference §6 (R at σ0).
        (0.7, 4.0, 10.0, 0.3, 258.0),
        (0.7, 7.3, 10.0, 0.2, 483.0),
        (1.2, 20.0, 30.0, 0.2, 186.0),
        (1.2, 25.0, 30.0, 0.3, 132.0),
    ],
)
def test_needle_pair_matches_the_reference_table(
    d_mm: float, D_mm: float, L_mm: float, sigma: float, r_ohm: float
) -> None:
    k = needle_pair_cell_constant(D_mm * 1e-3, d_mm * 1e-3, L_mm * 1e-3)
    assert k / sigma == pytest.approx(r_ohm, rel=0.01)


@pytest.mark.parametrize(
    ("args", "text"),
    [
        ((4e-3, 0.0, 10e-3), "diameter"),
        ((4e-3, 0.7e-3, 0.0), "active length"),
        ((0.5e-3, 0.7e-3, 10e-3), "must exceed the needle diameter"),
    ],
)
def test_impossible_needles_are_refused(args: tuple[float, float, float], text: str) -> None:
    with pytest.raises(ValueError, match=text):
        needle_pair_cell_constant(*args)


def test_default_pair_is_two_needle_rows_4_mm_apart() -> None:
    (key, pair), *rest = DEFAULT_PAIRS.items()
    assert key == (0, 1) and not rest
    assert 40.0 <= pair.cell_constant_per_m <= 60.0  # simulator-model §1
    assert pair.distance_m == pytest.approx(4e-3)
    assert ModelConfig().pairs[(0, 1)] == pair


def test_pair_and_config_refuse_nonsense() -> None:
    with pytest.raises(ValueError, match="cell_constant_per_m"):
        Pair(0.0, 4e-3)
    with pytest.raises(ValueError, match=r"pair \(1, 1\)"):
        ModelConfig(pairs={(1, 1): Pair(50.0, 4e-3)})
    with pytest.raises(ValueError, match="fs_hz"):
        ModelConfig(fs_hz=0.0)
