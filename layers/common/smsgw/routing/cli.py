"""`smsgw connectors …` and `smsgw routes …`: the operator's commands for several carriers (docs/routing.md)."""

from __future__ import annotations

import argparse
from dataclasses import asdict
from typing import Any

from smsgw.core.addresses import parse_destination
from smsgw.core.errors import BadRequest, InvalidField
from smsgw.routing import service


def add_commands(groups: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    connectors = groups.add_parser("connectors", help="the carriers this stack sends through").add_subparsers(
        dest="command", required=True
    )
    connectors.add_parser("list", help="list connectors (`default` is the stack's own carrier)")
    put = connectors.add_parser("set", help="add or change a connector")
    put.add_argument("name")
    put.add_argument("--protocol", required=True, help="vonage | kpn | simulator")
    put.add_argument("--base-url", required=True, help="e.g. https://rest.nexmo.com")
    put.add_argument("--secret-name", required=True, help="the Secrets Manager secret with its credentials")
    put.add_argument("--rate", type=float, required=True, help="the carrier's limit, messages per second")
    put.add_argument(
        "--webhook-auth",
        default="signature",
        help="signature (default) | url_token | none: how its webhooks prove",
    )
    put.add_argument(
        "--prices",
        default="",
        help="its rate card per part, e.g. NL=0.07,GB=0.04,*=0.05 (countries it leaves out: the stack's)",
    )
    connectors.add_parser("remove", help="remove a connector no route uses").add_argument("name")

    routes = groups.add_parser("routes", help="which connector a destination takes").add_subparsers(
        dest="command", required=True
    )
    routes.add_parser("list", help="list routes")
    route = routes.add_parser("set", help="add or change a route")
    route.add_argument("route_id")
    route.add_argument(
        "--connectors", required=True, help="comma-separated, in failover order, e.g. kpn,default"
    )
    where = route.add_mutually_exclusive_group()
    where.add_argument("--prefix", help="E.164 digits without + (the longest prefix wins), e.g. 316")
    where.add_argument("--country", help="ISO 3166 alpha-2, e.g. NL")
    route.add_argument("--account", dest="account_id", help="only this account's messages")
    route.add_argument("--sender-type", help="alphanumeric | numeric: only such senders")
    route.add_argument(
        "--weights",
        help="split traffic: one whole number per connector, e.g. 70,30 (each message starts at one "
        "drawn by weight; the others are its failover)",
    )
    routes.add_parser("remove", help="remove a route").add_argument("route_id")
    test = routes.add_parser("test", help="which connector a number would take, and why")
    test.add_argument("msisdn")
    test.add_argument("--account", dest="account_id", default="", help="as this account")
    test.add_argument("--from", dest="sender", default="SMSGW", help="as this sender (default SMSGW)")


def run(args: argparse.Namespace) -> Any:
    """Run a `connectors` or `routes` command; returns JSON-able data."""
    if args.group == "connectors":
        if args.command == "list":
            return {"connectors": [_connector(c) for c in service.connectors()]}
        if args.command == "set":
            connector = service.set_connector(
                args.name,
                args.protocol,
                args.base_url,
                args.secret_name,
                args.rate,
                args.webhook_auth,
                service.parse_prices(args.prices),
            )
            return {"connector": _connector(connector)}
        service.remove_connector(args.name)
        return {"removed": args.name}
    if args.command == "list":
        return {"routes": [_route(r) for r in service.routes()]}
    if args.command == "set":
        connectors = [c.strip() for c in args.connectors.split(",") if c.strip()]
        return {
            "route": _route(
                service.set_route(
                    args.route_id,
                    connectors,
                    prefix=args.prefix,
                    country=args.country.upper() if args.country else None,
                    account_id=args.account_id,
                    sender=args.sender_type,
                    weights=_weights(args.weights),
                )
            )
        }
    if args.command == "remove":
        service.remove_route(args.route_id)
        return {"removed": args.route_id}
    if args.command == "test":
        destination = parse_destination(args.msisdn)
        decision = service.decide(destination.msisdn, destination.country, args.account_id, args.sender)
        return {
            "msisdn": destination.msisdn,
            "country": destination.country,
            "connectors": list(decision.connectors),
            "route": decision.route_id,
            "why": decision.why,
        }
    raise BadRequest(f"unknown {args.group} command {args.command!r}")


def _weights(text: str | None) -> list[int] | None:
    if text is None:
        return None
    try:
        return [int(w) for w in text.split(",")]
    except ValueError:
        raise InvalidField("weights", "weights: whole numbers separated by commas, e.g. 70,30") from None


def _connector(connector: Any) -> dict[str, Any]:
    data = asdict(connector)
    data["prices"] = {country: str(price) for country, price in connector.prices.items()}
    return data


def _route(route: Any) -> dict[str, Any]:
    data = asdict(route)
    data["connectors"] = list(route.connectors)
    if route.weights:
        data["weights"] = list(route.weights)
    return {key: value for key, value in data.items() if value is not None}


def summary(data: dict[str, Any]) -> str:
    """The human-readable lines for `run`'s result (without --json)."""
    if "connectors" in data and "why" not in data:
        return "\n".join(
            f"{c['name']:12} {c['protocol']:9} {c['rate_per_second']:>7g}/s  {c['base_url']}  "
            f"secret {c['secret_name'] or '-'}  webhooks {c['webhook_auth']}"
            + (f"  prices {','.join(f'{k}={v}' for k, v in c['prices'].items())}" if c["prices"] else "")
            for c in data["connectors"]
        )
    if "connector" in data:
        return f"connector {data['connector']['name']} saved"
    if "routes" in data:
        return "\n".join(_route_line(r) for r in data["routes"]) or "no routes: everything goes to `default`"
    if "route" in data and "why" not in data:
        return f"route {data['route']['route_id']} saved: {_route_line(data['route'])}"
    if "why" in data:
        return f"{data['msisdn']} ({data['country']}) → {' then '.join(data['connectors'])}: {data['why']}"
    return f"removed {data['removed']}"


def _route_line(route: dict[str, Any]) -> str:
    where = (
        f"prefix {route['prefix']}"
        if "prefix" in route
        else f"country {route['country']}"
        if "country" in route
        else "any"
    )
    extra = "".join(f", {k} {route[k]}" for k in ("account_id", "sender_type") if k in route)
    split = f" (weights {','.join(str(w) for w in route['weights'])})" if "weights" in route else ""
    return f"{route['route_id']:16} {where}{extra} → {', '.join(route['connectors'])}{split}"
