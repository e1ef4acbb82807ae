"""A store with recorded sessions for the review tests, written by `pulsehost run --yes`."""

from __future__ import annotations

from pathlib import Path

import pytest

from pulsehost.cli.main import main


@pytest.fixture(scope="module")
def recorded_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two sessions on the simulated bench: one completed, one stopped by overcurrent at pulse 5."""
    store = tmp_path_factory.mktemp("recorded") / "store"
    base = ["run", "--yes", "--store", str(store), "--operator", "dr review"]
    assert main([*base, "--subject", "S-1"]) == 0
    assert main([*base, "--subject", "S-2", "--fault", "overcurrent@5"]) == 1
    return store
