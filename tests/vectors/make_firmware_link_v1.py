"""Generate tests/vectors/firmware_link_v1.json, the golden vectors of firmware link v1.

Deliberately independent of the production codec (drivers/link): the layouts
are typed in again from docs/firmware-link.md §2-§3 as plain struct formats,
COBS is a separate minimal implementation of the canonical algorithm, and the
CRC is zlib.crc32. A bug in the codec therefore cannot leak into the expected
bytes. The first vector must equal the example printed in §2 byte for byte.

The file is reviewed by hand and then frozen: re-running this script must
reproduce it exactly (a test checks that), and any change to the vectors is a
protocol change recorded in docs/firmware-link.md.

    python tests/vectors/make_firmware_link_v1.py          # rewrite the file
    python tests/vectors/make_firmware_link_v1.py --check  # exit 1 if it would change
"""

from __future__ import annotations

import json
import re
import struct
import sys
import zlib
from pathlib import Path
from typing import Any

OUT = Path(__file__).with_name("firmware_link_v1.json")

# ver_flags: version 1 in the high nibble; bit0 RESP, bit1 ACK_REQ, bit2 RETX.
CMD = 0x12  # command or acked event: reply awaited
RESP = 0x11  # reply
PLAIN = 0x10  # HEARTBEAT, STATUS: no reply
RETX_CMD = 0x16  # a retry of a command or acked event

SESSION = 0x5EC1
OTHER_SESSION = 0x5EC2
NONCE = 0x12345678
TOKEN = 0xC0FFEE01
SERIAL = "SIM-0001"

# Payload layouts from the message catalogue (docs/firmware-link.md §3), one
# (name, struct code) pair per field in wire order.
LAYOUTS: dict[str, list[tuple[str, str]]] = {
    "HELLO": [("version", "B"), ("rsv", "B"), ("host_max_payload", "H"), ("nonce", "I")],
    "HELLO_ACK": [
        ("version", "B"),
        ("rsv", "B"),
        ("session", "H"),
        ("nonce", "I"),
        ("fw_major", "B"),
        ("fw_minor", "B"),
        ("fw_patch", "H"),
        ("serial", "16s"),
        ("v_max_mv", "I"),
        ("i_max_ma", "I"),
        ("max_rate_hz", "I"),
        ("max_count", "H"),
        ("caps", "H"),
        ("fw_time_us", "Q"),
    ],
    "HEARTBEAT": [("host_view", "B"), ("rsv", "B"), ("last_fw_seq", "H"), ("host_mono_us", "Q")],
    "STATUS": [
        ("state", "B"),
        ("hv_stage", "B"),
        ("interlocks", "H"),
        ("faults", "I"),
        ("hv_bank_mv", "i"),
        ("last_host_seq", "H"),
        ("crc_errors", "H"),
        ("retx_seen", "H"),
        ("dropped", "H"),
        ("param_hash", "I"),
        ("fw_time_us", "Q"),
    ],
    "ACK": [("result", "B"), ("state", "B"), ("rsv", "H"), ("detail", "I")],
    "NAK": [("result", "B"), ("state", "B"), ("rsv", "H"), ("detail", "I")],
    "SET_PARAMS": [
        ("amplitude_mv", "I"),
        ("width_ns", "I"),
        ("count", "H"),
        ("options", "H"),
        ("period_us", "I"),
        ("i_limit_ma", "I"),
        ("v_tol_permille", "H"),
        ("ecg_delay_ms", "H"),
        ("electrode_a", "B"),
        ("electrode_b", "B"),
        ("polarity", "B"),
        ("rsv", "B"),
    ],
    "ARM_REQUEST": [("param_hash", "I")],
    "ARM_CONFIRM": [("token", "I"), ("param_hash", "I")],
    "FIRE": [("token", "I"), ("train_id", "I")],
    "ABORT": [("reason", "B")],
    "CLEAR_FAULT": [("code", "H")],
    "GET_TRAIN": [("train_id", "I")],
    "PULSE_SUMMARY": [
        ("train_id", "I"),
        ("pulse_idx", "H"),
        ("flags", "H"),
        ("t_start_us", "Q"),
        ("width_ns", "I"),
        ("v_peak_mv", "i"),
        ("v_mean_mv", "i"),
        ("i_peak_ma", "i"),
        ("i_mean_ma", "i"),
        ("charge_uc", "i"),
        ("energy_mj", "I"),
        ("r_to_pulse_us", "I"),
    ],
    "TRAIN_DONE": [
        ("train_id", "I"),
        ("n_requested", "H"),
        ("n_delivered", "H"),
        ("result", "B"),
        ("rsv", "B"),
        ("flags_or", "H"),
        ("withheld", "H"),
        ("waves_stored", "H"),
        ("t_end_us", "Q"),
    ],
    "GET_WAVE": [
        ("train_id", "I"),
        ("pulse_idx", "H"),
        ("channel", "B"),
        ("rsv", "B"),
        ("offset", "I"),
        ("max_samples", "H"),
    ],
    "ECG_EVENT": [
        ("train_id", "I"),
        ("kind", "B"),
        ("reason", "B"),
        ("rr_ms", "H"),
        ("t_r_us", "Q"),
        ("next_pulse", "H"),
        ("rsv", "H"),
    ],
    "FAULT": [
        ("code", "H"),
        ("latched", "B"),
        ("state_before", "B"),
        ("hv_mv", "i"),
        ("train_id", "I"),
        ("pulse_idx", "H"),
        ("detail", "H"),
        ("fw_time_us", "Q"),
    ],
}

TYPE_CODES = {
    "HELLO": 0x01,
    "HELLO_ACK": 0x02,
    "HEARTBEAT": 0x03,
    "STATUS": 0x04,
    "ACK": 0x05,
    "NAK": 0x06,
    "SET_PARAMS": 0x10,
    "ARM_REQUEST": 0x11,
    "ARM_CHALLENGE": 0x12,
    "ARM_CONFIRM": 0x13,
    "FIRE": 0x14,
    "ABORT": 0x15,
    "CLEAR_FAULT": 0x16,
    "GET_TRAIN": 0x17,
    "PULSE_SUMMARY": 0x20,
    "TRAIN_DONE": 0x21,
    "GET_WAVE": 0x22,
    "WAVE_CHUNK": 0x23,
    "ECG_EVENT": 0x24,
    "FAULT": 0x30,
}


def cobs(data: bytes) -> bytes:
    """Canonical COBS (Cheshire and Baker): a block ending exactly at 254 bytes and
    at the end of the data is not followed by an empty block."""
    out = bytearray()
    rest = data
    while True:
        zero = rest.find(0)
        run = rest if zero < 0 else rest[:zero]
        if len(run) >= 254:
            out.append(255)
            out += run[:254]
            rest = rest[254:]
            if not rest:
                return bytes(out)
            continue
        out.append(len(run) + 1)
        out += run
        if zero < 0:
            return bytes(out)
        rest = rest[zero + 1 :]


def pack_fields(type_name: str, fields: dict[str, Any]) -> bytes:
    layout = LAYOUTS[type_name]
    if set(fields) != {name for name, _ in layout}:
        raise SystemExit(f"{type_name}: fields {sorted(fields)} do not match the layout")
    values = [
        fields[name].encode("ascii") if code == "16s" else fields[name] for name, code in layout
    ]
    return struct.pack("<" + "".join(code for _, code in layout), *values)


def payload_of(type_name: str, fields: dict[str, Any]) -> bytes:
    if type_name == "ARM_CHALLENGE":
        head = struct.pack("<III", fields["token"], fields["expires_in_ms"], fields["param_hash"])
        return head + pack_fields("SET_PARAMS", fields["params"])
    if type_name == "WAVE_CHUNK":
        samples = fields["samples"]
        head = struct.pack(
            "<IHBBIIIiHH",
            fields["train_id"],
            fields["pulse_idx"],
            fields["channel"],
            fields["format"],
            fields["offset"],
            fields["total"],
            fields["dt_ns"],
            fields["lsb"],
            len(samples),
            0,
        )
        return head + struct.pack(f"<{len(samples)}h", *samples)
    return pack_fields(type_name, fields)


def frame_bytes(
    ver_flags: int, msg_type: int, session: int, seq: int, ref_seq: int, payload: bytes
) -> bytes:
    body = struct.pack("<BBHHHH", ver_flags, msg_type, session, seq, ref_seq, len(payload))
    body += payload
    return body + struct.pack("<I", zlib.crc32(body))


def hexs(data: bytes) -> str:
    return " ".join(f"{b:02X}" for b in data)


class Book:
    """Collects entries in order and checks names are unique."""

    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []
        self.frames: dict[str, bytes] = {}

    def frame(
        self,
        name: str,
        type_name: str,
        direction: str,
        ver_flags: int,
        seq: int,
        fields: dict[str, Any],
        *,
        ref_seq: int = 0,
        session: int = SESSION,
        note: str = "",
        reply: str | None = None,
    ) -> bytes:
        payload = payload_of(type_name, fields)
        raw = frame_bytes(ver_flags, TYPE_CODES[type_name], session, seq, ref_seq, payload)
        entry: dict[str, Any] = {
            "name": name,
            "type": type_name,
            "direction": direction,
            "header": {
                "ver_flags": ver_flags,
                "msg_type": TYPE_CODES[type_name],
                "session": session,
                "seq": seq,
                "ref_seq": ref_seq,
                "len": len(payload),
            },
            "fields": fields,
        }
        if reply is not None:
            entry["reply"] = reply
        if note:
            entry["note"] = note
        entry["crc"] = f"{zlib.crc32(raw[:-4]):08X}"
        entry["frame_hex"] = hexs(raw)
        entry["wire_hex"] = hexs(cobs(raw) + b"\x00")
        self.add(entry)
        self.frames[name] = raw
        return raw

    def negative(
        self, name: str, wire: bytes, expect: dict[str, Any], note: str, frame: bytes | None = None
    ) -> None:
        entry: dict[str, Any] = {"name": name, "type": "NEGATIVE", "note": note}
        if frame is not None:
            entry["frame_hex"] = hexs(frame)
        entry["wire_hex"] = hexs(wire)
        entry["expect"] = expect
        self.add(entry)

    def add(self, entry: dict[str, Any]) -> None:
        if any(e["name"] == entry["name"] for e in self.entries):
            raise SystemExit(f"duplicate vector name {entry['name']}")
        self.entries.append(entry)


def build() -> dict[str, Any]:
    book = Book()
    params = {
        "amplitude_mv": 1_000_000,
        "width_ns": 100_000,
        "count": 8,
        "options": 0,
        "period_us": 1_000_000,
        "i_limit_ma": 20_000,
        "v_tol_permille": 100,
        "ecg_delay_ms": 50,
        "electrode_a": 0,
        "electrode_b": 1,
        "polarity": 0,
        "rsv": 0,
    }
    param_hash = zlib.crc32(pack_fields("SET_PARAMS", params))

    # The handshake, exactly as printed in §2.
    book.frame(
        "hello",
        "HELLO",
        "H2F",
        CMD,
        0,
        {"version": 1, "rsv": 0, "host_max_payload": 1024, "nonce": NONCE},
        session=0,
        reply="hello_ack",
        note="the example of docs/firmware-link.md §2",
    )
    book.frame(
        "hello_ack",
        "HELLO_ACK",
        "F2H",
        RESP,
        0,
        {
            "version": 1,
            "rsv": 0,
            "session": SESSION,
            "nonce": NONCE,
            "fw_major": 1,
            "fw_minor": 0,
            "fw_patch": 3,
            "serial": SERIAL,
            "v_max_mv": 3_000_000,
            "i_max_ma": 50_000,
            "max_rate_hz": 5000,
            "max_count": 1000,
            "caps": 0x0003,
            "fw_time_us": 1_234_567,
        },
        note="header session is the new session id; serial is NUL-padded ASCII",
    )
    book.frame(
        "status_idle",
        "STATUS",
        "F2H",
        PLAIN,
        1,
        {
            "state": 1,
            "hv_stage": 0,
            "interlocks": 0x001E,
            "faults": 0,
            "hv_bank_mv": 120,
            "last_host_seq": 0,
            "crc_errors": 0,
            "retx_seen": 0,
            "dropped": 0,
            "param_hash": 0,
            "fw_time_us": 1_300_000,
        },
        note="IDLE, footswitch released, other interlocks closed",
    )
    book.frame(
        "heartbeat",
        "HEARTBEAT",
        "H2F",
        PLAIN,
        1,
        {"host_view": 1, "rsv": 0, "last_fw_seq": 1, "host_mono_us": 5_000_000},
    )
    book.frame(
        "set_params",
        "SET_PARAMS",
        "H2F",
        CMD,
        2,
        params,
        reply="ack_set_params",
        note="8 x 100 us at 1000 V, 1 Hz, pair 0-1; 28 bytes in this project",
    )
    book.frame(
        "ack_set_params",
        "ACK",
        "F2H",
        RESP,
        2,
        {"result": 0, "state": 1, "rsv": 0, "detail": param_hash},
        ref_seq=2,
        note="detail = param_hash = CRC-32 of the 28 SET_PARAMS bytes",
    )
    book.frame(
        "arm_request",
        "ARM_REQUEST",
        "H2F",
        CMD,
        3,
        {"param_hash": param_hash},
        reply="arm_challenge",
    )
    book.frame(
        "arm_challenge",
        "ARM_CHALLENGE",
        "F2H",
        RESP,
        3,
        {"token": TOKEN, "expires_in_ms": 15_000, "param_hash": param_hash, "params": params},
        ref_seq=3,
        note="12 + 28 bytes: the parameters as the firmware holds them",
    )
    book.frame(
        "arm_confirm",
        "ARM_CONFIRM",
        "H2F",
        CMD,
        4,
        {"token": TOKEN, "param_hash": param_hash},
        reply="ack_arm_confirm",
    )
    book.frame(
        "ack_arm_confirm",
        "ACK",
        "F2H",
        RESP,
        4,
        {"result": 0, "state": 2, "rsv": 0, "detail": 0},
        ref_seq=4,
        note="charging",
    )
    fire = book.frame(
        "fire",
        "FIRE",
        "H2F",
        CMD,
        5,
        {"token": TOKEN, "train_id": 1},
        reply="ack_fire",
    )
    book.frame(
        "ack_fire",
        "ACK",
        "F2H",
        RESP,
        5,
        {"result": 1, "state": 4, "rsv": 0, "detail": 1},
        ref_seq=5,
        note="IN_PROGRESS, detail = train_id; TRAIN_DONE follows",
    )
    pulse = book.frame(
        "pulse_summary",
        "PULSE_SUMMARY",
        "F2H",
        CMD,
        6,
        {
            "train_id": 1,
            "pulse_idx": 0,
            "flags": 0,
            "t_start_us": 2_000_000,
            "width_ns": 100_040,
            "v_peak_mv": 1_012_000,
            "v_mean_mv": 998_500,
            "i_peak_ma": 4_210,
            "i_mean_ma": 3_950,
            "charge_uc": 395,
            "energy_mj": 394,
            "r_to_pulse_us": 0xFFFFFFFF,
        },
        reply="ack_pulse_summary",
        note="acked event; r_to_pulse all ones: not ECG-gated",
    )
    book.frame(
        "ack_pulse_summary",
        "ACK",
        "H2F",
        RESP,
        6,
        {"result": 0, "state": 4, "rsv": 0, "detail": 0},
        ref_seq=6,
        note="the host acknowledges an event; state = the host's view",
    )
    book.frame(
        "pulse_summary_flagged",
        "PULSE_SUMMARY",
        "F2H",
        CMD,
        7,
        {
            "train_id": 2,
            "pulse_idx": 3,
            "flags": 0x0003,
            "t_start_us": 9_000_123,
            "width_ns": 99_960,
            "v_peak_mv": 1_003_000,
            "v_mean_mv": -850_000,
            "i_peak_ma": -21_500,
            "i_mean_ma": -20_100,
            "charge_uc": -2_010,
            "energy_mj": 1_706,
            "r_to_pulse_us": 50_012,
        },
        note="OC and UV set, negative values (reversed polarity), ECG-gated",
    )
    book.frame(
        "ecg_event",
        "ECG_EVENT",
        "F2H",
        CMD,
        8,
        {
            "train_id": 2,
            "kind": 1,
            "reason": 1,
            "rr_ms": 612,
            "t_r_us": 8_950_000,
            "next_pulse": 4,
            "rsv": 0,
        },
        note="WITHHELD, RR out of band",
    )
    book.frame(
        "train_done",
        "TRAIN_DONE",
        "F2H",
        CMD,
        9,
        {
            "train_id": 1,
            "n_requested": 8,
            "n_delivered": 8,
            "result": 0,
            "rsv": 0,
            "flags_or": 0,
            "withheld": 0,
            "waves_stored": 8,
            "t_end_us": 9_100_000,
        },
        note="acked event",
    )
    book.frame(
        "get_wave",
        "GET_WAVE",
        "H2F",
        CMD,
        7,
        {
            "train_id": 1,
            "pulse_idx": 0,
            "channel": 0,
            "rsv": 0,
            "offset": 0,
            "max_samples": 498,
        },
        reply="wave_chunk",
    )
    book.frame(
        "wave_chunk",
        "WAVE_CHUNK",
        "F2H",
        RESP,
        10,
        {
            "train_id": 1,
            "pulse_idx": 0,
            "channel": 0,
            "format": 0,
            "offset": 0,
            "total": 8,
            "dt_ns": 100,
            "lsb": 125_000,
            "samples": [-3, 0, 812, 8000, 7996, 7990, 40, -1],
        },
        ref_seq=7,
        note="a whole 8-sample record; lsb 0.125 V per count",
    )
    book.frame(
        "wave_chunk_max",
        "WAVE_CHUNK",
        "F2H",
        RESP,
        11,
        {
            "train_id": 1,
            "pulse_idx": 7,
            "channel": 1,
            "format": 0,
            "offset": 498,
            "total": 1200,
            "dt_ns": 100,
            "lsb": 2_500,
            # Zero-free samples, so COBS has to split 254-byte runs mid-frame.
            "samples": [0x0101 * (1 + k % 97) for k in range(498)],
        },
        ref_seq=7,
        note="498 samples: payload 1024 bytes, the largest legal frame",
    )
    book.frame(
        "get_train",
        "GET_TRAIN",
        "H2F",
        CMD,
        8,
        {"train_id": 1},
        reply="train_done_reply",
    )
    book.frame(
        "train_done_reply",
        "TRAIN_DONE",
        "F2H",
        RESP,
        12,
        {
            "train_id": 1,
            "n_requested": 8,
            "n_delivered": 8,
            "result": 0,
            "rsv": 0,
            "flags_or": 0,
            "withheld": 0,
            "waves_stored": 8,
            "t_end_us": 9_100_000,
        },
        ref_seq=8,
        note="TRAIN_DONE as the reply to GET_TRAIN: RESP set, no ACK_REQ",
    )
    book.frame(
        "get_train_unknown",
        "GET_TRAIN",
        "H2F",
        CMD,
        9,
        {"train_id": 99},
        reply="nak_bad_param",
    )
    book.frame(
        "nak_bad_param",
        "NAK",
        "F2H",
        RESP,
        13,
        {"result": 17, "state": 1, "rsv": 0, "detail": 0},
        ref_seq=9,
        note="BAD_PARAM: no record of that train",
    )
    book.frame(
        "fault",
        "FAULT",
        "F2H",
        CMD,
        14,
        {
            "code": 6,
            "latched": 1,
            "state_before": 4,
            "hv_mv": 985_000,
            "train_id": 1,
            "pulse_idx": 4,
            "detail": 0,
            "fw_time_us": 6_000_250,
        },
        note="OVERCURRENT during pulse 4 (0-based), latched",
    )
    book.frame(
        "clear_fault",
        "CLEAR_FAULT",
        "H2F",
        CMD,
        10,
        {"code": 6},
        reply="ack_clear_fault",
    )
    book.frame(
        "ack_clear_fault",
        "ACK",
        "F2H",
        RESP,
        15,
        {"result": 0, "state": 1, "rsv": 0, "detail": 0},
        ref_seq=10,
    )
    book.frame(
        "fire_bad_state",
        "FIRE",
        "H2F",
        CMD,
        11,
        {"token": TOKEN, "train_id": 2},
        reply="nak_bad_state",
        note="FIRE while IDLE",
    )
    book.frame(
        "nak_bad_state",
        "NAK",
        "F2H",
        RESP,
        16,
        {"result": 16, "state": 1, "rsv": 0, "detail": 0},
        ref_seq=11,
    )
    book.frame(
        "abort",
        "ABORT",
        "H2F",
        CMD,
        12,
        {"reason": 0},
        reply="ack_abort",
    )
    book.frame(
        "ack_abort",
        "ACK",
        "F2H",
        RESP,
        17,
        {"result": 0, "state": 5, "rsv": 0, "detail": 0},
        ref_seq=12,
    )
    book.frame(
        "abort_wrong_session",
        "ABORT",
        "H2F",
        CMD,
        13,
        {"reason": 3},
        session=OTHER_SESSION,
        note="ABORT is honoured even with a wrong session id (valid CRC required)",
    )

    # A frame whose last zero-free run (rsv u16 = 0 of the header, then samples
    # and CRC) is exactly 254 bytes: canonical COBS ends with a 0xFF block and
    # no empty block after it. Sample 0 is tuned until the CRC has no zero byte.
    for tweak in range(256):
        samples = [0x1111 + tweak] + [0x2121 + 0x0101 * (k % 90) for k in range(1, 125)]
        raw = frame_bytes(
            RESP,
            TYPE_CODES["WAVE_CHUNK"],
            SESSION,
            18,
            14,
            payload_of(
                "WAVE_CHUNK",
                {
                    "train_id": 1,
                    "pulse_idx": 1,
                    "channel": 0,
                    "format": 0,
                    "offset": 0,
                    "total": 125,
                    "dt_ns": 200,
                    "lsb": 125_000,
                    "samples": samples,
                },
            ),
        )
        if 0 not in raw[-254:] and raw[-255] == 0:
            break
    else:
        raise SystemExit("no tweak gives a zero-free CRC")
    book.frame(
        "wave_chunk_254_run",
        "WAVE_CHUNK",
        "F2H",
        RESP,
        18,
        {
            "train_id": 1,
            "pulse_idx": 1,
            "channel": 0,
            "format": 0,
            "offset": 0,
            "total": 125,
            "dt_ns": 200,
            "lsb": 125_000,
            "samples": samples,
        },
        ref_seq=14,
        note="the frame ends in a 254-byte zero-free run: wire ends FF <254 bytes> 00",
    )

    # Raw COBS of 254 non-zero bytes (no frame): one full block, nothing after it.
    run = bytes(range(1, 255))
    book.add(
        {
            "name": "cobs_254_run",
            "type": "COBS",
            "note": "254 zero-free bytes encode as FF + the bytes, with no trailing empty block",
            "data_hex": hexs(run),
            "wire_hex": hexs(cobs(run) + b"\x00"),
        }
    )
    book.add(
        {
            "name": "crc_check",
            "type": "CRC",
            "note": "CRC-32/IEEE check value",
            "data_ascii": "123456789",
            "crc": f"{zlib.crc32(b'123456789'):08X}",
        }
    )

    # Negatives. "reject" names the decoder's counter; "drop" a link-layer drop.
    hello = book.frames["hello"]
    bad = bytearray(hello)
    bad[-1] ^= 0x01
    book.negative(
        "bad_crc",
        cobs(bytes(bad)) + b"\x00",
        {"reject": "bad_crc"},
        "hello with the last CRC byte flipped",
        frame=bytes(bad),
    )
    wire = cobs(hello)
    book.negative(
        "truncated_wire",
        wire[:-2] + b"\x00",
        {"reject": "bad_cobs"},
        "hello wire with its last two bytes lost: the COBS block overruns",
    )
    set_params = book.frames["set_params"]
    book.negative(
        "truncated_frame",
        cobs(set_params[:-1]) + b"\x00",
        {"reject": "bad_length"},
        "set_params frame one byte short, re-encoded: valid COBS, length != 14 + len",
        frame=set_params[:-1],
    )
    book.negative(
        "too_short",
        cobs(bytes([0x12, 0x01, 0, 0])) + b"\x00",
        {"reject": "bad_length"},
        "four bytes cannot hold a header and a CRC",
    )
    too_long = frame_bytes(RESP, TYPE_CODES["WAVE_CHUNK"], SESSION, 19, 15, bytes([0xAA]) * 1025)
    book.negative(
        "oversize_wire",
        cobs(too_long) + b"\x00",
        {"reject": "oversize"},
        f"payload of 1025 zero-free bytes: {len(cobs(too_long)) + 1} bytes on the wire, limit 1044",
        frame=too_long,
    )
    zeros = frame_bytes(RESP, TYPE_CODES["WAVE_CHUNK"], SESSION, 20, 16, bytes(1025))
    book.negative(
        "oversize_len",
        cobs(zeros) + b"\x00",
        {"reject": "oversize"},
        "len = 1025 with a valid CRC; fits in 1041 wire bytes but exceeds the 1024 payload",
        frame=zeros,
    )
    book.negative(
        "oversize_run",
        bytes([0x41]) * 1100 + b"\x00",
        {"reject": "oversize"},
        "1100 bytes without a delimiter are discarded",
    )
    v2 = frame_bytes(0x22, TYPE_CODES["HELLO"], 0, 0, 0, hello[10:-4])
    book.negative(
        "wrong_version",
        cobs(v2) + b"\x00",
        {"reject": "bad_version"},
        "hello with version 2 in ver_flags, valid CRC",
        frame=v2,
    )
    wrong = frame_bytes(CMD, TYPE_CODES["SET_PARAMS"], OTHER_SESSION, 21, 0, set_params[10:-4])
    book.negative(
        "wrong_session",
        cobs(wrong) + b"\x00",
        {"drop": "wrong_session", "session": SESSION, "reply": None},
        "set_params under session 0x5EC2 while 0x5EC1 is open: dropped, counted, no reply",
        frame=wrong,
    )
    stale = frame_bytes(RESP, TYPE_CODES["ACK"], SESSION, 22, 4, book.frames["ack_fire"][10:-4])
    book.negative(
        "stale_reply",
        cobs(stale) + b"\x00",
        {"drop": "stale", "awaiting_ref_seq": 5},
        "an ACK answering seq 4 while the host awaits the reply to seq 5: dropped, counted",
        frame=stale,
    )
    retx_fire = bytearray(fire)
    retx_fire[0] = RETX_CMD
    retx_fire[-4:] = struct.pack("<I", zlib.crc32(bytes(retx_fire[:-4])))
    book.negative(
        "retx_duplicate_fire",
        cobs(bytes(retx_fire)) + b"\x00",
        {"duplicate_of": "fire", "reply": "ack_fire", "executed": False},
        "FIRE resent with the same seq and RETX: answered from the reply cache, not run again",
        frame=bytes(retx_fire),
    )
    retx_pulse = bytearray(pulse)
    retx_pulse[0] = RETX_CMD
    retx_pulse[-4:] = struct.pack("<I", zlib.crc32(bytes(retx_pulse[:-4])))
    book.negative(
        "retx_duplicate_event",
        cobs(bytes(retx_pulse)) + b"\x00",
        {"duplicate_of": "pulse_summary", "ack": True, "delivered": False},
        "PULSE_SUMMARY resent (same firmware seq, RETX): acknowledged again, processed once",
        frame=bytes(retx_pulse),
    )

    first = book.entries[0]
    spec_frame = "12 01 00 00 00 00 00 00 08 00 01 00 00 04 78 56 34 12 F1 8D 1E 6F"
    spec_wire = "03 12 01 01 01 01 01 01 02 08 02 01 01 0A 04 78 56 34 12 F1 8D 1E 6F 00"
    if first["frame_hex"] != spec_frame or first["wire_hex"] != spec_wire:
        raise SystemExit("the first vector differs from the example in §2")
    if f"{zlib.crc32(b'123456789'):08X}" != "CBF43926":
        raise SystemExit("zlib.crc32 is not CRC-32/IEEE")

    return {
        "protocol": "pulsehost firmware link",
        "version": 1,
        "spec": "docs/firmware-link.md",
        "generator": "tests/vectors/make_firmware_link_v1.py",
        "session": SESSION,
        "hex": "frame_hex is header + payload + CRC; wire_hex is COBS(frame) + 00",
        "directions": {"H2F": "host to firmware", "F2H": "firmware to host"},
        "vectors": book.entries,
    }


def render() -> str:
    text = json.dumps(build(), indent=1, ensure_ascii=False)
    # One line per list of numbers (the samples), so the file stays readable.
    text = re.sub(r"\[\s*(-?\d+(?:,\s*-?\d+)*)\s*\]", _one_line, text)
    return text + "\n"


def _one_line(match: re.Match[str]) -> str:
    return "[" + ", ".join(match.group(1).split()).replace(",,", ",") + "]"


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        current = OUT.read_text(encoding="utf-8") if OUT.exists() else ""
        if current != text:
            print(f"{OUT} differs from what the generator produces", file=sys.stderr)
            return 1
        return 0
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT} ({len(json.loads(text)['vectors'])} vectors)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
