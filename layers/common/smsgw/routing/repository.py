"""DynamoDB access for connectors and routes (keys.connector, keys.route): a handful of small items,
read whole and cached by the service."""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.conditions import Key

from smsgw import db, keys


def _all(partition: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"KeyConditionExpression": Key("pk").eq(partition), "ConsistentRead": True}
    while True:
        page = db.table().query(**kwargs)
        items.extend(page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def connectors() -> list[dict[str, Any]]:
    return _all(keys.CONNECTORS)


def routes() -> list[dict[str, Any]]:
    return _all(keys.ROUTES)


def put_connector(name: str, fields: dict[str, Any]) -> None:
    db.table().put_item(Item={**keys.connector(name), **fields})


def delete_connector(name: str) -> bool:
    answer = db.table().delete_item(Key=keys.connector(name), ReturnValues="ALL_OLD")
    return "Attributes" in answer


def put_route(route_id: str, fields: dict[str, Any]) -> None:
    db.table().put_item(Item={**keys.route(route_id), **fields})


def delete_route(route_id: str) -> bool:
    answer = db.table().delete_item(Key=keys.route(route_id), ReturnValues="ALL_OLD")
    return "Attributes" in answer
