"""DeliveryReceiptFunction: signed carrier receipts move the message forward, as its owner then sees it."""

from __future__ import annotations

import json
import time
import urllib.parse

import pytest

from local.events import function_url_event
from smsgw.carrier.vonage import sign_params
from tests.conftest import (
    CARRIER_SIGNATURE_METHOD,
    CARRIER_SIGNATURE_SECRET,
    REGION,
    LambdaContext,
    api_event,
    load_handler,
)
from tests.integration.test_dispatch import accept, dispatch, message, receive_batch


def client_ref_of(carrier_id: str) -> str | None:
    """What the carrier echoes as `client-ref` in a receipt for `carrier_id`: what dispatch sent it, our
    message id (found here by the message's carrier parts)."""
    import boto3

    table = boto3.resource("dynamodb", region_name=REGION).Table("smsgw-test")
    for item in table.scan()["Items"]:
        if any(part.get("carrier_message_id") == carrier_id for part in item.get("carrier_parts") or ()):
            return str(item["message_id"])
    return None


def dlr_fields(carrier_id: str, status: str, echo_client_ref: bool = True, **extra: str) -> dict[str, str]:
    """A receipt as the carrier sends it (Vonage echoes the submission's client-ref unless told not to)."""
    if echo_client_ref and "client-ref" not in extra and (ref := client_ref_of(carrier_id)):
        extra = {"client-ref": ref, **extra}
    fields = {
        "messageId": carrier_id,
        "status": status,
        "err-code": "0" if status == "delivered" else "5",
        "msisdn": "447700900000",
        "to": "ACME",
        "network-code": "23410",
        "price": "0.03330000",
        "scts": "2611251000",
        "message-timestamp": "2026-11-25 10:00:00",
        "api-key": "simkey01",
        "timestamp": str(int(time.time())),
        "nonce": "abc",
        **extra,
    }
    return {**fields, "sig": sign_params(fields, CARRIER_SIGNATURE_SECRET, CARRIER_SIGNATURE_METHOD)}


def post_dlr(
    fields: dict[str, str], encoding: str = "json", via: str = "api", path: str = "/carrier/dlr"
) -> tuple[int, dict]:
    """A receipt as the carrier sends it: through API Gateway, or to the function's URL (CarrierDlrUrl)."""
    make = function_url_event if via == "url" else api_event
    if encoding == "json":
        event = make("POST", path, json_body=fields)
    elif encoding == "form":
        event = make("POST", path, form=fields)
    else:
        event = make("GET", path, query=fields)
    response = load_handler("delivery_receipt").lambda_handler(event, LambdaContext())
    return response["statusCode"], json.loads(response["body"])


@pytest.fixture
def submitted(aws, account, carrier_env) -> tuple[str, str]:
    message_id = accept(account, text="Hello")
    dispatch(receive_batch(aws))
    carrier_id = message(aws, message_id)["carrier_parts"][0]["carrier_message_id"]
    return message_id, carrier_id


@pytest.mark.parametrize("via", ["api", "url"])
@pytest.mark.parametrize("encoding", ["json", "form", "get"])
def test_a_signed_receipt_delivers_the_message(aws, submitted, encoding, via):
    message_id, carrier_id = submitted
    assert post_dlr(dlr_fields(carrier_id, "delivered"), encoding, via) == (200, {"result": "applied"})
    stored = message(aws, message_id)
    assert stored["status"] == "delivered"
    assert stored["part_status"]["1"]["network-code"] == "23410"
    assert [e["status"] for e in stored["events"]] == ["queued", "submitted", "delivered"]


def test_duplicates_and_late_intermediate_receipts_are_acknowledged_and_change_nothing(aws, submitted):
    message_id, carrier_id = submitted
    assert post_dlr(dlr_fields(carrier_id, "delivered"))[1] == {"result": "applied"}
    assert post_dlr(dlr_fields(carrier_id, "delivered")) == (200, {"result": "duplicate"})
    assert post_dlr(dlr_fields(carrier_id, "buffered")) == (200, {"result": "duplicate"})
    assert message(aws, message_id)["status"] == "delivered"


@pytest.mark.parametrize(
    ("mutate", "words"),
    [
        (lambda f: {k: v for k, v in f.items() if k != "sig"}, "unsigned"),
        (lambda f: {**f, "status": "failed"}, "does not match"),
        (lambda f: {**f, "sig": "f" * 64}, "does not match"),
        (lambda f: dlr_fields(f["messageId"], "failed", timestamp=str(int(time.time()) - 3600)), "stale"),
    ],
)
@pytest.mark.parametrize("via", ["api", "url"])
def test_unsigned_forged_or_stale_receipts_are_401_and_change_nothing(aws, submitted, mutate, words, via):
    message_id, carrier_id = submitted
    status, body = post_dlr(mutate(dlr_fields(carrier_id, "delivered")), via=via)
    assert status == 401
    assert words in body["error"]
    assert message(aws, message_id)["status"] == "submitted"


def test_a_receipt_for_an_unknown_id_is_kept(aws, carrier_env):
    assert post_dlr(dlr_fields("not-yet-known", "delivered")) == (200, {"result": "pending"})
    assert len(aws.items("DLRPENDING#")) == 1


def test_bad_receipts_are_400_naming_the_field(aws, carrier_env):
    fields = dlr_fields("x", "delivered")
    del fields["messageId"]
    fields["sig"] = sign_params(
        {k: v for k, v in fields.items() if k != "sig"}, CARRIER_SIGNATURE_SECRET, "sha256"
    )
    status, body = post_dlr(fields)
    assert (status, body["field"]) == (400, "messageId")


def test_the_owner_sees_the_delivered_status(aws, account, submitted):
    message_id, carrier_id = submitted
    post_dlr(dlr_fields(carrier_id, "delivered"))
    event = api_event("GET", f"/messages/{message_id}", account_id=account.account_id)
    event["pathParameters"] = {"message_id": message_id}
    body = json.loads(load_handler("messages").lambda_handler(event, LambdaContext())["body"])
    assert body["status"] == "delivered"
    assert body["events"][-1]["status"] == "delivered"


def test_parts_show_their_status_and_never_the_carriers_cost(aws, account, submitted):
    """README: parts with their carrier ids and statuses. The carrier's price is what the operator pays;
    the tenant sees the price it was charged (`price`), not the operator's margin."""
    message_id, carrier_id = submitted

    def view() -> dict:
        event = api_event("GET", f"/messages/{message_id}", account_id=account.account_id)
        event["pathParameters"] = {"message_id": message_id}
        return json.loads(load_handler("messages").lambda_handler(event, LambdaContext())["body"])

    before = view()["parts"]
    assert [part["status"] for part in before] == ["submitted"]
    post_dlr(dlr_fields(carrier_id, "delivered"))
    body = view()
    assert [part["status"] for part in body["parts"]] == ["delivered"]
    assert body["parts"][0]["carrier_message_id"] == carrier_id
    assert all("price" not in part for part in body["parts"])
    assert "0.03330000" not in json.dumps(body)  # the receipt's price, what the carrier charged


def test_query_strings_are_decoded_like_the_carrier_sent_them(aws, submitted):
    _, carrier_id = submitted
    fields = dlr_fields(carrier_id, "delivered", **{"client-ref": "a&b=c d"})
    assert urllib.parse.urlencode(fields)  # the event builder encodes; the handler must decode
    assert post_dlr(fields, "get")[0] == 200


def test_the_function_url_answers_only_the_receipt_routes(aws, submitted):
    _, carrier_id = submitted
    fields = dlr_fields(carrier_id, "delivered")
    assert post_dlr(fields, via="url", path="/carrier/nosuch/dlr")[0] == 404  # no such connector
    assert post_dlr(fields, via="url", path="/messages")[0] == 404
    assert post_dlr(fields, via="url") == (200, {"result": "applied"})


@pytest.mark.parametrize(
    ("function", "path"), [("delivery_receipt", "/carrier/dlr"), ("inbound", "/carrier/inbound")]
)
def test_bad_calls_to_the_function_urls_are_4xx_never_5xx(aws, function, path):
    """The function URLs are open to anyone (AuthType NONE): other methods, broken or huge bodies
    answer as on the API, before anything is read or written."""
    handler = load_handler(function)
    for method in ("PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "TRACE"):
        assert handler.lambda_handler(function_url_event(method, path), LambdaContext())["statusCode"] == 405
    broken = function_url_event("POST", path, json_body={})
    broken["body"] = "{" * 5000
    assert handler.lambda_handler(broken, LambdaContext())["statusCode"] == 400
    huge = function_url_event("POST", path, form={"text": "x" * (2 * 1024 * 1024)})
    assert handler.lambda_handler(huge, LambdaContext())["statusCode"] == 413


def test_a_delivered_one_time_code_message_stays_under_one_kilobyte(aws, account, carrier_env):
    """Every update of an item over 1 KB is billed 2 write units: a typical one-part message (a 70-character
    code message) stays under it through its whole life, receipt included (issue 15)."""
    from bench.counter import item_size

    text = "Your ACME verification code is 482913. It expires in 10 minutes. Do not share."
    message_id = accept(account, text=text[:70])
    dispatch(receive_batch(aws))
    carrier_id = message(aws, message_id)["carrier_parts"][0]["carrier_message_id"]
    assert post_dlr(dlr_fields(carrier_id, "delivered"))[1] == {"result": "applied"}
    stored = message(aws, message_id)
    assert stored["status"] == "delivered"
    assert stored["part_status"]["1"]["err-code"] == "0"
    assert item_size(stored) < 1024, item_size(stored)


@pytest.mark.parametrize(("protocol", "lookups"), [("simulator", 0), ("vonage", 0), ("kpn", 1)])
def test_a_carrier_id_lookup_is_written_only_where_receipts_do_not_name_the_message(
    aws, account, carrier_env, monkeypatch, protocol, lookups
):
    """Vonage's receipts echo the client-ref dispatch sends (our message id): they find the message
    by it, and dispatch writes no CARRIER# lookup (one write unit per part). KPN does not promise it."""
    from smsgw.carrier.base import SubmitResult, SubmittedPart
    from smsgw.core.memo import forget_all
    from tests.integration.test_dispatch_reconcile import dispatch_with

    class Accepts:
        def submit(self, submission):
            return SubmitResult(
                (SubmittedPart(f"{protocol}-{submission.params['client-ref']}", "23410", "0.03"),)
            )

    monkeypatch.setenv("CARRIER_PROVIDER", protocol)
    forget_all()
    message_id = accept(account)
    receive_batch(aws)  # this test dispatches directly
    assert dispatch_with(Accepts(), message_id) == "submitted"
    assert len(aws.items("CARRIER#")) == lookups
    carrier_id = f"{protocol}-{message_id}"
    assert post_dlr(dlr_fields(carrier_id, "delivered"))[1] == {"result": "applied"}
    assert message(aws, message_id)["status"] == "delivered"
    if lookups:  # a receipt without client-ref finds it by the lookup too
        assert post_dlr(dlr_fields(carrier_id, "delivered", echo_client_ref=False)) == (
            200,
            {"result": "duplicate"},
        )
