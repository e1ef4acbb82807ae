"""Checking a journal line by line: chain, canonical form, waveform bytes, seal."""

from __future__ import annotations

import enum
import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from pulsehost.journal.canonical import canonical_json, document_hash
from pulsehost.journal.layout import ZERO_HASH
from pulsehost.journal.seal import seal_problem
from pulsehost.journal.waveform import BlockRef, WaveformFile

KINDS = ("start", "event", "intent", "pulse", "stop")
UTC_STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")
HEX64 = re.compile(r"^[0-9a-f]{64}$")


class ChainStatus(enum.StrEnum):
    INTACT = "intact"  # every line verifies
    TORN = "torn"  # every complete line verifies; the last line was cut short by a crash
    BROKEN = "broken"  # a line fails: altered, removed, reordered or inserted


class SealStatus(enum.StrEnum):
    VALID = "valid"
    INVALID = "invalid"
    UNSEALED = "unsealed"
    NOT_CHECKED = "not checked"  # sealed, but no key to check it with


@dataclass(frozen=True)
class Integrity:
    """The outcome of checking one session's journal and waveform file."""

    status: ChainStatus
    lines: int  # complete lines in journal.jsonl
    verified: int  # leading lines that verified
    line: int | None = None  # 1-based: the first bad line (broken) or the torn line
    reason: str | None = None
    seal: SealStatus = SealStatus.UNSEALED
    final_hash: str | None = None  # hash of the last verified line
    unreferenced_bytes: int = 0  # waveform bytes after the last referenced block

    @property
    def ok(self) -> bool:
        """True unless the journal is broken (a torn last line is a crash, not tampering)."""
        return self.status is not ChainStatus.BROKEN

    def describe(self) -> str:
        """One line for a person: what holds, and where it stops holding."""
        if self.status is ChainStatus.BROKEN:
            return f"BROKEN at line {self.line}: {self.reason}"
        text = f"intact ({self.verified} documents"
        text += f", final hash {self.final_hash[:16]}…)" if self.final_hash else ")"
        if self.status is ChainStatus.TORN:
            text += f"; line {self.line} is torn ({self.reason}), everything before it verifies"
        if self.unreferenced_bytes:
            text += (
                f"; {self.unreferenced_bytes} bytes at the end of waveforms.bin belong to no "
                "document (a write was interrupted)"
            )
        seal = {
            SealStatus.VALID: "seal valid",
            SealStatus.INVALID: "seal INVALID",
            SealStatus.UNSEALED: "unsealed",
            SealStatus.NOT_CHECKED: "sealed, seal not checked (PULSEHOST_SEAL_KEY is not set)",
        }[self.seal]
        return f"{text}; {seal}"


@dataclass(frozen=True)
class ScannedLine:
    line: int  # 1-based
    document: dict[str, Any]


def scan_journal(
    data: bytes, waveforms: WaveformFile, seal_key: bytes | None
) -> tuple[list[ScannedLine], Integrity]:
    """Check every line; return the documents that parse and the verdict.

    Documents after a broken line are still returned (a reviewer may want to
    see them) but the verdict names the first bad line, and nothing from there
    on counts as verified.
    """
    pieces = data.split(b"\n")
    tail = pieces.pop()  # b"" when the file ends with a newline
    scanned: list[ScannedLine] = []
    prev = ZERO_HASH
    next_byte = 0
    stopped = False
    broken: tuple[int, str] | None = None
    seal = SealStatus.UNSEALED
    verified = 0
    for number, raw in enumerate(pieces, start=1):
        document, problem = _parse_line(raw)
        if document is not None:
            scanned.append(ScannedLine(number, document))
        if broken is not None:
            continue
        if problem is None and document is not None:
            problem, next_byte = _check_document(
                document, number, prev, stopped, next_byte, waveforms
            )
        if problem is None and document is not None and document["kind"] == "stop":
            stopped = True
            seal, problem = _check_seal(document, seal_key)
        if problem is not None:
            broken = (number, problem)
            continue
        assert document is not None
        prev = document["hash"]
        verified = number
    final = prev if verified else None
    unreferenced = max(waveforms.size - next_byte, 0)
    if broken is not None:
        status = Integrity(
            ChainStatus.BROKEN, len(pieces), verified, broken[0], broken[1], seal, final
        )
        return scanned, status
    if tail:
        problem = _tail_problem(tail)
        line = len(pieces) + 1
        if problem is not None:
            return scanned, Integrity(
                ChainStatus.BROKEN, len(pieces), verified, line, problem, seal, final
            )
        torn = "cut short, no newline"
        return scanned, Integrity(
            ChainStatus.TORN, len(pieces), verified, line, torn, seal, final, unreferenced
        )
    if not pieces:
        return scanned, Integrity(
            ChainStatus.BROKEN, 0, 0, 1, "the journal is empty: no start document"
        )
    return scanned, Integrity(
        ChainStatus.INTACT, len(pieces), verified, None, None, seal, final, unreferenced
    )


def _parse_line(raw: bytes) -> tuple[dict[str, Any] | None, str | None]:
    if not raw:
        return None, "empty line"
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, f"not valid UTF-8 at byte {exc.start + 1} of the line"
    try:
        document = json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        return None, f"not valid JSON ({exc.msg} at column {exc.colno})"
    except (ValueError, RecursionError) as exc:
        return None, f"not valid journal JSON ({exc})"
    if not isinstance(document, dict):
        return None, "not a JSON object"
    try:
        canonical = canonical_json(document)
    except ValueError:  # e.g. 1e999, which parses as infinity
        return document, "holds a number outside the range of a double"
    if canonical != raw:
        # Same data, different spelling (whitespace, key order, number format).
        return document, "not in canonical form: the line was re-written"
    return document, None


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _check_document(
    document: dict[str, Any],
    number: int,
    prev: str,
    stopped: bool,
    next_byte: int,
    waveforms: WaveformFile,
) -> tuple[str | None, int]:
    kind = document.get("kind")
    if kind not in KINDS:
        return f"'kind' is {kind!r}, expected one of {', '.join(KINDS)}", next_byte
    seq = document.get("seq")
    if type(seq) is not int or seq != number - 1:
        return (
            f"'seq' is {seq!r}, expected {number - 1}: a line was removed, inserted or moved",
            next_byte,
        )
    if not isinstance(document.get("utc"), str) or not UTC_STAMP.match(document["utc"]):
        return "'utc' is not an ISO-8601 UTC time with microseconds", next_byte
    if type(document.get("mono_ns")) is not int:
        return "'mono_ns' is not an integer", next_byte
    for name in ("prev", "hash"):
        if not isinstance(document.get(name), str) or not HEX64.match(document[name]):
            return f"'{name}' is not 64 lowercase hex digits", next_byte
    if document["prev"] != prev:
        what = "64 zeros" if number == 1 else f"the hash of line {number - 1}"
        return f"'prev' does not match {what}: the chain is cut here", next_byte
    if (kind == "start") != (number == 1):
        where = "must be the first line" if kind == "start" else "must be a start document"
        return f"{'a start document' if kind == 'start' else 'the first line'} {where}", next_byte
    if stopped:
        return "a document follows the stop document", next_byte
    blocks: list[bytes] = []
    refs = document.get("waveforms", {})
    if not isinstance(refs, dict) or (refs and kind != "pulse"):
        return "'waveforms' must be an object, and only on pulse documents", next_byte
    for channel in sorted(refs):
        try:
            ref = BlockRef.from_json(refs[channel])
        except ValueError as exc:
            return f"waveform {channel!r}: reference malformed: {exc}", next_byte
        if ref.byte_offset != next_byte:
            return (
                f"waveform {channel!r} starts at byte {ref.byte_offset} of waveforms.bin, "
                f"expected {next_byte}: blocks were moved or re-used",
                next_byte,
            )
        end = ref.byte_offset + ref.byte_length
        if end > waveforms.size:
            return (
                f"waveform {channel!r} needs bytes {ref.byte_offset}..{end} but waveforms.bin "
                f"has only {waveforms.size}: the file was truncated",
                next_byte,
            )
        data = waveforms.read(ref.byte_offset, ref.byte_length)
        if hashlib.sha256(data).hexdigest() != ref.sha256:
            return (
                f"waveform {channel!r} (bytes {ref.byte_offset}..{end} of waveforms.bin) "
                "does not match its sha256: the samples were altered",
                next_byte,
            )
        blocks.append(data)
        next_byte = end
    if document_hash(document, blocks) != document["hash"]:
        return "'hash' does not match the document and its waveform bytes: altered", next_byte
    return None, next_byte


def _check_seal(document: dict[str, Any], key: bytes | None) -> tuple[SealStatus, str | None]:
    if "seal" not in document:
        return SealStatus.UNSEALED, None
    if key is None:
        return SealStatus.NOT_CHECKED, None
    problem = seal_problem(key, document)
    return (SealStatus.INVALID, problem) if problem else (SealStatus.VALID, None)


def _tail_problem(tail: bytes) -> str | None:
    """Why an unterminated last line is not a write cut short by a crash, or None.

    A crash leaves a prefix of a line, possibly ending inside a UTF-8 sequence.
    A complete document followed by anything (the final newline overwritten)
    is not a prefix of anything the writer produces.
    """
    cut_inside_character = False
    try:
        text = tail.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.reason != "unexpected end of data":
            return f"not valid UTF-8 at byte {exc.start + 1} of the line"
        text = tail[: exc.start].decode("utf-8")
        cut_inside_character = True
    try:
        _, end = json.JSONDecoder().raw_decode(text)
    except json.JSONDecodeError:
        return None
    if end != len(text) or cut_inside_character:
        return "bytes follow the last document where a newline should be"
    return None
