"""Every simulator fault on every preset at 5 kHz and 1 Hz, through the real engine.

The sessions run in worker processes before the first case is checked (the
matrix is large and mostly waits on the simulated bench); each case then
checks its own row. The whole table is printed in the terminal summary.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor

import pytest

from simulator.faults import KINDS
from tests.reliability.conftest import Reporter
from tests.reliability.fault_matrix import (
    ECG_KINDS,
    EXPECTED_REASON,
    SPECS,
    TIME_SCALES,
    Case,
    Row,
    cases,
    run_case,
    table,
    warm_up,
)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

CASES = cases()
WORKERS = max(1, min(2, os.cpu_count() or 1))
CASE_TIMEOUT_S = 120.0


def _selected(request: pytest.FixtureRequest) -> list[Case]:
    """The cases this pytest run will check (all of them unless deselected with -k)."""
    chosen: list[Case] = []
    for item in request.session.items:
        callspec = getattr(item, "callspec", None)
        if callspec is not None and isinstance(callspec.params.get("case"), Case):
            chosen.append(callspec.params["case"])
    return chosen


@pytest.fixture(scope="module")
def rows(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    reliability_report: Reporter,
) -> dict[str, Row]:
    """Run the selected cases, two at a time, and report the table."""
    store = tmp_path_factory.mktemp("matrix")
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=WORKERS, mp_context=context, initializer=warm_up) as pool:
        futures = {c.id: pool.submit(run_case, c, str(store)) for c in _selected(request)}
        results = {cid: future.result(timeout=CASE_TIMEOUT_S) for cid, future in futures.items()}
    ordered = [results[c.id] for c in CASES if c.id in results]
    reliability_report(
        f"fault matrix: {len(ordered)} sessions, pacing x{TIME_SCALES[1.0]:g} at 1 Hz, "
        f"x{TIME_SCALES[5000.0]:g} at 5 kHz",
        table(ordered),
    )
    return results


def test_every_fault_kind_is_in_the_matrix() -> None:
    assert set(SPECS) == set(KINDS)
    covered = {c.kind for c in CASES}
    assert covered == set(KINDS)
    # ECG faults run where the gate exists, and only there.
    assert {c.preset for c in CASES if c.kind in ECG_KINDS} == {"long-needles"}


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_fault_case(case: Case, rows: dict[str, Row]) -> None:
    row = rows[case.id]
    assert row.error is None, row.error
    assert row.integrity == "intact"
    assert row.state in ("IDLE", "FAULT") and row.discharged, (
        f"generator left {row.state} with {row.hv_bank_v:.0f} V on the bank"
    )
    # Write-ahead: the firmware fired nothing the journal had no intent for.
    assert row.fired_without_intent == 0
    assert row.fired <= row.intents
    assert row.after_stop in (None, 0), f"{row.after_stop} pulses after the stop finding"
    if row.reason == "link-lost":
        # The link died with the train under way: the host records only what it heard.
        assert row.journal_delivered <= row.simulator_delivered
    else:
        assert row.journal_delivered == row.simulator_delivered
    if row.outcome == "completed":
        assert row.reason is None and row.after_stop is None
    expected = EXPECTED_REASON.get(case.kind)
    if expected is not None:
        assert row.reason == expected, f"{case.spec} ended as {row.outcome}/{row.reason}"
        assert row.outcome in ("aborted", "fault")
