"""The bench's cheaper moto transaction rollback gives every transaction the outcome moto's own gives."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from bench.moto_transactions import item_level_rollback

TABLE = "t"


def _put(pk: str, **attributes: Any) -> dict[str, Any]:
    item = {"pk": {"S": pk}, "sk": {"S": "X"}, **{k: {"N": str(v)} for k, v in attributes.items()}}
    return {"Put": {"TableName": TABLE, "Item": item}}


def _update(pk: str, expression: str, condition: str | None = None, **values: int) -> dict[str, Any]:
    update: dict[str, Any] = {
        "TableName": TABLE,
        "Key": {"pk": {"S": pk}, "sk": {"S": "X"}},
        "UpdateExpression": expression,
    }
    if values:
        update["ExpressionAttributeValues"] = {f":{k}": {"N": str(v)} for k, v in values.items()}
    if condition:
        update["ConditionExpression"] = condition
    return {"Update": update}


TRANSACTIONS: dict[str, list[dict[str, Any]]] = {
    "all succeed": [_put("new", n=1), _update("a", "SET n = n + :one", one=1)],
    "the last fails its condition": [
        _put("new", n=1),
        _update("a", "SET n = n + :one", one=1),
        _update("b", "SET n = :zero", "n > :big", zero=0, big=100),
    ],
    "the first fails its condition": [
        {"Put": {**_put("a", n=9)["Put"], "ConditionExpression": "attribute_not_exists(pk)"}},
        {"Delete": {"TableName": TABLE, "Key": {"pk": {"S": "b"}, "sk": {"S": "X"}}}},
    ],
    "an item named twice": [_update("a", "SET n = :zero", zero=0), _update("a", "SET n = :zero", zero=0)],
    "a failing update expression": [_put("new", n=1), _update("a", "SET n = missing + :one", one=1)],
    "a check that fails": [
        _put("new", n=1),
        {
            "ConditionCheck": {
                "TableName": TABLE,
                "Key": {"pk": {"S": "b"}, "sk": {"S": "X"}},
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        },
    ],
}


def _outcome(rollback: Callable[[], Any], transaction: list[dict[str, Any]]) -> tuple[str, list[Any]]:
    with mock_aws(), rollback():
        client = boto3.client("dynamodb", region_name="eu-west-1")
        client.create_table(
            TableName=TABLE,
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        for pk, n in (("a", 1), ("b", 2)):
            client.put_item(TableName=TABLE, Item=_put(pk, n=n)["Put"]["Item"])
        try:
            client.transact_write_items(TransactItems=transaction)
            error = "none"
        except ClientError as raised:
            reasons = [r.get("Code") for r in raised.response.get("CancellationReasons", [])]
            error = f"{raised.response['Error']['Code']} {reasons}"
        items = client.scan(TableName=TABLE)["Items"]
        return error, sorted(items, key=lambda item: item["pk"]["S"])


@pytest.mark.parametrize("name", TRANSACTIONS)
def test_a_transaction_ends_as_it_does_with_motos_own_rollback(name):
    expected = _outcome(nullcontext, TRANSACTIONS[name])
    assert _outcome(item_level_rollback, TRANSACTIONS[name]) == expected
    if name != "all succeed":  # (the cases do fail, and leave the table as it was)
        assert expected[0] != "none"
        assert [item["n"]["N"] for item in expected[1]] == ["1", "2"]
