"""The local stack: ministack running the real template.yaml, plus the carrier simulator.

    python -m local.stack run      # `make run`: start, print a curl session, wait for Ctrl-C
    python -m local.stack stop     # `make stop`: stop the one `make run` started
    python -m local.stack logs     # what the handlers logged (ministack keeps it in CloudWatch Logs)

From Python (the e2e tests):

    with LocalStack() as stack:
        stack.info["api_url"]

See docs/local-stack.md for what ministack lacks and how it is bridged here.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

import requests
from botocore.exceptions import BotoCoreError, ClientError

from local import template as tpl
from local.build import ArtifactBuilder, ensure_stack_venv
from local.deploy import Deployer, Deployment
from local.procs import LOOPBACK, ManagedProcess, StackError, free_port, http_json, pid_alive, wait_until

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_STACK_NAME = "smsgw-local"
DEFAULT_REGION = "eu-west-1"
DEFAULT_STAGE = "local"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}  # ministack accepts any
SECOND_CONNECTOR = "b"
DEMO_ACCOUNT = {"name": "demo", "balance": "10", "senders": "SMSGW,31612345678"}
# The demo account's virtual number: bought through the gateway's Phone Numbers API, SMS to it go to
# the signed-webhook receiver the printed session starts (`python -m local.receiver --port 8787`).
RECEIVER_PORT = 8787
DEMO_INBOUND_URL = f"http://{LOOPBACK}:{RECEIVER_PORT}/inbound"
START_TIMEOUT = 60.0

Log = Callable[[str], None]


def _say(message: str, *, err: bool = False) -> None:
    """Print, and keep going if the terminal or pipe is gone (`make run | tee` after Ctrl-C)."""
    stream = sys.stderr if err else sys.stdout
    try:
        print(message, file=stream, flush=True)
    except OSError:
        devnull = open(os.devnull, "w")  # noqa: SIM115 - replaces the dead stream for the rest of the run
        if err:
            sys.stderr = devnull
        else:
            sys.stdout = devnull


def _stderr_log(message: str) -> None:
    _say(f"[local] {message}", err=True)


class LocalStack:
    """ministack + the deployed template + the carrier simulator, on free ports of 127.0.0.1.

    `start()` returns (and `info` holds) what `.smsgw/local.json` holds; `stop()` ends every
    process it started, by pid, and removes their temporary files. As a context manager it
    stops everything on exit, also when starting failed half-way.
    """

    def __init__(
        self,
        root: Path = REPO_ROOT,
        *,
        run_dir: Path | None = None,
        stack_name: str = DEFAULT_STACK_NAME,
        region: str = DEFAULT_REGION,
        stage: str = DEFAULT_STAGE,
        gateway_port: int | None = None,
        demo_account: bool = True,
        demo_number: bool = False,
        second_carrier: bool = False,
        demo_routes: bool = False,
        simulator_args: list[str] | None = None,
        log: Log = _stderr_log,
        on_process: Callable[[str, int], None] | None = None,
        enforce_iam: bool | None = None,
        parameters: dict[str, str] | None = None,
        faults_file: Path | None = None,
    ) -> None:
        self.root = Path(root).resolve()
        self.run_dir = Path(run_dir) if run_dir else self.root / ".smsgw"
        self.build_dir = self.root / ".smsgw" / "build"
        self.stack_name = stack_name
        self.region = region
        self.stage = stage
        self.gateway_port = gateway_port
        self.demo_account = demo_account
        self.demo_number = demo_number  # `make run`: the demo account buys a number (needs demo_account)
        # A second simulator as the connector `b` (docs/routing.md); `demo_routes`: GB prefers the
        # default carrier, NL prefers b, each failing over to the other (`make run`).
        self.second_carrier = second_carrier or demo_routes
        self.demo_routes = demo_routes
        self.simulator_args = list(simulator_args or [])
        self.extra_parameters = dict(parameters or {})  # template parameters to override (tests)
        # Crash-point probabilities (smsgw.faults) for a chaos run; the functions read it on this machine.
        self.faults_file = Path(faults_file).resolve() if faults_file else None
        self.log = log
        self.on_process = on_process
        if enforce_iam is None:  # SMSGW_LOCAL_IAM=0: off, e.g. to tell an emulator gap from a policy gap
            enforce_iam = os.environ.get("SMSGW_LOCAL_IAM", "1").lower() not in ("0", "false", "off", "no")
        self.enforce_iam = enforce_iam
        self.endpoint_url = ""
        self.info: dict[str, Any] = {}
        self.timings: dict[str, float] = {}
        self.bridged: list[str] = []
        # What the simulator accepts and signs its webhooks with, and the gateway's carrier secret.
        self.carrier_credentials = {
            "api_key": "local-" + secrets.token_hex(4),
            "api_secret": secrets.token_hex(16),
            "signature_secret": secrets.token_hex(16),
            "signature_method": "sha256",
        }
        self.carrier_secret_name = f"{stack_name}/carrier"
        self.second_credentials = {
            "api_key": "localb-" + secrets.token_hex(4),
            "api_secret": secrets.token_hex(16),
            "signature_secret": secrets.token_hex(16),
            "signature_method": "sha256",
        }
        self.second_secret_name = f"smsgw/connectors/{SECOND_CONNECTOR}"  # ConnectorSecretPrefix's default
        self.ministack: ManagedProcess | None = None
        self.simulator: ManagedProcess | None = None
        self.second_simulator: ManagedProcess | None = None
        self._tmp_dir: Path | None = None
        self._template: dict[str, Any] | None = None
        self._lambda_python: Path | None = None
        self.deployment: Deployment | None = None

    # -- environment -----------------------------------------------------------------------------

    @property
    def aws_env(self) -> dict[str, str]:
        """What a boto3 client (or the smsgw CLI) needs to talk to this stack."""
        return {
            **CREDENTIALS,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
            "AWS_ENDPOINT_URL": self.endpoint_url,
        }

    def _ministack_env(self, port: int, tmp_dir: Path) -> dict[str, str]:
        """A clean environment: the Lambda workers inherit it (ministack spawns them with its own)."""
        keep = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE")
        env = {k: os.environ[k] for k in keep if k in os.environ}
        env.update(CREDENTIALS)
        env.update(
            {
                "BIND_HOST": LOOPBACK,  # never 0.0.0.0
                "GATEWAY_PORT": str(port),
                # Host in the URLs ministack hands out (queue URLs: `!Ref Queue`); default "localhost".
                "MINISTACK_HOST": LOOPBACK,
                "MINISTACK_REGION": self.region,
                "AWS_DEFAULT_REGION": self.region,
                "AWS_REGION": self.region,
                # Its Lambda workers' folders (ministack-lambda-*) go here and are removed on stop.
                "TMPDIR": str(tmp_dir),
                "PYTHONDONTWRITEBYTECODE": "1",
                # IAM enforcement: each function runs as its execution role and ministack checks the
                # template's Policies, so a missing permission fails here as it would on AWS.
                "AUTH": "true" if self.enforce_iam else "false",
                "PYTHONUNBUFFERED": "1",
            }
        )
        return env

    # -- start / stop ----------------------------------------------------------------------------

    def start(self) -> dict[str, Any]:
        started = time.monotonic()
        try:
            return self._start(started)
        except BaseException:
            self.stop()
            raise

    def _timed(self, name: str, since: float) -> float:
        now = time.monotonic()
        self.timings[name] = round(now - since, 2)
        return now

    def _start(self, started: float) -> dict[str, Any]:
        template_path = self.root / "template.yaml"
        if not template_path.exists():
            raise StackError(f"{template_path} does not exist")
        self._template = tpl.load_template(template_path)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        (self.run_dir / "local.json").unlink(missing_ok=True)

        self._lambda_python = ensure_stack_venv(self.root / ".venv-stack", log=self.log)
        t = self._timed("install", started)

        self._tmp_dir = Path(tempfile.mkdtemp(prefix="smsgw-ministack-"))
        self._start_ministack()
        self.simulator = self._start_simulator()
        if self.second_carrier:
            self.second_simulator = self._start_simulator(self.second_credentials, "simulator-b")

        # Build while both boot.
        builder = ArtifactBuilder(self.root, self.build_dir, self._lambda_python, log=self.log)
        artifacts = builder.build(self._template)
        t = self._timed("build", t)

        for attempt in range(3):
            try:
                if not wait_until(lambda: self._ministack_healthy(), START_TIMEOUT, 0.05):
                    raise self.ministack.fail(
                        f"not healthy on {self.endpoint_url} within {START_TIMEOUT:.0f} s"
                    )
                break
            except StackError:
                # The free port was taken between choosing it and binding it: choose another.
                lost_port = "already in use" in self.ministack.log_tail().lower()
                if self.gateway_port or not lost_port or attempt == 2:
                    raise
                self.ministack.stop()
                self._start_ministack()
        simulator_url = self._simulator_url()
        second_url = self._simulator_url(self.second_simulator) if self.second_simulator else ""
        t = self._timed("processes", t)
        self.log(f"ministack on {self.endpoint_url}, simulator on {simulator_url}")

        deployer = Deployer(self.endpoint_url, self.region, CREDENTIALS)
        parameters = {
            "Stage": self.stage,
            "CarrierProvider": "simulator",
            "CarrierBaseUrl": simulator_url,
            "CarrierSecretName": self.carrier_secret_name,
            "CallbackAllowHttpHosts": "127.0.0.1,localhost",
            # The simulator is told our receipt URL below (its "account default"), as a Vonage
            # account would be: the template's automatic URL is AWS's, not ministack's path-style one.
            "CarrierReceiptUrl": "",
            # ministack authorizes Scheduler calls against the default group's ARNs (docs/local-stack.md).
            "LocalEmulator": "true",
            **({"FaultsFile": str(self.faults_file)} if self.faults_file else {}),
            **self.extra_parameters,
        }
        try:
            deployer.put_secret(self.carrier_secret_name, self.carrier_credentials)
            if second_url:
                deployer.put_secret(self.second_secret_name, self.second_credentials)
            self.deployment = deployer.deploy(
                self.stack_name, self._template, artifacts, parameters, self.stage
            )
        except StackError as exc:
            raise StackError(f"{exc}\nministack log: {self.ministack.log_path}") from None
        except (ClientError, BotoCoreError) as exc:
            raise StackError(
                f"deploying {template_path} to ministack failed: {exc}\nministack log: {self.ministack.log_path}"
            ) from None
        self.bridged = self.deployment.bridged
        self._point_simulator_at(self.deployment.api_url, simulator_url)
        if second_url:
            self._point_simulator_at(self.deployment.api_url, second_url, SECOND_CONNECTOR)
        t = self._timed("deploy", t)
        self.log(f"stack {self.stack_name} deployed ({len(self.deployment.resources)} resources)")

        info: dict[str, Any] = {
            "api_url": self.deployment.api_url,
            "simulator_url": simulator_url,
            "endpoint_url": self.endpoint_url,
            "stack_name": self.stack_name,
            "region": self.region,
            "carrier_api_key": self.carrier_credentials["api_key"],
            "carrier_api_secret": self.carrier_credentials["api_secret"],
            "carrier_signature_secret": self.carrier_credentials["signature_secret"],
            "carrier_signature_method": self.carrier_credentials["signature_method"],
            "outputs": self.deployment.outputs,
        }
        if second_url:
            info["second_simulator_url"] = second_url
            info["second_connector"] = SECOND_CONNECTOR
            self.add_second_connector(second_url)
            if self.demo_routes:
                self.cli(
                    "routes", "set", "gb", "--country", "GB", "--connectors", f"default,{SECOND_CONNECTOR}"
                )
                self.cli(
                    "routes", "set", "nl", "--country", "NL", "--connectors", f"{SECOND_CONNECTOR},default"
                )
        if self.demo_account:
            info.update(self.create_account(**DEMO_ACCOUNT))
            t = self._timed("demo_account", t)
            if self.demo_number and info.get("client_id"):
                info["number"] = self.buy_number(info, DEMO_INBOUND_URL)
                info["number_inbound_url"] = DEMO_INBOUND_URL
                self._timed("demo_number", t)
        self.info = {k: v for k, v in info.items() if v not in (None, "")}
        self.timings["total"] = round(time.monotonic() - started, 2)
        self.info["startup_seconds"] = self.timings["total"]
        self.write_info(self.run_dir / "local.json")
        return self.info

    def _point_simulator_at(self, api_url: str, simulator_url: str, connector: str = "") -> None:
        """Where the simulator sends delivery receipts (and, later, inbound messages): a connector other
        than the default has its own endpoints (`/carrier/<name>/dlr`)."""
        base = f"{api_url}/carrier/{connector}" if connector else f"{api_url}/carrier"
        response = requests.put(
            f"{simulator_url}/_sim/config",
            json={"dlr_url": f"{base}/dlr", "inbound_url": f"{base}/inbound"},
            timeout=10,
        )
        if response.status_code != 200:
            raise StackError(f"configuring the simulator failed: {response.status_code} {response.text}")

    def _start_ministack(self) -> None:
        assert self._lambda_python is not None
        assert self._tmp_dir is not None
        port = self.gateway_port or free_port()
        self.endpoint_url = f"http://{LOOPBACK}:{port}"
        self.ministack = ManagedProcess(
            "ministack",
            [str(self._lambda_python.parent / "ministack")],
            env=self._ministack_env(port, self._tmp_dir),
            cwd=self._tmp_dir,
            log_path=self.run_dir / "logs" / "ministack.log",
        ).start()
        self._announce(self.ministack)

    def _announce(self, proc: ManagedProcess) -> None:
        if self.on_process and proc.pid:
            self.on_process(proc.name, proc.pid)

    def _ministack_healthy(self) -> bool:
        assert self.ministack is not None
        if not self.ministack.running():
            raise self.ministack.fail("exited while starting")
        return bool(http_json(f"{self.endpoint_url}/_ministack/health", timeout=1.0))

    def _start_simulator(
        self, credentials: dict[str, str] | None = None, name: str = "simulator"
    ) -> ManagedProcess:
        credentials = credentials or self.carrier_credentials
        argv = [
            sys.executable,
            "-m",
            "simulator",
            "--host",
            LOOPBACK,
            "--port",
            "0",
            "--api-key",
            credentials["api_key"],
            "--api-secret",
            credentials["api_secret"],
            "--signature-secret",
            credentials["signature_secret"],
            "--signature-method",
            credentials["signature_method"],
            *self.simulator_args,
        ]
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env["PYTHONUNBUFFERED"] = "1"
        proc = ManagedProcess(
            name,
            argv,
            env=env,
            cwd=self.root,
            log_path=self.run_dir / "logs" / f"{name}.log",
            stop_timeout=5,
        ).start()
        self._announce(proc)
        return proc

    def _simulator_url(self, process: ManagedProcess | None = None) -> str:
        """The URL from the simulator's first JSON line `{"simulator_url": ...}`."""
        sim = process or self.simulator
        assert sim is not None

        def announced() -> str | None:
            with contextlib.suppress(OSError):
                for line in sim.log_path.read_text(errors="replace").splitlines():
                    if line.startswith("{") and "simulator_url" in line:
                        with contextlib.suppress(ValueError):
                            return str(json.loads(line)["simulator_url"])
            if not sim.running():
                raise sim.fail("exited while starting")
            return None

        url = wait_until(announced, START_TIMEOUT, 0.05)
        if not url:
            raise sim.fail(f'printed no {{"simulator_url": ...}} line within {START_TIMEOUT:.0f} s')
        return str(url)

    def cli(self, *args: str) -> str:
        """Run the project's CLI against this stack (`smsgw --stack-name … <args>`); its output."""
        argv = [
            str(Path(sys.executable).parent / "smsgw"),
            "--stack-name",
            self.stack_name,
            "--endpoint-url",
            self.endpoint_url,
            "--region",
            self.region,
            *args,
        ]
        result = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            env={**os.environ, **self.aws_env},
            cwd=self.root,
            timeout=60,
            check=False,
        )
        if result.returncode != 0:
            raise StackError(f"{shlex.join(argv)} failed:\n{result.stdout}{result.stderr}")
        return result.stdout

    def add_second_connector(self, url: str) -> None:
        """The second simulator as the connector `b`, paced at the first one's rate."""
        rate = self.extra_parameters.get("CarrierRatePerSecond", "30")
        self.cli(
            "connectors",
            "set",
            SECOND_CONNECTOR,
            "--protocol",
            "simulator",
            "--base-url",
            url,
            "--secret-name",
            self.second_secret_name,
            "--rate",
            rate,
            "--webhook-auth",
            "signature",
        )

    def create_account(self, name: str, balance: str, senders: str, *options: str) -> dict[str, Any]:
        """Create an account with the project's CLI (`smsgw accounts create --json`); `options` are
        further `accounts create` flags, e.g. "--rate-limit", "1000"."""
        cli = Path(sys.executable).parent / "smsgw"
        if not cli.exists():
            self.log(f"no {cli}: skipping the demo account")
            return {}
        argv = [
            str(cli),
            "--json",
            "--stack-name",
            self.stack_name,
            "--endpoint-url",
            self.endpoint_url,
            "--region",
            self.region,
            "accounts",
            "create",
            "--name",
            name,
            "--balance",
            balance,
            "--senders",
            senders,
            *options,
        ]
        env = {**os.environ, **self.aws_env}
        result = subprocess.run(
            argv, capture_output=True, text=True, env=env, cwd=self.root, timeout=60, check=False
        )
        if result.returncode != 0:
            raise StackError(
                f"creating the demo account failed: {shlex.join(argv)}\n{result.stdout}{result.stderr}"
            )
        try:
            account = json.loads(result.stdout)
        except ValueError:
            raise StackError(
                f"`smsgw accounts create --json` printed no JSON:\n{result.stdout}{result.stderr}"
            ) from None
        return dict(account)

    def buy_number(
        self,
        account: dict[str, Any],
        inbound_url: str,
        country: str = "NL",
        number_type: str = "mobile-lvn",
        features: str = "SMS",
    ) -> str:
        """Buy a virtual number for `account` as its owner would: a token, then the gateway's Phone Numbers
        API (search, buy — the gateway buys it at the carrier simulator — and `moHttpUrl` = `inbound_url`).
        Returns the msisdn."""
        assert self.deployment is not None
        api = str(self.deployment.api_url)

        def call(method: str, url: str, what: str, **kwargs: Any) -> dict[str, Any]:
            try:
                response = requests.request(method, url, timeout=60, **kwargs)
            except requests.RequestException as exc:
                raise StackError(f"{what} failed: {exc}") from None
            if response.status_code != 200:
                raise StackError(f"{what} failed: {response.status_code} {response.text}")
            return dict(response.json())

        token = call(
            "POST",
            f"{api}/oauth/client_credential/accesstoken",
            "the demo account's token",
            params={"grant_type": "client_credentials"},
            data={"client_id": account["client_id"], "client_secret": account["client_secret"]},
        )["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        base = f"{api}/communication/nexmo/phone-numbers"
        found = call(
            "GET",
            f"{base}/number/search",
            "searching a number",
            headers=headers,
            params={"country": country, "type": number_type, "features": features, "size": 1},
        )
        if not found.get("numbers"):
            raise StackError(f"the carrier simulator has no {number_type} number in {country} for sale")
        msisdn = str(found["numbers"][0]["msisdn"])
        number = {"country": country, "msisdn": msisdn}
        call("POST", f"{base}/number/buy", f"buying {msisdn}", headers=headers, data=number)
        call(
            "POST",
            f"{base}/number/update",
            f"setting the moHttpUrl of {msisdn}",
            headers=headers,
            data={**number, "moHttpUrl": inbound_url},
        )
        self.log(f"the demo account owns {msisdn} (inbound SMS to {inbound_url})")
        return msisdn

    def write_info(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.info, indent=2) + "\n")
        tmp.chmod(0o600)
        os.replace(tmp, path)

    def lambda_logs(self, since: float | None = None, function: str | None = None) -> str:
        """What the handlers logged (CloudWatch Logs in ministack) and ministack's own errors."""
        text = read_lambda_logs(self.endpoint_url, self.region, since=since, function=function)
        if self.ministack is not None:
            errors = [ln for ln in self.ministack.log_tail(10_000).splitlines() if " ERROR " in ln]
            if errors:
                text += "\n== ministack errors (worker init failures and the like)\n" + "\n".join(
                    errors[-50:]
                )
        return text

    def resource_id(self, logical_id: str) -> str:
        """The physical id of a stack resource (a queue's URL, a table's name, a function's name)."""
        assert self.deployment is not None, "the stack is not started"
        return self.deployment.resources[logical_id]["id"]

    def stop(self) -> list[str]:
        """Stop every process this stack started (simulator, then ministack); returns what was done."""
        done = []
        for proc in (self.simulator, self.second_simulator, self.ministack):
            if proc is not None and (line := proc.stop()):
                done.append(line)
        self.simulator = self.second_simulator = self.ministack = None
        if self._tmp_dir is not None:
            shutil.rmtree(self._tmp_dir, ignore_errors=True)
            done.append(f"removed {self._tmp_dir} (ministack's Lambda work folders)")
            self._tmp_dir = None
        return done

    def __enter__(self) -> LocalStack:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def read_lambda_logs(
    endpoint_url: str, region: str, *, since: float | None = None, function: str | None = None
) -> str:
    """The handlers' log lines, per function: ministack writes them to /aws/lambda/<function name>."""
    logs = Deployer(endpoint_url, region, CREDENTIALS).client("logs")
    groups = [
        g["logGroupName"]
        for page in logs.get_paginator("describe_log_groups").paginate(logGroupNamePrefix="/aws/lambda/")
        for g in page["logGroups"]
    ]
    out = []
    for group in sorted(groups):
        if function and function.lower() not in group.lower():
            continue
        kwargs: dict[str, Any] = {"logGroupName": group}
        if since:
            kwargs["startTime"] = int(since * 1000)
        events = [
            e for page in logs.get_paginator("filter_log_events").paginate(**kwargs) for e in page["events"]
        ]
        if events:
            out.append(f"== {group}")
            out += [e["message"].rstrip() for e in sorted(events, key=lambda e: e["timestamp"])]
    return "\n".join(out)


# ---------------------------------------------------------------------------------------------
# The command line: run / stop / logs
# ---------------------------------------------------------------------------------------------


# The shell variables the session (and README's "Try it") uses, from local.json's fields.
SESSION_VARIABLES = {
    "API": "api_url",
    "SIM": "simulator_url",
    "SIM_B": "second_simulator_url",
    "NUMBER": "number",
    "CLIENT_ID": "client_id",
    "CLIENT_SECRET": "client_secret",
    "ACCOUNT_ID": "account_id",
}
PRETTY = "python3 -m json.tool"  # not jq: README's prerequisites are curl and Python


def session_env(info: dict[str, Any]) -> str:
    """`API=… SIM=… NUMBER=…` shell assignments for what `info` (local.json) has."""
    q = shlex.quote
    return "\n".join(f"{var}={q(str(info[key]))}" for var, key in SESSION_VARIABLES.items() if info.get(key))


def curl_session(info: dict[str, Any]) -> str:
    """A copy-paste shell session against the running stack (bash; needs curl and python3)."""
    lines = [session_env(info)]
    if "client_id" in info:
        lines += [
            "",
            "# 1. a token, exactly as KPN documents it (client credentials of the demo account)",
            'TOKEN=$(curl -s -X POST "$API/oauth/client_credential/accesstoken?grant_type=client_credentials" \\',
            '  -d client_id="$CLIENT_ID" -d client_secret="$CLIENT_SECRET" \\',
            "  | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"access_token\"])')",
            "",
            "# 2. send an SMS (accepted at once; the dispatcher hands it to the carrier simulator)",
            'curl -s -X POST "$API/communication/nexmo/sms/send" -H "Authorization: Bearer $TOKEN" \\',
            f"  -d from=SMSGW -d to=447700900000 -d text=Hello | {PRETTY}",
            "",
            "# 3. its status, parts, timeline and callbacks (the simulator's receipt makes it 'delivered')",
            f'curl -s "$API/messages?limit=1" -H "Authorization: Bearer $TOKEN" | {PRETTY}',
            "",
            "# 4. signed status callbacks: in another terminal (in this folder), a receiver that verifies",
            "#    them with the demo account's webhook secret and prints them; then send with a callback URL",
            f".venv/bin/python -m local.receiver --port {RECEIVER_PORT}",
            'curl -s -X POST "$API/communication/nexmo/sms/send" -H "Authorization: Bearer $TOKEN" \\',
            f"  -d from=SMSGW -d to=447700900000 -d text=Hello -d callback=http://{LOOPBACK}:{RECEIVER_PORT}/status",
        ]
        if info.get("number"):
            lines += [
                "",
                "# 5. receive SMS: the demo account owns the virtual number $NUMBER (bought through the Phone",
                "#    Numbers API; its moHttpUrl is the receiver of step 4). The carrier (simulator) delivers a",
                "#    long SMS to it in shuffled parts with a duplicate; the receiver prints it once, complete",
                'curl -s -X POST "$SIM/_sim/inbound" -H "Content-Type: application/json" -d \\',
                '  \'{"from":"31612345678","to":"\'"$NUMBER"\'","text":"\'"$(printf \'Yes! %.0s\' {1..40})"\'",\'\\',
                '\'"split":true,"shuffle":true,"duplicate":1}\'',
                "#    (functions start cold on their first call: if the list is still empty, ask again)",
                f'sleep 5; curl -s "$API/inbound?limit=1" -H "Authorization: Bearer $TOKEN" | {PRETTY}',
            ]
        lines += [
            "",
            "# 6. send later: 30 s from now (answered 202, message-status 'scheduled', charged when sent);",
            "#    DELETE /messages/<id> before then cancels it",
            "SEND_AT=$(python3 -c 'import datetime as d; "
            'print((d.datetime.now(d.timezone.utc) + d.timedelta(seconds=30)).strftime("%Y-%m-%dT%H:%M:%SZ"))\')',
            'curl -s -X POST "$API/communication/nexmo/sms/send" -H "Authorization: Bearer $TOKEN" \\',
            f'  -d from=SMSGW -d to=447700900000 -d "text=Your appointment is at 10:00" -d send-at=$SEND_AT | {PRETTY}',
            "",
            "# 7. a recurring notification: every minute here (try cron(0 8 * * ? *) for 08:00 daily), one",
            '#    message per recipient per run with {{placeholders}} filled; pause with PATCH {"paused": true}',
            'curl -s -X POST "$API/schedules" -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json" \\',
            '  -d \'{"name":"demo","recipients":[{"to":"447700900001","name":"Ann"},{"to":"447700900002","name":"Bob"}],\'\\',
            '\'"from":"SMSGW","text":"Good morning {{name}}","schedule":"rate(1 minute)","timezone":"Europe/Amsterdam"}\' | '
            + PRETTY,
            f'curl -s "$API/schedules" -H "Authorization: Bearer $TOKEN" | {PRETTY}',
        ]
    else:
        lines += ["", "# (no demo account: `smsgw accounts create` is not available yet)"]
    lines += [
        "",
        "# 8. what the carrier simulator received, and the receipts it sent back",
        f'curl -s "$SIM/_sim/messages" | {PRETTY}',
        f'curl -s "$SIM/_sim/dlrs" | {PRETTY}',
    ]
    if info.get("second_simulator_url"):
        lines += [
            "",
            "# 9. two carriers (docs/routing.md): GB numbers (step 2) go to the default one ($SIM), NL numbers",
            "#    to the connector b ($SIM_B), each failing over to the other; ask why, then send to NL",
            ".venv/bin/smsgw --local routes test +31612345678",
            'curl -s -X POST "$API/communication/nexmo/sms/send" -H "Authorization: Bearer $TOKEN" \\',
            "  -d from=SMSGW -d to=31612345678 -d text='Hello from b'",
            f'curl -s "$SIM_B/_sim/messages" | {PRETTY}',
        ]
    return "\n".join(lines)


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
        _say(f"a local stack is already running (pid {previous['pid']}); `make stop` stops it", err=True)
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
        _say(
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
        _say(f"\n{stop}: stopping the local stack ...")
    except StackError as exc:
        _say(f"local stack failed: {exc}", err=True)
        code = 1
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)
        for line in stack.stop():
            _say(f"  {line}")
        (run_dir / "local.json").unlink(missing_ok=True)
        pid_path.unlink(missing_ok=True)
        _say("local stack stopped.")
    return code


def _stop_leftovers(state: dict[str, Any]) -> list[str]:
    """Stop the children of a runner that died without cleaning up (pid checked against its command)."""
    done = []
    for name, pid in (state.get("processes") or {}).items():
        if pid_alive(int(pid)) and name in _cmdline(int(pid)):
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid), signal.SIGTERM)
            if not wait_until(lambda p=int(pid): not pid_alive(p), 15):
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
    try:
        info = json.loads((REPO_ROOT / ".smsgw" / "local.json").read_text())
    except (OSError, ValueError):
        print("no running local stack (.smsgw/local.json); start one with `make run`", file=sys.stderr)
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
    try:
        info = json.loads((REPO_ROOT / ".smsgw" / "local.json").read_text())
    except (OSError, ValueError):
        print("no running local stack (.smsgw/local.json); start one with `make run`", file=sys.stderr)
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
    try:
        info = json.loads((REPO_ROOT / ".smsgw" / "local.json").read_text())
    except (OSError, ValueError):
        print("no running local stack (.smsgw/local.json); start one with `make run`", file=sys.stderr)
        return 1
    since = time.time() - args.minutes * 60 if args.minutes else None
    print(read_lambda_logs(info["endpoint_url"], info["region"], since=since, function=args.function))
    ministack_log = REPO_ROOT / ".smsgw" / "logs" / "ministack.log"
    text = ministack_log.read_text(errors="replace") if ministack_log.exists() else ""
    errors = [ln for ln in text.splitlines() if " ERROR " in ln]
    if errors:
        print("== ministack errors (e.g. a handler that failed to import)\n" + "\n".join(errors[-50:]))
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
