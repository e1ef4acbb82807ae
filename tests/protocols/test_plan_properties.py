"""Properties of planning over random needle placements."""

from __future__ import annotations

import hashlib
import math

from hypothesis import given, settings
from hypothesis import strategies as st

from protocols import Needle, NeedleSet, PlanRefused, SourceFile, load_protocol, make_plan

LONG_NEEDLES = load_protocol("long-needles")
coordinate = st.floats(min_value=-40.0, max_value=40.0, allow_nan=False)


def _needle_set(points: list[tuple[float, float]]) -> NeedleSet:
    source = SourceFile("<generated>", "", hashlib.sha256(b"").hexdigest())
    needles = tuple(Needle(f"N{i}", x, y, 0.0, 1.2, 20.0) for i, (x, y) in enumerate(points))
    return NeedleSet(needles, None, "", source)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(coordinate, coordinate), min_size=2, max_size=5))
def test_voltage_is_never_lowered_to_fit(points: list[tuple[float, float]]) -> None:
    distances = {
        (f"N{i}", f"N{j}"): math.dist(points[i], points[j])
        for i in range(len(points))
        for j in range(i + 1, len(points))
    }
    try:
        plan = make_plan(LONG_NEEDLES, _needle_set(points))
    except PlanRefused as refused:
        # Refused only for a reason the geometry really has, and it names the pair.
        for problem in refused.problems:
            assert problem.pair is not None
            d = distances[problem.pair]
            assert {
                "pair-too-far": d > 30.0,
                "needles-too-close": d < 2.0,
                "current-above-limit": True,
            }[problem.code]
        return
    for train in plan.trains:
        d = distances[(train.a_label, train.b_label)]
        assert 2.0 <= d <= 30.0
        assert abs(train.voltage_v - 100.0 * d) <= 0.5
        assert train.predicted_current_a_min <= train.predicted_current_a_max <= 50.0
    assert len(plan.trains) == len(distances)
