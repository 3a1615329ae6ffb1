"""The chaos run's workload: sends through the API as a careful client makes them, and inbound SMS
injected at the carrier (simulator) for a number the account owns.

The client retries a send on a 5xx, a 409 (the same key still in progress), a 429 or no answer,
always with the same `Idempotency-Key`, so what a crash does to a retrying client is visible.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests

SEND_PATH = "/communication/nexmo/sms/send"
RETRY_STATUSES = frozenset({409, 429}) | frozenset(range(500, 600))
HTTP_TIMEOUT = 30.0


def plan_sends(count: int, run_id: str, callback_url: str, seed: int) -> list[dict[str, str]]:
    """`count` sends, each with its own client-ref; about one in five is two or three parts long."""
    rng = random.Random(seed)
    sends = []
    for n in range(count):
        ref = f"chaos-{run_id}-{n:04d}"
        text = f"chaos {ref}: your code is {rng.randint(100000, 999999)}."
        if rng.random() < 0.2:
            text += " " + "More news follows in the next part of this long message. " * rng.choice((3, 6))
        sends.append(
            {
                "from": "SMSGW",
                "to": f"4477009{rng.randint(0, 99999):05d}",
                "text": text.strip(),
                "client-ref": ref,
                "callback": callback_url,
            }
        )
    return sends


def plan_inbound(count: int, number: str, seed: int) -> list[dict[str, Any]]:
    """`count` inbound SMS to `number`, each from its own phone; some long (split into parts, shuffled),
    some duplicated by the carrier."""
    rng = random.Random(seed + 1)
    plans = []
    for n in range(count):
        text = f"Inbound {n}: yes, see you at {rng.randint(8, 18)}:00."
        long = rng.random() < 0.4
        if long:
            text += " " + "Thanks for the reminder, see you then! " * rng.choice((5, 9))
        plans.append(
            {
                "from": f"3161{rng.randint(0, 9999999):07d}",
                "to": number,
                "text": text.strip(),
                "split": long,
                "shuffle": long,
                "duplicate": 1 if rng.random() < 0.3 else 0,
            }
        )
    return plans


def message_id_of(first_part_id: str | None, parts: int) -> str | None:
    """The gateway's message id: a long message is answered with its parts' ids, `<message id>-<n>`."""
    if first_part_id and parts > 1:
        stem, dash, number = first_part_id.rpartition("-")
        if dash and number.isdigit():
            return stem
    return first_part_id


class ApiClient:
    """The gateway's API as one account's client: a token, sends with retries, reads."""

    def __init__(
        self, api_url: str, client_id: str, client_secret: str, give_up_after: float = 120.0
    ) -> None:
        self.api_url = api_url
        self.client_id = client_id
        self.client_secret = client_secret
        self.give_up_after = give_up_after
        self._local = threading.local()
        self._token: str | None = None
        self._token_lock = threading.Lock()

    @property
    def http(self) -> requests.Session:
        session = getattr(self._local, "http", None)
        if session is None:
            session = self._local.http = requests.Session()
        return session

    def token(self, refresh: bool = False) -> str:
        with self._token_lock:
            if self._token is None or refresh:
                response = self.http.post(
                    f"{self.api_url}/oauth/client_credential/accesstoken",
                    params={"grant_type": "client_credentials"},
                    data={"client_id": self.client_id, "client_secret": self.client_secret},
                    timeout=HTTP_TIMEOUT,
                )
                response.raise_for_status()
                self._token = str(response.json()["access_token"])
            return self._token

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", HTTP_TIMEOUT)
        for attempt in range(2):
            headers = {
                **kwargs.pop("headers", {}),
                "Authorization": f"Bearer {self.token(refresh=attempt > 0)}",
            }
            response = self.http.request(method, f"{self.api_url}{path}", headers=headers, **kwargs)
            kwargs["headers"] = {k: v for k, v in headers.items() if k != "Authorization"}
            if response.status_code != 401:
                break
        return response

    def send(self, form: dict[str, str], sleep: Callable[[float], None] = time.sleep) -> dict[str, Any]:
        """One send as a careful client makes it; returns what it saw (every answer's status code)."""
        key = f"idem-{form['client-ref']}"
        record: dict[str, Any] = {
            "client_ref": form["client-ref"],
            "key": key,
            "answers": [],
            "accepted": False,
        }
        started = time.monotonic()
        delay = 0.5
        while True:
            try:
                response = self.call("POST", SEND_PATH, data=form, headers={"Idempotency-Key": key})
                code = response.status_code
            except requests.RequestException as error:
                response, code = None, 0
                record["last_error"] = type(error).__name__
            record["answers"].append(code)
            if response is not None and code not in RETRY_STATUSES:
                break
            if time.monotonic() - started > self.give_up_after:
                break
            sleep(delay)
            delay = min(delay * 2, 8.0)
        if response is not None and code == 200:
            body = response.json()
            first = (body.get("messages") or [{}])[0]
            record["accepted"] = str(first.get("status")) == "0"
            record["parts"] = int(body.get("message-count") or 1)
            record["message_id"] = message_id_of(first.get("message-id"), record["parts"])
        elif response is not None:
            record["last_error"] = response.text[:300]
        return record

    def send_all(self, forms: list[dict[str, str]], threads: int = 4) -> list[dict[str, Any]]:
        with ThreadPoolExecutor(threads) as pool:
            return list(pool.map(self.send, forms))

    def messages(self) -> list[dict[str, Any]]:
        """Every message of the account (GET /messages, all pages)."""
        found: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            params: dict[str, Any] = {"limit": 100}
            if cursor:
                params["cursor"] = cursor
            response = self.call("GET", "/messages", params=params)
            response.raise_for_status()
            page = response.json()
            found.extend(page.get("messages") or [])
            cursor = page.get("next_cursor")
            if not cursor:
                return found

    def message(self, message_id: str) -> dict[str, Any] | None:
        response = self.call("GET", f"/messages/{message_id}")
        return dict(response.json()) if response.status_code == 200 else None

    def own_number(self, country: str, msisdn: str, mo_http_url: str) -> None:
        """Buy `msisdn` through the gateway (it buys it at the carrier) and point its inbound SMS at
        `mo_http_url`."""
        base = "/communication/nexmo/phone-numbers/number"
        bought = self.call("POST", f"{base}/buy", data={"country": country, "msisdn": msisdn})
        if bought.status_code != 200:
            raise RuntimeError(f"buying {msisdn} failed: {bought.status_code} {bought.text}")
        updated = self.call(
            "POST", f"{base}/update", data={"country": country, "msisdn": msisdn, "moHttpUrl": mo_http_url}
        )
        if updated.status_code != 200:
            raise RuntimeError(f"setting moHttpUrl of {msisdn} failed: {updated.status_code} {updated.text}")


def inject_inbound(
    simulator_url: str, plans: list[dict[str, Any]], spread_seconds: float
) -> list[dict[str, Any]]:
    """Inject each planned inbound SMS at the carrier, spread over `spread_seconds`."""
    injected = []
    gap = spread_seconds / max(len(plans), 1)
    for plan in plans:
        response = requests.post(f"{simulator_url}/_sim/inbound", json=plan, timeout=HTTP_TIMEOUT)
        response.raise_for_status()
        injected.append(
            {"msisdn": plan["from"], "text": plan["text"], "parts": len(response.json()["messages"])}
        )
        time.sleep(gap)
    return injected
