"""`smsgw webhooks …`: the operator's commands for outbound webhooks.

    smsgw webhooks replay [--account ID] [--delivery ID] [--since ISO]

Replay re-queues failed deliveries. It needs the webhook queue: `--queue-url`, else
WEBHOOK_QUEUE_URL, else the stack's `WebhookQueueUrl` output (`--stack-name`).
"""

from __future__ import annotations

import argparse
import os
from typing import Any

import boto3
from botocore.exceptions import ClientError

from smsgw.core.errors import BadRequest
from smsgw.core.memo import forget_all
from smsgw.webhooks import service


def add_commands(groups: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    webhooks = groups.add_parser("webhooks", help="outbound webhook deliveries").add_subparsers(
        dest="command", required=True
    )
    replay = webhooks.add_parser(
        "replay", help="re-queue failed deliveries (all, or narrowed by account, delivery or time)"
    )
    replay.add_argument("--account", dest="account_id", help="only this account's deliveries")
    replay.add_argument("--delivery", dest="delivery_id", help="only this delivery (its webhook-id)")
    replay.add_argument(
        "--since", help="only deliveries that failed at or after this time, e.g. 2025-01-31T12:00:00Z"
    )
    replay.add_argument("--queue-url", help="the webhook queue (default: the stack's WebhookQueueUrl output)")


def summary(data: Any) -> str:
    """The human-readable line(s) for `run`'s result (without --json)."""
    ids = data.get("replayed") or []
    if not ids:
        return "nothing to replay"
    return f"replayed {len(ids)} {'delivery' if len(ids) == 1 else 'deliveries'}:" + "".join(
        f"\n  {i}" for i in ids
    )


def run(args: argparse.Namespace) -> Any:
    """Run a `webhooks` command; returns JSON-able data."""
    if args.command == "replay":
        _point_at_queue(args)
        replayed = service.replay(account_id=args.account_id, delivery_id=args.delivery_id, since=args.since)
        return {"replayed": replayed, "count": len(replayed)}
    raise BadRequest(f"unknown webhooks command {args.command!r}")


def _point_at_queue(args: argparse.Namespace) -> None:
    url = getattr(args, "queue_url", None) or os.environ.get("WEBHOOK_QUEUE_URL")
    if not url:
        stack_name = getattr(args, "stack_name", None) or "smsgw"
        try:
            stack = boto3.client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"][0]
        except ClientError as error:
            raise BadRequest(
                f"cannot read stack {stack_name!r} ({error.response['Error']['Message']}): "
                "give --queue-url or --stack-name",
                "queue-url",
            ) from None
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
        url = outputs.get("WebhookQueueUrl")
        if not url:
            raise BadRequest(
                f"stack {stack_name!r} has no WebhookQueueUrl output: give --queue-url", "queue-url"
            )
    os.environ["WEBHOOK_QUEUE_URL"] = url

    forget_all()  # settings are cached: read them again with the queue set
