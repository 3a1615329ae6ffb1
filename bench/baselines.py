"""Baseline handlers the benchmarks divide by: the least a function of that kind could do.

- `put_and_send`: what SendFunction must at least do — one PutItem and one SQS SendMessage.
- `put_only`: what the inbound intake must at least do — one PutItem.
Both use the same moto, the same client configuration as the layer (smsgw.db) and plain boto3.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from functools import cache
from typing import Any


@cache
def _table() -> Any:
    import boto3

    from smsgw.db import _CLIENT_CONFIG

    return boto3.resource("dynamodb", config=_CLIENT_CONFIG).Table(os.environ["TABLE_NAME"])


@cache
def _sqs() -> Any:
    import boto3

    from smsgw.db import _CLIENT_CONFIG

    return boto3.client("sqs", config=_CLIENT_CONFIG)


def forget_clients() -> None:
    _table.cache_clear()
    _sqs.cache_clear()


def _put(event: dict[str, Any]) -> str:
    message_id = uuid.uuid4().hex
    _table().put_item(
        Item={
            "pk": f"BASE#{message_id}",
            "sk": "BASE",
            "body": event.get("body") or "",
            "at": int(time.time()),
        }
    )
    return message_id


def put_and_send(event: dict[str, Any], context: Any) -> dict[str, Any]:
    message_id = _put(event)
    _sqs().send_message(QueueUrl=os.environ["SEND_QUEUE_URL"], MessageBody=json.dumps({"id": message_id}))
    return {"statusCode": 200, "body": json.dumps({"message-id": message_id})}


def put_only(event: dict[str, Any], context: Any) -> dict[str, Any]:
    _put(event)
    return {"statusCode": 200, "body": '{"result": "received"}'}
