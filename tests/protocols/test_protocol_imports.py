"""protocols/ imports only the standard library and numpy."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import protocols

PACKAGE = Path(protocols.__file__).parent
ALLOWED = set(sys.stdlib_module_names) | {"numpy", "protocols"}


def test_only_stdlib_and_numpy() -> None:
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] not in ALLOWED]
    assert offenders == []
