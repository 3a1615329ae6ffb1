"""The local stack's processes: ministack (a clean environment, its health) and the carrier simulators
(started with their credentials; the URL each announces; where each sends its webhooks)."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import sys
from pathlib import Path

import requests

from local.procs import LOOPBACK, ManagedProcess, StackError, http_json, wait_until

CREDENTIALS = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}  # ministack accepts any
START_TIMEOUT = 60.0


def simulator_credentials(key_prefix: str) -> dict[str, str]:
    """New random credentials a simulator accepts and signs its webhooks with (the gateway's carrier secret)."""
    return {
        "api_key": key_prefix + secrets.token_hex(4),
        "api_secret": secrets.token_hex(16),
        "signature_secret": secrets.token_hex(16),
        "signature_method": "sha256",
    }


def ministack_env(port: int, tmp_dir: Path, region: str, enforce_iam: bool) -> dict[str, str]:
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
            "MINISTACK_REGION": region,
            "AWS_DEFAULT_REGION": region,
            "AWS_REGION": region,
            # Its Lambda workers' folders (ministack-lambda-*) go here and are removed on stop.
            "TMPDIR": str(tmp_dir),
            "PYTHONDONTWRITEBYTECODE": "1",
            # IAM enforcement: each function runs as its execution role and ministack checks the
            # template's Policies, so a missing permission fails here as it would on AWS.
            "AUTH": "true" if enforce_iam else "false",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def start_ministack(
    lambda_python: Path, port: int, tmp_dir: Path, region: str, enforce_iam: bool, log_path: Path
) -> ManagedProcess:
    """ministack from the stack's venv (next to the Lambda runtime's python), on `port`."""
    return ManagedProcess(
        "ministack",
        [str(lambda_python.parent / "ministack")],
        env=ministack_env(port, tmp_dir, region, enforce_iam),
        cwd=tmp_dir,
        log_path=log_path,
    ).start()


def ministack_healthy(ministack: ManagedProcess, endpoint_url: str) -> bool:
    if not ministack.running():
        raise ministack.fail("exited while starting")
    return bool(http_json(f"{endpoint_url}/_ministack/health", timeout=1.0))


def start_simulator(
    name: str, credentials: dict[str, str], extra_args: list[str], cwd: Path, log_path: Path
) -> ManagedProcess:
    """The carrier simulator on a free port of 127.0.0.1, accepting and signing with `credentials`."""
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
        *extra_args,
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["PYTHONUNBUFFERED"] = "1"
    return ManagedProcess(name, argv, env=env, cwd=cwd, log_path=log_path, stop_timeout=5).start()


def simulator_url(sim: ManagedProcess) -> str:
    """The URL from the simulator's first JSON line `{"simulator_url": ...}`."""

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


def point_simulator_at(receipts_url: str, inbound_url: str, simulator_url: str, connector: str = "") -> None:
    """Where the simulator sends delivery receipts and inbound messages: the stack's `CarrierDlrUrl` and
    `CarrierInboundUrl` (…/carrier/dlr, …/carrier/inbound); a connector other than the default has its
    own endpoints (`/carrier/<name>/dlr`)."""
    if connector:
        receipts_url = receipts_url.replace("/carrier/dlr", f"/carrier/{connector}/dlr")
        inbound_url = inbound_url.replace("/carrier/inbound", f"/carrier/{connector}/inbound")
    response = requests.put(
        f"{simulator_url}/_sim/config",
        json={"dlr_url": receipts_url, "inbound_url": inbound_url},
        timeout=10,
    )
    if response.status_code != 200:
        raise StackError(f"configuring the simulator failed: {response.status_code} {response.text}")
