"""Driving each function as its trigger would, under moto (bench.mocked): events, batches, a message's life."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from itertools import count
from typing import Any

from bench.mocked import Env, LambdaContext, ack, api_event, handler, signed_carrier_fields, sqs_event
from local.events import function_url_event

PHONE = "31612345678"  # a customer's phone that registered a callback (inbound from it is routed)
NUMBER = "3197010240299"  # the number it texts
TO = "447700900000"
SENDER = "BENCH"
_serial = count(1)


def new_account(status_url: str | None = None) -> Any:
    """An account with room to send: a large balance and a rate limit no benchmark reaches."""
    from smsgw.accounts import service

    return service.create_account(
        f"bench-{next(_serial)}",
        balance="10000000",
        senders=[SENDER],
        rate_limit_per_second=1_000_000_000,
        status_url=status_url,
    )


def text(n: int) -> str:
    """A typical one-part message: a one-time code, 68 characters (item sizes, so write units, depend on it)."""
    return f"Your ACME code is {n % 1_000_000:06d}. It expires in 10 minutes. Do not share it."


def send_event(account_id: str, n: int = 0, **extra: str) -> dict[str, Any]:
    form = {"from": SENDER, "to": TO, "text": text(n), **extra}
    return api_event("POST", "/communication/nexmo/sms/send", form=form, account_id=account_id)


def send(account_id: str, n: int = 0, **extra: str) -> str:
    response = handler("send").lambda_handler(send_event(account_id, n, **extra), LambdaContext())
    body = json.loads(response["body"])
    if response["statusCode"] != 200 or body["messages"][0].get("status") != "0":
        raise RuntimeError(f"send refused: {response['statusCode']} {body}")
    return str(body["messages"][0]["message-id"])


def register_phone(account_id: str, phone: str, url: str) -> None:
    """/sms/register with its proof of possession: the code SMS (read as the phone's holder would), then
    the call that sends it back."""
    fields = {"to": phone, "callback_url": url}
    first = handler("numbers").lambda_handler(
        api_event("POST", "/communication/nexmo/sms/register", form=fields, account_id=account_id),
        LambdaContext(),
    )
    if first["statusCode"] == 200:
        return
    if first["statusCode"] != 202:
        raise RuntimeError(f"register refused: {first['statusCode']} {first['body']}")
    import boto3

    table = boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])
    texts = [
        item["text"]
        for item in table.scan()["Items"]
        if item.get("purpose") == "verification" and item.get("to") == phone
    ]
    code = re.search(r"\b(\d{6})\b", texts[-1]).group(1)  # type: ignore[union-attr]
    response = handler("numbers").lambda_handler(
        api_event(
            "POST", "/communication/nexmo/sms/register", form={**fields, "code": code}, account_id=account_id
        ),
        LambdaContext(),
    )
    if response["statusCode"] not in (200, 201):
        raise RuntimeError(f"register refused: {response['statusCode']} {response['body']}")


def inbound_event(n: int, text: str = "Yes please") -> dict[str, Any]:
    fields = {
        "msisdn": PHONE,
        "to": NUMBER,
        "messageId": f"BENCH{n:011d}",
        "text": text,
        "type": "text",
        "keyword": text.split()[0].upper(),
        "api-key": "benchkey",
        "message-timestamp": "2026-11-25 10:00:00",
    }
    # To InboundFunction's URL, as the carrier sends it (CarrierInboundUrl).
    return function_url_event("POST", "/carrier/inbound", json_body=signed_carrier_fields(fields))


def dlr_event(carrier_message_id: str, status: str = "delivered", client_ref: str = "") -> dict[str, Any]:
    """The carrier's receipt; `client_ref`: what dispatch sent it (our message id), which Vonage echoes."""
    fields = {
        "messageId": carrier_message_id,
        "status": status,
        "err-code": "0",
        "msisdn": TO,
        "to": SENDER,
        "network-code": "23410",
        "price": "0.03330000",
        "scts": "2611251000",
        "message-timestamp": "2026-11-25 10:00:00",
        "api-key": "benchkey",
        **({"client-ref": client_ref} if client_ref else {}),
    }
    # To DeliveryReceiptFunction's URL, as the carrier sends it (CarrierDlrUrl).
    return function_url_event("POST", "/carrier/dlr", json_body=signed_carrier_fields(fields))


def call_api(name: str, event: dict[str, Any], ok: tuple[int, ...] = (200, 201, 202)) -> dict[str, Any]:
    response: dict[str, Any] = handler(name).lambda_handler(event, LambdaContext())
    if response["statusCode"] not in ok:
        raise RuntimeError(f"{name} answered {response['statusCode']}: {response.get('body')}")
    return response


def drain(env: Env, queue: str, function: str, before: Callable[[], None] | None = None) -> int:
    """Run `function` on the queue's batches until it is empty (as the event source would); returns
    how many records were handed over. `before` runs before each poll (e.g. to label the poller's calls)."""
    handed = 0
    while True:
        if before:
            before()
        event = sqs_event(env.queues[queue])
        if not event["Records"]:
            return handed
        result = handler(function).lambda_handler(event, LambdaContext())
        ack(env.queues[queue], event, result)
        handed += len(event["Records"])


def carrier_id_of(env: Env, message_id: str) -> str:
    item = env.table.get_item(Key={"pk": f"MSG#{message_id}", "sk": "MSG"})["Item"]
    return str(item["carrier_parts"][0]["carrier_message_id"])


# --- one batch of each function (for the memory benchmark) -------------------------------------------

BATCH = 10


def _api_batch(name: str, events: list[dict[str, Any]]) -> None:
    for event in events:
        call_api(name, event, ok=(200, 201, 202, 302, 404, 405))


def batch_for(function: str, env: Env) -> Callable[[], object]:
    """Prepare what `function` needs and return a callable that hands it one batch (10 requests or records)."""
    account = new_account(status_url=env.receiver.url if env.receiver else None)
    aid = account.account_id
    if function == "send":
        return lambda: _api_batch("send", [send_event(aid, n) for n in range(BATCH)])
    if function == "sms_json":
        form = {"api_key": account.api_key, "api_secret": account.api_secret, "from": SENDER, "to": TO}
        events = [api_event("POST", "/sms/json", form={**form, "text": f"json {n}"}) for n in range(BATCH)]
        return lambda: _api_batch("sms_json", events)
    if function == "token":
        form = {"client_id": account.client_id, "client_secret": account.client_secret}
        query = {"grant_type": "client_credentials"}
        events = [api_event("POST", "/oauth/client_credential/accesstoken", form=form, query=query)] * BATCH
        return lambda: _api_batch("token", events)
    if function == "authorizer":
        from smsgw.accounts import service

        tokens = [
            service.issue_token(account.client_id, account.client_secret, "client_credentials").access_token
            for _ in range(BATCH)
        ]
        arn = "arn:aws:execute-api:eu-west-1:123456789012:abc/$default/POST/communication/nexmo/sms/send"
        events = [
            {
                "version": "2.0",
                "type": "REQUEST",
                "headers": {"authorization": f"Bearer {t}"},
                "routeArn": arn,
            }
            for t in tokens
        ]
        return lambda: [handler("authorizer").lambda_handler(e, LambdaContext()) for e in events] and None
    if function in ("dispatch", "delivery_receipt", "webhook"):
        ids = [send(aid, n) for n in range(BATCH)]
        if function == "dispatch":
            return lambda: drain(env, "send", "dispatch") and None
        drain(env, "send", "dispatch")
        dlrs = [dlr_event(carrier_id_of(env, i), client_ref=i) for i in ids]
        if function == "delivery_receipt":
            return lambda: _api_batch("delivery_receipt", dlrs)
        _api_batch("delivery_receipt", dlrs)
        return lambda: drain(env, "webhooks", "webhook") and None
    if function == "inbound":
        register_phone(aid, PHONE, env.receiver.url if env.receiver else "http://127.0.0.1:9/x")
        events = [inbound_event(n) for n in range(BATCH)]
        return lambda: _api_batch("inbound", events)
    if function == "inbound_reassembly":
        import boto3

        sqs = boto3.client("sqs")
        for n in range(BATCH):
            body = {"msisdn": PHONE, "to": NUMBER, "ref": str(n)}
            sqs.send_message(QueueUrl=env.queues["inbound"], MessageBody=json.dumps(body))
        return lambda: drain(env, "inbound", "inbound_reassembly") and None
    if function == "messages":
        ids = [send(aid, n) for n in range(BATCH)]
        events = [api_event("GET", "/messages", query={"limit": "10"}, account_id=aid)]
        for message_id in ids[: BATCH - 1]:
            event = api_event("GET", f"/messages/{message_id}", account_id=aid)
            event["pathParameters"] = {"message_id": message_id}
            event["resource"] = "/messages/{message_id}"
            events.append(event)
        return lambda: _api_batch("messages", events)
    if function == "numbers":
        events = [
            api_event(
                "POST",
                "/communication/nexmo/sms/register",
                form={"to": f"3161234{n:04d}", "callback_url": "http://127.0.0.1:9/cb"},
                account_id=aid,
            )
            for n in range(BATCH)
        ]
        return lambda: _api_batch("numbers", events)
    if function == "schedules":
        schedule_body: dict[str, Any] = {
            "name": "bench",
            "recipients": [{"to": f"4477009{n:05d}", "name": f"R{n}"} for n in range(BATCH)],
            "from": SENDER,
            "text": "Good morning {{name}}",
            "schedule": "cron(0 8 * * ? *)",
            "timezone": "Europe/Amsterdam",
        }
        events = [
            api_event("POST", "/schedules", json_body=schedule_body, account_id=aid) for _ in range(BATCH)
        ]
        return lambda: _api_batch("schedules", events)
    if function == "schedule_run":
        import boto3

        from smsgw.accounts import repository as accounts
        from smsgw.schedules import service as schedules

        # One run (the queue's batch size is 1) of a schedule with 100 recipients.
        recipients = [{"to": f"4477009{n:05d}", "name": f"R{n}"} for n in range(100)]
        account = accounts.get_account(aid)
        assert account is not None
        created = schedules.create_schedule(
            account,
            {
                "name": "bench",
                "recipients": recipients,
                "from": SENDER,
                "text": "Hi {{name}}",
                "schedule": "rate(1 day)",
                "timezone": "UTC",
            },
        )
        run = {"schedule_id": created.schedule_id, "scheduled_time": "2026-11-25T07:00:00Z"}
        boto3.client("sqs").send_message(QueueUrl=env.queues["schedule-runs"], MessageBody=json.dumps(run))
        return lambda: drain(env, "schedule-runs", "schedule_run") and None
    if function == "api":
        paths = ["/openapi.json", "/docs", "/", "/nope", "/openapi.json"] * 2
        return lambda: _api_batch("api", [api_event("GET", p) for p in paths])
    raise KeyError(f"no workload for {function}")


FUNCTIONS = [
    "authorizer",
    "token",
    "send",
    "sms_json",
    "dispatch",
    "delivery_receipt",
    "webhook",
    "inbound",
    "inbound_reassembly",
    "messages",
    "numbers",
    "schedules",
    "schedule_run",
    "api",
]
