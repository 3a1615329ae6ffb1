"""`python -m chaos`: the fault-injection run on the local stack; writes docs/reliability.md's chaos section.

python -m chaos                          # what `make chaos` runs (~8–11 min on 2 cores)
python -m chaos --sends 60 --inbound 8   # a shorter run
python -m chaos --output /tmp/r.md       # write the section elsewhere

Steps: start a receiver and the local stack (ministack + template.yaml + the carrier simulator, with
a faults file the functions read), create an account, buy a number pointing at the receiver, warm
up without faults, then switch every fault on at once, run the workload, wait (with a deadline) until
everything has settled, count from the carrier's and the receiver's records, and write the report.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

from chaos import counting, report
from chaos.faults import Faults, crash_log, crashes_by_point, read_crashes, write_faults_file
from chaos.receiver import ChaosReceiver
from chaos.workload import ApiClient, inject_inbound, plan_inbound, plan_sends

ROOT = Path(__file__).resolve().parent.parent
NUMBER_COUNTRY, NUMBER = "NL", "3197010000042"  # in the simulator's pool of NL mobile numbers
# Queues whose records come back only after their visibility timeout when an invocation dies: shortened
# for the run (AWS recommends 6 x the function timeout; the dispatch lease is 120 s, so 130 s here).
VISIBILITY = {"SendQueue": 130, "InboundQueue": 60}
QUIET_SECONDS = 15.0


def say(message: str) -> None:
    print(f"[chaos] {message}", file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m chaos", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sends", type=int, default=300, help="sends through the API (default 300)")
    parser.add_argument("--inbound", type=int, default=36, help="inbound SMS injected (default 36)")
    # A record whose invocation crashed comes back after the queue's visibility timeout (130 s in the
    # run); a message hit by two crashes in a row needs two of them, plus the receipts' reconciliation.
    parser.add_argument(
        "--settle", type=float, default=480, help="seconds to wait for settlement (default 480)"
    )
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument(
        "--crash", type=float, default=0.04, help="probability at each crash point (default 0.04)"
    )
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "reliability.md")
    args = parser.parse_args(argv)
    if args.sends < 1 or args.inbound < 0 or args.settle <= 0 or not 0 <= args.crash <= 1:
        parser.error("--sends ≥ 1, --inbound ≥ 0, --settle > 0, 0 ≤ --crash ≤ 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    faults = Faults(seed=args.seed)
    faults.crash = dict.fromkeys(faults.crash, args.crash)
    commit = report.commit_id(ROOT)  # before the run writes anything
    started = time.monotonic()
    result = run(args, faults)
    facts = report.RunFacts(
        commit=commit,
        date=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        seconds=time.monotonic() - started,
        sends=args.sends,
        inbound=args.inbound,
        faults=dataclasses.asdict(faults),
        crash=faults.crash,
        settled=result["settled"],
        settle_seconds=args.settle,
        notes=result["notes"],
    )
    figures = result["figures"]
    section = report.render(figures, facts)
    previous = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
    args.output.write_text(report.replace_section(previous, section), encoding="utf-8")
    say(f"wrote {args.output} in {facts.seconds / 60:.1f} min")
    for goal in counting.goals(figures):
        print(f"  {'ok  ' if goal.met else 'MISS'} {goal.what}: {goal.value} ({goal.goal})")
    return 0


def run(args: argparse.Namespace, faults: Faults) -> dict[str, Any]:
    from local.stack import LocalStack  # the stack's dependencies are only needed for a real run

    run_dir = ROOT / ".smsgw" / "chaos"
    faults_path = run_dir / "faults.json"
    write_faults_file(faults_path, {"crash": {}})  # nothing crashes while the stack comes up
    crash_log(faults_path).unlink(missing_ok=True)
    run_id = uuid.uuid4().hex[:6]
    notes: list[str] = []
    with (
        ChaosReceiver(fail_rate=0.0, seed=faults.seed) as receiver,
        LocalStack(
            run_dir=run_dir / "stack",
            stack_name="smsgw-chaos",
            simulator_args=["--seed", str(faults.seed)],
            # Webhook retries after 1, 2, 4 … s instead of 5, 10, 20 … s, so the run settles in minutes,
            # and never wait more than 30 s: at 40 % failures a callback failing nine times in a row
            # (about 1 in 4,000) otherwise waited 8.5 min, past the settle window, and read as lost.
            parameters={"WebhookRetryStartSeconds": "1", "WebhookRetryCapSeconds": "30"},
            faults_file=faults_path,
            log=say,
        ) as stack,
    ):
        sim_url = str(stack.info["simulator_url"])
        _shorten_visibility(stack, notes)
        account = stack.create_account("chaos", "1000", "SMSGW", "--rate-limit", "1000")
        receiver.secret = account.get("webhook_secret") or None
        client = ApiClient(str(stack.info["api_url"]), account["client_id"], account["client_secret"])
        client.own_number(NUMBER_COUNTRY, NUMBER, f"{receiver.url}/inbound")
        _warm_up(client, sim_url, receiver)

        say("faults on: carrier, receipts, receiver, crash points")
        requests.put(f"{sim_url}/_sim/config", json=faults.simulator_config(), timeout=10).raise_for_status()
        receiver.fail_rate = faults.receiver_fail_rate
        write_faults_file(faults_path, faults.faults_file())
        notes.append(
            "The carrier's receipt and inbound retries are shortened (6 tries, 2 s doubling; Vonage: 5 s "
            "doubling for a day) and the template's `WebhookRetryStartSeconds` is 1 and `WebhookRetryCapSeconds` 30, "
            "so a run settles in minutes."
        )

        forms = plan_sends(args.sends, run_id, f"{receiver.url}/status", faults.seed)
        inbound_plans = plan_inbound(args.inbound, NUMBER, faults.seed)
        injected: list[dict[str, Any]] = []
        injector = threading.Thread(
            target=lambda: injected.extend(inject_inbound(sim_url, inbound_plans, args.sends / 10)),
            daemon=True,
        )
        t0 = time.monotonic()
        injector.start()
        say(f"sending {len(forms)} messages and injecting {len(inbound_plans)} inbound SMS")
        sends = client.send_all(forms)
        injector.join()
        say(
            f"workload done in {time.monotonic() - t0:.0f} s: {sum(s['accepted'] for s in sends)} sends accepted"
        )

        settled, data = _settle(args.settle, client, sim_url, receiver, sends, injected, faults_path)
        write_faults_file(faults_path, {"crash": {}})
        _confirm_not_final(client, sends, data["messages"])
        figures = counting.count_all(sends=sends, inbound=injected, **data)
        if not settled:
            notes.append(
                f"The run did not settle within {args.settle:.0f} s after the workload; counted as it was then."
            )
        (run_dir / "result.json").write_text(
            json.dumps({"sends": sends, "inbound": injected, **data}, indent=1, default=str), encoding="utf-8"
        )
        say(f"raw records: {run_dir / 'result.json'}")
    return {"figures": figures, "settled": settled, "notes": notes}


def _shorten_visibility(stack: Any, notes: list[str]) -> None:
    import boto3

    sqs = boto3.client(
        "sqs",
        endpoint_url=stack.endpoint_url,
        region_name=stack.region,
        aws_access_key_id="test",
        aws_secret_access_key="test",  # noqa: S106 - ministack accepts any
    )
    changed = []
    for logical_id, seconds in VISIBILITY.items():
        url = stack.resource_id(logical_id)
        before = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])["Attributes"]
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": str(seconds)})
        changed.append(f"{logical_id} {before['VisibilityTimeout']} s → {seconds} s")
    notes.append(
        "Records of an invocation that crashed come back after their queue's visibility timeout; for the "
        f"run it is shortened ({', '.join(changed)}) so they come back within minutes. Everything else is "
        "template.yaml as deployed."
    )


def _warm_up(client: ApiClient, sim_url: str, receiver: ChaosReceiver) -> None:
    """Start the functions' workers (a cold one takes seconds) and check the plumbing, without faults."""
    say("warming up (no faults)")
    refs = [f"warmup-{uuid.uuid4().hex[:8]}" for _ in range(8)]
    # As many at once as the workload sends, so each concurrent worker has started.
    message_ids: set[str] = set()
    for record in client.send_all(
        [{"from": "SMSGW", "to": "447700900001", "text": "warm-up", "client-ref": ref} for ref in refs]
    ):
        if not record["accepted"]:
            raise RuntimeError(f"a warm-up send was not accepted: {record}")
        message_ids.add(str(record.get("message_id")))
    requests.post(
        f"{sim_url}/_sim/inbound",
        json={"from": "31600000001", "to": NUMBER, "text": "warm-up"},
        timeout=10,
    ).raise_for_status()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        at_carrier = {m.get("client-ref") for m in _sim_messages(sim_url)}
        forwarded = [c for c in receiver.calls() if (c.get("body") or {}).get("msisdn") == "31600000001"]
        # The carrier sees the gateway's message id as client-ref (reconciliation).
        if (set(refs) <= at_carrier or message_ids <= at_carrier) and forwarded:
            return
        time.sleep(1)
    raise RuntimeError("the warm-up messages did not reach the carrier and the receiver within 120 s")


def _sim_messages(sim_url: str) -> list[dict[str, Any]]:
    response = requests.get(f"{sim_url}/_sim/messages", timeout=30)
    response.raise_for_status()
    return list(response.json()["messages"])


def _normalized(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "message_id": m["message_id"],
            "status": m.get("status"),
            "client-ref": m.get("client-ref", m.get("client_ref")),
        }
        for m in messages
    ]


def _collect(client: ApiClient, sim_url: str, receiver: ChaosReceiver, faults_path: Path) -> dict[str, Any]:
    crashes = read_crashes(faults_path)
    return {
        "carrier": _sim_messages(sim_url),
        "messages": _normalized(client.messages()),
        "calls": receiver.calls(),
        "crashes": crashes,
        "crash_counts": crashes_by_point(crashes),
    }


def _settle(
    timeout: float,
    client: ApiClient,
    sim_url: str,
    receiver: ChaosReceiver,
    sends: list[dict[str, Any]],
    injected: list[dict[str, Any]],
    faults_path: Path,
) -> tuple[bool, dict[str, Any]]:
    """Poll until every accepted message is final with its callback and every inbound SMS forwarded,
    and nothing new arrived for QUIET_SECONDS; or until `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    last_report = 0.0
    while True:
        data = _collect(client, sim_url, receiver, faults_path)
        figures = counting.count_all(sends=sends, inbound=injected, **data)
        now = time.monotonic()
        quiet = time.time() - receiver.last_call_at() >= QUIET_SECONDS
        if counting.settled(figures) and quiet:
            return True, data
        if now >= deadline:
            return False, data
        if now - last_report >= 30:
            last_report = now
            say(
                f"settling ({deadline - now:.0f} s left): not final {figures.not_final}, callbacks missing "
                f"{figures.callbacks_lost}, inbound missing {figures.inbound_lost}, at carrier "
                f"{figures.accepted - figures.lost}/{figures.accepted}"
            )
        time.sleep(5)


def _confirm_not_final(
    client: ApiClient, sends: list[dict[str, Any]], messages: list[dict[str, Any]]
) -> None:
    """Read each accepted message the list shows as not final (or misses) with GET /messages/{id}."""
    by_id = {m["message_id"]: m for m in messages}
    for send in sends:
        message_id = send.get("message_id")
        if not send.get("accepted") or not message_id:
            continue
        known = by_id.get(message_id)
        if known is not None and known.get("status") in counting.FINAL_STATUSES:
            continue
        current = client.message(message_id)
        if current is not None:
            entry = _normalized([current])[0]
            if entry["message_id"] in by_id:
                by_id[entry["message_id"]].update(entry)
            else:
                by_id[entry["message_id"]] = entry
                messages.append(entry)
