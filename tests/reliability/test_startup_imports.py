"""`pulsehost --help` builds every command's parser without importing anything heavy.

The start-up figure in docs/performance.md depends on it: numpy, rich,
Textual, the instrument libraries and the other packages are imported inside
the command that needs them, never when the parser is built.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("numpy", "rich", "textual", "serial", "pyvisa", "drivers", "protocols", "simulator")


@pytest.mark.timeout(60)
def test_building_the_parser_imports_nothing_heavy() -> None:
    code = (
        "import sys\n"
        "from pulsehost.cli.main import build_parser\n"
        "parser = build_parser()\n"
        "assert parser.format_help()\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "[]"
