"""The drug-window countdown shown while delivering (ect-reference §4)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from protocols import DrugTiming, DrugWindow
from protocols.fields import fmt


def _mmss(minutes: float) -> str:
    seconds = max(0, round(minutes * 60.0))
    return f"{seconds // 60}:{seconds % 60:02d}"


@dataclass(frozen=True)
class DrugClock:
    """Where the session stands in the drug window, for one glance."""

    window: DrugWindow
    minutes_since: float
    text: str


def drug_clock(timing: DrugTiming, given_at: dt.datetime, now: dt.datetime) -> DrugClock:
    """The window state and a line such as `bleomycin IV 12:30 since · open, closes in 15:30`."""
    minutes = (now - given_at).total_seconds() / 60.0
    window = timing.judge(minutes)
    head = f"{timing.agent} {timing.route.upper()} {_mmss(minutes)} since"
    span = f"window {fmt(timing.window_start_min)}-{fmt(timing.window_end_min)} min"
    if window is DrugWindow.TOO_EARLY:
        tail = f"TOO EARLY: arming opens in {_mmss(timing.window_start_min - minutes)}"
    elif window is DrugWindow.OPEN:
        tail = f"open, closes in {_mmss(timing.window_end_min - minutes)}"
    elif window is DrugWindow.CLOSING:
        tail = f"CLOSING in {_mmss(timing.window_end_min - minutes)}"
    else:
        tail = "CLOSED: arming needs an override with a reason"
    return DrugClock(window=window, minutes_since=minutes, text=f"{head} · {span} · {tail}")
