"""validate_send: the whole request, normalised, or the first InvalidField naming the wire field."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from smsgw.core.addresses import Destination
from smsgw.core.errors import InvalidField
from smsgw.messages.encoding import Segmentation
from smsgw.messages.params import KNOWN_FIELDS, ValidatedSend, validate_send

BASE = {"from": "AcmeInc", "to": "447700900000", "text": "Hello"}


class FakeUrlCheck:
    """Stands in for check_callback_url (no DNS): records URLs, refuses ones containing 'bad'."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def __call__(self, url: str) -> str:
        self.seen.append(url)
        if "bad" in url:
            raise InvalidField("callback", "callback points at a private address", "23")
        return url


def send(raw: Mapping[str, object], **kwargs: object) -> ValidatedSend:
    return validate_send(raw, check_url=FakeUrlCheck(), **kwargs)  # type: ignore[arg-type]


def refusal(raw: Mapping[str, object], **kwargs: object) -> InvalidField:
    with pytest.raises(InvalidField) as caught:
        send(raw, **kwargs)
    return caught.value


def test_minimal_text_message() -> None:
    assert send(BASE) == ValidatedSend(
        sender="AcmeInc",
        destination=Destination(msisdn="447700900000", country="GB"),
        type="text",
        text="Hello",
        segmentation=Segmentation(encoding="GSM-7", units=5, parts=1, per_part_limit=160, characters=5),
        params={},
    )


def test_addresses_are_normalised() -> None:
    result = send({**BASE, "from": "Acme Inc", "to": "+31612345678"})
    assert result.sender == "AcmeInc"
    assert result.destination == Destination(msisdn="31612345678", country="NL")


def test_unicode_message_is_counted_in_ucs2() -> None:
    result = send({**BASE, "type": "unicode", "text": "Привет 😀"})
    assert result.type == "unicode"
    assert result.segmentation == Segmentation(
        encoding="UCS-2", units=9, parts=1, per_part_limit=70, characters=8
    )


def test_long_text_message_reports_parts() -> None:
    result = send({**BASE, "text": "a" * 161})
    assert (result.segmentation.parts, result.segmentation.per_part_limit) == (2, 153)


@pytest.mark.parametrize("type_", ["TEXT", "Unicode", "text"])
def test_type_is_case_insensitive(type_: str) -> None:
    assert send({**BASE, "type": type_}).type == type_.lower()


def test_binary_message_keeps_udh_and_body_in_params_and_ignores_text() -> None:
    result = send({**BASE, "type": "binary", "udh": "050003CC0201", "body": "0A0B0C", "text": "ignored"})
    assert result.type == "binary"
    assert result.text is None
    assert dict(result.params) == {"udh": "050003CC0201", "body": "0A0B0C"}
    assert (result.udh, result.body) == ("050003CC0201", "0A0B0C")
    assert result.segmentation == Segmentation(
        encoding="binary", units=9, parts=1, per_part_limit=140, characters=0
    )


def test_binary_without_udh() -> None:
    result = send({"from": "AcmeInc", "to": "447700900000", "type": "binary", "body": "FF"})
    assert dict(result.params) == {"body": "FF"}
    assert result.udh is None


def test_advanced_params_are_normalised_wire_strings() -> None:
    check_url = FakeUrlCheck()
    raw = {
        **BASE,
        "ttl": "020000",
        "status-report-req": "TRUE",
        "callback": "https://hooks.example.com/dlr",
        "message-class": "1",
        "protocol-id": "127",
        "validity": "86400000",
        "client-ref": "order-42 ✓",
        "account-ref": "customer1234",
        "entity-id": "1101456324675322134",
        "content-id": "1107457532145798767",
    }
    result = validate_send(raw, check_url=check_url)
    assert dict(result.params) == {
        "ttl": "20000",
        "status-report-req": "true",
        "callback": "https://hooks.example.com/dlr",
        "message-class": "1",
        "protocol-id": "127",
        "validity": "86400000",
        "client-ref": "order-42 ✓",
        "account-ref": "customer1234",
        "entity-id": "1101456324675322134",
        "content-id": "1107457532145798767",
    }
    assert check_url.seen == ["https://hooks.example.com/dlr"]


@pytest.mark.parametrize(
    ("value", "normalised"),
    [("true", "true"), ("True", "true"), ("1", "true"), ("FALSE", "false"), ("0", "false")],
)
def test_status_report_req_spellings(value: str, normalised: str) -> None:
    assert send({**BASE, "status-report-req": value}).params == {"status-report-req": normalised}


@pytest.mark.parametrize(
    ("key", "value"),
    [("ttl", "20000"), ("ttl", "604800000"), ("message-class", "0"), ("message-class", "3"),
     ("protocol-id", "0"), ("protocol-id", "255"), ("validity", "1"), ("validity", "604800000"),
     ("client-ref", "r" * 100), ("account-ref", "a" * 100), ("entity-id", "1" * 50), ("content-id", "2" * 50)],
)  # fmt: skip
def test_advanced_params_accept_their_bounds(key: str, value: str) -> None:
    assert send({**BASE, key: value}).params == {key: value}


def test_json_types_are_accepted() -> None:
    raw = {
        "from": "AcmeInc",
        "to": 447700900000,
        "text": "Hi",
        "ttl": 90000,
        "status-report-req": False,
        "message-class": 0,
    }
    result = send(raw)
    assert result.destination.msisdn == "447700900000"
    assert dict(result.params) == {"ttl": "90000", "status-report-req": "false", "message-class": "0"}


def test_empty_and_null_values_count_as_absent() -> None:
    result = send({**BASE, "client-ref": "", "ttl": None, "callback": "", "type": "", "udh": ""})
    assert result.type == "text"
    assert result.params == {}


def test_authentication_fields_are_ignored() -> None:
    raw = {**BASE, "api_key": "abcd1234", "api_secret": "s3cr3t", "sig": "x" * 32, "timestamp": "1700000000"}
    raw["nonce"] = "n"
    assert send(raw).params == {}


def test_params_are_read_only() -> None:
    result = send({**BASE, "ttl": "30000"})
    with pytest.raises(TypeError):
        result.params["ttl"] = "1"  # type: ignore[index]


def test_default_callback_check_is_check_callback_url() -> None:
    # refused on its scheme before any DNS lookup
    with pytest.raises(InvalidField) as caught:
        validate_send({**BASE, "callback": "http://hooks.example.com/dlr"})
    assert (caught.value.field, caught.value.vonage_status) == ("callback", "23")
    assert "https" in caught.value.message


def test_callback_refusal_from_the_injected_check_propagates() -> None:
    error = refusal({**BASE, "callback": "https://bad.example.com/"})
    assert (error.field, error.vonage_status) == ("callback", "23")


def test_max_parts_is_passed_on() -> None:
    assert send({**BASE, "text": "a" * 161}, max_parts=2).segmentation.parts == 2
    error = refusal({**BASE, "text": "a" * 161}, max_parts=1)
    assert (error.field, error.vonage_status) == ("text", "12")


@pytest.mark.parametrize(
    ("changes", "field", "status", "expected"),
    [
        ({"from": None}, "from", "2", "from is required"),
        ({"from": ""}, "from", "2", "from is required"),
        ({"from": "Acme-Inc"}, "from", "15", "found '-'"),
        ({"from": "ABCDEFGHIJKL"}, "from", "15", "at most 11"),
        ({"to": None}, "to", "2", "to is required"),
        ({"to": "00447700900000"}, "to", "34", "00"),
        ({"to": "12"}, "to", "34", "7 to 15"),
        ({"type": "wappush"}, "type", "3", "type=wappush is not supported"),
        ({"type": "vcal"}, "type", "3", "type=vcal is not supported"),
        ({"type": "VCARD"}, "type", "3", "type=vcard is not supported"),
        ({"type": "sms"}, "type", "3", "type must be text, unicode or binary"),
        ({"text": None}, "text", "2", "text is required for type=text"),
        ({"text": "", "type": "unicode"}, "text", "2", "text is required for type=unicode"),
        ({"text": "Łódź"}, "text", "3", "outside GSM-7"),
        ({"text": "a" * 3201}, "text", "12", "maximum is 3200"),
        ({"udh": "050003CC0201"}, "udh", "3", "udh is only used with type=binary"),
        ({"body": "0A", "type": "unicode"}, "body", "3", "body is only used with type=binary"),
        ({"type": "binary"}, "body", "2", "body is required for type=binary"),
        ({"type": "binary", "body": "XYZ"}, "body", "3", "hex"),
        ({"type": "binary", "body": "00" * 141}, "body", "12", "140"),
        ({"ttl": "19999"}, "ttl", "16", "from 20000 to 604800000 milliseconds"),
        ({"ttl": "604800001"}, "ttl", "16", "got 604800001"),
        ({"ttl": "-1"}, "ttl", "16", "whole number"),
        ({"ttl": "1.5"}, "ttl", "16", "whole number"),
        ({"ttl": "20000ms"}, "ttl", "16", "whole number"),
        ({"ttl": " 20000"}, "ttl", "16", "whole number"),
        ({"ttl": "9" * 5000}, "ttl", "16", "whole number"),
        ({"status-report-req": "yes"}, "status-report-req", "3", "true or false"),
        ({"status-report-req": "2"}, "status-report-req", "3", "true or false"),
        ({"message-class": "4"}, "message-class", "20", "from 0 to 3"),
        ({"message-class": "-1"}, "message-class", "20", "from 0 to 3"),
        ({"message-class": "x"}, "message-class", "20", "from 0 to 3"),
        ({"protocol-id": "256"}, "protocol-id", "3", "from 0 to 255"),
        ({"protocol-id": "0x40"}, "protocol-id", "3", "from 0 to 255"),
        ({"validity": "0"}, "validity", "3", "from 1 to 604800000"),
        ({"validity": "604800001"}, "validity", "3", "from 1 to 604800000"),
        ({"client-ref": "r" * 101}, "client-ref", "3", "101 characters; the maximum is 100"),
        ({"client-ref": "a\nb"}, "client-ref", "3", "control characters"),
        ({"account-ref": "a" * 101}, "account-ref", "3", "maximum is 100"),
        ({"entity-id": "1" * 51}, "entity-id", "3", "maximum is 50"),
        ({"content-id": "2" * 51}, "content-id", "3", "maximum is 50"),
        (
            {"client_ref": "x"},
            "client_ref",
            "3",
            "unknown parameter 'client_ref': did you mean 'client-ref'?",
        ),
        ({"status_report_req": "1"}, "status_report_req", "3", "did you mean 'status-report-req'?"),
        ({"Text": "hi"}, "Text", "3", "did you mean 'text'?"),
        ({"txt": "hi"}, "txt", "3", "did you mean 'text'?"),
        ({"colour": "red"}, "colour", "3", "unknown parameter 'colour': remove it (known parameters:"),
        ({"title": "t"}, "title", "3", "title is not supported: it is a wappush field"),
        ({"url": "u"}, "url", "3", "not supported"),
        ({"vcard": "BEGIN:VCARD"}, "vcard", "3", "not supported"),
        ({"vcal": "BEGIN:VCALENDAR"}, "vcal", "3", "not supported"),
        ({"trusted-number": "true"}, "trusted-number", "3", "operator's carrier account"),
        ({"pool-id": "p1"}, "pool-id", "3", "operator's carrier account"),
        ({"text": ["a", "b"]}, "text", "3", "single string or number, not list"),
        ({"ttl": {"ms": 1}}, "ttl", "3", "not dict"),
    ],
)
def test_refusals_name_the_field(changes: dict[str, object], field: str, status: str, expected: str) -> None:
    raw = {key: value for key, value in {**BASE, **changes}.items() if value is not None}
    error = refusal(raw)
    assert (error.field, error.vonage_status) == (field, status)
    assert expected in error.message


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"client_ref": "x"}, "client_ref"),  # unknown names first: a typo explains the rest
        ({"to": "447700900000"}, "from"),
        ({}, "from"),
        ({"from": "AcmeInc"}, "to"),
        ({"from": "AcmeInc", "to": "447700900000", "type": "fax"}, "type"),
        ({"from": "AcmeInc", "to": "447700900000", "ttl": "1"}, "text"),
        ({**BASE, "ttl": "1", "message-class": "9"}, "ttl"),
        ({**BASE, "message-class": "9", "ttl": "1"}, "ttl"),  # fixed order, not the client's
    ],
)
def test_first_error_wins_in_a_fixed_order(raw: dict[str, object], field: str) -> None:
    assert refusal(raw).field == field


def test_known_fields_are_the_wire_names() -> None:
    assert {
        "from", "to", "text", "type", "udh", "body", "ttl", "status-report-req", "callback",
        "message-class", "protocol-id", "validity", "client-ref", "account-ref", "entity-id", "content-id",
    } == KNOWN_FIELDS  # fmt: skip
