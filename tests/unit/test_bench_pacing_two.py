"""The two-connector pacing benchmark's pure parts: the split, the per-carrier figures, the overlap."""

import math

import pytest

from bench.pacing_two import both_busy, carrier_figures, split, throttled_ids


def test_the_split_follows_the_rates_and_interleaves():
    order = split(13, {"default": 40, "b": 25})
    assert (order.count("default"), order.count("b")) == (8, 5)
    # Interleaved: neither connector's messages come in a block that would leave the other idle.
    # After any number of messages, each connector has its share of them, give or take one.
    for k in range(1, len(order) + 1):
        assert abs(order[:k].count("b") - k * 25 / 65) < 1
    assert split(1000, {"default": 40, "b": 25}).count("b") == 385


def test_each_carrier_is_measured_on_its_own_timestamps_and_rate():
    # default: 5 accepts 0.25 s apart (4/s); b: 3 accepts 0.5 s apart (2/s), in the same seconds.
    received = {
        "default": [(f"d{n}", 10 + n * 0.25) for n in range(5)],
        "b": [(f"b{n}", 10.1 + n * 0.5) for n in range(3)],
    }
    routed = {"default": {f"d{n}" for n in range(5)}, "b": {f"b{n}" for n in range(3)}}
    figures = carrier_figures(routed, received, {"default": 4, "b": 2}, {"b": [10.2]})
    d, b = figures["default"], figures["b"]
    assert (d.accepted, d.achieved, d.max_accepted, d.max_attempts) == (5, pytest.approx(4.0), 4, 4)
    assert (b.accepted, b.achieved, b.max_accepted) == (3, pytest.approx(2.0), 2)
    assert b.max_attempts == 3  # 10.1, 10.2 (throttled), 10.6: the attempts the carrier saw in 1 s
    assert (d.lost, d.twice, d.moved, b.lost, b.twice, b.moved) == (0, 0, 0, 0, 0, 0)
    assert (d.first, d.last) == (10, 11)


def test_lost_twice_and_failed_over_count_across_both_carriers():
    routed = {"default": {"m1", "m2", "m3", "m4"}, "b": {"n1"}}
    received = {
        "default": [("m1", 1.0), ("m1", 1.5), ("n1", 2.0)],  # m1 twice here; n1 failed over from b
        "b": [("m2", 1.2), ("m3", 1.3)],  # m2 failed over; m3 here, and …
    }
    received["default"].append(("m3", 1.9))  # … m3 also at default: sent twice, across carriers
    figures = carrier_figures(routed, received, {"default": 10, "b": 10})
    assert figures["default"].lost == 1  # m4 reached no carrier
    assert figures["default"].twice == 2  # m1 at default twice, m3 at both
    assert figures["default"].moved == 1  # m2 only at b
    assert figures["default"].accepted == 4  # everything default accepted counts for its pacing
    assert (figures["b"].lost, figures["b"].twice, figures["b"].moved) == (0, 0, 1)


def test_a_carrier_that_saw_nothing():
    figures = carrier_figures({"b": {"x"}}, {"default": [("x", 1.0)]}, {"default": 5, "b": 5})
    assert (figures["b"].accepted, figures["b"].achieved, figures["b"].max_attempts) == (0, 0.0, 0)
    assert math.isnan(figures["b"].first)
    assert figures["b"].moved == 1
    assert both_busy(list(figures.values())) == (0.0, 0.0)


def test_both_busy_is_the_overlap_of_the_two_spans():
    figures = carrier_figures(
        {}, {"default": [("a", 0.0), ("b", 10.0)], "b": [("c", 2.0), ("d", 12.0)]}, {"default": 1, "b": 1}
    )
    assert both_busy(list(figures.values())) == (8.0, 12.0)
    apart = carrier_figures(
        {}, {"default": [("a", 0.0), ("b", 1.0)], "b": [("c", 5.0)]}, {"default": 1, "b": 1}
    )
    assert both_busy(list(apart.values())) == (0.0, 5.0)


def test_throttled_ids_reads_dispatch_log_lines():
    log = "\n".join(
        [
            '{"level":"INFO","message":"dispatched","timestamp":"2026-12-03 10:00:01,250+0000",'
            '"message_id":"m-1","outcome":"throttled"}',
            '{"level":"INFO","message":"dispatched","timestamp":"2026-12-03 10:00:02,000+0000",'
            '"message_id":"m-2","outcome":"submitted"}',
            "REPORT RequestId: x  Duration: 12.5 ms",
        ]
    )
    [(message_id, at)] = throttled_ids(log)
    assert message_id == "m-1"
    assert at == pytest.approx(1796292001.25)


def test_throttle_answers_without_a_time_bound_the_most_in_a_second():
    received = {"default": [(f"d{n}", n * 0.3) for n in range(4)]}  # at most 4 in any second
    routed = {"default": {f"d{n}" for n in range(4)}}
    exact = carrier_figures(routed, received, {"default": 4})
    assert (exact["default"].throttles, exact["default"].max_attempts) == (0, 4)
    assert exact["default"].max_attempts_high == 4
    # Two throttle answers, one of them timed: the carrier had 4 in the second before each, so at least 5
    # in some second; the untimed one may have landed in the busiest second: at most 4 + 1 + 1.
    bounded = carrier_figures(routed, received, {"default": 4}, {"default": [0.95]}, {"default": 2})
    assert bounded["default"].throttles == 2
    assert (bounded["default"].max_attempts, bounded["default"].max_attempts_high) == (5, 6)
    # Untimed only: at least ceil(rate) + 1, at most what was seen plus them.
    untimed = carrier_figures(routed, received, {"default": 3.5}, None, {"default": 1})
    assert (untimed["default"].max_attempts, untimed["default"].max_attempts_high) == (5, 5)
