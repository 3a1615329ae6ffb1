"""Two carriers at once: each message goes to the connector its route names, paced per connector,
and its owner sees which one took it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import boto3
import pytest

from smsgw.core.errors import InvalidField
from smsgw.messages import pricing
from smsgw.routing import service as routing
from tests.conftest import REGION, LambdaContext, api_event, load_handler
from tests.integration.test_dispatch import accept, dispatch, message, receive_batch, sim_messages


@pytest.fixture
def second_carrier(carrier_env) -> Iterator[Any]:
    """A second simulator with its own credentials, as the connector `b`."""
    from simulator.server import start_simulator

    with start_simulator(api_key="bkey0001", api_secret="bsecret") as sim:
        boto3.client("secretsmanager", region_name=REGION).create_secret(
            Name="smsgw/b", SecretString=json.dumps({"api_key": "bkey0001", "api_secret": "bsecret"})
        )
        routing.set_connector("b", "simulator", sim.url, "smsgw/b", 10.0, "signature")
        yield sim


def view(account, message_id: str) -> dict[str, Any]:
    event = api_event("GET", f"/messages/{message_id}", account_id=account.account_id)
    response = load_handler("messages").lambda_handler(event, LambdaContext())
    assert response["statusCode"] == 200, response["body"]
    return json.loads(response["body"])


def test_gb_goes_to_its_connector_and_nl_to_the_default(aws, account, carrier_env, second_carrier):
    routing.set_route("gb", ["b"], country="GB")
    to_gb = accept(account, to="447700900000")
    to_nl = accept(account, to="31612345678")
    dispatch(receive_batch(aws))
    dispatch(receive_batch(aws))

    assert [m["to"] for m in sim_messages(second_carrier)] == ["447700900000"]
    assert [m["to"] for m in sim_messages(carrier_env)] == ["31612345678"]
    assert message(aws, to_gb)["connector"] == "b"
    assert (view(account, to_gb)["connector"], view(account, to_gb)["route"]) == ("b", "gb")
    assert (view(account, to_nl)["connector"], view(account, to_nl)["route"]) == ("default", None)


def test_a_split_route_spreads_messages_by_weight_and_each_fails_over_to_the_other(
    aws, account, carrier_env, second_carrier
):
    routing.set_route("gb", ["b", "default"], country="GB", weights=[1, 1])
    accepted = [accept(account, to="447700900000") for _ in range(20)]
    while (event := receive_batch(aws))["Records"]:
        dispatch(event)
    to_b, to_default = len(sim_messages(second_carrier)), len(sim_messages(carrier_env))
    assert (to_b + to_default, min(to_b, to_default) > 0) == (20, True)  # both sides: 1 in 500,000 not
    for message_id in accepted:
        stored = message(aws, message_id)
        other = "default" if stored["connector"] == "b" else "b"
        assert stored["connectors"] == [stored["connector"], other]
        assert view(account, message_id)["carrier_attempts"][0]["connector"] == stored["connector"]


def test_a_message_whose_connector_was_removed_is_routed_again(aws, account, carrier_env, second_carrier):
    routing.set_route("gb", ["b"], country="GB")
    message_id = accept(account, to="447700900000")
    routing.remove_route("gb")
    routing.remove_connector("b")
    dispatch(receive_batch(aws))
    assert sim_messages(second_carrier) == []
    assert [m["to"] for m in sim_messages(carrier_env)] == ["447700900000"]
    assert message(aws, message_id)["connector"] == "default"


def test_each_connector_has_its_own_pacer(aws, account, carrier_env, second_carrier):
    routing.set_route("gb", ["b"], country="GB")
    accept(account, to="447700900000")
    accept(account, to="31612345678")
    dispatch(receive_batch(aws))
    dispatch(receive_batch(aws))
    pacers = {item["pk"] for item in aws.table.scan()["Items"] if item["pk"].startswith("PACER#")}
    assert pacers == {"PACER#default", "PACER#b"}


def test_a_message_is_charged_at_its_routes_connector_price(aws, account, carrier_env, second_carrier):
    routing.set_connector(
        "b",
        "simulator",
        second_carrier.url,
        "smsgw/b",
        10.0,
        "signature",
        routing.parse_prices("GB=0.09,*=0.05"),
    )
    routing.set_route("gb", ["b"], country="GB")
    routing.set_route("fr", ["b"], country="FR")
    to_gb = accept(account, to="447700900000", text="y" * 200)  # two parts
    to_fr = accept(account, to="33612345678")
    to_nl = accept(account, to="31612345678")  # no route: the stack's rate card
    assert (message(aws, to_gb)["unit_price"], message(aws, to_gb)["price"]) == (
        Decimal("0.09"),
        Decimal("0.18"),
    )
    assert message(aws, to_fr)["unit_price"] == Decimal("0.05")
    assert message(aws, to_nl)["unit_price"] == pricing.price_per_part("NL")


@pytest.mark.parametrize("text", ["NL=x", "Netherlands=0.1", "NL=-1", "NL=1000", "NL=nan"])
def test_a_bad_price_list_is_refused_naming_prices(aws, text):
    with pytest.raises(InvalidField) as refused:
        routing.parse_prices(text)
    assert refused.value.field == "prices"
