"""The session store: where sessions live and how an id or prefix finds one."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

from pulsehost.journal.errors import AmbiguousSessionError, JournalReadError, SessionNotFoundError
from pulsehost.journal.layout import JOURNAL_FILE, SESSION_DIR, SHORT_ID_LENGTH
from pulsehost.journal.session import Session

STORE_ENV = "PULSEHOST_STORE"


def default_store(env: Mapping[str, str] | None = None) -> Path:
    """`PULSEHOST_STORE` when set, else the platform's user data dir / "sessions"."""
    value = (os.environ if env is None else env).get(STORE_ENV, "")
    if value:
        return Path(value).expanduser()
    import platformdirs  # only when no store is named

    return Path(platformdirs.user_data_dir("pulsehost")) / "sessions"


def session_names(store: Path) -> list[str]:
    """Names of every session directory in the store, oldest first (they start with the UTC
    start). Plain strings: listing ten thousand sessions should not build ten thousand Paths."""
    try:
        with os.scandir(store) as entries:
            return sorted(e.name for e in entries if SESSION_DIR.match(e.name) and e.is_dir())
    except FileNotFoundError:
        return []
    except NotADirectoryError as exc:
        raise JournalReadError(f"the session store {store} is a file, not a directory") from exc
    except OSError as exc:
        raise JournalReadError(f"cannot read the session store {store}: {exc.strerror}") from exc


def session_directories(store: Path) -> list[Path]:
    """Every session directory in the store, oldest first."""
    return [store / name for name in session_names(store)]


def find_session_dir(store: Path, id_or_prefix: str) -> Path:
    """The one session whose id, or directory name, starts with `id_or_prefix`.

    A path to a session directory is accepted as it is. Unknown and ambiguous
    ids raise errors that say what exists.
    """
    given = id_or_prefix.strip()
    as_path = Path(given).expanduser()
    if os.sep in given and (as_path / JOURNAL_FILE).is_file():
        return as_path
    if not given:
        raise SessionNotFoundError("an empty session id matches nothing; give an id or prefix")
    needle = given.lower()
    directories = session_directories(store)
    matches = [
        d
        for d in directories
        if d.name.lower().startswith(needle)
        or SESSION_DIR.match(d.name)["short"].startswith(needle[:SHORT_ID_LENGTH])  # type: ignore[index]
    ]
    if len(needle) > SHORT_ID_LENGTH:
        matches = [
            d
            for d in matches
            if d.name.lower().startswith(needle) or _full_id(d).startswith(needle)
        ]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        if not store.is_dir():
            raise SessionNotFoundError(
                f"no session {given!r}: the store {store} does not exist "
                "(give another with --store or PULSEHOST_STORE)"
            )
        recent = ", ".join(d.name for d in directories[-5:][::-1]) or "none"
        raise SessionNotFoundError(
            f"no session {given!r} in {store} ({len(directories)} sessions; newest: {recent})"
        )
    names = tuple(d.name for d in matches[::-1])
    shown = ", ".join(names[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "")
    raise AmbiguousSessionError(
        f"{given!r} matches {len(names)} sessions: {shown}; give more of the id", names
    )


def open_session(store: Path, id_or_prefix: str, *, seal_key: bytes | None = None) -> Session:
    """Find a session by id, unambiguous prefix or directory, read it and check it."""
    return Session.read(find_session_dir(Path(store), id_or_prefix), seal_key=seal_key)


def _full_id(directory: Path) -> str:
    # The full id is only in the start document; its first line is enough.
    try:
        with open(directory / JOURNAL_FILE, "rb") as handle:
            first = json.loads(handle.readline())
    except (OSError, ValueError):
        return ""
    value = first.get("session_id") if isinstance(first, dict) else None
    return value.lower() if isinstance(value, str) else ""
