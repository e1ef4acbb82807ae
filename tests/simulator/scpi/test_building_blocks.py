"""Pieces under the instruments: blocks, header patterns, sample-rate steps, decimation."""

from __future__ import annotations

import pytest

from simulator.scpi.blocks import definite_block, short_block
from simulator.scpi.digitiser import decimation, one_two_five_rate
from simulator.scpi.headers import Token, compile_pattern, match_nodes


def test_definite_block_header() -> None:
    assert definite_block(b"abc") == b"#13abc"
    assert definite_block(b"x" * 1000)[:6] == b"#41000"
    assert definite_block(b"abc", digits=8) == b"#800000003abc"
    assert definite_block(b"", digits=9) == b"#9000000000"
    with pytest.raises(ValueError, match="does not fit"):
        definite_block(b"x" * 100, digits=2)


def test_short_block_promises_more_than_it_carries() -> None:
    block = short_block(b"0123456789", digits=8)
    assert block == b"#80000001001234"


@pytest.mark.parametrize(
    ("typed", "suffixes"),
    [
        ("FUNC:PULS:WIDT", (1,)),
        ("SOUR:FUNC:PULS:WIDT", (1,)),
        ("SOURCE1:FUNCTION:PULSE:WIDTH", (1,)),
        ("SOUR7:FUNC:PULS:WIDT", (7,)),  # matches; the range check is the caller's
        ("FUNC:PULS", None),
        ("FUNC:PULSE:WIDTHS", None),
        ("FUNC2:PULS:WIDT", None),  # FUNCtion takes no suffix
    ],
)
def test_pattern_matching(typed: str, suffixes: tuple[int, ...] | None) -> None:
    nodes = compile_pattern("[SOURce<1-2>:]FUNCtion:PULSe:WIDTh")
    tokens = []
    for part in typed.split(":"):
        alpha = part.rstrip("0123456789")
        digits = part[len(alpha) :]
        tokens.append(Token(alpha.upper(), int(digits) if digits else None))
    assert match_nodes(nodes, tuple(tokens)) == suffixes


@pytest.mark.parametrize("pattern", ["", "[OPTional]", "BAD NODE", "[UNCLOSED:NODE"])
def test_malformed_patterns_are_refused(pattern: str) -> None:
    with pytest.raises(ValueError, match="pattern"):
        compile_pattern(pattern)


@pytest.mark.parametrize(
    ("limit", "rate"),
    [(1e10, 2.5e9), (2.5e9, 2.5e9), (2e9, 1.25e9), (1e9, 5e8), (4e8, 2.5e8), (3e6, 2.5e6)],
)
def test_rate_is_the_fastest_one_two_five_step_within_the_limit(limit: float, rate: float) -> None:
    assert one_two_five_rate(2.5e9, limit) == pytest.approx(rate)


@pytest.mark.parametrize(
    ("points", "wanted", "plan"),
    [(500_000, 20_000, (25, 20_000)), (62_500, 1000, (63, 992)), (1000, 5000, (1, 1000))],
)
def test_decimation_keeps_every_nth_point(points: int, wanted: int, plan: tuple[int, int]) -> None:
    step, count = decimation(points, wanted)
    assert (step, count) == plan
    assert count <= wanted
