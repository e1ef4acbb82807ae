"""RawTrain: stacking captures, scaling, clip codes and refusals."""

from __future__ import annotations

import numpy as np
import pytest
from train_synth import TrainSpec, synth_train, uniform

from drivers.values import Capture, Waveform
from pulsehost.checks import RawChannel, RawTrain, default_clip_codes


def _spec(n: int = 3) -> TrainSpec:
    return TrainSpec(uniform(n))


def test_from_captures_stacks_codes_scaling_and_time_base() -> None:
    synth = synth_train(_spec())
    raw = RawTrain.from_captures(synth.captures)
    first = synth.captures[0].voltage
    assert raw.voltage.codes.shape == (3, first.codes.size)
    assert raw.voltage.codes.dtype == np.uint8
    for k, capture in enumerate(synth.captures):
        np.testing.assert_array_equal(raw.voltage.codes[k], capture.voltage.codes)
        np.testing.assert_array_equal(raw.current.codes[k], capture.current.codes)
    assert raw.dt_s == first.dt_s
    np.testing.assert_allclose(raw.t0_s, first.t0_s)
    assert raw.time_tags_s is not None
    np.testing.assert_allclose(raw.time_tags_s, synth.tags_s)
    np.testing.assert_array_equal(raw.slots, [0, 1, 2])
    assert (raw.voltage.clip_low, raw.voltage.clip_high) == (0x01, 0xFF)


def test_values_match_the_waveforms_own_values() -> None:
    synth = synth_train(_spec(1))
    raw = RawTrain.from_captures(synth.captures)
    wave = synth.captures[0].voltage
    np.testing.assert_allclose(
        raw.voltage.value_of(wave.codes[None, :].astype(float))[0],
        wave.values,
        rtol=1e-6,
        atol=1e-3,
    )
    codes = raw.voltage.code_of(np.array([wave.values[0]]))
    assert codes[0] == pytest.approx(wave.codes[0], abs=1e-3)


def test_untimed_captures_have_no_time_tags_and_slots_can_be_given() -> None:
    synth = synth_train(_spec())
    raw = RawTrain.from_captures(synth.captures, slots=[0, 2, 5], timed=False)
    assert raw.time_tags_s is None
    np.testing.assert_array_equal(raw.slots, [0, 2, 5])


def test_captures_of_different_length_are_refused_with_the_capture_number() -> None:
    synth = synth_train(_spec(2))
    short = synth.captures[1]
    wave = short.current
    cut = Waveform(
        wave.quantity,
        wave.units,
        wave.t0_s,
        wave.dt_s,
        wave.values[:-5],
        wave.codes[:-5],
        wave.clipped,
        wave.scale,
        wave.offset,
        wave.reference,
    )
    bad = [synth.captures[0], Capture(1, short.time_tag_s, short.voltage, cut)]
    with pytest.raises(ValueError, match="capture 1 current"):
        RawTrain.from_captures(bad)


def test_nothing_to_measure_is_refused() -> None:
    with pytest.raises(ValueError, match="no captures"):
        RawTrain.from_captures([])


def test_big_endian_words_are_read_as_numbers() -> None:
    codes = np.array([[0x0102, 0x8000]], dtype=">u2")
    channel = RawChannel(codes, scale=1.0, offset=0.0, reference=0.0)
    assert channel.codes.dtype == np.dtype("=u2")
    np.testing.assert_array_equal(channel.codes, [[0x0102, 0x8000]])


def test_float_codes_and_bad_scales_are_refused() -> None:
    with pytest.raises(ValueError, match="integer"):
        RawChannel(np.zeros((2, 10)), scale=1.0, offset=0.0, reference=0.0)
    with pytest.raises(ValueError, match="scale must be positive"):
        RawChannel(np.zeros((2, 10), np.uint8), scale=-1.0, offset=0.0, reference=0.0)
    with pytest.raises(ValueError, match="clip codes"):
        RawChannel(np.zeros((2, 10), np.uint8), 1.0, 0.0, 0.0, clip_codes=(200, 100))


def test_slots_must_increase() -> None:
    channel = RawChannel(np.zeros((2, 10), np.uint8), 1.0, 0.0, 0.0)
    with pytest.raises(ValueError, match="increase"):
        RawTrain(channel, channel, dt_s=1e-8, t0_s=0.0, slots=[1, 1])


@pytest.mark.parametrize(
    ("dtype", "codes"),
    [(np.uint8, (0x01, 0xFF)), (np.uint16, (0x0100, 0xFF00)), (np.int16, (-32768, 32767))],
)
def test_default_clip_codes_follow_the_format(dtype: type, codes: tuple[int, int]) -> None:
    assert default_clip_codes(np.dtype(dtype)) == codes
