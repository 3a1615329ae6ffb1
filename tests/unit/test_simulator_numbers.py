"""The carrier simulator's Numbers API as pure functions: the pool, search filters, pages, owned-number listing."""

from __future__ import annotations

import re

import pytest

from simulator import protocol
from simulator.protocol import NumbersFailure


def search(pool, **params):
    return protocol.search_numbers(pool, {name: str(value) for name, value in params.items()})


def msisdns(body) -> list[str]:
    return [number["msisdn"] for number in body.get("numbers", [])]


@pytest.fixture
def nl():
    return protocol.number_pool("NL", 20)


# --- the pool -------------------------------------------------------------------------------------------------


def test_the_pool_is_deterministic_sorted_and_has_every_type(nl):
    assert protocol.number_pool("nl", 20) == nl
    assert [number["msisdn"] for number in nl] == sorted(number["msisdn"] for number in nl)
    assert len(nl) == 60
    by_type = {kind: [n for n in nl if n["type"] == kind] for kind in protocol.NUMBER_TYPES}
    assert {kind: len(numbers) for kind, numbers in by_type.items()} == {
        "landline": 20,
        "mobile-lvn": 20,
        "landline-toll-free": 20,
    }
    assert by_type["mobile-lvn"][0] == {
        "country": "NL",
        "msisdn": "3197010000000",
        "type": "mobile-lvn",
        "cost": "1.00",
        "initialPrice": "0.00",
        "features": ["SMS", "VOICE"],
    }
    assert all(re.fullmatch(r"3197010\d{6}", n["msisdn"]) for n in by_type["mobile-lvn"])
    assert all(n["features"] == ["VOICE"] for n in by_type["landline"] + by_type["landline-toll-free"])


def test_pools_per_country_and_their_limits():
    gb = protocol.number_pool("GB", 5)
    assert [n["msisdn"] for n in gb if n["type"] == "mobile-lvn"] == [f"44770090000{i}" for i in range(5)]
    assert all(re.fullmatch(r"\d{11,15}", n["msisdn"]) for n in gb)
    assert len(protocol.number_pool("US", 1000)) == 300  # 555-01xx: 100 of each type at most
    assert protocol.number_pool("ZZ", 10) == []


# --- search ----------------------------------------------------------------------------------------------------


def test_search_filters_by_type(nl):
    body = search(nl, type="mobile-lvn", size=100)
    assert body["count"] == 20
    assert {number["type"] for number in body["numbers"]} == {"mobile-lvn"}
    assert search(nl, size=100)["count"] == 60  # no type: any


@pytest.mark.parametrize(
    ("features", "count"), [("SMS", 20), ("VOICE", 60), ("SMS,VOICE", 20), ("sms, voice", 20), ("MMS", 0)]
)
def test_search_filters_by_features(nl, features, count):
    assert search(nl, features=features)["count"] == count


@pytest.mark.parametrize(
    ("pattern", "search_pattern", "expected"),
    [
        ("3197010000001", 0, ["3197010000001"]),
        ("319701000001", 0, [f"319701000001{i}" for i in range(10)]),
        ("0000017", 1, ["3197010000017"]),
        ("17", 2, ["3197010000017"]),
        ("3120", 2, []),
    ],
)
def test_search_patterns(nl, pattern, search_pattern, expected):
    body = search(nl, type="mobile-lvn", pattern=pattern, search_pattern=search_pattern, size=100)
    assert msisdns(body) == expected


def test_search_pattern_defaults_to_starts_with(nl):
    assert search(nl, pattern="31800", size=100)["count"] == 20
    assert search(nl, pattern="800")["count"] == 0


def test_pages_count_every_match_and_an_empty_page_has_no_numbers_key(nl):
    mobile = [n["msisdn"] for n in nl if n["type"] == "mobile-lvn"]
    assert msisdns(search(nl, type="mobile-lvn")) == mobile[:10]  # size 10 by default
    page = search(nl, type="mobile-lvn", size=7, index=3)
    assert (page["count"], msisdns(page)) == (20, mobile[14:])
    assert search(nl, type="mobile-lvn", size=10, index=3) == {"count": 20}
    assert search([], size=10) == {"count": 0}


@pytest.mark.parametrize(
    "params",
    [
        {"type": "mobile"},
        {"features": "SMS,FAX"},
        {"size": 0},
        {"size": 101},
        {"size": "ten"},
        {"index": 0},
        {"search_pattern": 3},
        {"search_pattern": "-1"},
    ],
)
def test_bad_search_parameters_are_a_400(nl, params):
    with pytest.raises(NumbersFailure) as caught:
        search(nl, **params)
    assert caught.value.http_status == 400
    assert caught.value.body()["error-code"] == "400"
    assert next(iter(params)) in caught.value.label


# --- owned numbers ------------------------------------------------------------------------------------------------


OWNED = [
    {
        "country": "NL",
        "msisdn": "3197010000002",
        "type": "mobile-lvn",
        "features": ["SMS", "VOICE"],
        "cost": "1.00",
    },
    {
        "country": "GB",
        "msisdn": "447700900001",
        "type": "mobile-lvn",
        "features": ["SMS", "VOICE"],
        "cost": "1.00",
        "moHttpUrl": "https://gw.example/carrier/inbound",
        "app_id": "app-1",
        "voiceStatusCallback": "https://gw.example/voice",
        "bought_at": 1.0,
    },
]


def owned(**params):
    return protocol.list_owned_numbers(OWNED, {name: str(value) for name, value in params.items()})


def test_owned_numbers_list_their_fields_in_msisdn_order():
    body = owned()
    assert body["count"] == 2
    assert body["numbers"] == [
        {"country": "NL", "msisdn": "3197010000002", "type": "mobile-lvn", "features": ["SMS", "VOICE"]},
        {
            "country": "GB",
            "msisdn": "447700900001",
            "moHttpUrl": "https://gw.example/carrier/inbound",
            "type": "mobile-lvn",
            "features": ["SMS", "VOICE"],
            "app_id": "app-1",
        },
    ]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"country": "nl"}, ["3197010000002"]),
        ({"pattern": "44", "search_pattern": 0}, ["447700900001"]),
        ({"pattern": "02", "search_pattern": 2}, ["3197010000002"]),
        ({"application_id": "app-1"}, ["447700900001"]),
        ({"has_application": "true"}, ["447700900001"]),
        ({"has_application": "false"}, ["3197010000002"]),
        ({"size": 1, "index": 2}, ["447700900001"]),
    ],
)
def test_owned_number_filters(params, expected):
    assert msisdns(owned(**params)) == expected


def test_buy_cancel_update_need_country_and_msisdn():
    assert protocol.number_target({"country": "nl", "msisdn": "3197010000002"}) == ("NL", "3197010000002")
    for params in ({"msisdn": "1"}, {"country": "NL"}, {"country": "", "msisdn": "1"}):
        with pytest.raises(NumbersFailure) as caught:
            protocol.number_target(params)
        assert caught.value.http_status == 400


def test_number_changes_pick_the_known_settings():
    changes = protocol.number_changes(
        {
            "country": "NL",
            "msisdn": "1",
            "moHttpUrl": "",
            "voiceCallbackType": "tel",
            "api_key": "k",
            "x": "y",
        }
    )
    assert changes == {"moHttpUrl": "", "voiceCallbackType": "tel"}
    with pytest.raises(NumbersFailure) as caught:
        protocol.number_changes({"voiceCallbackType": "pstn"})
    assert caught.value.http_status == 400


def test_failure_bodies_are_vonage_shaped():
    assert protocol.NUMBERS_UNAUTHORIZED.body() == {
        "error-code": "401",
        "error-code-label": "authentication failed",
    }
    assert protocol.NUMBERS_METHOD_FAILED.body() == {"error-code": "420", "error-code-label": "method failed"}
    assert protocol.NUMBERS_SUCCESS == {"error-code": "200", "error-code-label": "success"}
