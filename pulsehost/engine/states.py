"""Session states and the only transitions allowed between them."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from types import MappingProxyType


class State(enum.Enum):
    IDLE = "IDLE"
    PREFLIGHT = "PREFLIGHT"
    READY = "READY"
    ARMED = "ARMED"
    FIRING = "FIRING"
    DONE = "DONE"
    ABORTED = "ABORTED"
    FAULT = "FAULT"

    @property
    def final(self) -> bool:
        return self in (State.DONE, State.ABORTED, State.FAULT)


_ALWAYS = frozenset({State.ABORTED, State.FAULT})

TRANSITIONS: Mapping[State, frozenset[State]] = MappingProxyType(
    {
        State.IDLE: frozenset({State.PREFLIGHT}) | _ALWAYS,
        State.PREFLIGHT: frozenset({State.READY}) | _ALWAYS,
        State.READY: frozenset({State.ARMED, State.DONE}) | _ALWAYS,
        State.ARMED: frozenset({State.FIRING}) | _ALWAYS,
        State.FIRING: frozenset({State.READY, State.DONE}) | _ALWAYS,
        State.DONE: frozenset(),
        State.ABORTED: frozenset(),
        State.FAULT: frozenset(),
    }
)


class IllegalTransition(RuntimeError):
    """The engine tried a step its state does not allow: a programming error, never ignored."""


def check_transition(current: State, new: State) -> None:
    if new not in TRANSITIONS[current]:
        allowed = ", ".join(s.value for s in sorted(TRANSITIONS[current], key=lambda s: s.value))
        raise IllegalTransition(
            f"{current.value} -> {new.value} is not allowed "
            f"(from {current.value}: {allowed or 'none'})"
        )
