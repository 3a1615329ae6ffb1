"""Scheduled notifications on the local stack: ministack's EventBridge Scheduler fires the schedules."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from local.testing import Api, Simulator, poll

pytestmark = pytest.mark.e2e


def auth(api: Api) -> dict[str, str]:
    return {"Authorization": f"Bearer {api.token()}"}


def test_a_message_scheduled_20_s_ahead_is_sent_after_its_time_and_not_before(api: Api, simulator: Simulator):
    text = f"Reminder {uuid.uuid4().hex[:8]}"
    send_at = (datetime.now(UTC) + timedelta(seconds=20)).replace(microsecond=0)
    sent = api.send(**{"from": "SMSGW", "to": "447700900000", "text": text, "send-at": send_at.isoformat()})
    assert sent.status_code == 202, sent.text
    [part] = sent.json()["messages"]
    assert part["message-status"] == "scheduled"
    assert (
        api.request("GET", f"/messages/{part['message-id']}", headers=auth(api)).json()["status"]
        == "scheduled"
    )

    [received] = simulator.wait_for(lambda m: m["text"] == text, timeout=90)
    assert received["received_at"] >= send_at.timestamp()
    view = poll(
        lambda: (m := api.request("GET", f"/messages/{part['message-id']}", headers=auth(api)).json())[
            "status"
        ]
        in ("submitted", "delivered")
        and m,
        timeout=30,
        what="the scheduled message to be submitted",
    )
    assert view["price"] != "0"
    assert [m for m in simulator.messages() if m["text"] == text] == [received]  # sent once


def test_a_cancelled_message_is_never_sent(api: Api, simulator: Simulator):
    marker = uuid.uuid4().hex[:8]
    due = datetime.now(UTC) + timedelta(seconds=15)
    # The kept message is due 5 s after the cancelled one: once it is there, the other would be too.
    cancelled_id, kept_id = (
        api.send(
            **{"from": "SMSGW", "to": "447700900000", "text": f"{label} {marker}", "send-at": at.isoformat()}
        ).json()["messages"][0]["message-id"]
        for label, at in (("cancelled", due), ("kept", due + timedelta(seconds=5)))
    )
    cancelled = api.request("DELETE", f"/messages/{cancelled_id}", headers=auth(api))
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"

    simulator.wait_for(lambda m: m["text"] == f"kept {marker}", timeout=90)
    assert [m["text"] for m in simulator.messages() if marker in m["text"]] == [f"kept {marker}"]
    assert api.request("GET", f"/messages/{cancelled_id}", headers=auth(api)).json()["status"] == "cancelled"
    assert api.request("DELETE", f"/messages/{kept_id}", headers=auth(api)).status_code == 409


def test_a_recurring_schedule_fires_twice_without_duplicates(api: Api, simulator: Simulator):
    marker = uuid.uuid4().hex[:8]
    created = api.request(
        "POST",
        "/schedules",
        headers=auth(api),
        json={
            "name": "e2e every minute",
            "recipients": [{"to": "447700900001", "name": "Ann"}, {"to": "447700900002", "name": "Bob"}],
            "from": "SMSGW",
            "text": f"Hi {{{{name}}}} {marker}",
            "schedule": "rate(1 minute)",
            "timezone": "Europe/Amsterdam",
        },
    )
    assert created.status_code == 201, created.text
    schedule = created.json()
    assert len(schedule["next_runs"]) == 5

    def runs() -> dict[str, list[dict]]:
        by_text: dict[str, list[dict]] = {}
        for message in simulator.messages():
            if marker in (message["text"] or ""):
                by_text.setdefault(message["text"], []).append(message)
        return by_text

    poll(
        lambda: all(len(v) >= 2 for v in runs().values()) and len(runs()) == 2,
        timeout=200,
        interval=2,
        what="two runs",
    )
    paused = api.request(
        "PATCH", f"/schedules/{schedule['schedule_id']}", headers=auth(api), json={"paused": True}
    )
    assert paused.status_code == 200, paused.text

    seen = runs()
    assert sorted(seen) == [f"Hi Ann {marker}", f"Hi Bob {marker}"]
    listed = api.request(
        "GET", "/messages", headers=auth(api), params={"schedule_id": schedule["schedule_id"], "limit": "100"}
    ).json()["messages"]
    # Every run made one message per recipient, and each was submitted once.
    per_run: dict[str, list[str]] = {}
    for message in listed:
        per_run.setdefault(message["send_at"], []).append(message["to"])
    assert len(per_run) >= 2
    assert all(sorted(tos) == ["447700900001", "447700900002"] for tos in per_run.values())
    carrier_ids = [m["parts"][0]["carrier_message_id"] for m in listed if m["parts"][0]["carrier_message_id"]]
    assert len(carrier_ids) == len(set(carrier_ids))
    assert sum(len(v) for v in runs().values()) <= len(listed)  # nothing sent that is not a listed message

    deleted = api.request("DELETE", f"/schedules/{schedule['schedule_id']}", headers=auth(api))
    assert deleted.status_code == 200, deleted.text
