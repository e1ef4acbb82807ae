"""Settings the app starts with; the rig itself comes from the backend."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


def _local_now() -> dt.datetime:
    return dt.datetime.now().astimezone()


@dataclass(frozen=True)
class UiConfig:
    """Where sessions are kept and what the setup form starts with.

    `now` is the local, timezone-aware clock used to read the drug time the
    operator types (HH:MM means today) and to count the drug window down.
    """

    store: Path
    operator: str = ""
    subject: str = ""
    protocol: str = "esope-needle-rows"
    export_dir: Path = field(default_factory=Path.cwd)
    now: Callable[[], dt.datetime] = field(default=_local_now, repr=False)
