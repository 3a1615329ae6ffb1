"""What an operator sees: the EMF metrics the alarms and the dashboard read, and refusals in the logs."""

from __future__ import annotations

import json
from typing import Any

import pytest

from smsgw.core.errors import Forbidden
from smsgw.edges.errors import Wire, error_answer
from tests.conftest import LambdaContext, api_event, load_handler
from tests.integration.test_dispatch import accept, configure, dispatch, message, receive_batch
from tests.integration.test_receipts_api import dlr_fields, post_dlr


def emitted(out: str) -> list[dict[str, Any]]:
    """The EMF metrics printed to stdout, one entry per value: {name, unit, value, dimensions}."""
    metrics: list[dict[str, Any]] = []
    for line in out.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if not isinstance(record, dict) or "_aws" not in record:
            continue
        [directive] = record["_aws"]["CloudWatchMetrics"]
        dimensions = {name: record[name] for name in directive["Dimensions"][0]}
        for metric in directive["Metrics"]:
            values = record[metric["Name"]]
            for value in values if isinstance(values, list) else [values]:
                metrics.append(
                    {"name": metric["Name"], "unit": metric["Unit"], "value": value, "dimensions": dimensions}
                )
    return metrics


def logged(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    """The gateway's log lines as the JSON logger would write them: message, level and the extra fields."""
    return [
        {**record.__dict__, "message": record.getMessage(), "level": record.levelname}
        for record in caplog.records
        if record.name == "smsgw"
    ]


def named(metrics: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [m for m in metrics if m["name"] == name]


def test_a_delivered_message_counts_once_with_its_latency_per_carrier_and_country(
    aws, account, carrier_env, capsys
):
    message_id = accept(account, to="447700900000")
    dispatch(receive_batch(aws))
    carrier_id = message(aws, message_id)["carrier_parts"][0]["carrier_message_id"]
    post_dlr(dlr_fields(carrier_id, "delivered"))
    post_dlr(dlr_fields(carrier_id, "delivered"))  # the carrier sends it twice: counted once
    metrics = emitted(capsys.readouterr().out)

    assert [m["dimensions"] for m in named(metrics, "MessagesSubmitted")] == [{"service": "smsgw"}]
    delivered = named(metrics, "MessagesDelivered")
    assert sorted((m["dimensions"] for m in delivered), key=len) == [
        {"service": "smsgw"},
        {"service": "smsgw", "carrier": "default", "country": "GB"},  # the connector's name
    ]
    for name in ("SubmitLatency", "DeliveryLatency"):
        latencies = named(metrics, name)
        assert len(latencies) == 2, name
        assert all(m["unit"] == "Milliseconds" for m in latencies), name
        assert all(0 <= m["value"] < 60_000 for m in latencies), name
    assert named(metrics, "MessagesUndelivered") == []
    # No phone number in any dimension.
    assert not any("447700900000" in json.dumps(m) for m in metrics)


def test_an_undelivered_message_is_counted_as_such(aws, account, carrier_env, capsys):
    message_id = accept(account)
    dispatch(receive_batch(aws))
    carrier_id = message(aws, message_id)["carrier_parts"][0]["carrier_message_id"]
    post_dlr(dlr_fields(carrier_id, "expired"))
    metrics = emitted(capsys.readouterr().out)
    assert len(named(metrics, "MessagesUndelivered")) == 2
    assert named(metrics, "MessagesDelivered") == named(metrics, "DeliveryLatency") == []


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({"reject_next": 1, "error_status": "6"}, {"CarrierRejected"}),
        ({"fail_next": 1}, {"CarrierErrors"}),
        ({"reject_next": 1, "error_status": "4"}, {"CarrierErrors", "CarrierAuthFailures"}),
    ],
)
def test_carrier_failures_are_counted_by_kind(aws, account, carrier_env, capsys, caplog, settings, expected):
    configure(carrier_env, **settings)
    accept(account)
    capsys.readouterr()
    dispatch(receive_batch(aws))
    metrics = emitted(capsys.readouterr().out)
    logs = logged(caplog)
    kinds = {"CarrierRejected", "CarrierErrors", "CarrierAuthFailures"}
    assert {m["name"] for m in metrics} & kinds == expected
    assert named(metrics, "MessagesSubmitted") == []
    if "CarrierAuthFailures" in expected:
        assert any(log["level"] == "ERROR" and "carrier secret" in log["message"] for log in logs)


def _send(account_id: str, form: dict[str, str]) -> dict[str, Any]:
    event = api_event("POST", "/communication/nexmo/sms/send", form=form, account_id=account_id)
    return load_handler("send").lambda_handler(event, LambdaContext())


def test_a_refused_send_is_logged_with_its_reason_and_field_and_no_phone_number(aws, account, caplog):
    response = _send(account.account_id, {"from": "ACME", "to": "447700900000", "text": "x" * 5000})
    assert response["statusCode"] == 400
    logs = logged(caplog)
    [refusal] = [log for log in logs if log["message"] == "request refused"]
    assert refusal["level"] == "INFO"
    assert (refusal["http_status"], refusal["field"]) == (400, "text")
    assert "3200" in refusal["reason"]
    assert "447700900000" not in json.dumps(logs, default=str)


def test_an_unauthenticated_call_is_a_warning_not_a_traceback(aws, caplog):
    event = api_event("POST", "/communication/nexmo/sms/send", form={"to": "447700900000"})
    event["requestContext"]["authorizer"] = {}
    response = load_handler("send").lambda_handler(event, LambdaContext())
    assert response["statusCode"] == 401
    logs = logged(caplog)
    [refusal] = [log for log in logs if log["message"] == "request refused"]
    assert (refusal["level"], refusal["http_status"]) == ("WARNING", 401)
    assert not any(log["exc_info"] or log["level"] == "ERROR" for log in logs)


def test_a_refusal_that_quotes_a_phone_number_is_logged_masked(caplog):
    answer = error_answer(Wire.GATEWAY, Forbidden("to 31612345678 is registered by another account"))
    assert answer.status_code == 403
    [refusal] = [log for log in logged(caplog) if log["message"] == "request refused"]
    assert refusal["level"] == "WARNING"
    assert refusal["reason"] == "to 316******78 is registered by another account"
