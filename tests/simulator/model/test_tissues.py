from __future__ import annotations

import numpy as np
import pytest

from simulator.model import TISSUES, Tissue, tissue

SPEC_NAMES = {
    "tumour",
    "liver",
    "muscle",
    "skin",
    "cortical-bone",
    "red-marrow",
    "yellow-marrow",
}


def test_all_tissues_of_the_table_are_there_and_read_only() -> None:
    assert set(TISSUES) == SPEC_NAMES
    with pytest.raises(TypeError):
        TISSUES["fat"] = TISSUES["liver"]  # type: ignore[index]


def test_unknown_tissue_lists_the_known_ones() -> None:
    with pytest.raises(ValueError) as err:
        tissue("brain")
    message = str(err.value)
    assert "'brain'" in message
    for name in SPEC_NAMES:
        assert name in message


@pytest.mark.parametrize("name", sorted(SPEC_NAMES - {"cortical-bone"}))
def test_activation_is_ten_and_ninety_percent_at_the_thresholds(name: str) -> None:
    t = tissue(name)
    assert t.e_rev_v_per_cm is not None and t.e_irr_v_per_cm is not None
    # Eq. 4 puts 10 % and 90 % at the thresholds; S(0) = 0 moves them by at most 2.5 %.
    assert t.activation(t.e_rev_v_per_cm) == pytest.approx(0.10, abs=0.025)
    assert t.activation(t.e_irr_v_per_cm) == pytest.approx(0.90, abs=0.005)
    mid = 0.5 * (t.e_rev_v_per_cm + t.e_irr_v_per_cm)
    assert t.activation(mid) == pytest.approx(0.5, abs=0.015)
    assert t.activation(0.0) == pytest.approx(0.0, abs=1e-12)
    assert t.activation(10 * t.e_irr_v_per_cm) > 0.999
    fields = np.linspace(0.0, 3 * t.e_irr_v_per_cm, 200)
    assert np.all(np.diff(t.activation_array(fields)) > 0)


def test_tumour_thresholds_are_those_of_eq_4() -> None:
    # Tumour's thresholds sit far enough from zero that the rescaling is invisible.
    t = tissue("tumour")
    assert t.activation(400.0) == pytest.approx(0.10, abs=2e-3)
    assert t.activation(800.0) == pytest.approx(0.90, abs=1e-3)


def test_cortical_bone_does_not_electroporate() -> None:
    bone = tissue("cortical-bone")
    assert not bone.electroporates
    assert bone.activation(3000.0) == 0.0
    assert bone.sigma1_s_per_m == bone.sigma0_s_per_m


def test_tumour_conductivity_rises_from_about_0_3_to_0_75() -> None:
    # simulator-model §3.2 and the go-smart IRE model: 0.2 -> 0.7, tumour defaults 0.30 -> 0.75.
    t = tissue("tumour")
    assert 0.2 <= t.sigma0_s_per_m <= 0.4
    assert 0.5 <= t.sigma1_s_per_m <= 1.0


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"sigma0_s_per_m": 0.0}, "sigma0_s_per_m"),
        ({"sigma1_s_per_m": 0.1}, "sigma1_s_per_m"),
        ({"e_irr_v_per_cm": None}, "e_rev_v_per_cm"),
        ({"e_rev_v_per_cm": 900.0}, "e_rev_v_per_cm < e_irr_v_per_cm"),
    ],
)
def test_bad_tissue_names_the_field(kwargs: dict[str, object], field: str) -> None:
    base: dict[str, object] = {
        "name": "test",
        "sigma0_s_per_m": 0.3,
        "sigma1_s_per_m": 0.6,
        "sigma_hf_s_per_m": 0.7,
        "e_rev_v_per_cm": 400.0,
        "e_irr_v_per_cm": 800.0,
    }
    base.update(kwargs)
    with pytest.raises(ValueError, match=field):
        Tissue(**base)  # type: ignore[arg-type]
