"""Connectors and routes: which carrier a destination takes, and the operator's mistakes refused by name."""

from __future__ import annotations

import pytest

from smsgw.core.errors import Conflict, InvalidField, NotFound
from smsgw.routing import repository
from smsgw.routing import service as routing


def kpn(name: str = "kpn", **overrides) -> dict:
    fields = {
        "name": name,
        "protocol": "kpn",
        "base_url": "https://api-prd.kpn.com",
        "secret_name": f"smsgw/{name}",
        "rate_per_second": 20.0,
        "webhook_auth": "url_token",
    }
    return {**fields, **overrides}


def test_a_stack_without_configuration_sends_everything_to_its_own_carrier(aws):
    [default] = routing.connectors()
    assert (default.name, default.protocol) == ("default", "simulator")
    decision = routing.decide("31612345678", "NL", "acct", "ACME")
    assert decision.connectors == ("default",)
    assert decision.route_id is None
    assert "default" in decision.why


def test_nl_goes_to_kpn_and_the_rest_of_the_world_to_the_default(aws):
    routing.set_connector(**kpn())
    routing.set_route("nl", ["kpn", "default"], country="NL")
    assert routing.decide("31612345678", "NL", "acct", "ACME").connectors == ("kpn", "default")
    assert routing.decide("447700900000", "GB", "acct", "ACME").connectors == ("default",)


def test_the_longest_prefix_wins_over_a_country_and_says_why(aws):
    routing.set_connector(**kpn())
    routing.set_connector(**kpn("vonage", protocol="vonage", base_url="https://rest.nexmo.com"))
    routing.set_route("nl", ["kpn"], country="NL")
    routing.set_route("nl-mobile", ["vonage"], prefix="316")
    routing.set_route("nl-mobile-x", ["kpn"], prefix="3161")
    decision = routing.decide("31612345678", "NL", "acct", "ACME")
    assert decision.route_id == "nl-mobile-x"
    assert "prefix 3161" in decision.why
    assert "'nl'" in decision.why
    assert routing.decide("31622345678", "NL", "acct", "ACME").route_id == "nl-mobile"
    assert routing.decide("31201234567", "NL", "acct", "ACME").route_id == "nl"


def test_account_and_sender_type_narrow_a_route(aws):
    routing.set_connector(**kpn())
    routing.set_route("acme-numeric", ["kpn"], account_id="acme", sender="numeric")
    assert routing.decide("447700900000", "GB", "acme", "31612345678").connectors == ("kpn",)
    assert routing.decide("447700900000", "GB", "acme", "ACME").connectors == ("default",)
    assert routing.decide("447700900000", "GB", "other", "31612345678").connectors == ("default",)


def test_equally_specific_routes_are_decided_by_id(aws):
    routing.set_connector(**kpn())
    routing.set_route("b-route", ["default"], country="NL")
    routing.set_route("a-route", ["kpn"], country="NL")
    assert routing.decide("31612345678", "NL", "acct", "ACME").route_id == "a-route"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"name": "KPN!"}, "name"),
        ({"protocol": "smpp"}, "protocol"),
        ({"base_url": "ftp://x"}, "base_url"),
        ({"secret_name": ""}, "secret_name"),
        ({"rate_per_second": 0}, "rate_per_second"),
        ({"webhook_auth": "magic"}, "webhook_auth"),
    ],
)
def test_a_bad_connector_is_refused_naming_the_field_and_nothing_is_stored(aws, overrides, field):
    with pytest.raises(InvalidField) as refused:
        routing.set_connector(**kpn(**overrides))
    assert refused.value.field == field
    assert [c.name for c in routing.connectors()] == ["default"]


def test_a_split_route_sends_each_message_to_a_connector_drawn_by_weight(aws):
    routing.set_connector(**kpn())
    routing.set_route("nl", ["kpn", "default"], country="NL", weights=[70, 30])
    firsts = [routing.decide("31612345678", "NL", "acct", "ACME", f"msg-{n}").connectors for n in range(2000)]
    # Each message's other connector is its failover.
    assert set(firsts) == {("kpn", "default"), ("default", "kpn")}
    share = firsts.count(("kpn", "default")) / len(firsts)
    assert 0.66 < share < 0.74  # 70 % ± 4 points: 2000 draws put it there but for 1 in ~10^4
    # The same message always draws the same (a retried acceptance, a re-route in dispatch).
    assert {routing.decide("31612345678", "NL", "a", "ACME", "msg-7").connectors for _ in range(5)} == {
        firsts[7]
    }
    decision = routing.decide("31612345678", "NL", "acct", "ACME")  # `routes test`: no message yet
    assert decision.connectors == ("kpn", "default")
    assert "split kpn 70 %, default 30 %" in decision.why


def test_a_zero_weight_connector_only_takes_failover(aws):
    routing.set_connector(**kpn())
    routing.set_route("nl", ["kpn", "default"], country="NL", weights=[0, 5])
    assert {routing.decide("31612345678", "NL", "a", "ACME", f"m{n}").connectors for n in range(200)} == {
        ("default", "kpn")
    }


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"route_id": "nl", "connectors_in_order": ["nowhere"], "country": "NL"}, "connectors"),
        ({"route_id": "nl", "connectors_in_order": [], "country": "NL"}, "connectors"),
        ({"route_id": "nl", "connectors_in_order": ["default", "default"]}, "connectors"),
        ({"route_id": "nl", "connectors_in_order": ["default"], "country": "nl"}, "country"),
        ({"route_id": "nl", "connectors_in_order": ["default"], "prefix": "+31"}, "prefix"),
        ({"route_id": "nl", "connectors_in_order": ["default"], "prefix": "31", "country": "NL"}, "prefix"),
        ({"route_id": "nl", "connectors_in_order": ["default"], "sender": "short"}, "sender_type"),
        ({"route_id": "NL route", "connectors_in_order": ["default"]}, "route"),
        ({"route_id": "nl", "connectors_in_order": ["default"], "weights": [1, 1]}, "weights"),
        ({"route_id": "nl", "connectors_in_order": ["default"], "weights": [0]}, "weights"),
        ({"route_id": "nl", "connectors_in_order": ["default"], "weights": [-1]}, "weights"),
        ({"route_id": "nl", "connectors_in_order": ["default"], "weights": [1001]}, "weights"),
    ],
)
def test_a_bad_route_is_refused_naming_the_field(aws, arguments, field):
    with pytest.raises(InvalidField) as refused:
        routing.set_route(**arguments)
    assert refused.value.field == field
    assert routing.routes() == []


def test_a_connector_in_use_cannot_be_removed_and_unknown_ones_are_not_found(aws):
    routing.set_connector(**kpn())
    routing.set_route("nl", ["kpn"], country="NL")
    with pytest.raises(Conflict):
        routing.remove_connector("kpn")
    routing.remove_route("nl")
    routing.remove_connector("kpn")
    assert [c.name for c in routing.connectors()] == ["default"]
    with pytest.raises(NotFound):
        routing.remove_route("nl")
    with pytest.raises(NotFound):
        routing.connector("kpn")


def test_a_change_made_elsewhere_reaches_a_running_function_within_the_cache_time(aws, monkeypatch):
    assert routing.decide("31612345678", "NL", "acct", "ACME").connectors == ("default",)
    # Another process (the CLI) adds a route: this one still has its cached view …
    repository.put_connector("kpn", {k: str(v) for k, v in kpn().items() if k != "name"})
    repository.put_route("nl", {"connectors": ["kpn"], "country": "NL"})
    assert routing.decide("31612345678", "NL", "acct", "ACME").connectors == ("default",)
    # … until ROUTING_CACHE_SECONDS have passed.
    later = routing.time.monotonic() + routing.get_settings().routing_cache_seconds + 1
    monkeypatch.setattr(routing.time, "monotonic", lambda: later)
    assert routing.decide("31612345678", "NL", "acct", "ACME").connectors == ("kpn",)
