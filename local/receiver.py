"""A webhook receiver for trying status callbacks locally: verifies each POST (Standard Webhooks,
with your account's webhook secret) and prints it.

    .venv/bin/python -m local.receiver --port 8787 [--secret whsec_...]

Without `--secret` it uses the demo account's `webhook_secret` from `.smsgw/local.json` (`make run`).

Then send with `-d callback=http://127.0.0.1:8787/status` (the local stack allows http on 127.0.0.1).
Answers 204 to a verified request, 401 to anything else; `--fail N` answers the first N with 503
to watch the gateway retry.
"""

from __future__ import annotations

import argparse
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

LOCAL_JSON = Path(__file__).resolve().parent.parent / ".smsgw" / "local.json"


def make_handler(webhook: Webhook, failures: list[int]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if failures[0] > 0:
                failures[0] -= 1
                print(f"-> 503 (failing on purpose, {failures[0]} more)", flush=True)
                self._answer(503)
                return
            try:
                payload = webhook.verify(body, dict(self.headers.items()))
            except WebhookVerificationError as error:
                print(f"-> 401 signature not valid: {error}", flush=True)
                self._answer(401)
                return
            print(f"verified {self.headers.get('webhook-id')}:\n{json.dumps(payload, indent=2)}", flush=True)
            self._answer(204)

        def _answer(self, status: int) -> None:
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.receiver", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8787)
    parser.add_argument(
        "--secret",
        help="the account's webhook_secret (whsec_...; default: the demo account's in .smsgw/local.json)",
    )
    parser.add_argument("--fail", type=int, default=0, help="answer the first N requests with 503")
    args = parser.parse_args(argv)
    if not args.secret:
        try:
            args.secret = json.loads(LOCAL_JSON.read_text())["webhook_secret"]
        except (OSError, ValueError, KeyError):
            parser.error(
                f"give --secret: no demo account's webhook_secret in {LOCAL_JSON} (is `make run` running?)"
            )
    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(Webhook(args.secret), [args.fail]))
    print(f"listening on http://127.0.0.1:{server.server_address[1]}/ (Ctrl-C stops)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
