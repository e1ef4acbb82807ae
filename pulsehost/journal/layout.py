"""Where a session lives on disk: directory names and file names."""

from __future__ import annotations

import re
import time

JOURNAL_FILE = "journal.jsonl"
WAVEFORMS_FILE = "waveforms.bin"
FORMAT = "pulsehost-journal"
VERSION = 1
SHORT_ID_LENGTH = 8
ZERO_HASH = "0" * 64

# Sessions are created under a hidden staging name and renamed into place once
# their start document is on disk, so a visible session always has one.
STAGING_PREFIX = ".creating-"
SESSION_DIR = re.compile(r"^(?P<utc>\d{8}T\d{6}Z)_(?P<short>[0-9a-f]{8})$")


def session_dir_name(utc_ns: int, session_id: str) -> str:
    """`<UTC start YYYYmmddTHHMMSSZ>_<first 8 hex of the session id>`."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(utc_ns // 1_000_000_000))
    return f"{stamp}_{session_id[:SHORT_ID_LENGTH]}"
