"""The four packages import one way only (docs/architecture.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROJECT = ("pulsehost", "protocols", "drivers", "simulator")

# package -> (project packages it may import, allowed exceptions as module prefixes)
RULES: dict[str, tuple[frozenset[str], tuple[str, ...]]] = {
    "protocols": (frozenset(), ()),
    "drivers": (frozenset(), ()),
    "simulator": (frozenset(), ("drivers.link",)),
    "pulsehost": (frozenset(PROJECT), ()),
}
THIRD_PARTY_ALLOWED = {
    "protocols": {"numpy"},
    "drivers": {"numpy", "serial", "pyvisa", "pyvisa_py"},
    "simulator": {"numpy"},
}


def imported_modules(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def sources(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", sorted(RULES))
def test_one_way_imports(package: str) -> None:
    allowed, exceptions = RULES[package]
    bad = []
    for path in sources(package):
        for line, module in imported_modules(path):
            top = module.split(".")[0]
            if top == package or top not in PROJECT or top in allowed:
                continue
            if any(module == e or module.startswith(e + ".") for e in exceptions):
                continue
            bad.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("package", sorted(THIRD_PARTY_ALLOWED))
def test_lower_packages_use_only_their_dependencies(package: str) -> None:
    import sys

    stdlib = set(sys.stdlib_module_names)
    bad = []
    for path in sources(package):
        for line, module in imported_modules(path):
            top = module.split(".")[0]
            if top in stdlib or top in PROJECT or top in THIRD_PARTY_ALLOWED[package]:
                continue
            bad.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    assert not bad, "\n".join(bad)


def test_only_the_simulated_rig_builds_the_simulator() -> None:
    users = sorted(
        str(path.relative_to(ROOT))
        for path in sources("pulsehost")
        if any(m.split(".")[0] == "simulator" for _, m in imported_modules(path))
    )
    allowed = {"pulsehost/simulated_rig.py", "pulsehost/cli/simulate_cmd.py"}
    assert set(users) <= allowed, users


def test_the_ui_does_not_import_drivers() -> None:
    bad = [
        f"{path.relative_to(ROOT)} imports {m}"
        for path in sorted((ROOT / "pulsehost" / "ui").rglob("*.py"))
        for _, m in imported_modules(path)
        if m.split(".")[0] == "drivers" and not m.startswith("drivers.values")
    ]
    assert not bad, bad
