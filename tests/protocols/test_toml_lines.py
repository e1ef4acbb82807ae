"""Where keys sit in a TOML file, for error messages."""

from __future__ import annotations

from protocols.source import key_lines

TEXT = '''\
# comment with key = value inside
title = "x"
[delivery]
width_us = 100.0   # trailing comment
rates = [
  5000.0,
  1.0,
]
after_array = 1
"quoted key" = 2
note = """
not_a_key = 3
"""
last = 4

[[needle]]
id = "A"
[[needle]]
id = "B"
[limits.inner]
v = 1
'''


def _line_of(text: str, fragment: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), start=1) if fragment in line)


def test_keys_tables_and_array_entries() -> None:
    lines = key_lines(TEXT)
    assert lines["title"] == _line_of(TEXT, 'title = "x"')
    assert lines["delivery"] == _line_of(TEXT, "[delivery]")
    assert lines["delivery.width_us"] == _line_of(TEXT, "width_us")
    assert lines["delivery.rates"] == _line_of(TEXT, "rates = [")
    assert lines["delivery.after_array"] == _line_of(TEXT, "after_array")
    assert lines["delivery.quoted key"] == _line_of(TEXT, '"quoted key"')
    assert lines["delivery.last"] == _line_of(TEXT, "last = 4")
    assert lines["needle"] == _line_of(TEXT, "[[needle]]")
    assert lines["needle[2].id"] == _line_of(TEXT, 'id = "B"')
    assert lines["limits.inner.v"] == _line_of(TEXT, "v = 1")


def test_text_inside_strings_and_comments_is_not_a_key() -> None:
    lines = key_lines(TEXT)
    assert "delivery.not_a_key" not in lines
    assert "key" not in lines
