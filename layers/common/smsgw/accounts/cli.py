"""`smsgw accounts …`: the operator's commands for accounts (create, list, disable/enable, top-up, quiet
hours, fraud guards).

    smsgw accounts create --name acme --balance 10 --senders ACME,31612345678
    smsgw accounts list | disable ID | enable ID | topup ID AMOUNT
    smsgw accounts quiet-hours ID --start 21:00 --end 08:00 | --off
    smsgw accounts guards ID [--allow-countries NL,BE] [--daily-cap 50] [--velocity 20] [--off velocity]

`smsgw.cli` mounts them and says which stack they run against.
"""

from __future__ import annotations

import argparse
from dataclasses import asdict
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

from smsgw.accounts import guard_settings, service
from smsgw.core.errors import BadRequest, NotFound


class SpentToday(Protocol):
    """What the daily cap counted today (`messages.guards.spent_today`, handed in by `smsgw.cli`: the
    counters are the message store's, a domain above accounts)."""

    def __call__(self, account_id: str) -> tuple[str, Decimal, str]: ...


def add_commands(groups: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    accounts = groups.add_parser("accounts", help="create and manage accounts").add_subparsers(
        dest="command", required=True
    )
    create = accounts.add_parser("create", help="create an account; prints its secrets once")
    create.add_argument("--name", required=True)
    create.add_argument("--balance", default="0", help="starting balance, e.g. 10.00")
    create.add_argument("--senders", default="", help="comma-separated sender allow-list (empty: any)")
    create.add_argument("--rate-limit", type=int, default=None, help="requests per second (default 30)")
    create.add_argument(
        "--signature-method",
        default="md5",
        help="for signed /sms/json requests: md5hash|md5|sha1|sha256|sha512",
    )
    create.add_argument("--status-url", default=None, help="default URL for message status callbacks")
    accounts.add_parser("list", help="list accounts (no secrets)")
    for name in ("disable", "enable"):
        accounts.add_parser(name, help=f"{name} an account").add_argument("account_id")
    topup = accounts.add_parser("topup", help="add to an account's balance")
    topup.add_argument("account_id")
    topup.add_argument("amount")
    quiet = accounts.add_parser(
        "quiet-hours",
        help="hold non-urgent sends during a window in the recipient's local time (e.g. 21:00 to 08:00)",
    )
    quiet.add_argument("account_id")
    quiet.add_argument("--start", help="HH:MM, recipient's local time")
    quiet.add_argument("--end", help="HH:MM; before start = the next morning")
    quiet.add_argument("--off", action="store_true", help="remove the account's quiet hours")
    guards = accounts.add_parser(
        "guards",
        help="show or set an account's fraud guards (countries, daily spend cap, velocity per number range)",
        description="Without options: shows the account's guards. Options set the guards they name and "
        "leave the others as they are (docs/fraud.md).",
    )
    guards.add_argument("account_id")
    guards.add_argument(
        "--allow-countries",
        metavar="CC,CC",
        help="only these destination countries (ISO alpha-2, e.g. NL,BE)",
    )
    guards.add_argument("--block-countries", metavar="CC,CC", help="never these destination countries")
    guards.add_argument(
        "--daily-cap", metavar="AMOUNT", help="most the account may be charged per UTC day, in its currency"
    )
    guards.add_argument(
        "--velocity", type=int, metavar="N", help="at most N sends per window to one number range"
    )
    guards.add_argument(
        "--velocity-window", type=int, metavar="SECONDS", help="the velocity window (default 60)"
    )
    guards.add_argument(
        "--velocity-digits",
        type=int,
        metavar="D",
        help="a number range = the first D digits of the number (default 7)",
    )
    guards.add_argument(
        "--off",
        metavar="NAME,…",
        help="switch guards off: allow-countries, block-countries, daily-cap, velocity, or all",
    )


def run(args: argparse.Namespace, spent_today: SpentToday) -> tuple[Any, str]:
    """Run an `accounts` command; returns JSON-able data and the text shown without --json."""
    if args.command == "create":
        senders = [s for s in args.senders.split(",") if s.strip()]
        created = service.create_account(
            args.name, args.balance, senders, args.rate_limit, args.signature_method, args.status_url
        )
        data = asdict(created)
        data["balance"] = _amount(data["balance"])
        return data, _created_text(data)
    if args.command == "list":
        rows = [asdict(a) for a in service.list_accounts()]
        for row in rows:
            row["balance"] = _amount(row["balance"])
        lines = [
            f"{r['account_id']}  {r['name']:20} balance {r['balance']:>12}  "
            f"{'DISABLED' if r['disabled'] else 'active'}  client_id {r['client_id']}"
            f"{_guards_summary(r['guards'])}"
            for r in rows
        ]
        return rows, "\n".join(lines) or "no accounts"
    if args.command in ("disable", "enable"):
        service.set_disabled(args.account_id, args.command == "disable")
        return {"account_id": args.account_id, "disabled": args.command == "disable"}, f"{args.command}d"
    if args.command == "quiet-hours":
        if args.off and (args.start or args.end):
            raise BadRequest("give --off or --start/--end, not both", "off")
        if not args.off and not (args.start and args.end):
            raise BadRequest("give --start and --end (e.g. --start 21:00 --end 08:00), or --off", "start")
        window = service.set_quiet_hours(args.account_id, args.start, args.end)
        text = (
            f"quiet hours {window['start']}–{window['end']} (recipient's local time)"
            if window
            else "no quiet hours"
        )
        return {"account_id": args.account_id, "quiet_hours": window}, text
    if args.command == "guards":
        return _guards(args, spent_today)
    if args.command == "topup":
        balance = _amount(service.top_up(args.account_id, args.amount))
        return {"account_id": args.account_id, "balance": balance}, f"balance {balance}"
    raise BadRequest(f"unknown accounts command {args.command!r}")


# --- output ---------------------------------------------------------------------------------------


def _amount(value: Any) -> str:
    """A balance as a plain decimal (`0.00000000`, never `0E-8`)."""
    try:
        return format(Decimal(str(value)), "f")
    except InvalidOperation:
        return str(value)


def _text(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k} {v}" for k, v in value.items())
    return str(value)


def _created_text(data: dict[str, Any]) -> str:
    rows = [
        ("account_id", data["account_id"]),
        ("name", data["name"]),
        ("client_id", data["client_id"]),
        ("client_secret", data["client_secret"]),
        ("api_key", data["api_key"]),
        ("api_secret", data["api_secret"]),
        ("signature_secret", data["signature_secret"]),
        ("signature_method", data["signature_method"]),
        ("webhook_secret", data["webhook_secret"]),
        ("balance", data["balance"]),
        ("senders", _text(data["senders"]) if data.get("senders") else "any (no allow-list)"),
        ("rate_limit", f"{data['rate_limit_per_second']} requests/s"),
        ("status_url", data.get("status_url")),
    ]
    lines = [f"{key:18} {value}" for key, value in rows if value not in (None, "")]
    return "\n".join(lines) + "\n\nThe secrets are shown only now; store them safely."


def _guards_text(account_id: str, data: dict[str, Any]) -> str:
    shown = data["guards"]
    if "allow_countries" in shown:
        countries = "only " + ", ".join(shown["allow_countries"])
        if "block_countries" in shown:
            countries += "; never " + ", ".join(shown["block_countries"])
    elif "block_countries" in shown:
        countries = "all but " + ", ".join(shown["block_countries"])
    else:
        countries = "any"
    cap = "none"
    if "daily_cap" in shown:
        cap = (
            f"{_amount(shown['daily_cap'])} {data['currency']} per UTC day (spent {data['day']}: "
            f"{_amount(data['spent_today'])}; resets {data['resets_at']})"
        )
    velocity = "none"
    if "velocity" in shown:
        v = shown["velocity"]
        velocity = (
            f"{v['sends']} sends per {v['window_seconds']} s to numbers sharing their first "
            f"{v['prefix_digits']} digits"
        )
    rows = [("destinations", countries), ("daily cap", cap), ("velocity", velocity)]
    return f"guards of {account_id}\n" + "\n".join(f"  {key:13} {value}" for key, value in rows)


def _guards_summary(shown: dict[str, Any]) -> str:
    """The guards that are on, in a few words (`accounts list`)."""
    words = []
    if "allow_countries" in shown:
        words.append("only " + ",".join(shown["allow_countries"]))
    if "block_countries" in shown:
        words.append("not " + ",".join(shown["block_countries"]))
    if "daily_cap" in shown:
        words.append(f"cap {shown['daily_cap']}/day")
    if "velocity" in shown:
        v = shown["velocity"]
        words.append(f"velocity {v['sends']}/{v['window_seconds']}s/{v['prefix_digits']}d")
    return "  guards: " + "; ".join(words) if words else ""


def _guards(args: argparse.Namespace, spent_today: SpentToday) -> tuple[dict[str, Any], str]:
    def listed(value: str | None) -> list[str] | None:
        return None if value is None else value.split(",")

    changing = [
        args.allow_countries,
        args.block_countries,
        args.daily_cap,
        args.velocity,
        args.velocity_window,
        args.velocity_digits,
        args.off,
    ]
    if any(value is not None for value in changing):
        guard_settings.set_guards(
            args.account_id,
            allow_countries=listed(args.allow_countries),
            block_countries=listed(args.block_countries),
            daily_cap=args.daily_cap,
            velocity=args.velocity,
            velocity_window=args.velocity_window,
            velocity_digits=args.velocity_digits,
            off=listed(args.off) or (),
        )
    account = service.get_account(args.account_id, consistent=True)
    if account is None:
        raise NotFound(f"no account {args.account_id}")
    data: dict[str, Any] = {
        "account_id": account.account_id,
        "guards": account.guards.view(),
        "currency": account.currency,
    }
    if account.guards.daily_cap is not None:
        day, spent, resets_at = spent_today(account.account_id)
        data.update(day=day, spent_today=_amount(spent), resets_at=resets_at)
    return data, _guards_text(account.account_id, data)
