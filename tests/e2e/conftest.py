"""End-to-end fixtures: one local stack (ministack + template.yaml + carrier simulator) per session.

- `local_stack`: the running `local.stack.LocalStack` (`.info` is what `.smsgw/local.json` holds).
- `api`: requests against the API stage as the demo account (`token()`, `send(**form)`).
- `simulator`: the carrier simulator's control API; it is reset before every e2e test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest

from local.stack import LocalStack
from local.testing import Api, Simulator

CARRIER_LIMIT = 20
PACED_RATE = 18


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """The whole gateway, started once for the e2e session on free ports and stopped after it."""
    with LocalStack(
        run_dir=tmp_path_factory.mktemp("local-stack"),
        stack_name="smsgw-e2e",
        # A carrier that allows 20 submissions a second, and a gateway told it may send 18.
        simulator_args=["--rate-per-second", str(CARRIER_LIMIT)],
        # A second carrier, the connector `b` (routes are set by the tests that use it).
        second_carrier=True,
        parameters={
            "CarrierRatePerSecond": str(PACED_RATE),
            # Webhook retries after 1, 2, 4 … s instead of 5, 10, 20 … s, so a flaky receiver test is short.
            "WebhookRetryStartSeconds": "1",
            # A route set by a test applies within a second; an open connector is probed after 3 s.
            "RoutingCacheSeconds": "1",
            "BreakerFailures": "3",
            "BreakerPauseSeconds": "3",
        },
    ) as stack:
        yield stack


@pytest.fixture(scope="session")
def aws(local_stack: LocalStack) -> Callable[[str], Any]:
    """A boto3 client factory for ministack: `aws("sqs").get_queue_attributes(...)`."""
    session = boto3.session.Session(
        aws_access_key_id="test", aws_secret_access_key="test", region_name=local_stack.region
    )
    return lambda service: session.client(service, endpoint_url=local_stack.endpoint_url)


@pytest.fixture
def api(local_stack: LocalStack) -> Api:
    if "client_id" not in local_stack.info:
        pytest.fail("the local stack has no demo account (`smsgw accounts create` failed or is missing)")
    return Api(local_stack.info)


@pytest.fixture
def simulator(local_stack: LocalStack) -> Simulator:
    return Simulator(str(local_stack.info["simulator_url"]))


@pytest.fixture
def second_simulator(local_stack: LocalStack) -> Simulator:
    """The second carrier (the connector `b`)."""
    return Simulator(str(local_stack.info["second_simulator_url"]))


@pytest.fixture(autouse=True)
def _reset_simulator(simulator: Simulator, second_simulator: Simulator) -> None:
    """Every e2e test starts with simulators that have received nothing."""
    simulator.reset()
    second_simulator.reset()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """When an e2e test fails, attach what the Lambda handlers logged while it ran."""
    report = yield
    stack = getattr(item, "funcargs", {}).get("local_stack")
    if report.when == "call" and report.failed and isinstance(stack, LocalStack):
        try:
            logs = stack.lambda_logs(since=call.start - 1)
        except Exception as exc:  # the report must not fail because the logs could not be read
            logs = f"(could not read the Lambda logs: {exc!r})"
        report.sections.append(("Lambda logs (ministack)", logs or "(nothing logged)"))
    return report
