"""The simulated HV bank: charged on ARM_CONFIRM, dumped through a resistor otherwise."""

from __future__ import annotations

import math

from simulator.firmware.device import Timings


class HvBank:
    """Bank voltage as the firmware's HV monitor reads it.

    Charging follows the nominal clock (the bench may compress it); the dump
    resistor follows the wall clock, because "discharged" is a safety fact a
    test or host must be able to rely on in real time.
    """

    def __init__(self, timings: Timings) -> None:
        self._t = timings
        self._mode = "empty"
        self._v0 = timings.residual_v
        self._target = timings.residual_v
        self._t0 = 0.0
        self._t1 = 0.0

    def charge(self, nominal_now: float, target_v: float, v_max: float) -> float:
        """Start charging; returns the nominal time at which the bank reaches `target_v`."""
        duration = self._t.charge_min_s + (self._t.charge_full_s - self._t.charge_min_s) * min(
            1.0, target_v / v_max
        )
        self._mode = "charging"
        self._v0 = self._t.residual_v
        self._target = target_v
        self._t0 = nominal_now
        self._t1 = nominal_now + duration
        return self._t1

    def hold(self, volts: float) -> None:
        self._mode = "held"
        self._target = volts

    def discharge(self, wall_now: float, nominal_now: float) -> None:
        """Close the dump switch from whatever the bank holds now."""
        if self._mode == "empty":
            return
        self._v0 = self.voltage(wall_now, nominal_now)
        self._t0 = wall_now
        self._mode = "discharging"

    def voltage(self, wall: float, nominal: float) -> float:
        if self._mode == "charging":
            span = self._t1 - self._t0
            frac = 1.0 if span <= 0 else min(1.0, max(0.0, (nominal - self._t0) / span))
            return self._v0 + (self._target - self._v0) * frac
        if self._mode == "held":
            return self._target
        if self._mode == "discharging":
            v = self._v0 * math.exp(-max(0.0, wall - self._t0) / self._t.discharge_tau_s)
            return max(self._t.residual_v, v)
        return self._t.residual_v

    def safe_at(self) -> float | None:
        """Wall-clock time at which a discharging bank falls below the safe threshold."""
        if self._mode != "discharging":
            return None
        if self._v0 <= self._t.safe_v:
            return self._t0
        return self._t0 + self._t.discharge_tau_s * math.log(self._v0 / self._t.safe_v)

    def is_safe(self, wall: float, nominal: float) -> bool:
        return self.voltage(wall, nominal) < self._t.safe_v
