"""Fraud guards per account (docs/fraud.md) through the real send APIs: destination countries, the daily
spend cap, the velocity limit per number range — each refusal stores, charges and queues nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import boto3
import pytest

from smsgw.core.memo import forget_all
from tests.conftest import (
    REGION,
    LambdaContext,
    api_event,
    drain_queue,
    load_handler,
    response_header,
    sqs_event,
)
from tests.integration.test_cli import run
from tests.integration.test_dispatch import dispatch, sim_messages
from tests.integration.test_observability import emitted, named
from tests.integration.test_schedules_api import DAILY, RUN_1, fire, run_queue_url
from tests.integration.test_schedules_api import call as schedules_call

SEND = "/communication/nexmo/sms/send"
GB = {"from": "ACME", "to": "447700900000", "text": "Hello"}  # 0.042 EUR (the rate card's GB price)
GB_PRICE = Decimal("0.042")
# A fixed moment in the middle of a UTC day and of any velocity window, so no test straddles either.
NOON = datetime(2030, 6, 1, 12, 0, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _fresh_caches():
    forget_all()
    yield
    forget_all()


@pytest.fixture
def clock(monkeypatch):
    """The guards' clock (velocity windows, the cap's UTC day), fixed at NOON."""
    from smsgw.messages import guards

    monkeypatch.setattr(guards, "_clock", lambda: NOON)
    return NOON


def guard(account: Any, **settings: Any) -> None:
    """Set the account's guards as the operator does, and forget the warm functions' cached account."""
    from smsgw.accounts import guard_settings

    guard_settings.set_guards(account.account_id, **settings)
    forget_all()


def kpn_send(account: Any, **fields: str) -> dict[str, Any]:
    event = api_event("POST", SEND, form={**GB, **fields}, account_id=account.account_id)
    response = load_handler("send").lambda_handler(event, LambdaContext())
    response["json"] = json.loads(response["body"])
    return response


def sms_json(account: Any, **fields: str) -> dict[str, Any]:
    form = {**GB, **fields, "api_key": account.api_key, "api_secret": account.api_secret}
    response = load_handler("sms_json").lambda_handler(
        api_event("POST", "/sms/json", form=form), LambdaContext()
    )
    response["json"] = json.loads(response["body"])
    return response


def balance(aws: Any, account: Any) -> Decimal:
    return aws.table.get_item(Key={"pk": f"ACCOUNT#{account.account_id}", "sk": "ACCOUNT"})["Item"]["balance"]


def refusal(response: dict[str, Any]) -> dict[str, Any]:
    [element] = response["json"]["messages"]
    assert element["status"] != "0", element
    assert all(isinstance(value, str) for value in element.values())
    return element


def assert_nothing_happened(aws: Any, account: Any, balance_before: Decimal = Decimal("10")) -> None:
    assert aws.items("MSG#") == []
    assert balance(aws, account) == balance_before
    assert aws.queued_bodies() == []


# --- destination countries --------------------------------------------------------------------------


def test_a_blocked_country_is_refused_naming_it_with_status_29_and_nothing_happens(aws, account):
    guard(account, block_countries=["gb", "RU"])
    response = kpn_send(account)
    assert response["statusCode"] == 400
    element = refusal(response)
    assert (element["status"], element["field"]) == ("29", "to")
    assert "Non-Whitelisted Destination" in element["error-text"]
    assert "GB" in element["error-text"]
    assert "blocked" in element["error-text"]

    response = sms_json(account)
    assert response["statusCode"] == 200  # Vonage answers every refusal in the body
    assert refusal(response)["status"] == "29"
    assert_nothing_happened(aws, account)

    # Another country is not affected.
    assert kpn_send(account, to="31612345679")["json"]["messages"][0]["status"] == "0"


def test_an_allow_list_permits_only_its_countries(aws, account):
    guard(account, allow_countries=["NL", "BE"])
    element = refusal(sms_json(account))
    assert element["status"] == "29"
    assert (
        "GB is not on this account's list of allowed destination countries (NL, BE)" in element["error-text"]
    )
    assert_nothing_happened(aws, account)

    accepted = kpn_send(account, to="31612345679")
    assert accepted["statusCode"] == 200
    assert accepted["json"]["messages"][0]["status"] == "0"
    assert len(aws.items("MSG#")) == 1


def test_a_held_send_to_a_refused_country_is_refused_before_it_is_held(aws, account):
    guard(account, block_countries=["GB"])
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat(timespec="seconds")
    response = kpn_send(account, **{"send-at": later})
    assert response["statusCode"] == 400
    assert refusal(response)["status"] == "29"
    assert_nothing_happened(aws, account)


def test_a_schedule_with_a_recipient_in_a_refused_country_is_400_naming_the_recipient(aws, account):
    guard(account, allow_countries=["GB"])
    schedule = {**DAILY, "recipients": [*DAILY["recipients"], {"to": "31612345679", "name": "Cor"}]}
    status, body = schedules_call(account, "POST", "/schedules", schedule)
    assert status == 400
    assert body["field"] == "recipients[2].to"
    assert "NL" in body["error"]
    assert aws.items("SCHEDULE#") == []


def test_a_run_after_the_guards_changed_sends_nothing_to_a_refused_country(aws, account, carrier_env):
    schedule = {**DAILY, "recipients": [*DAILY["recipients"], {"to": "31612345679", "name": "Cor"}]}
    status, created = schedules_call(account, "POST", "/schedules", schedule)
    assert status == 201, created
    guard(account, block_countries=["NL"])
    fire(created["schedule_id"], RUN_1)
    drain_queue(run_queue_url(), "schedule_run")
    while (event := sqs_event(aws.send_queue_url))["Records"]:
        dispatch(event)
        for record in event["Records"]:
            boto3.client("sqs", region_name=REGION).delete_message(
                QueueUrl=aws.send_queue_url, ReceiptHandle=record["receiptHandle"]
            )
    assert sorted(m["to"] for m in sim_messages(carrier_env)) == ["447700900001", "447700900002"]
    [refused] = [m for m in aws.items("MSG#") if m["to"] == "31612345679"]
    assert refused["status"] == "failed"
    assert "NL" in refused["last_error"]
    assert "blocked" in refused["last_error"]
    assert balance(aws, account) == Decimal("10") - 2 * GB_PRICE


# --- the daily spend cap ----------------------------------------------------------------------------


def test_the_daily_cap_refuses_with_status_9_saying_it_is_the_cap_not_the_balance(
    aws, account, clock, monkeypatch
):
    guard(account, daily_cap="0.10")
    for _ in range(2):  # 0.084 of 0.10
        assert kpn_send(account)["json"]["messages"][0]["status"] == "0"
    aws.queued_bodies()
    stored = len(aws.items("MSG#"))
    before = balance(aws, account)

    for response in (kpn_send(account), sms_json(account)):
        assert response["statusCode"] == 200  # as KPN answers status 9
        element = refusal(response)
        assert element["status"] == "9"
        text = element["error-text"]
        assert "daily spend cap of 0.10000000 EUR" in text
        assert "not the balance" in text
        assert "spent on 2030-06-01: 0.08400000 EUR" in text
        assert "resets at 2030-06-02T00:00:00Z (00:00 UTC)" in text
    assert len(aws.items("MSG#")) == stored
    assert balance(aws, account) == before
    assert aws.queued_bodies() == []
    [spend] = aws.items(f"SPEND#{account.account_id}#2030-06-01")
    assert spend["spent"] == 2 * GB_PRICE

    # The next UTC day has its own spend.
    from smsgw.messages import guards

    monkeypatch.setattr(guards, "_clock", lambda: NOON + timedelta(days=1))
    assert kpn_send(account)["json"]["messages"][0]["status"] == "0"


def test_two_sends_that_each_fit_the_cap_cannot_pass_it_together(aws, account, clock, monkeypatch):
    """Both pass the pre-check (each alone fits: 0.042 of 0.08); the charge transaction counts the day's
    spend atomically, so the second to charge is refused and the day's spend never passes the cap."""
    from smsgw import queues

    guard(account, daily_cap="0.08")
    enqueue = queues.enqueue_dispatch
    calls = []

    def interleaved(message_id: str, **kwargs: Any) -> None:
        calls.append(message_id)
        enqueue(message_id, **kwargs)
        if len(calls) == 1:
            # The KPN send has passed its pre-check and is about to charge: another send of the same
            # account (through /sms/json, another function) charges in between.
            assert sms_json(account)["json"]["messages"][0]["status"] == "0"

    monkeypatch.setattr(queues, "enqueue_dispatch", interleaved)
    first = kpn_send(account)
    assert len(calls) == 2  # both were past their pre-checks when they charged
    element = refusal(first)
    assert element["status"] == "9"
    assert "daily spend cap of 0.08000000 EUR" in element["error-text"]
    assert balance(aws, account) == Decimal("10") - GB_PRICE
    [stored] = aws.items("MSG#")
    assert stored["status"] == "queued"
    [spend] = aws.items(f"SPEND#{account.account_id}#")
    assert spend["spent"] == GB_PRICE


def test_a_scheduled_message_that_would_pass_the_cap_at_its_time_is_not_charged(aws, account, carrier_env):
    guard(account, daily_cap="0.05")
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat(timespec="seconds")
    held = kpn_send(account, **{"send-at": later})
    assert held["statusCode"] == 202  # the cap is counted when it is charged, at its time
    message_id = held["json"]["messages"][0]["message-id"]
    assert kpn_send(account)["json"]["messages"][0]["status"] == "0"  # today's spend: 0.042 of 0.05
    aws.table.update_item(
        Key={"pk": f"MSG#{message_id}", "sk": "MSG"},
        UpdateExpression="SET send_at = :now",
        ExpressionAttributeValues={":now": datetime.now(UTC).isoformat(timespec="seconds")},
    )
    boto3.client("sqs", region_name=REGION).purge_queue(QueueUrl=aws.send_queue_url)
    from tests.integration.test_scheduled_sends import fire as fire_one_time

    fire_one_time(f"send-{message_id}")
    dispatch(sqs_event(aws.send_queue_url))
    [stored] = [m for m in aws.items("MSG#") if m["message_id"] == message_id]
    assert stored["status"] == "failed"
    assert "daily spend cap" in stored["last_error"]
    assert "insufficient balance" not in stored["last_error"]
    assert balance(aws, account) == Decimal("10") - GB_PRICE
    assert sim_messages(carrier_env) == []
    [spend] = aws.items(f"SPEND#{account.account_id}#")
    assert spend["spent"] == GB_PRICE


# --- the velocity limit -----------------------------------------------------------------------------


def test_velocity_trips_at_n_plus_one_to_one_range_with_429_and_a_metric(
    aws, account, clock, capsys, monkeypatch
):
    guard(account, velocity=3, velocity_window=60, velocity_digits=9)
    for n in range(3):  # 447700900 + three different numbers: one range of 9 digits
        assert kpn_send(account, to=f"44770090000{n}")["json"]["messages"][0]["status"] == "0"
    aws.queued_bodies()
    before = balance(aws, account)
    capsys.readouterr()

    response = kpn_send(account, to="447700900009")
    assert response["statusCode"] == 429
    assert response_header(response, "Retry-After") == "60"  # NOON is a window's first second
    element = refusal(response)
    assert (element["status"], element["field"]) == ("1", "to")
    assert "at most 3 messages per 60 s to numbers starting 447700900" in element["error-text"]
    metrics = emitted(capsys.readouterr().out)
    assert [m["dimensions"] for m in named(metrics, "FraudVelocityTripped")] == [{"service": "smsgw"}]
    assert named(metrics, "MessagesAccepted") == []

    response = sms_json(account, to="447700900008")
    assert (response["statusCode"], refusal(response)["status"]) == (200, "1")
    assert len(named(emitted(capsys.readouterr().out), "FraudVelocityTripped")) == 1
    assert len(aws.items("MSG#")) == 3
    assert balance(aws, account) == before
    assert aws.queued_bodies() == []

    # Another range, and the same range in the next window, are not held back.
    assert kpn_send(account, to="447700800000")["json"]["messages"][0]["status"] == "0"
    from smsgw.messages import guards

    monkeypatch.setattr(guards, "_clock", lambda: NOON + timedelta(seconds=60))
    assert kpn_send(account, to="447700900009")["json"]["messages"][0]["status"] == "0"
    [counter] = aws.items(f"VELOCITY#{account.account_id}#447700900#{int(NOON.timestamp())}")
    assert counter["hits"] == 3
    assert counter["expires_at"] == int(NOON.timestamp()) + 60 + 60


def test_without_guards_nothing_extra_is_written(aws, account):
    assert kpn_send(account)["json"]["messages"][0]["status"] == "0"
    assert aws.items("SPEND#") == aws.items("VELOCITY#") == []


# --- the operator's command -------------------------------------------------------------------------


def test_cli_sets_shows_and_switches_off_guards(aws, account, capsys):
    table = ("--table-name", aws.table_name)
    code, out, err = run(
        capsys,
        *table,
        "accounts",
        "guards",
        account.account_id,
        "--allow-countries",
        "nl,be",
        "--daily-cap",
        "50",
        "--velocity",
        "20",
    )
    assert code == 0, err
    assert "only NL, BE" in out
    assert "50.00000000 EUR per UTC day" in out
    assert "20 sends per 60 s to numbers sharing their first 7 digits" in out

    code, out, _ = run(
        capsys, *table, "--json", "accounts", "guards", account.account_id, "--velocity-digits", "6"
    )
    shown = json.loads(out)
    assert shown["guards"] == {
        "allow_countries": ["NL", "BE"],
        "daily_cap": "50.00000000",
        "velocity": {"sends": 20, "window_seconds": 60, "prefix_digits": 6},
    }
    assert shown["spent_today"] == "0"

    code, out, _ = run(capsys, *table, "accounts", "list")
    assert "guards: only NL,BE; cap 50.00000000/day; velocity 20/60s/6d" in out
    code, out, _ = run(capsys, *table, "--json", "accounts", "list")
    assert json.loads(out)[0]["guards"]["allow_countries"] == ["NL", "BE"]

    code, out, _ = run(
        capsys, *table, "--json", "accounts", "guards", account.account_id, "--off", "velocity,daily-cap"
    )
    assert json.loads(out)["guards"] == {"allow_countries": ["NL", "BE"]}
    code, out, _ = run(capsys, *table, "accounts", "guards", account.account_id, "--off", "all")
    assert "destinations  any" in out
    assert "velocity      none" in out
    assert (
        "guards"
        not in aws.table.get_item(Key={"pk": f"ACCOUNT#{account.account_id}", "sk": "ACCOUNT"})["Item"]
    )


@pytest.mark.parametrize(
    ("options", "error"),
    [
        (("--allow-countries", "NL,XX"), "'XX' is not an ISO 3166 alpha-2 country code"),
        (("--allow-countries", "NL", "--block-countries", "NL"), "NL would be both allowed and blocked"),
        (("--daily-cap", "0"), "daily-cap must be more than zero"),
        (("--daily-cap", "ten"), "daily-cap must be a decimal number"),
        (("--velocity-window", "30"), "give --velocity N"),
        (("--velocity", "0"), "velocity must be a whole number from 1"),
        (
            ("--velocity", "5", "--velocity-digits", "16"),
            "velocity-digits must be a whole number from 1 to 15",
        ),
        (("--off", "caps"), "unknown guard 'caps'"),
        (("--off", "velocity", "--velocity", "5"), "velocity is both set and switched off"),
    ],
)
def test_cli_refuses_bad_guards_in_one_line_and_changes_nothing(aws, account, capsys, options, error):
    code, _, err = run(
        capsys, "--table-name", aws.table_name, "accounts", "guards", account.account_id, *options
    )
    assert code == 1
    assert err.startswith("error: ")
    assert error in err
    assert err.count("\n") == 1
    item = aws.table.get_item(Key={"pk": f"ACCOUNT#{account.account_id}", "sk": "ACCOUNT"})["Item"]
    assert "guards" not in item


def test_cli_guards_of_an_unknown_account(aws, capsys):
    code, _, err = run(
        capsys, "--table-name", aws.table_name, "accounts", "guards", "nope", "--velocity", "5"
    )
    assert (code, err.strip()) == (1, "error: no account nope")


# --- a registration code (/sms/register) ------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "words"),
    [
        ({"block_countries": ["NL"]}, "it is in NL, and NL is on this account's list of blocked"),
        ({"daily_cap": "0.01"}, "daily spend cap of 0.01000000 EUR"),
    ],
)
def test_a_registration_code_the_guards_refuse_is_412_and_not_sent(aws, account, settings, words):
    guard(account, **settings)
    event = api_event(
        "POST",
        "/communication/nexmo/sms/register",
        form={"to": "31612345670", "callback_url": "https://93.184.215.14/hooks/inbound"},
        account_id=account.account_id,
    )
    response = load_handler("numbers").lambda_handler(event, LambdaContext())
    assert response["statusCode"] == 412
    body = json.loads(response["body"])
    assert words in body["error"]
    assert body["field"] == "to"
    assert_nothing_happened(aws, account)
