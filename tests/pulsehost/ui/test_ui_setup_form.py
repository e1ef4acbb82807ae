"""From the setup form to a plan: each bad entry is reported against the field behind it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from protocols import PlanRefused, ProtocolError, load_protocol
from pulsehost.ui.setup_form import FormError, PlanFailure, Prepared, SetupForm, prepare

NOW = dt.datetime(2026, 11, 30, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))


def _form(**fields: object) -> SetupForm:
    values: dict[str, object] = {"protocol": "esope-needle-rows", "operator": "dr test"}
    values.update(fields)
    return SetupForm(**values)  # type: ignore[arg-type]


def _broken_protocol(tmp_path: Path, field: str, value: str) -> tuple[Path, int]:
    """A copy of the plates preset with one `field = ...` line replaced; returns its line."""
    lines = load_protocol("esope-plates").source.text.splitlines()
    number = next(i for i, line in enumerate(lines, 1) if line.startswith(f"{field} ="))
    lines[number - 1] = f"{field} = {value}"
    path = tmp_path / "mine.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, number


def test_a_complete_form_gives_the_plan_and_the_request() -> None:
    result = prepare(_form(subject=" S-7 ", notes="left forearm"), NOW)
    assert isinstance(result, Prepared)
    assert [t.pulses for t in result.plan.trains] == [8]
    request = result.request
    assert (request.operator, request.subject, request.notes) == ("dr test", "S-7", "left forearm")
    assert request.drug is None and request.plan is result.plan


def test_an_empty_subject_reads_as_unspecified_as_on_the_command_line() -> None:
    result = prepare(_form(), NOW)
    assert isinstance(result, Prepared) and result.request.subject == "unspecified"


@pytest.mark.parametrize(
    ("fields", "field", "says"),
    [
        ({"operator": "  "}, "operator", "operator's name"),
        ({"drug_time": "25:99"}, "drug_time", "not a time"),
        ({"drug_time": "10:30"}, "drug_time", "in the future"),
        ({"drug_override": "late bolus"}, "drug_time", "needs the drug time"),
        (
            {"protocol": "long-needles", "needles": "example-4-needles"},
            "drug_time",
            "bleomycin (IV)",
        ),
    ],
)
def test_a_bad_entry_names_its_field(fields: dict[str, object], field: str, says: str) -> None:
    with pytest.raises(FormError) as caught:
        prepare(_form(**fields), NOW)
    assert caught.value.field == field
    assert says in caught.value.message


def test_drug_time_today_and_an_override_reason_reach_the_request() -> None:
    result = prepare(
        _form(
            protocol="long-needles",
            needles="example-4-needles",
            drug_time="09:45",
            drug_override=" window missed by the ward ",
        ),
        NOW,
    )
    assert isinstance(result, Prepared)
    drug = result.request.drug
    assert drug is not None
    assert drug.given_at == NOW.replace(hour=9, minute=45)
    assert (drug.entered_by, drug.override_reason) == ("dr test", "window missed by the ward")
    assert len(result.plan.trains) == 6


def test_variable_geometry_without_needles_points_at_the_needles_field() -> None:
    result = prepare(_form(protocol="long-needles", drug_time="09:45"), NOW)
    assert isinstance(result, PlanFailure)
    assert result.field == "needles"
    assert "needles file" in str(result.error)


def test_an_unknown_needles_example_points_at_the_needles_field() -> None:
    result = prepare(_form(protocol="long-needles", needles="no-such", drug_time="09:45"), NOW)
    assert isinstance(result, PlanFailure) and result.field == "needles"
    assert "example-4-needles" in str(result.error)  # what would be accepted


def test_a_bad_protocol_file_points_at_its_line_with_the_lines_around_it(tmp_path: Path) -> None:
    path, line = _broken_protocol(tmp_path, "width_us", "300000.0")
    result = prepare(_form(protocol_file=str(path)), NOW)
    assert isinstance(result, PlanFailure)
    assert result.field == "protocol_file"
    error = result.error
    assert (error.path, error.line, error.field) == (str(path), line, "delivery.width_us")
    numbers = [n for n, _ in result.excerpt]
    assert numbers == list(range(line - 2, line + 3))
    assert dict(result.excerpt)[line] == "width_us = 300000.0"


def test_a_geometry_the_protocol_refuses_lists_every_reason(tmp_path: Path) -> None:
    needles = tmp_path / "far.toml"
    needles.write_text(
        "[needles]\ndiameter_mm = 1.2\nactive_length_mm = 20.0\n\n"
        '[[needle]]\nid = "A"\nx_mm = 0.0\ny_mm = 0.0\n\n'
        '[[needle]]\nid = "B"\nx_mm = 45.0\ny_mm = 0.0\n\n'
        '[[needle]]\nid = "C"\nx_mm = 0.0\ny_mm = 40.0\n',
        encoding="utf-8",
    )
    result = prepare(_form(protocol="long-needles", needles=str(needles), drug_time="09:45"), NOW)
    assert isinstance(result, PlanFailure)
    assert isinstance(result.error, PlanRefused)
    assert result.field == "needles"  # where the needles stand is what the protocol refuses
    codes = [p.code for p in result.problems if p.blocking]
    assert codes.count("pair-too-far") == 3  # A-B 45 mm, A-C 40 mm, B-C 60 mm: all refused


def test_a_rate_the_protocol_does_not_allow_points_at_the_rate_field() -> None:
    result = prepare(_form(rate_hz=50.0), NOW)
    assert isinstance(result, PlanFailure) and result.field == "rate"
    assert isinstance(result.error, ProtocolError) and "5000" in str(result.error)
