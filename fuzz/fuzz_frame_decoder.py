"""Coverage-guided fuzzing of the firmware-link frame decoder with atheris (libFuzzer).

Everything the generator sends reaches the host through `FrameDecoder` and
`decode_payload`; this harness feeds them arbitrary byte streams and checks
that they only ever yield well-formed frames, count what they drop, and
raise nothing but the codec's own errors.

atheris is not a dependency of pulsehost. Install it into the project's
virtualenv (Linux or macOS, CPython 3.8-3.11 wheels; elsewhere it builds
against clang's libFuzzer):

    .venv/bin/pip install atheris
    .venv/bin/python fuzz/fuzz_frame_decoder.py --write-seeds fuzz/corpus
    .venv/bin/python fuzz/fuzz_frame_decoder.py fuzz/corpus -max_total_time=600

Any other libFuzzer option may follow (`-jobs=2`, `-dict=...`, `-runs=N`).
A crash is written as `crash-<sha1>`; replay it with
`python fuzz/fuzz_frame_decoder.py crash-<sha1>`.

Without atheris the module still imports, and `check(data)` (the property
the fuzzer drives) can be called directly; the hypothesis tests in
tests/reliability/ do so.
"""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere in the checkout
    sys.path.insert(0, str(ROOT))

from drivers.link.frame import MAX_WIRE, Frame, FrameDecoder, to_wire  # noqa: E402
from drivers.link.messages import PAYLOAD_CLASSES, PayloadError, decode_payload  # noqa: E402

VECTORS = ROOT / "tests" / "vectors" / "firmware_link_v1.json"
INSTALL_HINT = (
    "atheris is not installed; it is not a pulsehost dependency. Install it with "
    "`.venv/bin/pip install atheris` (see the docstring of fuzz/fuzz_frame_decoder.py), "
    "or run the hypothesis tests in tests/reliability/ instead."
)


def check(data: bytes) -> None:
    """The property: any stream decodes to valid frames, the same in any chunking.

    The first byte picks a chunk size, so the fuzzer explores how the serial
    port happens to split a stream as well as what the stream holds.
    """
    if not data:
        return
    size = data[0] % 17 + 1
    stream = data[1:]
    whole = FrameDecoder()
    frames = list(whole.feed(stream))
    chunked = FrameDecoder()
    pieces = [f for i in range(0, len(stream), size) for f in chunked.feed(stream[i : i + size])]
    if pieces != frames or chunked.rejected != whole.rejected:
        raise AssertionError(f"chunks of {size} decode differently from the whole stream")
    for frame in frames:
        if not isinstance(frame, Frame):
            raise AssertionError(f"the decoder yielded {type(frame).__name__}")
        wire = to_wire(frame)
        if len(wire) > MAX_WIRE or wire[:-1] not in stream:
            raise AssertionError(f"frame {frame} is not a frame of the stream")
        if frame.msg_type in PAYLOAD_CLASSES:
            # A payload error is counted by the link layer; any other exception is a finding.
            with contextlib.suppress(PayloadError):
                decode_payload(frame.msg_type, frame.payload)


def seeds() -> list[bytes]:
    """The golden vectors' wire bytes (the negative ones too), with a chunk-size byte in front."""
    vectors = json.loads(VECTORS.read_text(encoding="utf-8"))["vectors"]
    wires = [v["wire_hex"] for v in vectors if "wire_hex" in v]
    return [bytes([k]) + bytes.fromhex(wire) for k, wire in enumerate(wires)]


def write_seeds(folder: Path) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    items = seeds()
    for number, seed in enumerate(items):
        (folder / f"vector-{number:03d}").write_bytes(seed)
    stream = b"".join(items)
    (folder / "all-vectors").write_bytes(b"\x07" + stream)
    return len(items) + 1


def main(argv: list[str]) -> int:
    if len(argv) == 3 and argv[1] == "--write-seeds":
        written = write_seeds(Path(argv[2]))
        print(f"{written} seed inputs written to {argv[2]}")
        return 0
    try:
        import atheris  # type: ignore[import-not-found]
    except ImportError:
        print(INSTALL_HINT, file=sys.stderr)
        return 2
    atheris.instrument_all()
    atheris.Setup(argv, check)
    atheris.Fuzz()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
