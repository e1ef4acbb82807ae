"""The firmware's small parts on their own: event queue, reply cache, clocks, HV bank, limits."""

from __future__ import annotations

import dataclasses

import pytest

from drivers.link.frame import FLAG_RETX, Frame
from drivers.link.messages import Result
from simulator.firmware.clock import NominalClock
from simulator.firmware.device import DeviceInfo, Timings
from simulator.firmware.event_queue import EventQueue
from simulator.firmware.hv_bank import HvBank
from simulator.firmware.params import check_params
from simulator.firmware.reply_cache import ReplyCache
from tests.simulator.firmware.firmware_link_client import params


def test_events_go_one_at_a_time_in_order_and_are_retried() -> None:
    queue = EventQueue(retry_s=0.05, sends=4)
    queue.push(0x20, b"a")
    queue.push(0x21, b"b")
    assert queue.due(0.0, next_seq=10) == (10, 0x20, b"a", 0)
    assert queue.due(0.01, next_seq=11) is None  # "b" waits for "a"
    assert queue.due(0.05, next_seq=11) == (10, 0x20, b"a", FLAG_RETX)
    assert not queue.on_ack(9)  # not the one in flight
    assert queue.on_ack(10)
    assert queue.due(0.06, next_seq=11) == (11, 0x21, b"b", 0)


def test_an_event_nobody_acknowledges_is_given_up_after_four_sends() -> None:
    queue = EventQueue(retry_s=0.05, sends=4)
    queue.push(0x30, b"f")
    queue.push(0x21, b"d")
    sends = [queue.due(0.05 * i, next_seq=7) for i in range(4)]
    assert [s[3] if s else None for s in sends] == [0, FLAG_RETX, FLAG_RETX, FLAG_RETX]
    assert queue.due(0.20, next_seq=7) == (7, 0x21, b"d", 0)  # the next one goes out
    assert queue.given_up == 1


def test_the_reply_cache_keeps_the_last_eight() -> None:
    cache = ReplyCache()
    for seq in range(1, 11):
        cache.put(seq, Frame(0x05, 1, 100 + seq, seq))
    assert len(cache) == 8
    assert cache.get(2) is None and cache.get(3) is not None
    assert cache.get(10) == Frame(0x05, 1, 110, 10)


def test_the_nominal_clock_is_continuous_across_rate_changes() -> None:
    clock = NominalClock(wall_now=100.0)
    assert clock.now(101.0) == pytest.approx(1.0)
    clock.set_rate(101.0, 20.0)
    assert clock.now(101.0) == pytest.approx(1.0)
    assert clock.now(101.5) == pytest.approx(11.0)
    assert clock.wall_at(21.0) == pytest.approx(102.0)
    clock.set_rate(102.0, 1.0)
    assert clock.now(103.0) == pytest.approx(22.0)
    with pytest.raises(ValueError, match="positive"):
        clock.set_rate(103.0, 0.0)


def test_the_bank_charges_on_the_nominal_clock_and_dumps_on_the_wall_clock() -> None:
    timings = Timings()
    bank = HvBank(timings)
    charged_at = bank.charge(nominal_now=0.0, target_v=3000.0, v_max=3000.0)
    assert charged_at == pytest.approx(timings.charge_full_s)
    assert bank.voltage(wall=0.0, nominal=charged_at / 2) == pytest.approx(1500, rel=0.01)
    bank.hold(3000.0)
    bank.discharge(wall_now=5.0, nominal_now=9.0)
    safe_at = bank.safe_at()
    assert safe_at is not None and safe_at > 5.0
    assert not bank.is_safe(safe_at - 1e-3, 0.0)
    assert bank.is_safe(safe_at + 1e-6, 0.0)
    assert bank.voltage(100.0, 0.0) == pytest.approx(timings.residual_v)


def test_what_the_firmware_can_deliver_exactly_is_accepted() -> None:
    device = DeviceInfo()
    assert check_params(params(), device) == Result.OK
    assert check_params(params(amplitude_v=3000, i_limit_a=50, count=1000, period_us=200,
                               width_ns=100_000), device) == Result.OK  # fmt: skip
    single = dataclasses.replace(params(count=1), period_us=1)  # no period to speak of
    assert check_params(single, device) == Result.OK
    assert check_params(dataclasses.replace(params(), rsv=1), device) == Result.BAD_PARAM
    assert check_params(dataclasses.replace(params(), polarity=2), device) == Result.BAD_PARAM
