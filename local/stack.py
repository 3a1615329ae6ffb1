"""The local stack: ministack running the real template.yaml, plus the carrier simulator.

    python -m local.stack run      # `make run`: start, print a curl session, wait for Ctrl-C
    python -m local.stack stop     # `make stop`: stop the one `make run` started
    python -m local.stack logs     # what the handlers logged (ministack keeps it in CloudWatch Logs)

From Python (the e2e tests):

    with LocalStack() as stack:
        stack.info["api_url"]

See docs/local-stack.md for what ministack lacks and how it is bridged here. This module is the command
line; `LocalStack` is local/runner.py, its processes local/services.py, the printed session
local/session.py.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import signal
import sys
import time
from pathlib import Path
from types import FrameType
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from local.deploy import Deployer
from local.logs import ministack_errors, read_lambda_logs
from local.procs import StackError, pid_alive, wait_until
from local.runner import DEFAULT_REGION, DEFAULT_STACK_NAME, REPO_ROOT, LocalStack, say
from local.services import CREDENTIALS
from local.session import curl_session, session_env

LOCAL_JSON = REPO_ROOT / ".smsgw" / "local.json"


def read_local_info() -> dict[str, Any] | None:
    """What the running stack wrote to .smsgw/local.json; None (and why, on stderr) when there is none."""
    try:
        return dict(json.loads(LOCAL_JSON.read_text()))
    except (OSError, ValueError):
        print("no running local stack (.smsgw/local.json); start one with `make run`", file=sys.stderr)
        return None


def _pid_file(run_dir: Path) -> Path:
    return run_dir / "run.pid"


def _read_pid_file(path: Path) -> dict[str, Any] | None:
    try:
        return dict(json.loads(path.read_text()))
    except (OSError, ValueError):
        return None


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


class _StopRequested(BaseException):
    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    raise _StopRequested(signum)


def cmd_run(args: argparse.Namespace) -> int:
    run_dir = REPO_ROOT / ".smsgw"
    pid_path = _pid_file(run_dir)
    previous = _read_pid_file(pid_path)
    if previous and pid_alive(int(previous["pid"])) and "local.stack" in _cmdline(int(previous["pid"])):
        say(f"a local stack is already running (pid {previous['pid']}); `make stop` stops it", err=True)
        return 1
    if previous:
        _stop_leftovers(previous)
    run_dir.mkdir(parents=True, exist_ok=True)
    state: dict[str, Any] = {"pid": os.getpid(), "processes": {}}

    def remember(name: str, pid: int) -> None:
        state["processes"][name] = pid
        pid_path.write_text(json.dumps(state) + "\n")

    pid_path.write_text(json.dumps(state) + "\n")
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _raise_stop)
    stack = LocalStack(
        stack_name=args.stack_name,
        region=args.region,
        gateway_port=args.port,
        on_process=remember,
        demo_number=True,
        demo_routes=True,
    )
    code = 0
    try:
        info = stack.start()
        say(
            f"\nsmsgw is running locally (up in {info['startup_seconds']:.1f} s):"
            f" {run_dir / 'local.json'}\n\n{curl_session(info)}\n\n"
            "Ctrl-C (or `make stop` in another terminal) stops it.",
        )
        while True:
            for proc in (stack.ministack, stack.simulator):
                if proc is not None and not proc.running():
                    raise proc.fail("stopped unexpectedly")
            time.sleep(1.0)
    except _StopRequested as stop:
        say(f"\n{stop}: stopping the local stack ...")
    except StackError as exc:
        say(f"local stack failed: {exc}", err=True)
        code = 1
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)
        for line in stack.stop():
            say(f"  {line}")
        (run_dir / "local.json").unlink(missing_ok=True)
        pid_path.unlink(missing_ok=True)
        say("local stack stopped.")
    return code


def _exited(pid: int) -> bool:
    return not pid_alive(pid)


def _stop_leftovers(state: dict[str, Any]) -> list[str]:
    """Stop the children of a runner that died without cleaning up (pid checked against its command)."""
    done = []
    for name, pid in (state.get("processes") or {}).items():
        if pid_alive(int(pid)) and name in _cmdline(int(pid)):
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid), signal.SIGTERM)
            if not wait_until(functools.partial(_exited, int(pid)), 15):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(int(pid), signal.SIGKILL)
            done.append(f"{name} (pid {pid}) left over by a previous run: stopped")
    return done


def cmd_stop(args: argparse.Namespace) -> int:
    pid_path = _pid_file(REPO_ROOT / ".smsgw")
    state = _read_pid_file(pid_path)
    if not state:
        print("no local stack is running (no .smsgw/run.pid)")
        return 0
    pid = int(state["pid"])
    if pid_alive(pid) and "local.stack" in _cmdline(pid):
        print(f"stopping the local stack (pid {pid}) ...", flush=True)
        os.kill(pid, signal.SIGTERM)
        if wait_until(lambda: not pid_alive(pid), 60, 0.1) is None:
            print(f"pid {pid} did not stop within 60 s", file=sys.stderr)
            return 1
        print("stopped.")
    else:
        for line in _stop_leftovers(state):
            print(line)
    pid_path.unlink(missing_ok=True)
    return 0


def cmd_env(args: argparse.Namespace) -> int:
    """Print the session's shell variables: `eval "$(.venv/bin/python -m local.stack env)"`."""
    info = read_local_info()
    if info is None:
        return 1
    print(session_env(info))
    return 0


# Outages to try locally (docs/errors.md): an explicit Deny on a function's role, which ministack enforces
# (IAM is on unless SMSGW_LOCAL_IAM=0). name -> (role's logical id, denied action, what it shows).
OUTAGES = {
    "send-queue": ("SendFunctionRole", "sqs:SendMessage", "sends answer 503: the send queue is unavailable"),
    "authorizer-table": (
        "AuthorizerFunctionRole",
        "dynamodb:GetItem",
        'the authorizer fails: API Gateway answers 500 {"message":null} (tokens it has not cached)',
    ),
}
OUTAGE_POLICY = "smsgw-local-outage"


def cmd_outage(args: argparse.Namespace) -> int:
    """Start (or `--end`) a simulated outage on the running local stack."""
    info = read_local_info()
    if info is None:
        return 1
    logical_id, action, effect = OUTAGES[args.what]
    deployer = Deployer(info["endpoint_url"], info["region"], CREDENTIALS)
    try:
        role = deployer.client("cloudformation").describe_stack_resource(
            StackName=info["stack_name"], LogicalResourceId=logical_id
        )["StackResourceDetail"]["PhysicalResourceId"]
        iam = deployer.client("iam")
        if args.end:
            with contextlib.suppress(iam.exceptions.NoSuchEntityException):
                iam.delete_role_policy(RoleName=role, PolicyName=OUTAGE_POLICY)
            print(f"{args.what}: ended")
            return 0
        deny = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": action, "Resource": "*"}]}
        iam.put_role_policy(RoleName=role, PolicyName=OUTAGE_POLICY, PolicyDocument=json.dumps(deny))
    except (ClientError, BotoCoreError) as exc:
        print(f"cannot reach the local stack ({exc}); is `make run` running?", file=sys.stderr)
        return 1
    print(f"{args.what}: {action} denied to {role}: {effect}. End it with --end.")
    return 0


def cmd_logs(args: argparse.Namespace) -> int:
    info = read_local_info()
    if info is None:
        return 1
    since = time.time() - args.minutes * 60 if args.minutes else None
    print(read_lambda_logs(info["endpoint_url"], info["region"], since=since, function=args.function))
    ministack_log = REPO_ROOT / ".smsgw" / "logs" / "ministack.log"
    text = ministack_log.read_text(errors="replace") if ministack_log.exists() else ""
    errors = ministack_errors(text)
    if errors:
        print("== ministack errors (e.g. a handler that failed to import)\n" + "\n".join(errors))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.stack", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="start the local stack and stay in the foreground until Ctrl-C")
    run.add_argument("--stack-name", default=DEFAULT_STACK_NAME)
    run.add_argument("--region", default=DEFAULT_REGION)
    run.add_argument("--port", type=int, default=None, help="ministack's port (default: a free one)")
    run.set_defaults(func=cmd_run)
    stop = sub.add_parser("stop", help="stop the local stack `run` started")
    stop.set_defaults(func=cmd_stop)
    env = sub.add_parser("env", help="print API=…, SIM=…, NUMBER=… of the running stack for `eval`")
    env.set_defaults(func=cmd_env)
    outage = sub.add_parser("outage", help="make a part of the running stack unavailable (docs/errors.md)")
    outage.add_argument("what", choices=sorted(OUTAGES))
    outage.add_argument("--end", action="store_true", help="end the outage")
    outage.set_defaults(func=cmd_outage)
    logs = sub.add_parser("logs", help="print what the handlers of the running stack logged")
    logs.add_argument("function", nargs="?", help="only functions whose name contains this (e.g. Send)")
    logs.add_argument("--minutes", type=float, default=0, help="only the last N minutes")
    logs.set_defaults(func=cmd_logs)
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
