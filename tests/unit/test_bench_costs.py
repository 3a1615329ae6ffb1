"""The bench's cost model: list prices × what one message uses, per million messages."""

import pytest

from bench.costs import Invocation, Prices, Usage, cost_per_million
from bench.report import Goal, Section, goal_met, render


def test_each_service_is_priced_per_million_messages():
    usage = Usage(
        api_requests=2,
        invocations=[Invocation("send", 1.0, 20.0, 256)],
        sqs_requests=3,
        dynamodb_wru=4,
        dynamodb_rru=2,
        scheduler_invocations=0.5,
    )
    costs = cost_per_million(usage, Prices())
    assert costs["API Gateway"] == pytest.approx(2.00)  # HTTP API: 1.00 USD per million requests
    assert costs["Lambda requests"] == pytest.approx(0.20)
    # 20 ms at 0.25 GB = 0.005 GB-s per message → 5,000 GB-s per million.
    assert costs["Lambda duration"] == pytest.approx(5000 * 0.0000166667)
    assert costs["SQS"] == pytest.approx(1.20)
    assert costs["DynamoDB writes"] == pytest.approx(2.50)
    assert costs["DynamoDB reads"] == pytest.approx(0.25)
    assert costs["Scheduler"] == pytest.approx(0.50)
    parts = [v for k, v in costs.items() if k not in ("total", "CloudWatch Logs (not in total)")]
    assert costs["total"] == pytest.approx(sum(parts))


def test_lambda_is_billed_in_whole_milliseconds_and_amortised_invocations_count_partly():
    once = Invocation("token", 1 / 1000, 4.2, 1024)  # billed 5 ms at 1 GB, once per 1,000 messages
    assert once.gb_seconds == pytest.approx(0.005 / 1000)


def test_logs_are_reported_outside_the_total():
    costs = cost_per_million(Usage(log_bytes=2000), Prices())
    assert costs["CloudWatch Logs (not in total)"] == pytest.approx(2000 * 1e6 / 1e9 * 0.50)
    assert costs["total"] == 0


@pytest.mark.parametrize(
    ("value", "goal", "met"),
    [
        (1.9, "≤ 2.0", True),
        (2.01, "≤ 2.0", False),
        (0.95, "≥ 0.95", True),
        (0.0, "= 0", True),
        (1.0, "= 0", False),
        (0.99, "< 1.0", True),
    ],
)
def test_goals_read_their_operator(value, goal, met):
    assert goal_met(value, goal) is met
    assert Goal("x", "", "", value, goal).met is met


def test_a_goal_that_is_not_an_operator_and_a_number_is_refused():
    with pytest.raises(ValueError, match="not a goal"):
        goal_met(1.0, "about 2")


def test_the_summary_keeps_the_goals_of_the_benchmarks_this_run_did_not_run():
    """`make bench --only awscalls` rewrote the summary with awscalls' rows alone; each benchmark kept
    from an earlier run now keeps its rows there, with that run's date and commit."""
    earlier = Section(
        "pacing", "1. Pacing and throughput", "how", goals=[Goal("rate a|b", "48", "50", 0.96, "≥ 0.95")]
    )
    previous = render([earlier], date="2026-11-25", commit_id="aaaaaaa")
    fresh = Section("awscalls", "4. AWS requests", "how", goals=[Goal("cost", "29", "5", 5.8, "< 1.0")])

    text = render([fresh], previous, date="2026-12-03", commit_id="bbbbbbb")

    summary = text.split("<!-- bench:")[0]
    assert "| Pacing and throughput | rate a\\|b | 0.960 | ≥ 0.95 | yes | 2026-11-25 | aaaaaaa |" in summary
    assert "| AWS requests | cost | 5.800 | < 1.0 | **no** | 2026-12-03 | bbbbbbb |" in summary
