"""`LocalStack`: ministack running the real template.yaml plus the carrier simulator(s), started, deployed
and given the demo data in one `start()`; `stop()` ends what it started (the command line: local/stack.py)."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from local import demo, services
from local import template as tpl
from local.build import ArtifactBuilder, ensure_stack_venv
from local.deploy import Deployer, Deployment
from local.logs import ministack_errors, read_lambda_logs
from local.procs import LOOPBACK, ManagedProcess, StackError, free_port, wait_until
from local.services import CREDENTIALS, START_TIMEOUT
from local.session import DEMO_INBOUND_URL

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_STACK_NAME = "smsgw-local"
DEFAULT_REGION = "eu-west-1"
DEFAULT_STAGE = "local"
SECOND_CONNECTOR = "b"
DEMO_ACCOUNT = {"name": "demo", "balance": "10", "senders": "SMSGW,31612345678"}

Log = Callable[[str], None]


def say(message: str, *, err: bool = False) -> None:
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
    say(f"[local] {message}", err=True)


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
        self.carrier_credentials = services.simulator_credentials("local-")
        self.carrier_secret_name = f"{stack_name}/carrier"
        self.second_credentials = services.simulator_credentials("localb-")
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
                    raise self._started_ministack.fail(
                        f"not healthy on {self.endpoint_url} within {START_TIMEOUT:.0f} s"
                    )
                break
            except StackError:
                # The free port was taken between choosing it and binding it: choose another.
                lost_port = "already in use" in self._started_ministack.log_tail().lower()
                if self.gateway_port or not lost_port or attempt == 2:
                    raise
                self._started_ministack.stop()
                self._start_ministack()
        assert self.simulator is not None
        simulator_url = services.simulator_url(self.simulator)
        second_url = services.simulator_url(self.second_simulator) if self.second_simulator else ""
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
                self.stack_name,
                self._template,
                artifacts,
                parameters,
                mounted_layers={
                    a.logical_id: builder.unpacked(a) for a in artifacts if a.prop == "ContentUri"
                },
            )
        except StackError as exc:
            raise StackError(f"{exc}\nministack log: {self._started_ministack.log_path}") from None
        except (ClientError, BotoCoreError) as exc:
            raise StackError(
                f"deploying {template_path} to ministack failed: {exc}\nministack log: {self._started_ministack.log_path}"
            ) from None
        self.bridged = self.deployment.bridged
        # The carriers' webhooks go to the receipt and inbound functions' URLs, as on AWS (CarrierDlrUrl).
        receipts_url = self.deployment.carrier_url("CarrierDlrUrl", self.endpoint_url)
        inbound_url = self.deployment.carrier_url("CarrierInboundUrl", self.endpoint_url)
        if receipts_url is None or inbound_url is None:
            raise StackError(
                f"the stack's carrier webhook outputs are not function URLs: {self.deployment.outputs}"
            )
        services.point_simulator_at(receipts_url, inbound_url, simulator_url)
        if second_url:
            services.point_simulator_at(receipts_url, inbound_url, second_url, SECOND_CONNECTOR)
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
            "carrier_dlr_url": receipts_url,
            "carrier_inbound_url": inbound_url,
        }
        if second_url:
            info["second_simulator_url"] = second_url
            info["second_connector"] = SECOND_CONNECTOR
            # Paced at the first one's rate.
            rate = self.extra_parameters.get("CarrierRatePerSecond", "30")
            demo.add_connector(self.cli, SECOND_CONNECTOR, second_url, self.second_secret_name, rate)
            if self.demo_routes:
                demo.add_routes(self.cli, SECOND_CONNECTOR)
        if self.demo_account:
            info.update(self.create_account(**DEMO_ACCOUNT))
            t = self._timed("demo_account", t)
            if self.demo_number and info.get("client_id"):
                assert self.deployment.api_url, "the stack deployed without an API"
                info["number"] = demo.buy_number(
                    self.deployment.api_url, info, DEMO_INBOUND_URL, log=self.log
                )
                info["number_inbound_url"] = DEMO_INBOUND_URL
                self._timed("demo_number", t)
        self.info = {k: v for k, v in info.items() if v not in (None, "")}
        self.timings["total"] = round(time.monotonic() - started, 2)
        self.info["startup_seconds"] = self.timings["total"]
        self.write_info(self.run_dir / "local.json")
        return self.info

    def _start_ministack(self) -> None:
        assert self._lambda_python is not None
        assert self._tmp_dir is not None
        port = self.gateway_port or free_port()
        self.endpoint_url = f"http://{LOOPBACK}:{port}"
        self.ministack = services.start_ministack(
            self._lambda_python,
            port,
            self._tmp_dir,
            self.region,
            self.enforce_iam,
            self.run_dir / "logs" / "ministack.log",
        )
        self._announce(self.ministack)

    def _start_simulator(
        self, credentials: dict[str, str] | None = None, name: str = "simulator"
    ) -> ManagedProcess:
        proc = services.start_simulator(
            name,
            credentials or self.carrier_credentials,
            self.simulator_args,
            self.root,
            self.run_dir / "logs" / f"{name}.log",
        )
        self._announce(proc)
        return proc

    @property
    def _started_ministack(self) -> ManagedProcess:
        assert self.ministack is not None, "ministack is started before anything asks for it"
        return self.ministack

    def _ministack_healthy(self) -> bool:
        return services.ministack_healthy(self._started_ministack, self.endpoint_url)

    def _announce(self, proc: ManagedProcess) -> None:
        if self.on_process and proc.pid:
            self.on_process(proc.name, proc.pid)

    def _cli_path(self) -> Path:
        return Path(sys.executable).parent / "smsgw"

    def cli(self, *args: str) -> str:
        """Run the project's CLI against this stack (`smsgw --stack-name … <args>`); its output."""
        argv = [
            str(self._cli_path()),
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

    def create_account(self, name: str, balance: str, senders: str, *options: str) -> dict[str, Any]:
        """Create an account with the project's CLI (`smsgw accounts create --json`); `options` are
        further `accounts create` flags, e.g. "--rate-limit", "1000"."""
        if not self._cli_path().exists():
            self.log(f"no {self._cli_path()}: skipping the demo account")
            return {}
        output = self.cli(
            "--json",
            "accounts",
            "create",
            "--name",
            name,
            "--balance",
            balance,
            "--senders",
            senders,
            *options,
        )
        try:
            account = json.loads(output)
        except ValueError:
            raise StackError(f"`smsgw accounts create --json` printed no JSON:\n{output}") from None
        return dict(account)

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
            errors = ministack_errors(self.ministack.log_tail(10_000))
            if errors:
                text += "\n== ministack errors (worker init failures and the like)\n" + "\n".join(errors)
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
