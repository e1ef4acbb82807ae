"""The canonical JSON form of a journal document and the hash that chains them.

The canonical form is what `json.dumps(doc, sort_keys=True, separators=(",", ":"),
ensure_ascii=False, allow_nan=False)` produces, encoded as UTF-8. Every line of
a journal is exactly the canonical form of its document, so a reader can check
that a line was not re-spelled (say `1E-05` for `1e-05`) as well as not altered.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from pulsehost.journal.errors import JournalError


def canonical_json(document: Mapping[str, Any]) -> bytes:
    """The canonical UTF-8 bytes of a document that holds only JSON values."""
    return json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def document_hash(document: Mapping[str, Any], blocks: Iterable[bytes] = ()) -> str:
    """SHA-256 (hex) over the canonical JSON of `document` without its `hash`
    field, followed by the bytes of the waveform blocks it references, in the
    sorted order of their channel names."""
    digest = hashlib.sha256(canonical_json({k: v for k, v in document.items() if k != "hash"}))
    for block in blocks:
        digest.update(block)
    return digest.hexdigest()


def to_json_value(value: Any, where: str) -> Any:
    """Copy `value` into plain JSON types, or say which field cannot be stored.

    numpy scalars and arrays become numbers and lists, tuples become lists, sets
    become sorted lists, enums their values, dataclass instances objects of their
    fields, and NaN or infinity becomes null (JSON has no spelling for them).
    Strings are kept exactly as given.
    """
    kind = type(value)
    if value is None or kind is str or kind is bool or kind is int:
        return value
    if kind is float:
        return value if math.isfinite(value) else None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, str):
        return str.__str__(value)  # an Enum's own __str__ would not give its value
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise JournalError(
                    f"field {where!r} has a key {key!r} of type {type(key).__name__}; "
                    "journal objects need string keys"
                )
            out[str.__str__(key)] = to_json_value(item, f"{where}.{key}")
        return out
    if isinstance(value, list | tuple):
        return [to_json_value(item, f"{where}[{i}]") for i, item in enumerate(value)]
    if isinstance(value, np.ndarray):
        return to_json_value(value.tolist(), where)
    if isinstance(value, set | frozenset):  # e.g. firmware flags; sorted, so the hash is stable
        items = [to_json_value(item, f"{where}[]") for item in value]
        return sorted(items, key=lambda item: canonical_json({"": item}))
    if isinstance(value, enum.Enum):
        return to_json_value(value.value, where)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
        return to_json_value(fields, where)
    raise JournalError(
        f"field {where!r} holds a {type(value).__name__}, which a journal cannot store; "
        "use numbers, strings, booleans, null, lists or objects"
    )
