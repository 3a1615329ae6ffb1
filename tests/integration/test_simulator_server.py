"""The carrier simulator over HTTP: in-process (`start_simulator`) and as `python -m simulator`."""

from __future__ import annotations

import os
import re
import select
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests

from simulator.protocol import sign
from simulator.server import start_simulator

REPO = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-m", "simulator"]
KEY, SECRET = "abcd1234", "topsecret99"
SIG_SECRET, SIG_METHOD = "sigsecret-123", "sha256"
CLIENT_ID, CLIENT_SECRET = "kpn-client", "kpn-client-secret"
TO = "447700900000"
BAD_CREDENTIALS = {"message-count": "1", "messages": [{"status": "4", "error-text": "Bad Credentials"}]}
INVALID_TOKEN = {
    "fault": {
        "faultstring": "Invalid Access Token",
        "detail": {"errorcode": "keymanagement.service.invalid_access_token"},
    }
}


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def sim(clock):
    with start_simulator(
        clock=clock,
        api_key=KEY,
        api_secret=SECRET,
        signature_secret=SIG_SECRET,
        signature_method=SIG_METHOD,
        kpn_client_id=CLIENT_ID,
        kpn_client_secret=CLIENT_SECRET,
    ) as handle:
        yield handle


@pytest.fixture
def http():
    with requests.Session() as session:
        yield session


def send(http, sim, **params):
    return http.post(f"{sim.url}/sms/json", data={"api_key": KEY, "api_secret": SECRET, **params}, timeout=5)


def sms(text="Hello", **extra):
    return {"from": "AcmeInc", "to": TO, "text": text, **extra}


def messages(http, sim):
    return http.get(f"{sim.url}/_sim/messages", timeout=5).json()["messages"]


def stats(http, sim):
    return http.get(f"{sim.url}/_sim/stats", timeout=5).json()


def configure(http, sim, **settings):
    response = http.put(f"{sim.url}/_sim/config", json=settings, timeout=5)
    assert response.status_code == 200, response.text
    return response.json()


def statuses(response):
    return [element["status"] for element in response.json()["messages"]]


# --- /sms/json ----------------------------------------------------------------------------------------------


def test_send_with_key_and_secret_answers_like_vonage_and_is_recorded(http, sim):
    before = time.time()
    response = send(http, sim, **sms(**{"client-ref": "order-1", "ttl": "90000", "status-report-req": "1"}))

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    body = response.json()
    assert body["message-count"] == "1"
    [element] = body["messages"]
    assert element == {
        "to": TO,
        "message-id": element["message-id"],
        "status": "0",
        "remaining-balance": element["remaining-balance"],
        "message-price": "0.03330000",
        "network": "20416",
        "client-ref": "order-1",
    }
    assert uuid.UUID(element["message-id"]).version == 4
    assert re.fullmatch(r"\d+\.\d{8}", element["remaining-balance"])

    [record] = messages(http, sim)
    assert {key: record[key] for key in ("from", "to", "text", "type", "client-ref", "api", "auth")} == {
        "from": "AcmeInc",
        "to": TO,
        "text": "Hello",
        "type": "text",
        "client-ref": "order-1",
        "api": "vonage",
        "auth": "secret",
    }
    assert record["message-id"] == element["message-id"]
    assert record["message-ids"] == [element["message-id"]]
    assert record["parts"] == 1
    assert record["ttl"] == "90000"
    assert record["status-report-req"] == "1"
    assert before <= record["received_at"] <= time.time()
    assert "api_secret" not in record


def test_json_body_with_credentials_in_the_query(http, sim):
    response = http.post(
        f"{sim.url}/sms/json?api_key={KEY}&api_secret={SECRET}", json={**sms(), "to": int(TO)}, timeout=5
    )
    assert statuses(response) == ["0"]
    assert messages(http, sim)[0]["to"] == TO


def test_basic_auth_with_a_json_body(http, sim):
    response = http.post(f"{sim.url}/sms/json", json=sms(), auth=(KEY, SECRET), timeout=5)
    assert statuses(response) == ["0"]
    assert messages(http, sim)[0]["auth"] == "basic"


def test_signed_request(http, sim):
    params = {**sms(text="Hi & bye = ok"), "api_key": KEY, "timestamp": str(int(time.time()))}
    response = http.post(f"{sim.url}/sms/json", data={**params, "sig": sign(params, SIG_SECRET, SIG_METHOD)})
    assert statuses(response) == ["0"]
    [record] = messages(http, sim)
    assert record["auth"] == "signature"
    assert record["text"] == "Hi & bye = ok"


def test_signed_request_with_a_wrong_signature_or_with_the_secret_too(http, sim):
    params = {**sms(), "api_key": KEY, "timestamp": str(int(time.time()))}
    sig = sign(params, SIG_SECRET, SIG_METHOD)
    tampered = http.post(f"{sim.url}/sms/json", data={**params, "text": "changed", "sig": sig}, timeout=5)
    both = http.post(f"{sim.url}/sms/json", data={**params, "sig": sig, "api_secret": SECRET}, timeout=5)

    assert tampered.json()["messages"] == [{"status": "14", "error-text": "Invalid Signature"}]
    assert both.json()["messages"] == [{"status": "32", "error-text": "Signature And API Secret Disallowed"}]
    assert messages(http, sim) == []
    assert stats(http, sim)["unauthorized"] == 2


@pytest.mark.parametrize("auth", ["form", "basic"])
def test_bad_credentials_answer_200_with_status_4(http, sim, auth):
    if auth == "form":
        response = http.post(f"{sim.url}/sms/json", data={**sms(), "api_key": KEY, "api_secret": "wrong"})
    else:
        response = http.post(f"{sim.url}/sms/json", data=sms(), auth=(KEY, "wrong"), timeout=5)
    assert response.status_code == 200
    assert response.json() == BAD_CREDENTIALS
    assert messages(http, sim) == []
    assert stats(http, sim)["unauthorized"] == 1


@pytest.mark.parametrize(
    ("params", "status", "error_text"),
    [
        ({"from": "AcmeInc", "text": "Hello"}, "2", "Missing to param"),
        ({"to": TO, "text": "Hello"}, "2", "Missing from param"),
        ({"from": "AcmeInc", "to": TO}, "2", "Missing text param"),
        (sms(to="+31612345678"), "3", "Invalid to param"),
    ],
)
def test_bad_parameters_answer_200_with_status_and_reason(http, sim, params, status, error_text):
    response = send(http, sim, **params)
    assert response.status_code == 200
    assert response.json() == {
        "message-count": "1",
        "messages": [{"status": status, "error-text": error_text}],
    }
    assert messages(http, sim) == []
    assert stats(http, sim)["invalid"] == 1


@pytest.mark.parametrize(
    ("text", "kind", "parts"), [("a" * 400, "text", 3), ("€" * 81, "text", 2), ("ж" * 71, "unicode", 2)]
)
def test_long_messages_answer_one_element_per_part(http, sim, text, kind, parts):
    response = send(http, sim, **sms(text=text, type=kind, **{"client-ref": "long"}))
    body = response.json()
    assert body["message-count"] == str(parts)
    assert statuses(response) == ["0"] * parts
    ids = [element["message-id"] for element in body["messages"]]
    assert len(set(ids)) == parts
    assert {element["client-ref"] for element in body["messages"]} == {"long"}
    balances = [float(element["remaining-balance"]) for element in body["messages"]]
    assert balances == sorted(balances, reverse=True)
    [record] = messages(http, sim)
    assert (record["message-id"], record["message-ids"], record["parts"]) == (ids[0], ids, parts)
    assert stats(http, sim)["parts"] == parts


def test_binary_is_one_part(http, sim):
    response = send(
        http,
        sim,
        **{"from": "AcmeInc", "to": TO, "type": "binary", "udh": "0605040B8423F0", "body": "00" * 100},
    )
    assert statuses(response) == ["0"]
    [record] = messages(http, sim)
    assert (record["type"], record["text"], record["body"], record["parts"]) == (
        "binary",
        None,
        "00" * 100,
        1,
    )


def test_malformed_json_is_a_400(http, sim):
    response = http.post(
        f"{sim.url}/sms/json", data=b"{oops", headers={"Content-Type": "application/json"}, auth=(KEY, SECRET)
    )
    assert response.status_code == 400
    assert "not valid JSON" in response.json()["error"]


# --- rate limit and fault injection -------------------------------------------------------------------------


def test_rate_limit_throttles_above_the_rate_within_a_sliding_second(http, sim, clock):
    configure(http, sim, rate_per_second=3)

    first = [send(http, sim, **sms(text=f"m{i}", **{"client-ref": f"r{i}"})) for i in range(4)]
    assert [statuses(response) for response in first] == [["0"], ["0"], ["0"], ["1"]]
    assert first[3].json()["messages"] == [{"status": "1", "error-text": "Throttled", "to": TO}]
    clock.now += 0.999
    assert statuses(send(http, sim, **sms(text="still within the second"))) == ["1"]
    clock.now += 0.002
    assert statuses(send(http, sim, **sms(text="m4"))) == ["0"]

    assert [record["text"] for record in messages(http, sim)] == ["m0", "m1", "m2", "m4"]
    assert stats(http, sim) == {
        "accepted": 4,
        "parts": 4,
        "throttled": 2,
        "failed": 0,
        "slow_accepted": 0,
        "rejected": 0,
        "invalid": 0,
        "unauthorized": 0,
        "tokens_issued": 0,
        "dlrs_sent": 0,
        "dlrs_failed": 0,
        "dlrs_skipped": 4,  # no callback and no dlr_url: nowhere to send the receipts
        "dlr_attempts": 0,
        "inbound_injected": 0,
        "inbound_sent": 0,
        "inbound_failed": 0,
        "inbound_attempts": 0,
    }


def test_parts_do_not_count_towards_the_rate(http, sim):
    configure(http, sim, rate_per_second=2)
    assert statuses(send(http, sim, **sms(text="a" * 500))) == ["0"] * 4
    assert statuses(send(http, sim, **sms())) == ["0"]
    assert statuses(send(http, sim, **sms())) == ["1"]


def test_fail_next_answers_http_500_then_recovers(http, sim):
    assert configure(http, sim, fail_next=2)["fail_next"] == 2
    answers = [send(http, sim, **sms(text=f"m{i}")) for i in range(3)]
    assert [response.status_code for response in answers] == [500, 500, 200]
    assert answers[0].json()["error"] == "Internal Server Error"
    assert [record["text"] for record in messages(http, sim)] == ["m2"]
    assert stats(http, sim)["failed"] == 2
    assert http.get(f"{sim.url}/_sim/config").json()["fail_next"] == 0


def test_throttle_next_and_reject_next(http, sim):
    configure(http, sim, throttle_next=1, reject_next=2, error_status="7")
    throttled, barred = send(http, sim, **sms()), send(http, sim, **sms())
    configure(http, sim, error_status="6")
    invalid, accepted = send(http, sim, **sms()), send(http, sim, **sms())

    assert throttled.json()["messages"] == [{"status": "1", "error-text": "Throttled", "to": TO}]
    assert barred.json()["messages"] == [{"status": "7", "error-text": "Number Barred", "to": TO}]
    assert invalid.json()["messages"] == [{"status": "6", "error-text": "Invalid Message", "to": TO}]
    assert statuses(accepted) == ["0"]
    assert len(messages(http, sim)) == 1
    assert {key: stats(http, sim)[key] for key in ("throttled", "rejected", "accepted")} == {
        "throttled": 1,
        "rejected": 2,
        "accepted": 1,
    }


@pytest.mark.parametrize(
    ("setting", "status_code", "status"),
    [("fail_rate", 500, None), ("throttle_rate", 200, "1"), ("reject_rate", 200, "6")],
)
def test_fault_rates_of_one_hit_every_submission(http, sim, setting, status_code, status):
    configure(http, sim, **{setting: 1})
    for _ in range(3):
        response = send(http, sim, **sms())
        assert response.status_code == status_code
        if status:
            assert statuses(response) == [status]
    assert messages(http, sim) == []


def test_latency_delays_the_answer(http, sim):
    configure(http, sim, latency_ms=150)
    started = time.monotonic()
    assert statuses(send(http, sim, **sms())) == ["0"]
    assert time.monotonic() - started >= 0.15


def test_a_slow_accept_is_recorded_at_once_and_answered_after_the_clients_timeout(http, sim):
    configure(http, sim, slow_accept_rate=1, slow_accept_ms=600)
    started = time.monotonic()
    with pytest.raises(requests.ReadTimeout):
        http.post(
            f"{sim.url}/sms/json",
            data={"api_key": KEY, "api_secret": SECRET, **sms(text="late")},
            timeout=0.2,
        )
    assert time.monotonic() - started < 0.5
    [record] = messages(http, sim)  # the carrier has it although the client heard nothing
    assert (record["text"], record["slow_answer_ms"]) == ("late", 600)
    assert stats(http, sim)["slow_accepted"] == 1

    started = time.monotonic()
    assert statuses(send(http, sim, **sms(text="patient"))) == ["0"]  # a client that waits gets the answer
    assert time.monotonic() - started >= 0.6


def test_refused_submissions_are_never_slow(http, sim):
    configure(http, sim, slow_accept_rate=1, slow_accept_ms=5000, throttle_next=1)
    started = time.monotonic()
    assert statuses(send(http, sim, **sms())) == ["1"]
    assert time.monotonic() - started < 2
    assert stats(http, sim)["slow_accepted"] == 0


@pytest.mark.parametrize(
    ("bad", "field"),
    [({"slow_accept_rate": 2}, "slow_accept_rate"), ({"slow_accept_ms": -1}, "slow_accept_ms")],
)
def test_slow_accept_settings_are_checked(http, sim, bad, field):
    response = http.put(f"{sim.url}/_sim/config", json=bad, timeout=5)
    assert response.status_code == 400
    assert response.json()["error"].startswith(f"{field}: ")


# --- control API --------------------------------------------------------------------------------------------


def test_config_partial_update_and_refusals(http, sim):
    updated = configure(http, sim, rate_per_second=5, latency_ms=10)
    own = ("dlr_", "inbound_", "numbers_")  # receipts, inbound and numbers settings: tested on their own
    assert {name: value for name, value in updated.items() if not name.startswith(own)} == {
        "rate_per_second": 5,
        "latency_ms": 10,
        "throttle_rate": 0.0,
        "fail_rate": 0.0,
        "reject_rate": 0.0,
        "error_status": "6",
        "fail_next": 0,
        "throttle_next": 0,
        "reject_next": 0,
        "slow_accept_rate": 0.0,
        "slow_accept_ms": 15000,
        "kpn_token_lifetime": 3599,
    }
    for bad, field in [
        ({"fail_next": -1}, "fail_next"),
        ({"fail_rate": 1.5}, "fail_rate"),
        ({"latency_ms": 1, "error_status": "0"}, "error_status"),
        ({"api_secret": "x"}, "api_secret"),
    ]:
        response = http.put(f"{sim.url}/_sim/config", json=bad, timeout=5)
        assert response.status_code == 400
        assert response.json()["error"].startswith(f"{field}: ")
    current = http.get(f"{sim.url}/_sim/config", timeout=5).json()
    assert (current["rate_per_second"], current["latency_ms"], current["fail_next"]) == (5, 10, 0)


def test_reset_forgets_messages_and_stats_and_keeps_config_unless_asked(http, sim):
    configure(http, sim, rate_per_second=1)
    send(http, sim, **sms())
    send(http, sim, **sms())
    assert stats(http, sim)["throttled"] == 1

    assert http.post(f"{sim.url}/_sim/reset", timeout=5).json() == {"reset": True}
    assert messages(http, sim) == []
    assert set(stats(http, sim).values()) == {0}
    assert http.get(f"{sim.url}/_sim/config").json()["rate_per_second"] == 1
    assert statuses(send(http, sim, **sms())) == ["0"]  # the rate window was forgotten too

    http.post(f"{sim.url}/_sim/reset", json={"config": True}, timeout=5)
    assert http.get(f"{sim.url}/_sim/config").json()["rate_per_second"] == 0


def test_unknown_route_is_a_json_404_and_wrong_method_a_405(http, sim):
    missing = http.get(f"{sim.url}/nope", timeout=5)
    wrong = http.get(f"{sim.url}/sms/json", timeout=5)
    assert missing.status_code == 404
    assert missing.json() == {"error": "no route /nope"}
    assert wrong.status_code == 405
    assert wrong.headers["Allow"] == "POST"
    assert "GET not allowed" in wrong.json()["error"]


# --- KPN ----------------------------------------------------------------------------------------------------


def token(http, sim, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, grant_type="client_credentials"):
    return http.post(
        f"{sim.url}/oauth/client_credential/accesstoken?grant_type={grant_type}",
        data={"client_id": client_id, "client_secret": client_secret},
        timeout=5,
    )


def kpn_send(http, sim, access_token, **params):
    headers = {"Authorization": f"Bearer {access_token}"} if access_token else {}
    return http.post(f"{sim.url}/communication/nexmo/sms/send", data=params, headers=headers, timeout=5)


def test_kpn_token_body(http, sim):
    before = int(time.time() * 1000)
    response = token(http, sim)
    assert response.status_code == 200
    body = response.json()
    assert all(isinstance(value, str) for value in body.values())
    assert (body["token_type"], body["expires_in"], body["client_id"]) == ("Bearer", "3599", CLIENT_ID)
    assert before <= int(body["issued_at"]) <= int(time.time() * 1000)
    assert re.fullmatch(r"[A-Za-z0-9]{28}", body["access_token"])
    assert stats(http, sim)["tokens_issued"] == 1


@pytest.mark.parametrize(
    ("client_id", "client_secret"), [(CLIENT_ID, "wrong"), ("someone", CLIENT_SECRET), ("", "")]
)
def test_kpn_token_refuses_a_bad_client(http, sim, client_id, client_secret):
    response = token(http, sim, client_id, client_secret)
    assert response.status_code == 401
    assert response.json() == {"ErrorCode": "invalid_client", "Error": "ClientId is Invalid"}
    assert stats(http, sim)["tokens_issued"] == 0


def test_kpn_token_needs_the_client_credentials_grant(http, sim):
    response = token(http, sim, grant_type="password")
    assert response.status_code == 400
    assert response.json()["ErrorCode"] == "unsupported_grant_type"


def test_kpn_send_with_a_token_answers_like_sms_json(http, sim):
    access_token = token(http, sim).json()["access_token"]
    response = kpn_send(http, sim, access_token, **sms(text="a" * 200, **{"client-ref": "k1"}))
    assert response.status_code == 200
    assert response.json()["message-count"] == "2"
    assert statuses(response) == ["0", "0"]
    [record] = messages(http, sim)
    assert (record["api"], record["auth"], record["client-ref"], record["parts"]) == (
        "kpn",
        "bearer",
        "k1",
        2,
    )

    as_json = http.post(
        f"{sim.url}/communication/nexmo/sms/send",
        json=sms(),
        headers={"Authorization": f"Bearer {access_token}"},
        timeout=5,
    )
    assert statuses(as_json) == ["0"]


@pytest.mark.parametrize("access_token", [None, "not-a-token"])
def test_kpn_send_without_a_valid_token_is_a_401_fault(http, sim, access_token):
    response = kpn_send(http, sim, access_token, **sms())
    assert response.status_code == 401
    assert response.json() == INVALID_TOKEN
    assert messages(http, sim) == []
    assert stats(http, sim)["unauthorized"] == 1


def test_kpn_send_with_an_expired_token(http, sim, clock):
    configure(http, sim, kpn_token_lifetime=60)
    access_token = token(http, sim).json()["access_token"]
    assert statuses(kpn_send(http, sim, access_token, **sms())) == ["0"]
    clock.now += 60
    response = kpn_send(http, sim, access_token, **sms())
    assert response.status_code == 401
    assert response.json()["fault"]["detail"]["errorcode"] == "keymanagement.service.access_token_expired"

    fresh = token(http, sim).json()["access_token"]
    assert http.post(f"{sim.url}/_sim/tokens/expire", timeout=5).json() == {"expired": 2}
    assert kpn_send(http, sim, fresh, **sms()).status_code == 401
    assert len(messages(http, sim)) == 1


# --- python -m simulator --------------------------------------------------------------------------------------


def read_line(stream, deadline: float) -> str:
    while time.monotonic() < deadline:
        ready, _, _ = select.select([stream], [], [], 0.05)
        if ready:
            return stream.readline()
    raise AssertionError("the simulator printed nothing")


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_module_cli_prints_its_url_serves_and_stops_on_signal(http, stop_signal):
    process = subprocess.Popen(
        [*CLI, "--port", "0", "--api-key", KEY, "--api-secret", SECRET, "--rate-per-second", "3"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = read_line(process.stdout, time.monotonic() + 10)
        match = re.fullmatch(r'\{"simulator_url": "(http://127\.0\.0\.1:(\d+))"\}\n', line)
        assert match, line
        url = match.group(1)

        answers = [
            http.post(f"{url}/sms/json", data={**sms(), "api_key": KEY, "api_secret": SECRET}, timeout=5)
            for _ in range(4)
        ]
        assert [statuses(response) for response in answers] == [["0"], ["0"], ["0"], ["1"]]
        assert len(http.get(f"{url}/_sim/messages", timeout=5).json()["messages"]) == 3

        os.kill(process.pid, stop_signal)
        assert process.wait(timeout=10) == 0
        stdout, stderr = process.communicate(timeout=5)
        assert stdout == ""  # exactly one line, already read
        assert "Traceback" not in stderr
        with pytest.raises(requests.ConnectionError):
            requests.get(f"{url}/_sim/stats", timeout=2)
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=5)
        for stream in (process.stdout, process.stderr):
            if stream:
                stream.close()


def test_module_cli_refuses_bad_arguments():
    result = subprocess.run(
        [*CLI, "--signature-method", "sha3"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )
    assert result.returncode == 2
    assert "--signature-method" in result.stderr
    assert result.stdout == ""
