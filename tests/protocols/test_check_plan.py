"""check_plan: a plan against a generator's limits."""

from __future__ import annotations

import pytest

from protocols import Plan, check_plan, load_needles, load_protocol, make_plan


@pytest.fixture
def long_plan() -> Plan:
    # Example needles: 15 mm sides (1500 V) and 21.2 mm diagonals (2121 V, ≈28 A predicted).
    return make_plan(load_protocol("long-needles"), load_needles("example-4-needles"))


def test_within_the_default_device_caps_nothing_is_reported(long_plan: Plan) -> None:
    assert check_plan(long_plan, 3000.0, 50.0) == []


def test_voltage_above_the_generator_limit_names_each_train(long_plan: Plan) -> None:
    problems = check_plan(long_plan, 2000.0, 50.0)
    diagonals = [t for t in long_plan.trains if t.voltage_v > 2000.0]
    assert [p.train for p in problems] == [t.index for t in diagonals]
    assert all(p.blocking and p.code == "voltage-above-generator" for p in problems)
    assert {p.pair for p in problems} == {("A", "C"), ("B", "D")}
    assert "2121 V" in problems[0].message and "2000 V" in problems[0].message


def test_predicted_current_above_the_generator_limit(long_plan: Plan) -> None:
    highest = max(t.predicted_current_a_max for t in long_plan.trains)
    problems = check_plan(long_plan, 3000.0, highest - 1.0)
    refused = [p for p in problems if p.blocking]
    over = [t.index for t in long_plan.trains if t.predicted_current_a_max > highest - 1.0]
    assert [p.train for p in refused] == over
    assert all(p.code == "current-above-generator" for p in refused)
    # The others are close to the lowered limit: warned, not refused.
    assert all(p.code == "current-margin" for p in problems if not p.blocking)


def test_margin_warning_when_the_generator_limit_is_the_lower_one(long_plan: Plan) -> None:
    highest = max(t.predicted_current_a_max for t in long_plan.trains)
    problems = check_plan(long_plan, 3000.0, highest / 0.9)  # at 90 % of the limit
    assert problems
    assert all(p.code == "current-margin" and not p.blocking for p in problems)


def test_rate_count_and_ecg_limits() -> None:
    plan = make_plan(load_protocol("long-needles"), load_needles("example-4-needles"))
    codes = {p.code for p in check_plan(plan, 3000, 50, max_rate_hz=1000)}
    assert codes == {"rate-above-generator"}
    assert check_plan(plan, 3000, 50, max_rate_hz=5000) == []
    assert {p.code for p in check_plan(plan, 3000, 50, max_count=4)} == {"count-above-generator"}
    (ecg,) = check_plan(plan, 3000, 50, ecg_gate=False)
    assert ecg.code == "no-ecg-gate" and ecg.blocking
    rows = make_plan(load_protocol("esope-needle-rows"))
    assert check_plan(rows, 3000, 50, ecg_gate=False) == []


def test_limits_must_be_positive() -> None:
    plan = make_plan(load_protocol("esope-needle-rows"))
    with pytest.raises(ValueError):
        check_plan(plan, 0.0, 50.0)
    with pytest.raises(ValueError):
        check_plan(plan, 3000.0, float("nan"))


def test_problem_to_dict_shape() -> None:
    plan = make_plan(load_protocol("esope-plates"))
    (problem,) = check_plan(plan, 500.0, 50.0)
    assert problem.to_dict() == {
        "code": "voltage-above-generator",
        "level": "refuse",
        "message": problem.message,
        "train": 1,
        "pair": ["plate A", "plate B"],
    }
