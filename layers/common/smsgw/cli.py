"""`smsgw` — the operator's command line: accounts against the local stack or a deployed stack.

    smsgw accounts create --name acme --balance 10 --senders ACME,31612345678
    smsgw accounts list | disable ID | enable ID | topup ID AMOUNT

The table is found from the stack's outputs (`--stack-name`, default smsgw) unless `--table-name`
is given; `--endpoint-url` points boto3 at the local stack.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import Any

import boto3

from smsgw.accounts import service
from smsgw.core.errors import BadRequest, SmsgwError
from smsgw.core.memo import forget_all
from smsgw.webhooks import cli as webhooks_cli


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="smsgw", description="Operate an smsgw stack.")
    parser.add_argument("--stack-name", default=os.environ.get("SMSGW_STACK_NAME", "smsgw"))
    parser.add_argument("--table-name", help="use this table instead of the stack's TableName output")
    parser.add_argument(
        "--endpoint-url", default=os.environ.get("AWS_ENDPOINT_URL"), help="e.g. the local stack"
    )
    parser.add_argument(
        "--region", default=os.environ.get("AWS_DEFAULT_REGION") or os.environ.get("AWS_REGION")
    )
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    groups = parser.add_subparsers(dest="group", required=True)
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
    webhooks_cli.add_commands(groups)
    return parser


def _configure(args: argparse.Namespace) -> None:
    """Point the shared settings and clients at the chosen stack (before anything creates a client)."""
    if args.endpoint_url:
        os.environ["AWS_ENDPOINT_URL"] = args.endpoint_url
    if args.region:
        os.environ["AWS_DEFAULT_REGION"] = args.region
    table = args.table_name
    if not table:
        stack = boto3.client("cloudformation").describe_stacks(StackName=args.stack_name)["Stacks"][0]
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
        table = outputs["TableName"]
    os.environ["TABLE_NAME"] = table

    forget_all()


def _print(args: argparse.Namespace, data: Any, text: str) -> None:
    print(json.dumps(data, indent=2) if args.json else text)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    _configure(args)
    try:
        if args.group == "webhooks":
            data = webhooks_cli.run(args)
            _print(args, data, webhooks_cli.summary(data))
        elif args.command == "create":
            senders = [s for s in args.senders.split(",") if s.strip()]
            created = service.create_account(
                args.name, args.balance, senders, args.rate_limit, args.signature_method, args.status_url
            )
            data = created.model_dump()
            _print(
                args,
                data,
                "\n".join(f"{k:22} {v}" for k, v in data.items())
                + "\n\nThe secrets are shown only now; store them safely.",
            )
        elif args.command == "list":
            rows = [a.model_dump() for a in service.list_accounts()]
            lines = [
                f"{r['account_id']}  {r['name']:20} balance {r['balance']:>12}  "
                f"{'DISABLED' if r['disabled'] else 'active'}  client_id {r['client_id']}"
                for r in rows
            ]
            _print(args, rows, "\n".join(lines) or "no accounts")
        elif args.command in ("disable", "enable"):
            service.set_disabled(args.account_id, args.command == "disable")
            _print(
                args,
                {"account_id": args.account_id, "disabled": args.command == "disable"},
                f"{args.command}d",
            )
        elif args.command == "quiet-hours":
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
            _print(args, {"account_id": args.account_id, "quiet_hours": window}, text)
        elif args.command == "topup":
            balance = service.top_up(args.account_id, args.amount)
            _print(args, {"account_id": args.account_id, "balance": str(balance)}, f"balance {balance}")
    except SmsgwError as error:
        print(f"error: {error.message}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
