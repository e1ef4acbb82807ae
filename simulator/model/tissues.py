"""Tissue electrical properties: conductivity before and after electroporation.

Values from simulator-model §3.2 (S/m, thresholds in V/cm). The activation
S(E) is the logistic of eq. 4 (10 % at E_rev, 90 % at E_irr), rescaled so
that S(0) = 0.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
import numpy.typing as npt

from simulator.model.validation import require_positive

# ln 9 makes the logistic pass 10 % and 90 % one threshold gap apart.
_LN9 = math.log(9.0)


@dataclass(frozen=True)
class Tissue:
    """Conductivity of one tissue and how it responds to a pulsed field.

    `e_rev_v_per_cm` and `e_irr_v_per_cm` are both None for a tissue whose
    conductivity does not rise (cortical bone): its activation is zero.
    """

    name: str
    sigma0_s_per_m: float  # intact, low-frequency conductivity
    sigma1_s_per_m: float  # fully electroporated
    sigma_hf_s_per_m: float  # high-frequency (membranes shorted): sets the edge spike
    e_rev_v_per_cm: float | None
    e_irr_v_per_cm: float | None
    alpha_per_k: float = 0.02  # conductivity temperature coefficient
    rho_c_j_per_m3_k: float = 3.6e6  # volumetric heat capacity

    def __post_init__(self) -> None:
        require_positive(
            f"tissue {self.name!r}",
            sigma0_s_per_m=self.sigma0_s_per_m,
            sigma1_s_per_m=self.sigma1_s_per_m,
            sigma_hf_s_per_m=self.sigma_hf_s_per_m,
            rho_c_j_per_m3_k=self.rho_c_j_per_m3_k,
        )
        if self.sigma1_s_per_m < self.sigma0_s_per_m:
            raise ValueError(
                f"tissue {self.name!r}: sigma1_s_per_m ({self.sigma1_s_per_m}) must be "
                f">= sigma0_s_per_m ({self.sigma0_s_per_m})"
            )
        if (self.e_rev_v_per_cm is None) != (self.e_irr_v_per_cm is None):
            raise ValueError(
                f"tissue {self.name!r}: give both e_rev_v_per_cm and e_irr_v_per_cm, or neither"
            )
        if (
            self.e_rev_v_per_cm is not None
            and self.e_irr_v_per_cm is not None
            and not 0 < self.e_rev_v_per_cm < self.e_irr_v_per_cm
        ):
            raise ValueError(
                f"tissue {self.name!r}: need 0 < e_rev_v_per_cm < e_irr_v_per_cm, got "
                f"{self.e_rev_v_per_cm} and {self.e_irr_v_per_cm}"
            )

    @property
    def electroporates(self) -> bool:
        """True when the conductivity rises with the field."""
        return self.e_rev_v_per_cm is not None

    def activation(self, e_v_per_cm: float) -> float:
        """S(E) of eq. 4, in 0..1; 0 for a tissue that does not electroporate."""
        return float(self.activation_array(np.asarray(e_v_per_cm, dtype=np.float64)))

    def activation_array(self, e_v_per_cm: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """S(E) for an array of fields (V/cm)."""
        if self.e_rev_v_per_cm is None or self.e_irr_v_per_cm is None:
            return np.zeros_like(e_v_per_cm, dtype=np.float64)
        centre = 0.5 * (self.e_rev_v_per_cm + self.e_irr_v_per_cm)
        slope = 2.0 * _LN9 / (self.e_irr_v_per_cm - self.e_rev_v_per_cm)
        # The plain logistic is not zero at E = 0 (2.5 % for thresholds as low as fat's);
        # rescaling it from there keeps intact tissue intact and moves the 10/90 % points
        # by less than that.
        at_zero = 1.0 / (1.0 + math.exp(slope * centre))
        # exp overflows harmlessly to inf (S -> 0) far below threshold; silence that.
        with np.errstate(over="ignore"):
            plain = 1.0 / (1.0 + np.exp(-slope * (np.abs(e_v_per_cm) - centre)))
        result: npt.NDArray[np.float64] = (plain - at_zero) / (1.0 - at_zero)
        return result


TISSUES: Mapping[str, Tissue] = MappingProxyType(
    {
        t.name: t
        for t in (
            Tissue("tumour", 0.30, 0.75, 0.80, 400.0, 800.0, alpha_per_k=0.02),
            Tissue("liver", 0.08, 0.32, 0.35, 350.0, 700.0, alpha_per_k=0.012),
            Tissue("muscle", 0.12, 0.30, 0.35, 200.0, 450.0, alpha_per_k=0.02),
            Tissue("skin", 0.001, 0.3, 0.3, 400.0, 800.0, alpha_per_k=0.02),
            Tissue("cortical-bone", 0.02, 0.02, 0.02, None, None, alpha_per_k=0.02),
            Tissue("red-marrow", 0.07, 0.15, 0.2, 400.0, 800.0, alpha_per_k=0.02),
            Tissue("yellow-marrow", 0.01, 0.02, 0.02, 100.0, 400.0, alpha_per_k=0.02),
        )
    }
)


def tissue(name: str) -> Tissue:
    """The built-in tissue called `name`; ValueError lists the known names."""
    try:
        return TISSUES[name]
    except KeyError:
        raise ValueError(f"unknown tissue {name!r}; known tissues: {', '.join(TISSUES)}") from None
