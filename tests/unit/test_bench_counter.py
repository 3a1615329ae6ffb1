"""The bench's AWS call counter (botocore event hooks) and DynamoDB request-unit estimates."""

import boto3
import pytest
from botocore.stub import Stubber

from bench.counter import AwsCallCounter, dynamodb_units, item_size, sqs_billed_requests, value_size


def test_every_call_of_a_client_made_inside_the_counter_is_recorded_with_its_phase():
    with AwsCallCounter() as counter:
        client = boto3.client(
            "dynamodb", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="y"
        )
        with Stubber(client) as stub:
            stub.add_response("get_item", {"Item": {"pk": {"S": "A" * 5000}}})
            stub.add_response("put_item", {})
            counter.phase = "read"
            client.get_item(TableName="t", Key={"pk": {"S": "k"}}, ConsistentRead=True)
            counter.phase = "write"
            client.put_item(TableName="t", Item={"pk": {"S": "k"}, "body": {"S": "x" * 1500}})
    assert [(c.phase, c.name) for c in counter.calls] == [
        ("read", "dynamodb.GetItem"),
        ("write", "dynamodb.PutItem"),
    ]
    get, put = counter.calls
    assert get.table == "t"
    assert get.rru == 2.0  # 5,002 bytes, strongly consistent: two 4 KB units
    assert put.wru == 2.0  # 1,506 bytes: two 1 KB units


def test_clients_made_after_the_counter_closed_are_not_counted():
    with AwsCallCounter() as counter:
        pass
    client = boto3.client("sqs", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="y")
    with Stubber(client) as stub:
        stub.add_response("send_message", {"MessageId": "1", "MD5OfMessageBody": "x"})
        client.send_message(QueueUrl="https://q", MessageBody="hi")
    assert counter.calls == []


def test_item_sizes_follow_dynamodb_rules_for_typed_and_plain_values():
    assert value_size({"S": "héllo"}) == 6  # UTF-8 bytes
    assert value_size({"N": "12345"}) == 4  # about one byte per two digits, plus one
    assert value_size({"BOOL": True}) == 1
    assert value_size({"L": [{"S": "ab"}, {"N": "1"}]}) == 3 + (2 + 1) + (2 + 1)
    assert item_size({"pk": {"S": "abc"}, "n": {"N": "7"}}) == 2 + 3 + 1 + 2
    assert item_size({"pk": "abc", "n": 7}) == item_size({"pk": {"S": "abc"}, "n": {"N": "7"}})


def test_transactions_cost_twice_and_eventual_reads_half():
    big = {"pk": {"S": "k"}, "body": {"S": "x" * 1100}}
    wru, _ = dynamodb_units(
        "TransactWriteItems", {"TransactItems": [{"Put": {"TableName": "t", "Item": big}}]}, {}
    )
    assert wru == 4.0  # 2 KB item × 2 (transactional)
    _, rru = dynamodb_units("GetItem", {}, {"Item": {"pk": {"S": "k"}}})
    assert rru == 0.5


def test_a_query_is_billed_on_what_it_scanned_not_what_the_filter_kept():
    item = {"pk": {"S": "x" * 2000}}
    _, rru = dynamodb_units("Query", {}, {"Items": [item], "Count": 1, "ScannedCount": 10})
    assert rru == pytest.approx(
        2.5
    )  # 10 items of ~2 KB read: five 4 KB units, halved (eventually consistent)


def test_sqs_bills_each_64_kb_chunk():
    assert sqs_billed_requests("SendMessage", {"MessageBody": "x" * 100}) == 1
    assert sqs_billed_requests("SendMessage", {"MessageBody": "x" * 70_000}) == 2
    assert sqs_billed_requests("ReceiveMessage", {}) == 1
