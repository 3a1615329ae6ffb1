"""Benchmark 4: AWS requests per message, and what a million messages cost.

One message's whole life runs through the real handlers on moto, in this process, with every AWS
API call counted through botocore's event hooks (`bench.counter`): a token request and a cold
authorizer check (both amortised: clients reuse a token for an hour and API Gateway caches the
authorizer's answer for 300 s), the send, the send queue's event source (ReceiveMessage,
DeleteMessageBatch) and DispatchFunction (to the carrier simulator), the carrier's delivery receipt
(DeliveryReceiptFunction, at its function URL: no API Gateway request) and the status callback (the webhook queue's event source and
WebhookFunction, to a local receiver). DynamoDB request units are estimated from item sizes; Lambda
is billed at each handler's measured warm duration and its MemorySize in template.yaml. The same
life is then repeated after many other messages are stored, to catch calls that grow with them.
"""

from __future__ import annotations

import re
import time
from collections import Counter, defaultdict
from typing import Any

from bench import stats
from bench.costs import PRICES_CHECKED, Invocation, Prices, Usage, cost_per_million, provisioned
from bench.counter import AwsCallCounter, Call
from bench.mocked import ROOT, template
from bench.report import Goal, Section, Table

MESSAGES_PER_TOKEN = 1000  # a client that keeps its token for its hour and sends ≥ 0.3 msg/s
MESSAGES_PER_AUTHORIZER_CALL = 1000  # API Gateway caches the policy 300 s per token: ≥ 3.3 msg/s
# (phase, function whose invocation it is or None for an event source's own calls, per message)
PHASES = [
    ("token", "token", 1 / MESSAGES_PER_TOKEN),
    ("authorizer", "authorizer", 1 / MESSAGES_PER_AUTHORIZER_CALL),
    ("send", "send", 1.0),
    ("send-queue poller", None, 1.0),
    ("dispatch", "dispatch", 1.0),
    ("receipt", "delivery_receipt", 1.0),
    ("webhook-queue poller", None, 1.0),
    ("status callback", "webhook", 1.0),
]
API_GATEWAY_PHASES = {"token", "send"}  # the carrier's receipt comes to a function URL (CarrierDlrUrl)


def memory_sizes() -> dict[str, int]:
    """MemorySize per function folder (functions/<name>), from template.yaml (Globals, then the function)."""
    data = template()
    default = int(((data.get("Globals") or {}).get("Function") or {}).get("MemorySize", 128))
    sizes = {}
    for resource in data["Resources"].values():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        props = resource.get("Properties") or {}
        uri = str(props.get("CodeUri", ""))
        if uri.startswith("functions/"):
            sizes[uri.split("/", 1)[1].strip("/")] = int(props.get("MemorySize", default))
    return sizes


class Life:
    """Runs one message's life, labelling the counter's phases and timing each handler."""

    def __init__(self, env: Any, counter: AwsCallCounter) -> None:
        from bench import workloads

        self.env, self.counter, self.w = env, counter, workloads
        self.account = workloads.new_account(status_url=env.receiver.url)
        self.durations: dict[str, list[float]] = defaultdict(list)
        self.serial = 0

    def _timed(self, function: str, call: Any) -> Any:
        start = time.perf_counter()
        result = call()
        self.durations[function].append((time.perf_counter() - start) * 1000)
        return result

    def _queue_step(self, queue: str, function: str, phase: str, poller: str) -> None:
        from bench.mocked import LambdaContext, ack, handler, sqs_event

        self.counter.phase = poller
        event = sqs_event(self.env.queues[queue])
        if len(event["Records"]) != 1:
            raise RuntimeError(f"expected one record on {queue}, got {len(event['Records'])}")
        self.counter.phase = phase
        result = self._timed(function, lambda: handler(function).lambda_handler(event, LambdaContext()))
        self.counter.phase = poller
        ack(self.env.queues[queue], event, result)

    def run(self, prefix: str = "") -> None:
        from bench.mocked import LambdaContext, api_event, handler

        w, a = self.w, self.account
        self.serial += 1
        self.counter.phase = prefix + "token"
        form = {"client_id": a.client_id, "client_secret": a.client_secret}
        event = api_event(
            "POST",
            "/oauth/client_credential/accesstoken",
            form=form,
            query={"grant_type": "client_credentials"},
        )
        token = self._timed("token", lambda: w.call_api("token", event))
        import json

        access_token = json.loads(token["body"])["access_token"]
        self.counter.phase = prefix + "authorizer"
        arn = "arn:aws:execute-api:eu-west-1:123456789012:abc/v1/POST/communication/nexmo/sms/send"
        auth_event = {"headers": {"Authorization": f"Bearer {access_token}"}, "methodArn": arn}
        self._timed("authorizer", lambda: handler("authorizer").lambda_handler(auth_event, LambdaContext()))
        self.counter.phase = prefix + "send"
        message_id = self._timed("send", lambda: w.send(a.account_id, self.serial))
        self._queue_step("send", "dispatch", prefix + "dispatch", prefix + "send-queue poller")
        self.counter.phase = "lookup"
        dlr = w.dlr_event(w.carrier_id_of(self.env, message_id))
        self.counter.phase = prefix + "receipt"
        self._timed("delivery_receipt", lambda: w.call_api("delivery_receipt", dlr))
        self._queue_step("webhooks", "webhook", prefix + "status callback", prefix + "webhook-queue poller")
        self.counter.phase = "idle"


def fetcher(env: Any) -> Any:
    import boto3

    from bench.mocked import REGION

    client = boto3.client("dynamodb", region_name=REGION)

    def fetch(table: str, key: dict[str, Any]) -> dict[str, Any] | None:
        return client.get_item(TableName=table, Key=key).get("Item")

    return fetch


def summarize(calls: list[Call]) -> str:
    counts = Counter(c.operation for c in calls)
    return ", ".join(f"{op}×{n}" if n > 1 else op for op, n in sorted(counts.items())) or "—"


def scans_in_code() -> list[tuple[str, str]]:
    """Every place the layer scans a table (a read that grows with everything stored)."""
    found = []
    for path in sorted((ROOT / "layers" / "common" / "smsgw").rglob("*.py")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if re.search(r"\.scan\(|\bScan\b\(", line):
                found.append((f"{path.relative_to(ROOT)}:{number}", line.strip()))
    return found


PROVISIONED_UTILISATION = 0.7  # auto scaling's usual target


def what_it_takes(usage: Usage, prices: Prices) -> Table:
    """The cost model with the changes proposed in the report applied one after another (a model,
    not a measurement: it reuses this run's counts)."""
    import dataclasses

    steps: list[tuple[str, Usage, Prices]] = [("as measured", usage, prices)]
    # 2. Full batches of 10 on the send and webhook queues: pollers' calls and invocations ÷ 10.
    pollers = 4.0  # ReceiveMessage + DeleteMessageBatch on each of the two queues, per message
    u2 = dataclasses.replace(
        usage,
        sqs_requests=usage.sqs_requests - pollers + pollers / 10,
        invocations=[
            dataclasses.replace(i, per_message=i.per_message / 10)
            if i.function in ("dispatch", "webhook")
            else i
            for i in usage.invocations
        ],
    )
    steps.append(("+ full SQS batches of 10", u2, prices))
    # 3. HTTP API (1.00 USD/million) instead of REST for the client routes.
    p3 = dataclasses.replace(prices, api_gateway_rest_per_million=1.00)
    steps.append(("+ HTTP API instead of REST API", u2, p3))
    # 4. DynamoDB provisioned capacity (auto scaling) at 70 % utilisation instead of on-demand.
    p4 = provisioned(p3, PROVISIONED_UTILISATION)
    steps.append((f"+ DynamoDB provisioned capacity at {PROVISIONED_UTILISATION:.0%} utilisation", u2, p4))
    # 5. The steady part of the writes on 1-year reserved capacity.
    p5 = provisioned(p3, PROVISIONED_UTILISATION, reserved=True)
    steps.append(("+ its write capacity reserved for a year", u2, p5))
    rows = []
    for name, u, p in steps:
        c = cost_per_million(u, p)
        rows.append([name, f"{c['total']:.2f}", f"{c['DynamoDB writes'] + c['DynamoDB reads']:.2f}"])
    return Table(
        ["change (cumulative)", "USD per million", "of which DynamoDB"],
        rows,
        title="What reaching 5 USD per million would take (the cost model with proposed changes)",
    )


def run(quick: bool = False) -> Section:
    from bench import workloads
    from bench.mocked import captured_stdout, moto_env

    lives, background = (2, 40) if quick else (5, 300)
    with AwsCallCounter() as counter, moto_env(carrier=True, receiver=True) as env:
        life = Life(env, counter)
        life.run(prefix="warm-up ")  # first calls fetch the carrier secret, fill caches, import handlers
        life.durations.clear()
        with captured_stdout() as logged:
            for _ in range(lives):
                life.run()
        durations = {k: list(v) for k, v in life.durations.items()}  # before the store grows (moto slows)
        counter.phase = "background"
        with captured_stdout():
            for n in range(background):  # other messages stored and dispatched
                message_id = workloads.send(life.account.account_id, 10_000 + n)
            workloads.drain(env, "send", "dispatch")
            for _ in range(lives):
                life.run(prefix="after ")
        counter.phase = "idle"
        counter.refine_updates(fetcher(env))
        delivered = env.receiver.count if env.receiver else 0
        del message_id

    by_phase: dict[str, list[Call]] = defaultdict(list)
    for call in counter.calls:
        by_phase[call.phase].append(call)
    sizes = memory_sizes()
    usage = Usage(log_bytes=logged[0] / lives)
    rows = []
    for phase, function, per_message in PHASES:
        calls = by_phase.get(phase, [])
        wru = sum(c.wru for c in calls) / lives
        rru = sum(c.rru for c in calls) / lives
        sqs = sum(c.requests for c in calls if c.service == "sqs") / lives
        usage.dynamodb_wru += wru * per_message
        usage.dynamodb_rru += rru * per_message
        usage.sqs_requests += sqs * per_message
        if phase in API_GATEWAY_PHASES:
            usage.api_requests += per_message
        duration = ""
        if function:
            ms = stats.median(durations[function])
            usage.invocations.append(Invocation(function, per_message, ms, sizes.get(function, 128)))
            duration = f"{ms:.1f} ms @ {sizes.get(function, 128)} MB"
        share = "1" if per_message == 1 else f"1/{round(1 / per_message)}"
        rows.append(
            [
                phase,
                share,
                summarize(calls[: len(calls) // lives]) if calls else "—",
                f"{len(calls) / lives:.1f}",
                f"{wru:.1f}",
                f"{rru:.1f}",
                f"{sqs:.1f}",
                duration,
            ]
        )
    prices = Prices()
    costs = cost_per_million(usage, prices)
    total = costs["total"]

    scenarios = what_it_takes(usage, prices)
    growth_rows, grown = [], []
    for phase, _function, _share in PHASES:
        before = Counter(c.operation for c in by_phase.get(phase, []))
        after = Counter(c.operation for c in by_phase.get("after " + phase, []))
        read_before = max((c.items_read or 0 for c in by_phase.get(phase, [])), default=0)
        read_after = max((c.items_read or 0 for c in by_phase.get("after " + phase, [])), default=0)
        # A warm container's caches (account: 30 s) expire now and then: one extra read over all lives is
        # not growth. Growth is at least one more call per message, or more items read per call.
        flag = (sum(after.values()) - sum(before.values())) / lives >= 1 or read_after > read_before
        if flag:
            grown.append(phase)
        growth_rows.append(
            [
                phase,
                str(sum(before.values()) // lives),
                str(sum(after.values()) // lives),
                f"{read_before} → {read_after}",
                "**grows**" if flag else "flat",
            ]
        )
    scans = [
        c for c in counter.calls if c.operation == "Scan" and c.phase not in ("lookup", "idle", "background")
    ]
    defects = len(grown) + len(scans)

    goals = [
        Goal(
            "AWS cost of one million messages (excl. carrier)",
            f"{total:.2f} USD",
            "5.00 USD (the goal)",
            total / 5.0,
            "< 1.0",
        ),
        Goal("calls that grow with stored messages, and scans", str(defects), "0", float(defects), "= 0"),
    ]
    calls_table = Table(
        ["phase", "per message", "AWS calls", "calls", "WRU", "RRU", "SQS requests", "Lambda (warm, median)"],
        rows,
        title=f"One message's life (mean of {lives} lives after a warm-up)",
    )
    cost_table = Table(
        ["service", "USD per million messages"],
        [[name, f"{value:.3f}"] for name, value in costs.items()],
        title="Cost per million messages, US East list prices",
    )
    price_table = Table(
        ["price (us-east-1, list)", "value"],
        [list(r) for r in prices.rows()],
        title=f"Prices used (checked {PRICES_CHECKED})",
    )
    growth_table = Table(
        [
            "phase",
            "calls (empty store)",
            f"calls (+{background} messages stored)",
            "max items read by a Query/Scan",
            "verdict",
        ],
        growth_rows,
        title="Does anything grow with what is stored?",
    )
    scan_sites = scans_in_code()
    notes = [
        f"Amortised: one token request per {MESSAGES_PER_TOKEN} messages, one authorizer invocation per "
        f"{MESSAGES_PER_AUTHORIZER_CALL} (the cached policy, 300 s per token).",
        "Event sources are billed like any SQS client: one ReceiveMessage and one DeleteMessageBatch per batch. "
        "Here every batch holds one record (the worst case); batches of 10 divide those calls and the "
        "Lambda requests by 10. Idle queues add the pollers' empty long-poll receives (a few per minute), "
        "not counted per message.",
        "DynamoDB units: writes from the item written (updates: the larger of the request and the item "
        "afterwards), reads from the items returned; a conditional write that fails is billed too.",
        f"Logs: {usage.log_bytes:.0f} bytes of handler output per message (Powertools JSON + EMF metrics), "
        f"{costs['CloudWatch Logs (not in total)']:.2f} USD per million at the ingestion price, outside the goal "
        "(plus Lambda's own START/END/REPORT lines, about 0.3 KB per invocation).",
        "Scheduled sends (send_at, cron) add one EventBridge Scheduler invocation each: +1.00 USD per "
        "million scheduled messages; creating and deleting schedules is not billed per call.",
        f"The status callbacks reached the local receiver: {delivered} of {2 * lives + 1} lives.",
        "What each modelled step trades away: full batches need traffic (a quiet queue's batches hold one "
        "record whatever the BatchSize); an HTTP API has no usage plans, no per-method throttling, no "
        "request validation or WAF of its own and other gateway responses (the client routes would move, "
        "not the carrier webhooks, already on function URLs); provisioned capacity throttles a burst above "
        "what auto scaling has provisioned until it catches up (minutes), where on-demand absorbs up to twice "
        "the previous peak, so it suits a steady base load; reserved capacity is paid for a year whether "
        f"used or not. Provisioned and reserved prices: {Prices().dynamodb_wcu_hour} USD per WCU-hour, "
        f"{Prices().dynamodb_rcu_hour} per RCU-hour, reserved 100 WCU for a year "
        f"{Prices().dynamodb_reserved_100_wcu_upfront:.0f} USD upfront + "
        f"{Prices().dynamodb_reserved_100_wcu_hour} per hour (not re-checked in this run).",
        "Scans in the layer (reads that grow with everything stored): "
        + ("; ".join(f"`{where}`" for where, _ in scan_sites) if scan_sites else "none")
        + " — none on a message's path (the growth table), the only one is the operator CLI's account listing."
        if scan_sites
        else "Scans in the layer: none.",
    ]
    section = Section(
        "awscalls",
        "4. AWS requests per message and the cost of a million",
        __doc__.split("\n\n", 1)[1] if __doc__ else "",
        goals=goals,
        tables=[calls_table, cost_table, scenarios, growth_table, price_table],
        notes=notes,
    )
    section.extra = {
        "usage": usage,
        "costs": costs,
        "durations": {k: stats.median(v) for k, v in durations.items()},
    }  # type: ignore[attr-defined]
    return section
