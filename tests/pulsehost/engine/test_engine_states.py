"""The state table: what may follow what, and that nothing else may."""

from __future__ import annotations

import itertools

import pytest

from pulsehost.engine.states import TRANSITIONS, IllegalTransition, State, check_transition

# The walk of a session (docs/architecture.md), with the two ways out of every live state.
LEGAL = {
    (State.IDLE, State.PREFLIGHT),
    (State.PREFLIGHT, State.READY),
    (State.READY, State.ARMED),
    (State.READY, State.DONE),
    (State.ARMED, State.FIRING),
    (State.FIRING, State.READY),
    (State.FIRING, State.DONE),
} | {
    (live, out)
    for live in (State.IDLE, State.PREFLIGHT, State.READY, State.ARMED, State.FIRING)
    for out in (State.ABORTED, State.FAULT)
}


@pytest.mark.parametrize(
    ("current", "new"), list(itertools.product(State, State)), ids=lambda s: s.value
)
def test_only_the_table_is_allowed(current: State, new: State) -> None:
    if (current, new) in LEGAL:
        check_transition(current, new)
    else:
        with pytest.raises(IllegalTransition, match=f"{current.value} -> {new.value}"):
            check_transition(current, new)


def test_final_states_lead_nowhere() -> None:
    assert {s for s in State if s.final} == {State.DONE, State.ABORTED, State.FAULT}
    for state in State:
        assert (not TRANSITIONS[state]) == state.final


def test_firing_needs_arming_first() -> None:
    # Two-step: nothing reaches FIRING except from ARMED.
    assert [s for s in State if State.FIRING in TRANSITIONS[s]] == [State.ARMED]
