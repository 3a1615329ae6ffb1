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

Each life above runs alone: every queue batch holds one record. Under load the event sources hand
over full batches, so the lives are also run ten at a time (`Life.run_busy`): ten sends, one batch of
ten for DispatchFunction, ten receipts, one batch of ten status callbacks for WebhookFunction. That
is the figure the goal is measured on (a gateway sending one message at a time costs little in total).
"""

from __future__ import annotations

import re
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from bench import stats
from bench.costs import PRICES_CHECKED, Invocation, Prices, Usage, cost_per_million, provisioned
from bench.counter import AwsCallCounter, Call
from bench.mocked import ROOT, template
from bench.report import Goal, Section, Table

MESSAGES_PER_TOKEN = 1000  # a client that keeps its token for its hour and sends ≥ 0.3 msg/s
MESSAGES_PER_AUTHORIZER_CALL = 1000  # API Gateway caches the policy 300 s per token: ≥ 3.3 msg/s
BUSY_BATCH = 10  # the send and webhook queues' BatchSize in template.yaml


@dataclass(frozen=True)
class Phase:
    """A step of a message's life: its calls (counter phase `name`), the function invoked (None for an
    event source's own calls) and its timer, how many of the step one message takes (`share`: 1/1000 for
    an amortised token) and how many messages one invocation or poll handles (`batch`)."""

    name: str
    function: str | None
    share: float = 1.0
    batch: int = 1
    timer: str = ""

    @property
    def invocations(self) -> float:
        return self.share / self.batch


# One message at a time: every batch holds one record.
PHASES = [
    Phase("token", "token", 1 / MESSAGES_PER_TOKEN),
    Phase("authorizer", "authorizer", 1 / MESSAGES_PER_AUTHORIZER_CALL),
    Phase("send", "send"),
    Phase("send-queue poller", None),
    Phase("dispatch", "dispatch"),
    Phase("receipt", "delivery_receipt"),
    Phase("webhook-queue poller", None),
    Phase("status callback", "webhook"),
]
# Under load: full batches of BUSY_BATCH on both queues (token and authorizer as above).
BUSY_PHASES = [
    *PHASES[:2],
    Phase("busy send", "send", timer="busy send"),
    Phase("busy send-queue poller", None, batch=BUSY_BATCH),
    Phase("busy dispatch", "dispatch", batch=BUSY_BATCH, timer="busy dispatch"),
    Phase("busy receipt", "delivery_receipt", timer="busy delivery_receipt"),
    Phase("busy webhook-queue poller", None, batch=BUSY_BATCH),
    Phase("busy status callback", "webhook", batch=BUSY_BATCH, timer="busy webhook"),
]
# The carrier's receipt comes to a function URL (CarrierDlrUrl): only the client's requests pay API Gateway.
API_GATEWAY_PHASES = {"token", "send", "busy send"}


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

    def _queue_step(
        self, queue: str, function: str, phase: str, poller: str, records: int = 1, timer: str = ""
    ) -> None:
        from bench.mocked import LambdaContext, ack, handler, sqs_event

        self.counter.phase = poller
        event = sqs_event(self.env.queues[queue])
        if len(event["Records"]) != records:
            raise RuntimeError(f"expected {records} records on {queue}, got {len(event['Records'])}")
        self.counter.phase = phase
        result = self._timed(
            timer or function, lambda: handler(function).lambda_handler(event, LambdaContext())
        )
        self.counter.phase = poller
        ack(self.env.queues[queue], event, result)

    def run_busy(self, batch: int = BUSY_BATCH) -> None:
        """`batch` messages at once, as under load: each queue's event source hands over a full batch
        (one ReceiveMessage, one DeleteMessageBatch, one invocation for all). Token and authorizer as
        in `run` (amortised the same); phases and timers are prefixed with "busy "."""
        w, a = self.w, self.account
        sent = []
        self.counter.phase = "busy send"
        for _ in range(batch):
            self.serial += 1
            sent.append(self._timed("busy send", lambda: w.send(a.account_id, self.serial)))
        self._queue_step(
            "send", "dispatch", "busy dispatch", "busy send-queue poller", batch, "busy dispatch"
        )
        for message_id in sent:
            self.counter.phase = "lookup"
            dlr = w.dlr_event(w.carrier_id_of(self.env, message_id), client_ref=message_id)
            self.counter.phase = "busy receipt"
            self._timed("busy delivery_receipt", lambda dlr=dlr: w.call_api("delivery_receipt", dlr))
        self._queue_step(
            "webhooks", "webhook", "busy status callback", "busy webhook-queue poller", batch, "busy webhook"
        )
        self.counter.phase = "idle"

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
        arn = "arn:aws:execute-api:eu-west-1:123456789012:abc/$default/POST/communication/nexmo/sms/send"
        auth_event = {
            "version": "2.0",
            "type": "REQUEST",
            "headers": {"authorization": f"Bearer {access_token}"},
            "routeArn": arn,
        }
        self._timed("authorizer", lambda: handler("authorizer").lambda_handler(auth_event, LambdaContext()))
        self.counter.phase = prefix + "send"
        message_id = self._timed("send", lambda: w.send(a.account_id, self.serial))
        self._queue_step("send", "dispatch", prefix + "dispatch", prefix + "send-queue poller")
        self.counter.phase = "lookup"
        dlr = w.dlr_event(w.carrier_id_of(self.env, message_id), client_ref=message_id)
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


def what_it_takes(usage: Usage, prices: Prices) -> tuple[Table, float]:
    """The cost model with the changes proposed in the report applied one after another to the
    measured life under load (a model, not a measurement: it reuses this run's counts); and the last
    step's total."""
    steps: list[tuple[str, Usage, Prices]] = [("as measured under load (batches of 10)", usage, prices)]
    # (The client routes are on an HTTP API already: that step of earlier runs is the default now.)
    # DynamoDB provisioned capacity (auto scaling) at 70 % utilisation instead of on-demand.
    on_provisioned = provisioned(prices, PROVISIONED_UTILISATION)
    steps.append(
        (
            f"+ DynamoDB provisioned capacity at {PROVISIONED_UTILISATION:.0%} utilisation",
            usage,
            on_provisioned,
        )
    )
    # The steady part of the writes on 1-year reserved capacity.
    on_reserved = provisioned(prices, PROVISIONED_UTILISATION, reserved=True)
    steps.append(("+ its write capacity reserved for a year", usage, on_reserved))
    rows, totals = [], []
    for name, u, p in steps:
        c = cost_per_million(u, p)
        totals.append(c["total"])
        rows.append([name, f"{c['total']:.2f}", f"{c['DynamoDB writes'] + c['DynamoDB reads']:.2f}"])
    table = Table(
        ["change (cumulative)", "USD per million", "of which DynamoDB"],
        rows,
        title="What reaching 5 USD per million would take (the cost model with proposed changes)",
    )
    return table, totals[-1]


def tally(
    phases: list[Phase],
    by_phase: dict[str, list[Call]],
    messages_of: dict[str, int],
    durations: dict[str, list[float]],
    sizes: dict[str, int],
) -> tuple[Usage, list[list[str]]]:
    """What one message uses over `phases`, and the table's rows: each phase's calls averaged over the
    messages that phase ran for, times its share."""
    usage = Usage()
    rows = []
    for phase in phases:
        calls, messages = by_phase.get(phase.name, []), messages_of[phase.name]
        wru = sum(c.wru for c in calls) / messages
        rru = sum(c.rru for c in calls) / messages
        sqs = sum(c.requests for c in calls if c.service == "sqs") / messages
        usage.dynamodb_wru += wru * phase.share
        usage.dynamodb_rru += rru * phase.share
        usage.sqs_requests += sqs * phase.share
        if phase.name in API_GATEWAY_PHASES:
            usage.api_requests += phase.share
        duration = ""
        if phase.function:
            ms = stats.median(durations[phase.timer or phase.function])
            memory = sizes.get(phase.function, 128)
            usage.invocations.append(Invocation(phase.function, phase.invocations, ms, memory))
            duration = f"{ms:.1f} ms @ {memory} MB" + (
                f" per batch of {phase.batch}" if phase.batch > 1 else ""
            )
        share = "1" if phase.share == 1 else f"1/{round(1 / phase.share)}"
        shown = calls[: len(calls) * phase.batch // messages]  # one life's (or one batch's) calls
        described = summarize(shown) if shown else "—"
        rows.append(
            [
                phase.name,
                share,
                f"{described} per batch of {phase.batch}" if phase.batch > 1 and shown else described,
                f"{len(calls) / messages:.1f}",
                f"{wru:.1f}",
                f"{rru:.1f}",
                f"{sqs:.1f}",
                duration,
            ]
        )
    return usage, rows


def run(quick: bool = False) -> Section:
    from bench import workloads
    from bench.mocked import captured_stdout, moto_env

    lives, background = (2, 40) if quick else (5, 300)
    busy_rounds = 1 if quick else 3
    # The template's default carrier rate (30/s): a batch of ten fills a third of a second of it, so under
    # load the pacer is busy and each submission takes the next slot in one write (DispatchFunction
    # waits for its slots, billed). Lives one at a time find it idle.
    rate = int(template()["Parameters"]["CarrierRatePerSecond"]["Default"])
    with AwsCallCounter() as counter, moto_env(carrier=True, receiver=True, rate_per_second=rate) as env:
        life = Life(env, counter)
        life.run(prefix="warm-up ")  # first calls fetch the carrier secret, fill caches, import handlers
        life.durations.clear()
        with captured_stdout() as logged:
            for _ in range(lives):
                life.run()
        with captured_stdout():
            for _ in range(busy_rounds):
                life.run_busy()
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
    messages_of = {phase.name: lives for phase in PHASES}
    messages_of.update({phase.name: busy_rounds * BUSY_BATCH for phase in BUSY_PHASES[2:]})
    usage, rows = tally(PHASES, by_phase, messages_of, durations, sizes)
    usage.log_bytes = logged[0] / lives
    busy_usage, busy_rows = tally(BUSY_PHASES, by_phase, messages_of, durations, sizes)
    busy_usage.log_bytes = usage.log_bytes
    prices = Prices()
    costs = cost_per_million(usage, prices)
    total = costs["total"]
    busy_costs = cost_per_million(busy_usage, prices)
    busy_total = busy_costs["total"]

    scenarios, modelled = what_it_takes(busy_usage, prices)
    growth_rows, grown = [], []
    for phase in (p.name for p in PHASES):
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
            f"AWS cost of one million messages (excl. carrier), default template, under load (batches of {BUSY_BATCH})",
            f"{busy_total:.2f} USD",
            "10.00 USD (the goal)",
            busy_total / 10.0,
            "≤ 1.0",
        ),
        Goal(
            "AWS cost of one million messages, default template, one at a time (batches of 1)",
            f"{total:.2f} USD",
            "10.00 USD (the goal)",
            total / 10.0,
            "≤ 1.0",
        ),
        Goal(
            "DynamoDB write units per message, under load",
            f"{busy_usage.dynamodb_wru:.1f} WRU",
            "10 WRU (the goal)",
            busy_usage.dynamodb_wru / 10,
            "≤ 1.0",
        ),
        Goal(
            "AWS cost of one million messages, the modelled configuration (provisioned + reserved capacity)",
            f"{modelled:.2f} USD",
            "5.00 USD (the goal)",
            modelled / 5.0,
            "< 1.0",
        ),
        Goal("calls that grow with stored messages, and scans", str(defects), "0", float(defects), "= 0"),
    ]
    columns = [
        "phase",
        "per message",
        "AWS calls",
        "calls",
        "WRU",
        "RRU",
        "SQS requests",
        "Lambda (warm, median)",
    ]
    calls_table = Table(
        columns, rows, title=f"One message's life, one at a time (mean of {lives} lives after a warm-up)"
    )
    busy_table = Table(
        columns,
        busy_rows,
        title=f"Under load: {BUSY_BATCH} messages at once, full batches on both queues "
        f"(mean over {busy_rounds * BUSY_BATCH} messages; token and authorizer as above)",
    )
    cost_table = Table(
        ["service", "USD per million messages, under load", "one at a time"],
        [[name, f"{busy_costs[name]:.3f}", f"{value:.3f}"] for name, value in costs.items()],
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
        f"Under load a batch holds {BUSY_BATCH} records (the template's BatchSize; the webhook queue also waits "
        "up to 1 s to fill one), which divides those calls and the dispatch and webhook invocations by "
        f"{BUSY_BATCH}; one at a time every batch holds one record (a quiet gateway's worst case, which "
        "costs little in total). Idle queues add the pollers' empty long-poll receives (a few per minute), "
        "not counted per message. The text sent is a 68-character one-time-code message (item sizes, so "
        "write units, depend on it).",
        "DynamoDB units: writes from the item written (updates: the larger of the request and the item "
        "afterwards), reads from the items returned; a conditional write that fails is billed too.",
        f"Logs: {usage.log_bytes:.0f} bytes of handler output per message (Powertools JSON + EMF metrics), "
        f"{costs['CloudWatch Logs (not in total)']:.2f} USD per million at the ingestion price, outside the goal "
        "(plus Lambda's own START/END/REPORT lines, about 0.3 KB per invocation).",
        "Scheduled sends (send_at, cron) add one EventBridge Scheduler invocation each: +1.00 USD per "
        "million scheduled messages; creating and deleting schedules is not billed per call.",
        f"The status callbacks reached the local receiver: {delivered} of "
        f"{2 * lives + 1 + busy_rounds * BUSY_BATCH} messages.",
        "The client routes are on an HTTP API (1.00 USD per million requests; a REST API costs 3.50): it "
        "has no usage plans, per-client throttling, request validation, X-Ray tracing or WAF of its own and "
        'no gateway responses (docs/decisions.md, "HTTP API"); the carrier webhooks are on function URLs. '
        "What each modelled step trades away: provisioned capacity throttles a burst above "
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
        tables=[busy_table, calls_table, cost_table, scenarios, growth_table, price_table],
        notes=notes,
    )
    section.extra = {
        "usage": busy_usage,
        "costs": busy_costs,
        "durations": {k: stats.median(v) for k, v in durations.items()},
    }
    return section
