"""The operator's `smsgw accounts …` command against (moto) AWS, finding the table from the stack outputs."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

from smsgw.cli import STACK_CARRIER_PARAMETERS, main
from tests.conftest import REGION


@pytest.fixture
def stack(aws, monkeypatch):
    """A stack whose outputs name the table and whose parameters name its carrier, as the deployed
    template's do. The CLI puts those in the environment: undone after the test."""
    for variable in [*STACK_CARRIER_PARAMETERS.values(), "TABLE_NAME"]:
        if variable in os.environ:
            monkeypatch.setenv(variable, os.environ[variable])
        else:
            monkeypatch.delenv(variable, raising=False)
    carrier = {
        "CarrierProvider": "vonage",
        "CarrierBaseUrl": "https://rest.nexmo.com",
        "CarrierRatePerSecond": "12",
    }
    template = {
        "Parameters": {name: {"Type": "String"} for name in carrier},
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {"TableName": {"Value": aws.table_name}},
    }
    boto3.client("cloudformation", region_name=REGION).create_stack(
        StackName="smsgw-cli",
        TemplateBody=json.dumps(template),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in carrier.items()],
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


# --- as an operator uses it: flag order, clean output, the local stack, one-line errors -------------


def test_options_go_before_or_after_the_command(aws, stack, account, capsys):
    code, out, err = run(capsys, "accounts", "topup", account.account_id, "2", "--table-name", aws.table_name)
    assert (code, err) == (0, "")
    before = out.strip()
    code, out, _ = run(capsys, "--json", "accounts", "list", "--stack-name", stack)
    assert code == 0
    [listed] = json.loads(out)
    assert f"balance {listed['balance']}" == before
    # The one given after the command wins.
    code, _, err = run(capsys, "--stack-name", "nope", "accounts", "list", "--stack-name", stack)
    assert (code, err) == (0, "")


def test_create_prints_clean_text(aws, stack, capsys):
    code, out, _ = run(
        capsys, "--stack-name", stack, "accounts", "create", "--name", "acme", "--senders", "ACME,3161"
    )
    assert code == 0
    fields = dict(line.split(None, 1) for line in out.split("\n\n")[0].splitlines())
    assert fields["senders"] == "ACME, 3161"
    assert fields["balance"] == "0.00000000"
    assert fields["rate_limit"] == "30 requests/s"
    assert "status_url" not in fields  # not set: not shown
    assert all(fields[k] for k in ("client_id", "client_secret", "api_key", "api_secret", "webhook_secret"))
    for python_repr in ("None", "[", "'", "E-"):
        assert python_repr not in out
    assert out.rstrip().endswith("The secrets are shown only now; store them safely.")

    code, out, _ = run(capsys, "--stack-name", stack, "accounts", "create", "--name", "open")
    assert "senders            any (no allow-list)" in out


@pytest.fixture
def local_json(aws, tmp_path, monkeypatch):
    """A `.smsgw/local.json` like `make run` writes (no endpoint: moto answers in-process), and a working
    folder below it; the CLI's changes to the environment are undone afterwards."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_DEFAULT_REGION"):
        monkeypatch.setenv(name, os.environ[name])
    monkeypatch.setenv("TABLE_NAME", aws.table_name)
    monkeypatch.delenv("SMSGW_STACK_NAME", raising=False)
    (tmp_path / ".smsgw").mkdir()
    info = {"stack_name": "smsgw-local", "region": REGION, "outputs": {"TableName": aws.table_name}}
    (tmp_path / ".smsgw" / "local.json").write_text(json.dumps(info))
    (tmp_path / "docs").mkdir()
    monkeypatch.chdir(tmp_path / "docs")
    return tmp_path / ".smsgw" / "local.json"


def test_local_json_is_the_default_target_and_an_explicit_one_wins(aws, stack, local_json, capsys):
    # No target given: the local stack (.smsgw/local.json of this folder or a parent), and it says so.
    code, out, err = main(["--json", "accounts", "create", "--name", "demo"]), *capsys.readouterr()
    assert code == 0
    assert err.strip() == f"smsgw: using the local stack ({local_json}); --aws for a deployed one"
    assert json.loads(out)["name"] == "demo"
    code, out, err = main(["accounts", "list", "--local"]), *capsys.readouterr()
    assert (code, err) == (0, "")
    assert " demo " in out

    # An explicit stack wins over local.json (here both are moto's, so the same table).
    code, out, err = (
        main(["--region", REGION, "--stack-name", stack, "accounts", "list"]),
        *capsys.readouterr(),
    )
    assert (code, err) == (0, "")
    # --aws ignores local.json: the default stack `smsgw` does not exist here.
    code, _, err = main(["--region", REGION, "accounts", "list", "--aws"]), *capsys.readouterr()
    assert code == 1
    assert (
        err
        == f"error: no stack 'smsgw' in {REGION}: give --stack-name (the name you deployed with), --region, or --table-name\n"
    )
    code, _, err = main(["--local", "--aws", "accounts", "list"]), *capsys.readouterr()
    assert (code, err) == (1, "error: give --local or --aws, not both\n")


def test_a_broken_local_json_says_to_restart(aws, local_json, capsys):
    local_json.write_text("{")
    code, _, err = main(["accounts", "list"]), *capsys.readouterr()
    assert code == 1
    assert err.startswith(f"error: cannot read {local_json} (")
    assert err.endswith("restart the local stack with `make run`\n")


def smsgw(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """The installed `smsgw` command (else `python -m smsgw.cli`), run as a user would: with only the
    environment given (no AWS settings, a HOME without ~/.aws, no instance metadata)."""
    script = Path(sys.executable).parent / "smsgw"
    argv = [str(script)] if script.exists() else [sys.executable, "-m", "smsgw.cli"]
    clean = {"PATH": os.environ["PATH"], "HOME": str(cwd), "AWS_EC2_METADATA_DISABLED": "true", **env}
    return subprocess.run([*argv, *args], cwd=cwd, env=clean, capture_output=True, text=True, timeout=60)


def one_line_error(result: subprocess.CompletedProcess[str], code: int = 1) -> str:
    assert result.returncode == code, result
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if not line.startswith("smsgw: using")]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


def test_errors_without_any_setup_are_one_line_saying_what_to_do(tmp_path):
    error = one_line_error(smsgw("accounts", "list", cwd=tmp_path))
    assert error == (
        "error: no AWS region: give --region (or set AWS_DEFAULT_REGION), or --local for the stack `make run` started"
    )
    error = one_line_error(smsgw("accounts", "list", "--region", REGION, cwd=tmp_path))
    assert error.startswith("error: no AWS credentials: configure them")
    error = one_line_error(smsgw("accounts", "list", "--local", cwd=tmp_path))
    assert error.startswith(
        "error: no .smsgw/local.json in this folder or a parent: start the local stack with `make run`"
    )
    error = one_line_error(smsgw("accounts", "list", "--bogus", cwd=tmp_path), code=2)
    assert error == "error: unrecognized arguments: --bogus (see `smsgw --help`)"
    error = one_line_error(smsgw("accounts", "create", cwd=tmp_path), code=2)
    assert error == "error: the following arguments are required: --name (see `smsgw accounts create --help`)"


def test_a_stopped_local_stack_is_one_line(tmp_path):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    (tmp_path / ".smsgw").mkdir()
    (tmp_path / ".smsgw" / "local.json").write_text(
        json.dumps(
            {
                "stack_name": "smsgw-local",
                "region": REGION,
                "endpoint_url": f"http://127.0.0.1:{port}",
                "outputs": {"TableName": "t"},
            }
        )
    )
    result = smsgw("accounts", "list", cwd=tmp_path)
    assert one_line_error(result) == (
        f"error: cannot reach the local stack at http://127.0.0.1:{port}/: is `make run` still running? "
        f"({tmp_path / '.smsgw' / 'local.json'} is left from a stopped run otherwise)"
    )
    assert result.stderr.startswith("smsgw: using the local stack")


def test_an_operator_adds_a_carrier_routes_nl_to_it_and_tests_a_number(aws, stack, capsys):
    target = ["--stack-name", stack]
    code, out, err = run(
        capsys,
        *target,
        "connectors",
        "set",
        "kpn",
        "--protocol",
        "kpn",
        "--base-url",
        "https://api-prd.kpn.com",
        "--secret-name",
        "smsgw/kpn",
        "--rate",
        "20",
        "--webhook-auth",
        "url_token",
    )
    assert (code, out.strip(), err) == (0, "connector kpn saved", "")
    code, out, _ = run(
        capsys, *target, "routes", "set", "nl", "--connectors", "kpn,default", "--country", "nl"
    )
    assert code == 0
    assert out.strip() == "route nl saved: nl               country NL → kpn, default"

    code, out, _ = run(capsys, *target, "routes", "test", "+31612345678")
    assert code == 0
    assert out.strip().startswith("31612345678 (NL) → kpn then default: route 'nl' (country NL) matches")
    code, out, _ = run(capsys, *target, "--json", "routes", "test", "447700900000")
    assert json.loads(out)["connectors"] == ["default"]

    code, out, _ = run(capsys, *target, "connectors", "list")
    assert [line.split()[0] for line in out.splitlines()] == ["default", "kpn"]
    # `default` is the stack's carrier as its parameters say, not this process's settings.
    code, out, _ = run(capsys, *target, "--json", "connectors", "list")
    [default] = [c for c in json.loads(out)["connectors"] if c["name"] == "default"]
    assert (default["protocol"], default["base_url"], default["rate_per_second"]) == (
        "vonage",
        "https://rest.nexmo.com",
        12,
    )
    # The operator's mistakes are one line naming what to fix; nothing changes.
    code, _, err = run(capsys, *target, "connectors", "remove", "kpn")
    assert code == 1
    assert err.strip() == "error: connector 'kpn' is used by route(s) nl: change them first"
    code, _, err = run(capsys, *target, "routes", "set", "gb", "--connectors", "vonage", "--country", "GB")
    assert (code, err.strip()) == (1, "error: no connector vonage; add it with `smsgw connectors set`")


def test_an_operator_lists_prices_and_removes_routes_and_connectors(aws, stack, capsys):
    target = ["--stack-name", stack]
    code, _, err = run(
        capsys, *target, "connectors", "set", "b", "--protocol", "vonage", "--base-url", "https://rest.nexmo.com",
        "--secret-name", "smsgw/connectors/b", "--rate", "30", "--prices", "NL=0.07,*=0.05",
    )  # fmt: skip
    assert (code, err) == (0, "")
    code, out, _ = run(capsys, *target, "connectors", "list")
    assert "prices NL=0.07,*=0.05" in out.splitlines()[1]
    run(capsys, *target, "routes", "set", "any", "--connectors", "b")
    code, out, _ = run(capsys, *target, "routes", "list")
    assert out.split() == ["any", "any", "→", "b"]
    code, out, _ = run(
        capsys, *target, "routes", "set", "any", "--connectors", "b,default", "--weights", "3,1"
    )
    assert out.split()[-6:] == ["any", "→", "b,", "default", "(weights", "3,1)"]
    code, out, _ = run(capsys, *target, "routes", "test", "+31612345678")
    assert "split b 75 %, default 25 %" in out
    code, _, err = run(capsys, *target, "routes", "set", "any", "--connectors", "b", "--weights", "x")
    assert (code, err.strip()) == (1, "error: weights: whole numbers separated by commas, e.g. 70,30")
    assert run(capsys, *target, "routes", "remove", "any")[1].strip() == "removed any"
    assert run(capsys, *target, "routes", "list")[1].strip() == "no routes: everything goes to `default`"
    assert run(capsys, *target, "connectors", "remove", "b")[1].strip() == "removed b"
    code, _, err = run(capsys, *target, "connectors", "remove", "b")
    assert (code, err.strip()) == (1, "error: no stored connector 'b'")
