"""SCPI program messages: splitting, header paths and mnemonic patterns.

A pattern is written as in the programming guides: upper case is the short
form, the whole word the long form, `[...]` marks an optional node and `<a-b>`
a numeric suffix with its range, e.g. `[SOURce<1-1>:]FUNCtion:PULSe:WIDTh` or
`CHANnel<1-4>:SCALe`. A header matches when each typed mnemonic is the short
or the long form of its node (any case) and every mandatory node is present.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from simulator.scpi.error_queue import ScpiError

_MNEMONIC = re.compile(r"^([A-Za-z][A-Za-z_]*?)(\d*)$")
_HEADER_SEPARATOR = re.compile(r"\s+")
_PATTERN_NODE = re.compile(r"^([A-Za-z_]+)(?:<(\d+)-(\d+)>)?$")


@dataclass(frozen=True)
class Node:
    """One level of a command tree: its short and long form and suffix range."""

    short: str
    long: str
    suffix: tuple[int, int] | None
    optional: bool

    def accepts(self, alpha: str) -> bool:
        return alpha in (self.short, self.long)


@dataclass(frozen=True)
class Token:
    """A typed mnemonic, upper-cased, with its numeric suffix (None if absent)."""

    alpha: str
    suffix: int | None


@dataclass(frozen=True)
class Header:
    """A parsed program header: absolute path tokens, query flag, common command name."""

    tokens: tuple[Token, ...]
    query: bool
    common: str | None  # `*IDN` style name, upper case, without `?`
    text: str  # as typed, for error details


@dataclass(frozen=True)
class Unit:
    """One program message unit: header text and its comma-separated parameters."""

    header: str
    params: tuple[str, ...]


def compile_pattern(pattern: str) -> tuple[Node, ...]:
    """Turn `[SOURce<1-1>:]VOLTage:HIGH` into its nodes; raises ValueError if malformed."""
    nodes: list[Node] = []
    rest = pattern.lstrip(":")
    while rest:
        optional = rest.startswith("[")
        if optional:
            end = rest.find("]")
            if end < 0:
                raise ValueError(f"command pattern {pattern!r}: unclosed '['")
            part, rest = rest[1:end].strip(":"), rest[end + 1 :].lstrip(":")
        else:
            cut = min((i for i in (rest.find(":"), rest.find("[")) if i >= 0), default=len(rest))
            part, rest = rest[:cut], rest[cut:].lstrip(":")
        match = _PATTERN_NODE.match(part)
        if not match:
            raise ValueError(f"command pattern {pattern!r}: bad node {part!r}")
        word = match.group(1)
        short = "".join(ch for ch in word if ch.isupper() or ch == "_")
        suffix = (int(match.group(2)), int(match.group(3))) if match.group(2) else None
        nodes.append(Node(short=short, long=word.upper(), suffix=suffix, optional=optional))
    if not nodes or all(n.optional for n in nodes):
        raise ValueError(f"command pattern {pattern!r} has no mandatory node")
    return tuple(nodes)


def match_nodes(nodes: tuple[Node, ...], tokens: tuple[Token, ...]) -> tuple[int, ...] | None:
    """The suffix of every suffixed node (defaults filled in), or None if no match.

    Suffix ranges are not checked here, so that the caller can tell an unknown
    header (-113) from a known one with a bad suffix (-114).
    """

    def walk(i: int, j: int) -> tuple[int, ...] | None:
        if i == len(nodes):
            return () if j == len(tokens) else None
        node = nodes[i]
        if j < len(tokens) and node.accepts(tokens[j].alpha):
            typed = tokens[j].suffix
            rest = walk(i + 1, j + 1) if typed is None or node.suffix is not None else None
            if rest is not None:
                if node.suffix is None:
                    return rest
                return (node.suffix[0] if typed is None else typed, *rest)
        if node.optional:
            rest = walk(i + 1, j)
            if rest is not None:
                return (node.suffix[0], *rest) if node.suffix else rest
        return None

    return walk(0, 0)


def suffix_ranges(nodes: tuple[Node, ...]) -> tuple[tuple[int, int], ...]:
    return tuple(n.suffix for n in nodes if n.suffix is not None)


def split_message(message: str) -> list[Unit]:
    """Split a program message at `;` and each unit's parameters at `,` (quotes respected)."""
    units: list[Unit] = []
    for raw in _split_outside_quotes(message, ";"):
        text = raw.strip()
        if not text:
            continue
        head, *tail = _HEADER_SEPARATOR.split(text, maxsplit=1)
        rest = tail[0] if tail else ""
        params = tuple(p.strip() for p in _split_outside_quotes(rest, ",")) if rest else ()
        if any(not p for p in params):
            raise ScpiError(-103, f"empty parameter in {text!r}")
        units.append(Unit(header=head, params=params))
    return units


def parse_header(text: str, path: tuple[Token, ...]) -> Header:
    """Resolve a typed header against the current path (SCPI compound-command rule)."""
    query = text.endswith("?")
    body = text[:-1] if query else text
    if body.startswith("*"):
        name = body[1:]
        if not name.isalpha():
            raise ScpiError(-102, f"malformed common command {text!r}")
        return Header(tokens=(), query=query, common="*" + name.upper(), text=text)
    rooted = body.startswith(":")
    parts = (body[1:] if rooted else body).split(":")
    tokens: list[Token] = []
    for part in parts:
        match = _MNEMONIC.match(part)
        if not match:
            raise ScpiError(-102, f"malformed header {text!r}")
        digits = match.group(2)
        tokens.append(Token(match.group(1).upper(), int(digits) if digits else None))
    full = tuple(tokens) if rooted else (*path, *tokens)
    return Header(tokens=full, query=query, common=None, text=text)


def _split_outside_quotes(text: str, separator: str) -> list[str]:
    pieces: list[str] = []
    start = 0
    quote = ""
    for i, ch in enumerate(text):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch == separator:
            pieces.append(text[start:i])
            start = i + 1
    if quote:
        raise ScpiError(-102, f"unterminated string in {text!r}")
    pieces.append(text[start:])
    return pieces
