"""`pulsehost devices`: arguments, table and JSON output."""

from __future__ import annotations

import json

import pytest

import drivers.discovery
from drivers.discovery import Discovery, Found
from drivers.values import Identity
from pulsehost.cli.main import main

FOUND = Discovery(
    devices=(
        Found(
            kind="serial",
            address="/dev/ttyACM0",
            description="pulsehost generator [rev B]",
            usb_id="1209:5050",
            serial_number="G-17",
            firmware_link=True,
            identity=Identity("pulse generator firmware", "firmware link v1", "G-17", "1.0.3", "x"),
        ),
        Found(kind="serial", address="/dev/ttyS0", note="not a pulsehost generator: not queried"),
        Found(kind="visa", address="TCPIP::10.0.0.5::inst0::INSTR", note="no answer"),
    ),
    problems=("VISA resources could not be listed: nope",),
)


@pytest.fixture
def fake_discover(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, object]]:
    calls: list[dict[str, object]] = []

    def discover(**kwargs: object) -> Discovery:
        calls.append(kwargs)
        return FOUND

    monkeypatch.setattr(drivers.discovery, "discover", discover)
    return calls


def test_json_document(fake_discover, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["devices", "--json", "--identify", "--timeout", "0.5"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert fake_discover == [{"identify": True, "timeout_s": 0.5, "link_usb_ids": []}]
    assert document["format"] == "pulsehost-devices/1"
    assert document["problems"] == ["VISA resources could not be listed: nope"]
    first, second, third = document["devices"]
    assert first == {
        "kind": "serial",
        "address": "/dev/ttyACM0",
        "description": "pulsehost generator [rev B]",
        "usb_id": "1209:5050",
        "serial_number": "G-17",
        "firmware_link": True,
        "identity": {
            "maker": "pulse generator firmware",
            "model": "firmware link v1",
            "serial": "G-17",
            "firmware": "1.0.3",
        },
        "note": None,
    }
    assert second["identity"] is None and second["usb_id"] is None
    assert third["note"] == "no answer"


def test_table(
    fake_discover, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # one row per device, unwrapped
    assert main(["devices", "--identify", "--link-usb", "2341:0043"]) == 0
    out, err = capsys.readouterr()
    assert fake_discover[0]["link_usb_ids"] == ["2341:0043"]
    assert "/dev/ttyACM0" in out and "1209:5050" in out
    assert "serial G-17, firmware 1.0.3" in out
    assert "(not a pulsehost generator: not queried)" in out
    assert "TCPIP::10.0.0.5::inst0::INSTR" in out
    assert "note: VISA resources could not be listed" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["devices", "--timeout", "0"], "--timeout 0"),
        (["devices", "--timeout", "100"], "at most 60"),
        (["devices", "--link-usb", "2341-0043"], "four hex digits"),
    ],
)
def test_bad_arguments_are_one_line_and_exit_2(
    fake_discover, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("pulsehost devices: error:") and message in err
    assert fake_discover == []


@pytest.mark.timeout(30)
def test_real_listing_gives_a_json_document(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["devices", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert set(document) == {"format", "devices", "problems"}
    for device in document["devices"]:
        assert device["kind"] in ("serial", "visa")
        assert device["identity"] is None
