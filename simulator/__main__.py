"""`python -m simulator`: run the carrier simulator until SIGTERM or SIGINT.

Once listening it prints one line to stdout, `{"simulator_url": "http://127.0.0.1:PORT"}`, so a
parent process started with `--port 0` learns the port. Everything else goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import signal
import time
from typing import Any

from simulator.protocol import SIGNATURE_METHODS
from simulator.server import start_simulator


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m simulator", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to bind (default 0: a free one)")
    parser.add_argument("--api-key", help="Vonage api_key accepted (default: any credentials pass)")
    parser.add_argument("--api-secret", help="Vonage api_secret accepted")
    parser.add_argument("--signature-secret", help="secret that signed /sms/json requests are checked with")
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
    parser.add_argument("--seed", type=int, help="seed for the random fault rates")
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    return parser.parse_args(argv)


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
