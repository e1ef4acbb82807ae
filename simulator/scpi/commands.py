"""Declarative command tables: each entry names its header pattern and what it does.

An instrument lists its commands as data (`setting`, `action`, `query`), the
way a programming guide lists them, and the table resolves typed headers to
entries. No if-chains over header text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from simulator.scpi.error_queue import ScpiError
from simulator.scpi.headers import Node, Token, compile_pattern, match_nodes, suffix_ranges
from simulator.scpi.parameters import Choice, Flag, Number

Response = str | bytes
Param = Number | Flag | Choice
# Typed header variants seen in practice are few; the bound only stops a
# misbehaving client from growing the cache without end.
_CACHE_LIMIT = 4096


@dataclass(frozen=True)
class Call:
    """One program message unit as a command handler sees it."""

    header: str  # as typed, for error details
    suffixes: tuple[int, ...]  # numeric suffixes of the pattern's suffixed nodes
    params: tuple[str, ...]

    def suffix(self, index: int = 0) -> int:
        return self.suffixes[index]

    def only(self) -> str:
        """The single parameter; -109 when missing, -108 when there are more."""
        if not self.params:
            raise ScpiError(-109, f"{self.header} needs a value")
        if len(self.params) > 1:
            raise ScpiError(-108, f"{self.header} takes one value, got {len(self.params)}")
        return self.params[0]

    def no_params(self) -> None:
        if self.params:
            raise ScpiError(-108, f"{self.header} takes no parameter")


@dataclass(frozen=True)
class Command:
    """A header pattern with its set form, its query form, or both."""

    pattern: str
    write: Callable[[Call], None] | None = None
    query: Callable[[Call], Response] | None = None


def setting(
    pattern: str,
    param: Param,
    get: Callable[[Call], Any],
    put: Callable[[Call, Any], None] | None = None,
) -> Command:
    """A value held by the instrument: `HEADER value` sets it, `HEADER?` reads it.

    Numeric settings also answer `HEADER? MIN` and `HEADER? MAX`.
    """

    def write(call: Call) -> None:
        assert put is not None
        put(call, param.parse(call.only(), call))

    def read(call: Call) -> Response:
        if not call.params:
            return param.format(get(call))
        limit = param.bound(call.only(), call) if isinstance(param, Number) else None
        if limit is None or not isinstance(param, Number):
            raise ScpiError(-108, f"{call.header}? accepts only MIN or MAX")
        return param.format(limit)

    return Command(pattern, write if put is not None else None, read)


def action(pattern: str, run: Callable[[], None]) -> Command:
    """A command without parameters (`:RUN`, `:STOP`, `OUTP:TRIG` is a setting)."""

    def write(call: Call) -> None:
        call.no_params()
        run()

    return Command(pattern, write=write)


def query(pattern: str, answer: Callable[[Call], Response]) -> Command:
    """A query-only command (`:WAV:PRE?`, `:AER?`)."""
    return Command(pattern, query=answer)


@dataclass(frozen=True)
class _Entry:
    command: Command
    nodes: tuple[Node, ...]
    ranges: tuple[tuple[int, int], ...]


class CommandTable:
    """Resolves typed headers to commands; remembers resolutions it has made."""

    def __init__(self, commands: Iterable[Command]) -> None:
        self._entries = tuple(
            _Entry(c, nodes, suffix_ranges(nodes))
            for c in commands
            for nodes in (compile_pattern(c.pattern),)
        )
        self._cache: dict[tuple[Token, ...], tuple[Command, tuple[int, ...]]] = {}

    def resolve(self, tokens: tuple[Token, ...], header: str) -> tuple[Command, tuple[int, ...]]:
        found = self._cache.get(tokens)
        if found is not None:
            return found
        for entry in self._entries:
            suffixes = match_nodes(entry.nodes, tokens)
            if suffixes is None:
                continue
            for number, (low, high) in zip(suffixes, entry.ranges, strict=True):
                if not low <= number <= high:
                    raise ScpiError(-114, f"{header}: suffix {number} outside {low}..{high}")
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            self._cache[tokens] = (entry.command, suffixes)
            return entry.command, suffixes
        raise ScpiError(-113, header)
