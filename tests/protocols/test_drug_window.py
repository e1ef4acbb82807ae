"""The drug window the engine gates arming on."""

from __future__ import annotations

from pathlib import Path

import pytest

from protocols import DrugWindow, ProtocolError, load_protocol


@pytest.mark.parametrize(
    ("minutes", "state"),
    [
        (0.0, DrugWindow.TOO_EARLY),
        (7.9, DrugWindow.TOO_EARLY),
        (8.0, DrugWindow.OPEN),
        (24.9, DrugWindow.OPEN),
        (25.0, DrugWindow.CLOSING),
        (28.0, DrugWindow.CLOSING),
        (28.1, DrugWindow.CLOSED),
    ],
)
def test_iv_bleomycin_window(minutes: float, state: DrugWindow) -> None:
    drug = load_protocol("long-needles").drug
    assert drug is not None
    assert drug.judge(minutes) is state


def test_intratumoural_route_needs_an_explicit_window(tmp_path: Path) -> None:
    text = load_protocol("long-needles").source.text
    start = text.index("\n[drug]\n")
    base = text[:start] + '\n[drug]\nagent = "bleomycin"\nroute = "it"\ndose_iu_per_cm3 = 1000.0\n'
    path = tmp_path / "it.toml"
    path.write_text(base, encoding="utf-8")
    with pytest.raises(ProtocolError) as caught:
        load_protocol(path)
    assert caught.value.field == "drug.window_start_min"
    path.write_text(
        base + "window_start_min = 0.0\nwarn_after_min = 8.0\nwindow_end_min = 10.0\n",
        encoding="utf-8",
    )
    drug = load_protocol(path).drug
    assert drug is not None
    assert drug.to_dict()["dose_iu_per_cm3"] == 1000.0
    assert drug.judge(9.0) is DrugWindow.CLOSING
