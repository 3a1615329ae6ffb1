"""Validation of /sms/register and the Phone Numbers API parameters: every field, good and bad."""

from __future__ import annotations

import pytest

from smsgw.core.errors import BadRequest, InvalidField
from smsgw.edges.errors import http_status
from smsgw.numbers import params, register, repository, service
from smsgw.numbers.errors import NumbersApiError

PUBLIC = "93.184.215.14"


def public_resolver(host: str) -> list[str]:
    return [PUBLIC]


@pytest.fixture
def no_store(monkeypatch):
    """Validation must refuse before anything is written: a write fails the test."""
    writes: list[tuple] = []

    def refuse(*args, **kwargs):
        writes.append(args)
        raise AssertionError(f"stored despite bad input: {args}")

    for name in ("register", "claim_owned", "update_settings", "release_owned"):
        monkeypatch.setattr(repository, name, refuse)
    monkeypatch.setattr(repository, "get_number", lambda *a, **k: None)
    return writes


def refused(call, field: str) -> NumbersApiError:
    with pytest.raises(NumbersApiError) as caught:
        call()
    assert caught.value.status_code == 400
    assert caught.value.field == field
    assert caught.value.error_code == "400"
    assert caught.value.message
    return caught.value


# --- /sms/register (the gateway's errors: InvalidField / BadRequest naming the field) ------------------------


@pytest.mark.parametrize(
    "to",
    [
        "",
        "   ",
        "abc",
        "+44 7700 900000",
        "00447700900000",
        "07700900000",
        "12345",
        "1234567890123456",
        "80012345678",
    ],
)
def test_register_refuses_a_bad_to(no_store, to):
    with pytest.raises(InvalidField) as caught:
        register.register_callback(
            "acc", {"to": to, "callback_url": "https://example.com/in"}, resolve=public_resolver
        )
    assert caught.value.field == "to"
    assert http_status(caught.value) == 400


@pytest.mark.parametrize(
    "url",
    [
        "",
        "http://example.com/in",  # plain http, not allow-listed
        "ftp://example.com/in",
        "https://127.0.0.1/in",
        "https://10.1.2.3/in",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/in",
        "https://[::ffff:10.0.0.1]/in",
        "https://0x7f.1/in",
        "https://2130706433/in",
        "https://localhost/in",
        "https://user:pw@example.com/in",
        "https://exa mple.com/in",
        "/relative/path",
        "https://example.com/" + "x" * params.MAX_URL_LENGTH,
    ],
)
def test_register_refuses_an_unsafe_callback_url(no_store, url):
    with pytest.raises(InvalidField) as caught:
        register.register_callback("acc", {"to": "31612345678", "callback_url": url}, resolve=public_resolver)
    assert caught.value.field == "callback_url"


@pytest.mark.parametrize("private", ["10.0.0.7", "192.168.1.1", "127.0.0.1", "169.254.169.254", "fd00::1"])
def test_register_refuses_a_host_name_that_resolves_to_a_private_address(no_store, private):
    resolved: list[str] = []

    def resolver(host: str) -> list[str]:
        resolved.append(host)
        return [PUBLIC, private]  # one bad address is enough

    with pytest.raises(InvalidField) as caught:
        register.register_callback(
            "acc", {"to": "31612345678", "callback_url": "https://hooks.example.com/in"}, resolve=resolver
        )
    assert caught.value.field == "callback_url"
    assert resolved == ["hooks.example.com"]


def test_register_refuses_an_unknown_parameter_by_name(no_store):
    with pytest.raises(BadRequest) as caught:
        register.register_callback(
            "acc", {"to": "31612345678", "callback_url": "https://example.com/in", "callback": "x"}
        )
    assert caught.value.field == "callback"


def test_register_of_a_phone_the_account_holds_passes_valid_input_to_the_repository(monkeypatch):
    calls: list[tuple] = []
    monkeypatch.setattr(repository, "register", lambda *args: calls.append(args) or False)
    monkeypatch.setattr(repository, "get_number", lambda *a, **k: {"account_id": "acc", "kind": "registered"})
    outcome = register.register_callback(
        "acc",
        {"to": " +31612345678 ", "callback_url": "https://hooks.example.com/in"},
        resolve=public_resolver,
    )
    assert outcome is register.RegisterOutcome.REPLACED
    [(account, msisdn, country, url, _now)] = calls
    assert (account, msisdn, country, url) == ("acc", "31612345678", "NL", "https://hooks.example.com/in")


def test_register_of_a_new_phone_sends_it_a_code_and_stores_no_number(no_store, monkeypatch):
    started: list[dict] = []
    monkeypatch.setattr(repository, "start_verification", lambda *args, **kwargs: started.append(kwargs))
    sent: list[tuple[str, str]] = []
    outcome = register.register_callback(
        "acc",
        {"to": "+31612345678", "callback_url": "https://hooks.example.com/in"},
        resolve=public_resolver,
        send_code=lambda msisdn, text: sent.append((msisdn, text)),
    )
    assert outcome is register.RegisterOutcome.CODE_SENT
    [(msisdn, text)] = sent
    assert msisdn == "31612345678"
    code = next(word for word in text.replace(".", " ").split() if word.isdigit() and len(word) == 6)
    assert started[0]["code_hash"] != code  # only a hash of the code is stored
    assert started[0]["callback_url"] == "https://hooks.example.com/in"


# --- Phone Numbers API fields --------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "expected"), [("GB", "GB"), ("nl", "NL"), (" us ", "US")])
def test_country_accepts_iso_codes_any_case(value, expected):
    assert params.country(value) == expected


@pytest.mark.parametrize("value", [None, "", "G", "GBR", "12", "XX", "ÄB", "G1"])
def test_country_refuses(value):
    refused(lambda: params.country(value), "country")


@pytest.mark.parametrize(
    ("value", "country", "expected"),
    [
        ("447700900001", "GB", "447700900001"),
        ("+3197010000003", "NL", "3197010000003"),
        ("12025550123", "CA", "12025550123"),
    ],
)
def test_msisdn_accepts_a_number_of_the_country(value, country, expected):
    assert params.msisdn(value, country) == expected


@pytest.mark.parametrize(
    ("value", "country"),
    [
        (None, "GB"),
        ("", "GB"),
        ("44770090000x", "GB"),
        ("07700900001", "GB"),
        ("00447700900001", "GB"),
        ("123", "GB"),
        ("1234567890123456", "GB"),
        ("447700900001", "NL"),  # a GB number
        ("80012345678", "GB"),  # non-geographic
    ],
)
def test_msisdn_refuses(value, country):
    error = refused(lambda: params.msisdn(value, country), "msisdn")
    assert error.message.startswith(("msisdn", "Missing parameter msisdn"))


@pytest.mark.parametrize(
    ("value", "expected"), [(None, None), ("", None), ("4477", "4477"), ("1" * 15, "1" * 15)]
)
def test_pattern_accepts_digits(value, expected):
    assert params.pattern(value) == expected


@pytest.mark.parametrize("value", ["44*", "+44", "abc", "1" * 16, "12 34", "٣"])
def test_pattern_refuses(value):
    refused(lambda: params.pattern(value), "pattern")


@pytest.mark.parametrize(("value", "expected"), [(None, 0), ("", 0), ("0", 0), ("1", 1), ("2", 2)])
def test_search_pattern_accepts_0_1_2(value, expected):
    assert params.search_pattern(value) == expected


@pytest.mark.parametrize("value", ["3", "-1", "01", "starts", "1.0"])
def test_search_pattern_refuses(value):
    refused(lambda: params.search_pattern(value), "search_pattern")


@pytest.mark.parametrize(("value", "expected"), [(None, 10), ("", 10), ("1", 1), ("100", 100), ("007", 7)])
def test_size_defaults_to_10_and_allows_1_to_100(value, expected):
    assert params.size(value) == expected


@pytest.mark.parametrize("value", ["0", "101", "-1", "ten", "1.5", "1" * 5000, "²"])
def test_size_refuses(value):
    refused(lambda: params.size(value), "size")


@pytest.mark.parametrize(("value", "expected"), [(None, 1), ("1", 1), ("100000", 100_000)])
def test_index_defaults_to_1(value, expected):
    assert params.index(value) == expected


@pytest.mark.parametrize("value", ["0", "100001", "-2", "x"])
def test_index_refuses(value):
    refused(lambda: params.index(value), "index")


@pytest.mark.parametrize("value", ["landline", "landline-toll-free", "mobile-lvn"])
def test_type_accepts_vonage_types(value):
    assert params.number_type(value) == value


@pytest.mark.parametrize("value", ["mobile", "LANDLINE", "toll-free"])
def test_type_refuses(value):
    refused(lambda: params.number_type(value), "type")


@pytest.mark.parametrize(
    ("value", "expected"), [("SMS", "SMS"), ("sms,voice", "SMS,VOICE"), ("VOICE, MMS", "VOICE,MMS")]
)
def test_features_accepts_a_set(value, expected):
    assert params.features(value) == expected


@pytest.mark.parametrize("value", ["FAX", "SMS,SMS", "SMS,", ",VOICE"])
def test_features_refuses(value):
    refused(lambda: params.features(value), "features")


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/in",
        "https://127.0.0.1/in",
        "https://10.0.0.1/in",
        "https://169.254.169.254/",
        "https://[::1]/in",
        "not a url",
        "https://example.com/" + "x" * params.MAX_URL_LENGTH,
    ],
)
def test_mo_http_url_refuses_unsafe_urls_naming_moHttpUrl(url):
    refused(lambda: params.callback_url(url, "moHttpUrl", (), public_resolver), "moHttpUrl")


def test_mo_http_url_refuses_a_name_resolving_to_a_private_address():
    refused(
        lambda: params.callback_url("https://in.example.com/", "moHttpUrl", (), lambda h: ["10.9.8.7"]),
        "moHttpUrl",
    )


def test_mo_http_url_allows_plain_http_only_for_allow_listed_hosts():
    assert (
        params.callback_url("http://127.0.0.1:8787/in", "moHttpUrl", ("127.0.0.1",))
        == "http://127.0.0.1:8787/in"
    )
    assert (
        params.callback_url("https://in.example.com/x", "moHttpUrl", (), public_resolver)
        == "https://in.example.com/x"
    )


@pytest.mark.parametrize(
    ("check", "good", "bad", "field"),
    [
        (params.voice_callback_type, "sip", "pstn", "voiceCallbackType"),
        (params.voice_callback_value, "sip:me@example.com", "x" * 256, "voiceCallbackValue"),
        (params.voice_callback_value, "31201234567", "a\nb", "voiceCallbackValue"),
        (
            params.voice_status_callback,
            "https://example.com/status",
            "example.com/status",
            "voiceStatusCallback",
        ),
        (
            params.voice_status_callback,
            "http://example.com/status",
            "ftp://example.com/",
            "voiceStatusCallback",
        ),
        (params.smpp_system_type, "inbound", "in bound", "moSmppSysType"),
        (params.smpp_system_type, "a_b-c", "x" * 33, "moSmppSysType"),
        (params.application_id, "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", "app-1", "app_id"),
    ],
)
def test_update_settings(check, good, bad, field):
    assert check(good) == good
    refused(lambda: check(bad), field)


@pytest.mark.parametrize(("value", "expected"), [(None, None), ("true", True), ("FALSE", False)])
def test_has_application(value, expected):
    assert params.has_application(value) is expected


def test_has_application_refuses():
    refused(lambda: params.has_application("yes"), "has_application")


def test_unknown_parameters_are_refused_by_name_but_vonage_credentials_are_ignored():
    params.refuse_unknown({"country": "GB", "api_key": "k", "api_secret": "s"}, ("country",))
    refused(
        lambda: params.refuse_unknown({"country": "GB", "searchPattern": "1"}, ("country",)), "searchPattern"
    )


# --- the services refuse bad input before reading or writing anything -------------------------------------------


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"msisdn": "447700900001"}, "country"),
        ({"country": "GB"}, "msisdn"),
        ({"country": "GB", "msisdn": "447700900001", "moHttpUrl": "https://10.0.0.1/"}, "moHttpUrl"),
        ({"country": "GB", "msisdn": "447700900001", "voiceCallbackType": "fax"}, "voiceCallbackType"),
        ({"country": "GB", "msisdn": "447700900001", "app_id": "nope"}, "app_id"),
        ({"country": "GB", "msisdn": "447700900001", "mo_http_url": "https://x"}, "mo_http_url"),
    ],
)
def test_update_refuses_bad_input_before_looking_the_number_up(no_store, monkeypatch, fields, field):
    monkeypatch.setattr(repository, "get_number", lambda *a, **k: pytest.fail("looked up despite bad input"))
    refused(lambda: service.update_number("acc", fields, resolve=public_resolver), field)


class NoCarrier:
    def __getattr__(self, name):
        pytest.fail(f"the carrier was called ({name}) despite bad input")


@pytest.mark.parametrize(
    ("call", "fields", "field"),
    [
        (service.search_numbers, {"type": "landline"}, "country"),
        (service.search_numbers, {"country": "GB", "size": "101"}, "size"),
        (service.search_numbers, {"country": "GB", "index": "0"}, "index"),
        (service.search_numbers, {"country": "GB", "search_pattern": "4"}, "search_pattern"),
        (service.search_numbers, {"country": "GB", "pattern": "44x"}, "pattern"),
        (service.search_numbers, {"country": "GB", "features": "FAX"}, "features"),
        (service.search_numbers, {"country": "GB", "type": "mobile"}, "type"),
        (service.search_numbers, {"country": "GB", "msisdn": "1"}, "msisdn"),
    ],
)
def test_search_refuses_bad_input_without_calling_the_carrier(call, fields, field):
    refused(lambda: call(fields, carrier=NoCarrier), field)


@pytest.mark.parametrize("call", [service.buy_number, service.cancel_number])
@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"msisdn": "447700900001"}, "country"),
        ({"country": "GB"}, "msisdn"),
        ({"country": "NL", "msisdn": "447700900001"}, "msisdn"),
        ({"country": "GB", "msisdn": "447700900001", "target_api_key": "abc"}, "target_api_key"),
    ],
)
def test_buy_and_cancel_refuse_bad_input_without_calling_the_carrier(no_store, call, fields, field):
    refused(lambda: call("acc", fields, carrier=NoCarrier), field)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"size": "0"}, "size"),
        ({"size": "101"}, "size"),
        ({"index": "0"}, "index"),
        ({"pattern": "4x"}, "pattern"),
        ({"search_pattern": "9"}, "search_pattern"),
        ({"country": "XX"}, "country"),
        ({"has_application": "maybe"}, "has_application"),
        ({"application_id": "not-a-uuid"}, "application_id"),
        ({"limit": "5"}, "limit"),
    ],
)
def test_list_refuses_bad_filters_before_reading(monkeypatch, fields, field):
    monkeypatch.setattr(repository, "owned_numbers", lambda *a, **k: pytest.fail("read despite bad input"))
    refused(lambda: service.list_numbers("acc", fields), field)
