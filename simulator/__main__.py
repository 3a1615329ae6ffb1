"""`python -m simulator`: run the carrier simulator until SIGTERM or SIGINT.

Once listening it prints one line to stdout, `{"simulator_url": "http://127.0.0.1:PORT"}`, so a
parent process started with `--port 0` learns the port. Everything else goes to stderr.

Delivery receipts go to each submission's `callback`, else to `--dlr-url`; inbound messages
injected with `POST /_sim/inbound` go to their number's `moHttpUrl` (set through the Numbers API),
else to `--inbound-url`. Both are signed with `--signature-secret` when given, and changeable later
with `PUT /_sim/config`. The receipt mix, delays, duplicates, reordering and retries are runtime
settings: see docs/simulator.md.
"""

from __future__ import annotations

import argparse
import json
import signal
import time
from typing import Any

from simulator.protocol import DLR_METHODS, SIGNATURE_METHODS
from simulator.server import SimulatorConfig, start_simulator


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m simulator",
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n", 2)[2],
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to bind (default 0: a free one)")
    parser.add_argument("--api-key", help="Vonage api_key accepted (default: any credentials pass)")
    parser.add_argument("--api-secret", help="Vonage api_secret accepted")
    parser.add_argument(
        "--signature-secret",
        help="secret that signed /sms/json requests are checked with, and receipts and inbound messages are signed with",
    )
    parser.add_argument(
        "--signature-method", choices=SIGNATURE_METHODS, default="md5", help="default md5 (HMAC)"
    )
    parser.add_argument("--kpn-client-id", help="KPN client_id accepted (default: any client passes)")
    parser.add_argument("--kpn-client-secret", help="KPN client_secret accepted")
    parser.add_argument("--kpn-token-lifetime", type=int, default=3599, help="seconds (default 3599)")
    parser.add_argument(
        "--rate-per-second", type=float, default=0, help="accepted requests/s (default 0: off)"
    )
    parser.add_argument("--latency-ms", type=int, default=0, help="delay before answering a submission")
    parser.add_argument(
        "--seed", type=int, help="seed for every random choice (fault rates, receipt mix, inbound shuffle)"
    )
    parser.add_argument(
        "--dlr-url", help="where delivery receipts go when a submission has no callback (default: nowhere)"
    )
    parser.add_argument(
        "--dlr-method",
        choices=DLR_METHODS,
        default="POST-JSON",
        help="how receipts are sent (default POST-JSON)",
    )
    parser.add_argument(
        "--dlr-workers",
        type=int,
        default=4,
        help="threads sending receipts and inbound messages in parallel (default 4)",
    )
    parser.add_argument(
        "--inbound-url",
        help="where injected inbound messages go (POST /_sim/inbound) when their number has no moHttpUrl",
    )
    parser.add_argument(
        "--inbound-method",
        choices=DLR_METHODS,
        default="POST-JSON",
        help="how inbound messages are sent (default POST-JSON)",
    )
    parser.add_argument(
        "--numbers-pool-size",
        type=int,
        default=100,
        help="numbers for sale per country and type in the Numbers API (default 100)",
    )
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    args = parser.parse_args(argv)
    try:
        SimulatorConfig(**{name: value for name, value in vars(args).items() if name not in ("host", "port")})
    except ValueError as exc:  # "dlr_url: must be ..." -> "argument --dlr-url: must be ..."
        name, _, why = str(exc).partition(": ")
        parser.error(f"argument --{name.replace('_', '-')}: {why}" if why else str(exc))
    return args


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    settings = vars(parse_args(argv))
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)
    handle = start_simulator(**settings)
    try:
        print(json.dumps({"simulator_url": handle.url}), flush=True)
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        handle.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
