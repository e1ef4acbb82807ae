"""Every bundled preset at both of its rates, delivered in full on the simulated rig.

A healthy session must complete with every pulse judged ok or warn (never
stop or unmeasured), the journal must verify, and the generator must have
delivered exactly the planned trains to the planned pairs. 1 Hz trains run
with a compressed pace (the bench's time scale); the safety timers do not.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from _pytest.mark import ParameterSet
from sim_session import assert_consistent, drug_given, plan_for, run_simulated

from protocols import list_presets
from pulsehost.journal import open_session

pytestmark = pytest.mark.timeout(90)

NEEDLES = "example-4-needles"
RATES = (5000.0, 1.0)
SLOW = {("esope-hexagonal", 1.0), ("long-needles", 1.0)}  # 96 and 48 pulses at 1 Hz


def matrix() -> list[ParameterSet]:
    cases: list[ParameterSet] = []
    for preset in list_presets():
        for rate in RATES:
            marks = [pytest.mark.slow] if (preset, rate) in SLOW else []
            cases.append(pytest.param(preset, rate, marks=marks, id=f"{preset}-{rate:g}Hz"))
    return cases


def test_the_matrix_covers_every_preset() -> None:
    assert {"esope-plates", "esope-needle-rows", "esope-hexagonal", "long-needles"} <= set(
        list_presets()
    )


@pytest.mark.parametrize(("preset", "rate_hz"), matrix())
def test_preset_completes(preset: str, rate_hz: float, tmp_path: Path) -> None:
    gated = preset == "long-needles"
    plan = plan_for(preset, rate_hz=rate_hz, needles=NEEDLES if gated else None)
    assert plan.ecg.gated is gated
    options = {"drug": drug_given(12.0)} if plan.drug is not None else {}
    ran = run_simulated(plan, tmp_path, time_scale=50.0, **options)

    out = ran.outcome
    assert (out.outcome, out.stop_reason) == ("completed", None), out.message
    assert out.pulses_delivered == out.pulses_planned == plan.total_pulses
    assert set(ran.verdicts()) <= {"ok", "warn"}, ran.finding_codes()
    assert len(ran.session.pulses) == plan.total_pulses
    assert_consistent(ran)
    assert open_session(tmp_path, out.session_id).integrity.ok

    # Each pulse went to its train's pair, in the plan's order, at the plan's voltage.
    planned = [((t.a, t.b), t.voltage_v) for t in plan.trains for _ in range(t.pulses)]
    journalled = [(tuple(p["pair"]), p["target_v"]) for p in ran.session.pulses]
    assert journalled == planned
    assert [i["rate_hz"] for i in ran.session.intents] == [rate_hz] * len(plan.trains)
    assert len(ran.fired) == len(plan.trains)

    if gated:
        # Every gated train waited for an R wave, and the journal says so.
        triggers = [e for e in ran.journal_events("ecg") if e["ecg_kind"] == "TRIGGER"]
        assert {e["train"] for e in triggers} == {t.index for t in plan.trains}
        assert all(i["ecg_gated"] for i in ran.session.intents)
        [drug] = ran.journal_events("drug")
        assert drug["window"] == "open"
