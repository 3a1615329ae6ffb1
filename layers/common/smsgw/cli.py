"""`smsgw` — the operator's command line: accounts against the local stack or a deployed stack.

    smsgw accounts create --name acme --balance 10 --senders ACME,31612345678
    smsgw accounts list | disable ID | enable ID | topup ID AMOUNT
    smsgw accounts guards ID [--allow-countries NL,BE] [--daily-cap 50] [--velocity 20] [--off velocity]
    smsgw webhooks replay [--account ID]

Which stack (first match wins):
  1. `--local`: the local stack `make run` started, from `.smsgw/local.json` (this folder or a parent).
  2. `--aws`, `--stack-name`, `--table-name` or `--endpoint-url` (or SMSGW_STACK_NAME / AWS_ENDPOINT_URL
     in the environment): AWS (or that endpoint), with your AWS credentials and region.
  3. Otherwise `.smsgw/local.json` when it exists (a note on stderr says so), else the stack `smsgw`
     on AWS.
The table is found from the stack's outputs unless `--table-name` is given. The options may come
before or after the command. Every error is one line on stderr, exit code 1 (2 for a usage error).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

import boto3
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
)

from smsgw.accounts import cli as accounts_cli
from smsgw.core.errors import SmsgwError
from smsgw.core.memo import forget_all
from smsgw.messages import guards as send_guards
from smsgw.routing import cli as routing_cli
from smsgw.webhooks import cli as webhooks_cli

LOCAL_FILE = Path(".smsgw") / "local.json"
# What the local emulator accepts (any credentials do); never your real ones.
LOCAL_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}
DEFAULT_STACK_NAME = "smsgw"


class CliError(Exception):
    """An error the operator can act on: printed as one line, exit code 1."""


class _Parser(argparse.ArgumentParser):
    """argparse with one-line usage errors (the subcommand parsers are of this class too)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {message} (see `{self.prog} --help`)\n")


# The options that choose the stack and the output; accepted before or after the command.
_TARGET_OPTIONS = ("local", "aws", "stack_name", "table_name", "endpoint_url", "region", "json")


def _add_target_options(parser: argparse.ArgumentParser) -> None:
    """Added to the top parser and to every command with default SUPPRESS: a value given anywhere is
    kept, one given after the command wins, and an absent one is filled in by `_resolve`."""
    s = argparse.SUPPRESS
    group = parser.add_argument_group("which stack (before or after the command)")
    group.add_argument(
        "--local", action="store_true", default=s, help=f"the stack `make run` started ({LOCAL_FILE})"
    )
    group.add_argument(
        "--aws", action="store_true", default=s, help=f"a deployed stack, even when {LOCAL_FILE} exists"
    )
    group.add_argument(
        "--stack-name",
        default=s,
        help=f"the deployed stack (default: $SMSGW_STACK_NAME or {DEFAULT_STACK_NAME})",
    )
    group.add_argument(
        "--table-name", default=s, help="use this table instead of the stack's TableName output"
    )
    group.add_argument(
        "--endpoint-url", default=s, help="an AWS-compatible endpoint (default: $AWS_ENDPOINT_URL)"
    )
    group.add_argument("--region", default=s, help="AWS region (default: $AWS_DEFAULT_REGION or $AWS_REGION)")
    group.add_argument("--json", action="store_true", default=s, help="machine-readable output")


def _leaf_parsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    """The parsers of the commands themselves (`accounts create`, `webhooks replay`, …)."""
    leaves = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                leaves += _leaf_parsers(sub) or [sub]
    return leaves


# This module assembles the parser, finds the stack and prints; each group's commands are its domain's
# (`accounts/cli.py`, `webhooks/cli.py`, `routing/cli.py`).
def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="smsgw",
        description="Operate an smsgw stack.",
        epilog=__doc__.split("\n\n", 2)[2],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    groups = parser.add_subparsers(
        dest="group", required=True, metavar="{accounts,webhooks,connectors,routes}"
    )
    accounts_cli.add_commands(groups)
    webhooks_cli.add_commands(groups)
    routing_cli.add_commands(groups)
    _add_target_options(parser)
    for leaf in _leaf_parsers(parser):
        _add_target_options(leaf)
    return parser


# --- which stack ----------------------------------------------------------------------------------


def find_local_file(start: Path | None = None) -> Path | None:
    """`.smsgw/local.json` in `start` (default: the current folder) or the nearest parent that has one."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / LOCAL_FILE).is_file():
            return folder / LOCAL_FILE
    return None


def _read_local(path: Path) -> dict[str, Any]:
    try:
        info = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise CliError(f"cannot read {path} ({error}): restart the local stack with `make run`") from None
    if not isinstance(info, dict) or not info.get("stack_name"):
        raise CliError(f"{path} is not what `make run` writes: restart the local stack with `make run`")
    return info


def _resolve(args: argparse.Namespace) -> dict[str, Any] | None:
    """Fill in the target options (see the module docstring); returns local.json's content in local mode."""
    given = {name for name in _TARGET_OPTIONS if hasattr(args, name)}
    args.json = getattr(args, "json", False)
    if getattr(args, "local", False) and getattr(args, "aws", False):
        raise CliError("give --local or --aws, not both")
    explicit_aws = getattr(args, "aws", False) or bool(
        given & {"stack_name", "table_name", "endpoint_url"}
        or os.environ.get("SMSGW_STACK_NAME")
        or os.environ.get("AWS_ENDPOINT_URL")
    )
    local_path = find_local_file()
    local: dict[str, Any] | None = None
    if getattr(args, "local", False):
        if local_path is None:
            raise CliError(
                f"no {LOCAL_FILE} in this folder or a parent: start the local stack with `make run` "
                "(from the repository), or leave out --local for a deployed stack"
            )
        local = _read_local(local_path)
    elif not explicit_aws and local_path is not None:
        local = _read_local(local_path)
        print(f"smsgw: using the local stack ({local_path}); --aws for a deployed one", file=sys.stderr)

    if local is not None:
        args.stack_name = getattr(args, "stack_name", None) or local["stack_name"]
        args.endpoint_url = getattr(args, "endpoint_url", None) or local.get("endpoint_url")
        args.region = getattr(args, "region", None) or local.get("region")
        if not getattr(args, "table_name", None) and "stack_name" not in given:
            args.table_name = (local.get("outputs") or {}).get("TableName")
    else:
        args.stack_name = getattr(args, "stack_name", None) or os.environ.get(
            "SMSGW_STACK_NAME", DEFAULT_STACK_NAME
        )
        args.endpoint_url = getattr(args, "endpoint_url", None) or os.environ.get("AWS_ENDPOINT_URL")
        args.region = (
            getattr(args, "region", None)
            or os.environ.get("AWS_DEFAULT_REGION")
            or os.environ.get("AWS_REGION")
        )
    args.table_name = getattr(args, "table_name", None)
    args.local_file = str(local_path) if local is not None else None
    return local


# Template parameter → the setting the functions get it as (template.yaml, DispatchFunction).
STACK_CARRIER_PARAMETERS = {
    "CarrierProvider": "CARRIER_PROVIDER",
    "CarrierBaseUrl": "CARRIER_BASE_URL",
    "CarrierSecretName": "CARRIER_SECRET_NAME",
    "CarrierRatePerSecond": "CARRIER_RATE_PER_SECOND",
}


def _configure(args: argparse.Namespace, local: dict[str, Any] | None) -> None:
    """Point the shared settings and clients at the chosen stack (before anything creates a client)."""
    if local is not None:
        # The emulator takes any credentials: never send your real ones to it.
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
            os.environ.pop(name, None)
        os.environ.update(LOCAL_CREDENTIALS)
    if args.endpoint_url:
        os.environ["AWS_ENDPOINT_URL"] = args.endpoint_url
    if args.region:
        os.environ["AWS_DEFAULT_REGION"] = args.region
    table = args.table_name
    if not table:
        try:
            stack = boto3.client("cloudformation").describe_stacks(StackName=args.stack_name)["Stacks"][0]
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ValidationError":
                raise CliError(
                    f"no stack {args.stack_name!r} in {os.environ.get('AWS_DEFAULT_REGION')}: give "
                    "--stack-name (the name you deployed with), --region, or --table-name"
                    + ("; or restart the local stack with `make run`" if local is not None else "")
                ) from None
            raise
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
        table = outputs.get("TableName")
        # The stack's own carrier (the `default` connector) is what its parameters say, not this
        # process's settings: `connectors list` and `routes test` show it as deployed.
        parameters = {p["ParameterKey"]: p.get("ParameterValue", "") for p in stack.get("Parameters", [])}
        for parameter, variable in STACK_CARRIER_PARAMETERS.items():
            if parameters.get(parameter):
                os.environ[variable] = parameters[parameter]
        if not table:
            raise CliError(
                f"stack {args.stack_name!r} has no TableName output (is it an smsgw stack?): "
                "give --stack-name or --table-name"
            )
    os.environ["TABLE_NAME"] = table

    forget_all()


# --- output ---------------------------------------------------------------------------------------


def _print(args: argparse.Namespace, data: Any, text: str) -> None:
    print(json.dumps(data, indent=2) if args.json else text)


# --- the commands ---------------------------------------------------------------------------------


def _run(args: argparse.Namespace) -> None:
    if args.group == "webhooks":
        data = webhooks_cli.run(args)
        _print(args, data, webhooks_cli.summary(data))
    elif args.group in ("connectors", "routes"):
        data = routing_cli.run(args)
        _print(args, data, routing_cli.summary(data))
    else:
        data, text = accounts_cli.run(args, spent_today=send_guards.spent_today)
        _print(args, data, text)


def _one_line(error: BaseException, args: argparse.Namespace) -> str:
    """What went wrong and what to do, in one line."""
    local = bool(getattr(args, "local_file", None))
    if isinstance(error, CliError):
        return str(error)
    if isinstance(error, SmsgwError):
        return error.message
    if isinstance(error, NoRegionError):
        return (
            "no AWS region: give --region (or set AWS_DEFAULT_REGION), "
            "or --local for the stack `make run` started"
        )
    if isinstance(error, NoCredentialsError | PartialCredentialsError):
        return (
            "no AWS credentials: configure them (`aws configure`, AWS_PROFILE or AWS_ACCESS_KEY_ID), "
            "or use --local for the stack `make run` started"
        )
    if isinstance(error, ProfileNotFound):
        return f"{error}: check AWS_PROFILE (`aws configure list-profiles`)"
    if isinstance(error, EndpointConnectionError):
        url = error.kwargs.get("endpoint_url", "") if hasattr(error, "kwargs") else ""
        if local:
            return (
                f"cannot reach the local stack at {url}: is `make run` still running? "
                f"({args.local_file} is left from a stopped run otherwise)"
            )
        return f"cannot reach {url}: check --endpoint-url / --region and your network"
    if isinstance(error, ClientError):
        info = error.response.get("Error", {})
        return (
            f"AWS refused {error.operation_name}: {info.get('Code')}: {info.get('Message')} "
            "(check the credentials' permissions, --region and --stack-name)"
        )
    if isinstance(error, BotoCoreError):
        return f"AWS call failed: {error}"
    return f"unexpected {type(error).__name__}: {error} (SMSGW_DEBUG=1 shows the traceback)"


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        local = _resolve(args)
        _configure(args, local)
        _run(args)
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `smsgw accounts list | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as error:
        if os.environ.get("SMSGW_DEBUG") and not isinstance(error, CliError | SmsgwError):
            raise
        print(f"error: {_one_line(error, args)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
