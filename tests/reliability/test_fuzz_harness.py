"""The atheris harness for the frame decoder works without atheris: its property, its seeds,
and a clear word on how to install the fuzzer."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drivers.link.frame import FrameDecoder

HARNESS = Path(__file__).resolve().parents[2] / "fuzz" / "fuzz_frame_decoder.py"

pytestmark = pytest.mark.timeout(120)


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fuzz_frame_decoder", HARNESS)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


harness = _load()


def test_the_seeds_are_the_golden_vectors_and_pass_the_property() -> None:
    seeds = harness.seeds()
    assert len(seeds) >= 10
    whole = 0
    for seed in seeds:
        harness.check(seed)
        whole += len(list(FrameDecoder().feed(seed[1:]))) == 1
    assert whole >= 10  # most are one good frame; the negative vectors are rejected


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.one_of(
        st.binary(max_size=600),
        st.lists(st.sampled_from(harness.seeds()), max_size=6).map(b"".join),
    )
)
def test_the_property_holds_on_arbitrary_and_seeded_streams(data: bytes) -> None:
    harness.check(data)


def test_the_property_fails_on_a_frame_that_is_not_in_the_stream(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seed = harness.seeds()[0]
    harness.check(seed)
    monkeypatch.setattr(harness, "to_wire", lambda frame: b"\x01not-in-the-stream\x00")
    with pytest.raises(AssertionError, match="not a frame of the stream"):
        harness.check(seed)


def test_without_atheris_it_says_how_to_install_it(tmp_path: Path) -> None:
    if importlib.util.find_spec("atheris") is not None:
        pytest.skip("atheris is installed here; the harness would start fuzzing")
    done = subprocess.run(
        [sys.executable, str(HARNESS), "-runs=1"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert "pip install atheris" in done.stderr
    assert "Traceback" not in done.stderr


def test_write_seeds_makes_a_corpus(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    done = subprocess.run(
        [sys.executable, str(HARNESS), "--write-seeds", str(corpus)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    written = sorted(p.name for p in corpus.iterdir())
    assert len(written) == len(harness.seeds()) + 1
    for path in corpus.iterdir():
        harness.check(path.read_bytes())
