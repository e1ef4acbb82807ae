"""The optional HMAC-SHA256 seal a site key puts on a finished session.

Anyone can recompute a hash chain after editing a journal; only a holder of
the key can recompute the seal. The key comes from `PULSEHOST_SEAL_KEY` (its
UTF-8 bytes) and is never written anywhere.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Mapping
from typing import Any

from pulsehost.journal.canonical import canonical_json

SEAL_KEY_ENV = "PULSEHOST_SEAL_KEY"
ALGORITHM = "HMAC-SHA256"


def seal_key_from_env(env: Mapping[str, str] | None = None) -> bytes | None:
    """The key in `PULSEHOST_SEAL_KEY`, or None when it is unset or empty."""
    value = (os.environ if env is None else env).get(SEAL_KEY_ENV, "")
    return value.encode("utf-8") if value else None


def key_id(key: bytes) -> str:
    """A short name for a key that does not reveal it (tells keys apart in messages)."""
    return hmac.new(key, b"pulsehost seal key id", hashlib.sha256).hexdigest()[:16]


def seal_message(stop_document: Mapping[str, Any]) -> bytes:
    """What the seal covers: the stop document without `hash` and `seal`.

    That includes `prev`, the hash of the line before, so the seal pins the
    whole chain as well as the outcome and counts in the stop document.
    """
    return canonical_json({k: v for k, v in stop_document.items() if k not in ("hash", "seal")})


def make_seal(key: bytes, stop_document: Mapping[str, Any]) -> dict[str, str]:
    """The `seal` object recorded in the stop document."""
    mac = hmac.new(key, seal_message(stop_document), hashlib.sha256).hexdigest()
    return {"alg": ALGORITHM, "key_id": key_id(key), "mac": mac}


def seal_problem(key: bytes, stop_document: Mapping[str, Any]) -> str | None:
    """Why the stop document's seal does not hold for `key`, or None when it does."""
    seal = stop_document.get("seal")
    if not isinstance(seal, Mapping) or seal.get("alg") != ALGORITHM:
        return f"the seal is not an {ALGORITHM} seal object"
    if seal.get("key_id") != key_id(key):
        return (
            f"the seal was made with key id {seal.get('key_id')!r} but {SEAL_KEY_ENV} "
            f"has key id {key_id(key)!r}; set the key the session was sealed with"
        )
    expected = hmac.new(key, seal_message(stop_document), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(str(seal.get("mac")), expected):
        return "the seal does not match the session: the journal was altered after sealing"
    return None
