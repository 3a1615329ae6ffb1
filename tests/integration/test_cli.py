"""The operator's `smsgw accounts …` command against (moto) AWS, finding the table from the stack outputs."""

from __future__ import annotations

import json

import boto3
import pytest

from smsgw.cli import main
from tests.conftest import REGION


@pytest.fixture
def stack(aws):
    """A stack whose outputs name the table, as the deployed template's do."""
    template = {
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {"TableName": {"Value": aws.table_name}},
    }
    boto3.client("cloudformation", region_name=REGION).create_stack(
        StackName="smsgw-cli", TemplateBody=json.dumps(template)
    )
    return "smsgw-cli"


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["--region", REGION, *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_create_list_topup_disable(aws, stack, capsys):
    code, out, _ = run(
        capsys,
        "--stack-name",
        stack,
        "--json",
        "accounts",
        "create",
        "--name",
        "acme",
        "--balance",
        "5",
        "--senders",
        "ACME, 3161",
    )
    assert code == 0
    created = json.loads(out)
    assert all(created[k] for k in ("client_secret", "api_secret", "signature_secret", "webhook_secret"))
    assert created["senders"] == ["ACME", "3161"]
    assert created["balance"] == "5.00000000"

    code, out, _ = run(capsys, "--stack-name", stack, "--json", "accounts", "list")
    [listed] = json.loads(out)
    assert listed["account_id"] == created["account_id"]
    assert not {"client_secret", "api_secret", "signature_secret", "webhook_secret"} & set(listed)

    code, out, _ = run(
        capsys, "--table-name", aws.table_name, "accounts", "topup", created["account_id"], "2.5"
    )
    assert (code, out.strip()) == (0, "balance 7.50000000")

    code, _, _ = run(capsys, "--table-name", aws.table_name, "accounts", "disable", created["account_id"])
    assert code == 0
    code, out, _ = run(capsys, "--table-name", aws.table_name, "--json", "accounts", "list")
    assert json.loads(out)[0]["disabled"] is True


def test_errors_are_one_line_and_exit_1(aws, capsys):
    code, _, err = run(capsys, "--table-name", aws.table_name, "accounts", "topup", "nope", "1")
    assert code == 1
    assert err.strip() == "error: no account nope"
    code, _, err = run(
        capsys, "--table-name", aws.table_name, "accounts", "create", "--name", "x", "--balance", "ten"
    )
    assert code == 1
    assert "balance" in err
    assert aws.items("ACCOUNT#") == []


def test_quiet_hours_are_set_shown_and_removed(aws, stack, account, capsys):
    base = ("--stack-name", stack, "accounts", "quiet-hours", account.account_id)
    code, out, _ = run(capsys, *base, "--start", "21:00", "--end", "08:00")
    assert (code, out.strip()) == (0, "quiet hours 21:00–08:00 (recipient's local time)")
    code, out, _ = run(capsys, "--stack-name", stack, "--json", "accounts", "list")
    assert json.loads(out)[0]["quiet_hours"] == {"start": "21:00", "end": "08:00"}

    code, _, err = run(capsys, *base, "--start", "9pm", "--end", "08:00")
    assert code == 1
    assert "HH:MM" in err
    code, _, err = run(capsys, *base, "--start", "21:00")
    assert code == 1
    assert "--end" in err

    code, out, _ = run(capsys, *base, "--off")
    assert (code, out.strip()) == (0, "no quiet hours")
    code, out, _ = run(capsys, "--stack-name", stack, "--json", "accounts", "list")
    assert json.loads(out)[0]["quiet_hours"] is None
