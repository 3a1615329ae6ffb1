"""Two carriers on the local stack: NL goes to the default carrier, GB to `b`; the default goes down in
the middle of a burst → its traffic moves to `b` (0 lost, 0 twice), it comes back → traffic returns."""

from __future__ import annotations

import itertools
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from local.stack import LocalStack
from local.testing import Api, Simulator, poll

pytestmark = pytest.mark.e2e
# Prefixes no other e2e test sends to, so these routes change nothing for them.
NL_PREFIX, GB_PREFIX = "316991", "4477009119"
BURST = 40


def nl(n: int) -> str:
    return f"{NL_PREFIX}{n:05d}"


def gb(n: int) -> str:
    return f"{GB_PREFIX}{n:02d}"


@pytest.fixture
def routes(local_stack: LocalStack) -> Any:
    local_stack.cli("routes", "set", "e2e-nl", "--prefix", NL_PREFIX, "--connectors", "default,b")
    local_stack.cli("routes", "set", "e2e-gb", "--prefix", GB_PREFIX, "--connectors", "b,default")
    yield
    local_stack.cli("routes", "remove", "e2e-nl")
    local_stack.cli("routes", "remove", "e2e-gb")


@pytest.fixture
def sender(local_stack: LocalStack) -> Any:
    api_url = local_stack.info["api_url"]
    account = local_stack.create_account("failover", "100", "", "--rate-limit", "1000")
    token = Api({"api_url": api_url, **account}).token()

    def send(to: str, text: str) -> None:
        response = requests.post(
            f"{api_url}/communication/nexmo/sms/send",
            data={"from": "FAILOVER", "to": to, "text": text},
            headers={"Authorization": f"Bearer {token}", "Idempotency-Key": text},
            timeout=60,  # a cold function on the emulator, on a busy machine
        )
        assert response.status_code == 200, response.text

    return send


def texts(*simulators: Simulator) -> Counter[str]:
    return Counter(m["text"] for sim in simulators for m in sim.messages())


def test_each_country_takes_its_carrier_and_a_carrier_down_mid_burst_moves_its_traffic_and_back(
    routes: Any, sender: Any, simulator: Simulator, second_simulator: Simulator
):
    # NL → the default carrier, GB → b (the routes apply within RoutingCacheSeconds = 1 s).
    tries = itertools.count()

    def routed() -> bool | None:
        n = next(tries)
        sender(nl(90000 + n), f"probe nl {n}")
        sender(gb(90 + n % 10), f"probe gb {n}")
        at_a = [m["text"] for m in simulator.messages()]
        at_b = [m["text"] for m in second_simulator.messages()]
        nl_at_a = any(t.startswith("probe nl") for t in at_a) and not any(
            t.startswith("probe nl") for t in at_b
        )
        return (nl_at_a and any(t.startswith("probe gb") for t in at_b)) or None

    poll(routed, timeout=60, interval=1, what="NL at the default carrier and GB at b")
    simulator.reset()
    second_simulator.reset()

    # A burst to NL, one send after the other (each concurrent request can cost the emulator a cold
    # function: seconds of CPU here); once the default carrier has some, it fails every submission
    # (HTTP 500) until b has taken some, then it is back.
    with ThreadPoolExecutor(max_workers=1) as pool:
        burst = pool.submit(lambda: [sender(nl(n), f"burst {n}") for n in range(BURST)])
        poll(lambda: len(simulator.messages()) >= 10 or None, timeout=120, what="the burst to start at A")
        simulator.configure(fail_rate=1.0)
        poll(
            lambda: len(second_simulator.messages()) >= 10 or None,
            timeout=120,
            what="the traffic to move to b",
        )
        simulator.configure(fail_rate=0.0)
        burst.result()

    expected = {f"burst {n}" for n in range(BURST)}

    def all_arrived() -> Counter[str] | None:
        got = texts(simulator, second_simulator)
        return got if expected <= set(got) else None

    arrived = poll(all_arrived, timeout=120, interval=1, what="every message of the burst at a carrier")
    burst = {text: count for text, count in arrived.items() if text in expected}
    assert [text for text, count in burst.items() if count > 1] == []  # 0 sent twice
    assert set(burst) == expected  # 0 lost
    assert sum(1 for m in second_simulator.messages() if m["text"] in expected) >= 10

    # The default carrier is back: after the breaker's pause a probe closes it and NL returns to it.
    def returned() -> bool | None:
        n = next(tries)  # a new message (and Idempotency-Key) every time
        sender(nl(80000 + n), f"after {n}")
        return any(m["text"].startswith("after") for m in simulator.messages()) or None

    poll(returned, timeout=60, interval=1, what="NL traffic back at the default carrier")
