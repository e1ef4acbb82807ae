"""A TOML file as read: its text, its hash, and where each key sits in it.

tomllib gives the data but not where a key was written, and a semantic error
("width_us out of range") is only useful with a line number. `key_lines` scans the
text for table headers and `key =` lines and maps dotted field paths to lines.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from protocols.errors import ProtocolError

_TOML_AT = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
_TOML_END = re.compile(r"\s*\(at end of document\)\s*$")
_HEADER_ARRAY = re.compile(r"^\[\[\s*([A-Za-z0-9_.\-\s\"]+?)\s*\]\]")
_HEADER_TABLE = re.compile(r"^\[\s*([A-Za-z0-9_.\-\s\"]+?)\s*\]")
_KEY = re.compile(
    r"^((?:[A-Za-z0-9_\-]+|\"[^\"]*\"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_\-]+|\"[^\"]*\"))*)\s*="
)


@dataclass(frozen=True)
class SourceFile:
    """The exact text of a file, kept so a journal can store what was used."""

    path: str
    text: str
    sha256: str

    def line_of(self, field: str) -> int | None:
        """Line (from 1) where `field` or, failing that, its nearest parent is written."""
        lines = key_lines(self.text)
        candidate = field
        while candidate:
            if candidate in lines:
                return lines[candidate]
            candidate = _parent(candidate)
        return None


def read_toml(path: Path, display: str | None = None) -> tuple[SourceFile, dict[str, Any]]:
    """Read and parse a TOML file; every failure is a `ProtocolError` naming the file."""
    shown = display or str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ProtocolError("no such file", path=shown) from None
    except IsADirectoryError:
        raise ProtocolError("is a directory, expected a .toml file", path=shown) from None
    except OSError as exc:
        raise ProtocolError(f"cannot read the file: {exc.strerror}", path=shown) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ProtocolError(
            "not UTF-8 text (TOML files must be UTF-8)", path=shown, line=line
        ) from None
    source = SourceFile(path=shown, text=text, sha256=hashlib.sha256(raw).hexdigest())
    return source, parse_toml(source)


def parse_toml(source: SourceFile) -> dict[str, Any]:
    """Parse the text, turning tomllib's message into file:line form."""
    try:
        return tomllib.loads(source.text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        line: int | None = None
        found = _TOML_AT.search(message)
        if found:
            line = int(found.group(1))
            message = message[: found.start()]
        else:
            at_end = _TOML_END.search(message)
            if at_end:
                message = message[: at_end.start()]
                # tomllib reports a repeated key "at end of document"; find the repeat.
                line = _duplicate_key_line(source.text) if "overwrite" in message else None
                if line is None:
                    line = max(1, len(source.text.splitlines()))
        raise ProtocolError(f"TOML syntax error: {message}", path=source.path, line=line) from None


def key_lines(text: str) -> dict[str, int]:
    """Map each dotted field path to the first line it is written on (lines count from 1).

    Array-of-tables entries get an index counting from 1: the second `[[needle]]`
    block is `needle[2]`, its `x_mm` key is `needle[2].x_mm`.
    """
    found: dict[str, int] = {}
    for path, number in _scan(text):
        found.setdefault(path, number)
    return found


def _duplicate_key_line(text: str) -> int | None:
    seen: set[str] = set()
    for path, number in _scan(text):
        if path in seen:
            return number
        seen.add(path)
    return None


def _scan(text: str) -> list[tuple[str, int]]:
    entries: list[tuple[str, int]] = []
    prefix = ""
    array_counts: dict[str, int] = {}
    depth = 0  # open brackets/braces of a value that spans lines
    in_multiline: str | None = None
    for number, raw_line in enumerate(text.splitlines(), start=1):
        if in_multiline is not None:
            if raw_line.count(in_multiline) % 2 == 1:
                in_multiline = None
            continue
        line = raw_line.strip()
        if depth == 0:
            header = _HEADER_ARRAY.match(line)
            if header:
                name = _join_key(header.group(1))
                array_counts[name] = array_counts.get(name, 0) + 1
                prefix = f"{name}[{array_counts[name]}]"
                entries.append((name, number))  # the array as a whole: its first block
                entries.append((prefix, number))
                continue
            header = _HEADER_TABLE.match(line)
            if header:
                prefix = _join_key(header.group(1))
                entries.append((prefix, number))
                continue
            key = _KEY.match(line)
            if key:
                name = _join_key(key.group(1))
                entries.append((f"{prefix}.{name}" if prefix else name, number))
        for quote in ('"""', "'''"):
            if line.count(quote) % 2 == 1:
                in_multiline = quote
        code = _code_only(line)
        depth = max(
            0, depth + code.count("[") + code.count("{") - code.count("]") - code.count("}")
        )
    return entries


def _code_only(line: str) -> str:
    """The line without string contents and comments, for bracket counting."""
    out: list[str] = []
    quote: str | None = None
    escaped = False
    for char in line:
        if quote is not None:
            if quote == '"' and char == "\\" and not escaped:
                escaped = True
                continue
            if char == quote and not escaped:
                quote = None
                out.append(char)
            escaped = False
            continue
        if char == "#":
            break
        if char in "\"'":
            quote = char
        out.append(char)
    return "".join(out)


def _join_key(raw: str) -> str:
    parts = [part.strip().strip("\"'") for part in raw.split(".")]
    return ".".join(parts)


def _parent(field: str) -> str:
    if field.endswith("]"):
        return field[: field.rindex("[")]
    return field.rpartition(".")[0]
