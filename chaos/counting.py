"""What a chaos run counts, from the records of the carrier (the simulator), the webhook receiver, the
API client and the gateway's own message list. Pure functions: `make test` checks them."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# A message is settled in one of these (receipts' final statuses, plus a cancelled scheduled send).
FINAL_STATUSES = frozenset({"delivered", "expired", "failed", "rejected", "unknown", "cancelled"})
STATUS_EVENT = "message.status"
INBOUND_EVENT = "message.inbound"

# Why a client-ref reached the carrier more than once (the first cause that applies, in this order).
CAUSE_STORED_TWICE = "stored twice by the API (a retried send)"
CAUSE_CRASH = "crash at dispatch.after_submit"
CAUSE_SLOW = "carrier answered after the read timeout"
CAUSE_OTHER = "other"
CAUSES = (CAUSE_STORED_TWICE, CAUSE_CRASH, CAUSE_SLOW, CAUSE_OTHER)


@dataclass
class Figures:
    sends: int = 0  # sends the client made (unique client-refs)
    accepted: int = 0  # answered 200 with status 0 (after the client's retries)
    not_accepted: int = 0  # the client gave up, or the API refused
    api_5xx: int = 0  # 5xx answers the client saw (each retry counts)
    api_attempts: int = 0
    lost: int = 0  # accepted, never at the carrier
    lost_refs: list[str] = field(default_factory=list)
    carrier_submissions: int = 0
    duplicated: int = 0  # extra carrier submissions of accepted client-refs
    duplicated_by_cause: dict[str, int] = field(default_factory=lambda: dict.fromkeys(CAUSES, 0))
    not_final: int = 0  # accepted messages not in a final status at the end
    not_final_statuses: dict[str, int] = field(default_factory=dict)
    orphans: int = 0  # other messages stored for the account (not answered to the client)
    orphans_not_final: int = 0
    final_messages: int = 0
    callbacks_accepted: int = 0
    callbacks_refused: int = 0  # receiver answered 503 (or 401)
    callbacks_lost: int = 0  # final status with no accepted callback carrying it
    callbacks_twice: int = 0  # (message, part, status) accepted more than once: the extra ones
    inbound_sent: int = 0
    inbound_lost: int = 0
    inbound_twice: int = 0
    inbound_wrong_text: int = 0
    crashes: dict[str, int] = field(default_factory=dict)


def count_sends(figures: Figures, sends: Iterable[Mapping[str, Any]]) -> None:
    for send in sends:
        figures.sends += 1
        answers = [int(code) for code in send.get("answers", [])]
        figures.api_attempts += len(answers)
        figures.api_5xx += sum(1 for code in answers if code >= 500 or code == 0)
        if send.get("accepted"):
            figures.accepted += 1
        else:
            figures.not_accepted += 1


def carrier_counts(
    carrier: Iterable[Mapping[str, Any]], ref_of_message: Mapping[str, str] | None = None
) -> dict[str, list[Mapping[str, Any]]]:
    """The carrier's accepted submissions by the client's client-ref, in the order it received them.

    The gateway gives the carrier its own message id as `client-ref` (to reconcile from receipts);
    `ref_of_message` maps those ids back to the client's client-ref."""
    by_ref: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for submission in sorted(carrier, key=lambda s: float(s.get("received_at") or 0)):
        ref = submission.get("client-ref")
        if ref:
            by_ref[str((ref_of_message or {}).get(str(ref), ref))].append(submission)
    return by_ref


def duplicate_cause(
    submissions: list[Mapping[str, Any]],
    stored: int,
    crash_keys: set[str],
    keys: set[str],
) -> str:
    """Why one client-ref reached the carrier more than once.

    `stored`: messages the gateway holds with this client-ref; `keys`: its client-ref and message ids;
    `crash_keys`: the keys of the crashes injected at dispatch.after_submit.
    """
    if stored > 1:
        return CAUSE_STORED_TWICE
    if keys & crash_keys:
        return CAUSE_CRASH
    if any(s.get("slow_answer_ms") for s in submissions[:-1]):
        return CAUSE_SLOW
    return CAUSE_OTHER


def count_carrier(
    figures: Figures,
    sends: Iterable[Mapping[str, Any]],
    carrier: Iterable[Mapping[str, Any]],
    messages: Iterable[Mapping[str, Any]],
    crashes: Iterable[Mapping[str, Any]],
) -> None:
    carrier = list(carrier)
    messages = list(messages)
    ref_of_message = {str(m["message_id"]): str(m["client-ref"]) for m in messages if m.get("client-ref")}
    by_ref = carrier_counts(carrier, ref_of_message)
    ids_by_ref: dict[str, set[str]] = defaultdict(set)
    for m in messages:
        if m.get("client-ref"):
            ids_by_ref[str(m["client-ref"])].add(str(m["message_id"]))
    stored = {ref: len(ids) for ref, ids in ids_by_ref.items()}  # distinct messages per client-ref
    crash_keys = {str(c.get("key")) for c in crashes if c.get("point") == "dispatch.after_submit"}
    for send in sends:
        if not send.get("accepted"):
            continue
        ref = str(send["client_ref"])
        submissions = by_ref.get(ref, [])
        figures.carrier_submissions += len(submissions)
        if not submissions:
            figures.lost += 1
            figures.lost_refs.append(ref)
        elif len(submissions) > 1:
            keys = {ref, *ids_by_ref.get(ref, set())}
            if send.get("message_id"):
                keys.add(str(send["message_id"]))
            cause = duplicate_cause(submissions, stored.get(ref, 0), crash_keys, keys)
            figures.duplicated += len(submissions) - 1
            figures.duplicated_by_cause[cause] += len(submissions) - 1


def count_messages(
    figures: Figures, sends: Iterable[Mapping[str, Any]], messages: Iterable[Mapping[str, Any]]
) -> None:
    """Accepted messages not final at the end; other messages the account holds (orphans)."""
    by_id = {str(m["message_id"]): m for m in messages}
    answered = {str(s["message_id"]) for s in sends if s.get("accepted") and s.get("message_id")}
    statuses: Counter[str] = Counter()
    for message_id in answered:
        status = str((by_id.get(message_id) or {}).get("status") or "missing")
        if status in FINAL_STATUSES:
            figures.final_messages += 1
        else:
            statuses[status] += 1
    figures.not_final = sum(statuses.values())
    figures.not_final_statuses = dict(sorted(statuses.items()))
    refs = {str(s["client_ref"]) for s in sends}
    for message_id, message in by_id.items():
        if message_id in answered or str(message.get("client-ref")) not in refs:
            continue
        figures.orphans += 1
        if message.get("status") not in FINAL_STATUSES:
            figures.orphans_not_final += 1


def event_of(call: Mapping[str, Any]) -> str | None:
    """A receiver call's event by its body: a status callback names a `message_id`, an inbound forward
    an `inbound_id` (its `type` is the SMS type, text/unicode/binary)."""
    body = call.get("body")
    if not isinstance(body, dict):
        return None
    if "inbound_id" in body:
        return INBOUND_EVENT
    if "message_id" in body:
        return STATUS_EVENT
    return None


def accepted_calls(calls: Iterable[Mapping[str, Any]], event: str) -> list[Mapping[str, Any]]:
    """The receiver's calls of one event that it answered 2xx."""
    return [c for c in calls if event_of(c) == event and 200 <= int(c.get("status", 0)) < 300]


def count_callbacks(
    figures: Figures,
    sends: Iterable[Mapping[str, Any]],
    messages: Iterable[Mapping[str, Any]],
    calls: Iterable[Mapping[str, Any]],
) -> None:
    calls = list(calls)
    answered = {str(s["message_id"]) for s in sends if s.get("accepted") and s.get("message_id")}
    status_calls = [c for c in calls if event_of(c) == STATUS_EVENT]
    accepted = accepted_calls(status_calls, STATUS_EVENT)
    accepted = [c for c in accepted if str(c["body"]["message_id"]) in answered]
    figures.callbacks_accepted = len(accepted)
    figures.callbacks_refused = sum(
        1
        for c in status_calls
        if str(c["body"]["message_id"]) in answered and not 200 <= int(c.get("status", 0)) < 300
    )
    seen = Counter(
        (str(c["body"]["message_id"]), str(c["body"].get("part")), str(c["body"].get("status")))
        for c in accepted
    )
    figures.callbacks_twice = sum(n - 1 for n in seen.values() if n > 1)
    final_seen = {(str(c["body"]["message_id"]), str(c["body"].get("message_status"))) for c in accepted}
    for message in messages:
        message_id, status = str(message["message_id"]), str(message.get("status"))
        if message_id in answered and status in FINAL_STATUSES and (message_id, status) not in final_seen:
            figures.callbacks_lost += 1


def count_inbound(
    figures: Figures, planned: Iterable[Mapping[str, Any]], calls: Iterable[Mapping[str, Any]]
) -> None:
    """Each planned inbound SMS has its own sender (msisdn): it must be forwarded and accepted once."""
    forwards: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for call in accepted_calls(calls, INBOUND_EVENT):
        forwards[str(call["body"].get("msisdn"))].append(call["body"])
    for message in planned:
        figures.inbound_sent += 1
        got = forwards.get(str(message["msisdn"]), [])
        if not got:
            figures.inbound_lost += 1
            continue
        figures.inbound_twice += len(got) - 1
        if any(body.get("text") != message["text"] for body in got):
            figures.inbound_wrong_text += 1


def count_all(
    *,
    sends: Sequence[Mapping[str, Any]],
    carrier: Sequence[Mapping[str, Any]],
    messages: Sequence[Mapping[str, Any]],
    calls: Sequence[Mapping[str, Any]],
    inbound: Sequence[Mapping[str, Any]],
    crashes: Sequence[Mapping[str, Any]],
    crash_counts: Mapping[str, int],
) -> Figures:
    figures = Figures(crashes=dict(crash_counts))
    count_sends(figures, sends)
    count_carrier(figures, sends, carrier, messages, crashes)
    count_messages(figures, sends, messages)
    count_callbacks(figures, sends, messages, calls)
    count_inbound(figures, inbound, calls)
    return figures


@dataclass
class Goal:
    what: str
    value: int
    goal: str  # "= 0" or "≤ N"
    limit: int = 0

    @property
    def met(self) -> bool:
        return self.value <= self.limit


def goals(figures: Figures) -> list[Goal]:
    """0 everywhere, except duplicates from a crash between the carrier's acceptance and the gateway's
    write, which must not exceed the crashes injected there."""
    crashes_at_submit = figures.crashes.get("dispatch.after_submit", 0)
    crashes_at_send = figures.crashes.get("send.after_charge", 0)
    by_cause = figures.duplicated_by_cause
    return [
        Goal("SMS lost (accepted by the API, never at the carrier)", figures.lost, "= 0"),
        Goal(
            f"SMS duplicated: {CAUSE_CRASH}",
            by_cause.get(CAUSE_CRASH, 0),
            f"≤ {crashes_at_submit} (crashes injected there)",
            crashes_at_submit,
        ),
        Goal(f"SMS duplicated: {CAUSE_SLOW}", by_cause.get(CAUSE_SLOW, 0), "= 0"),
        Goal(f"SMS duplicated: {CAUSE_STORED_TWICE}", by_cause.get(CAUSE_STORED_TWICE, 0), "= 0"),
        Goal(f"SMS duplicated: {CAUSE_OTHER}", by_cause.get(CAUSE_OTHER, 0), "= 0"),
        Goal("messages not in a final status at the end", figures.not_final, "= 0"),
        Goal("other messages stored for the account, not final (orphans)", figures.orphans_not_final, "= 0"),
        Goal(
            "status callbacks lost (a final status never accepted by the receiver)",
            figures.callbacks_lost,
            "= 0",
        ),
        Goal(
            "status callbacks accepted twice (same message, part and status)", figures.callbacks_twice, "= 0"
        ),
        Goal("inbound SMS lost (never accepted by the receiver)", figures.inbound_lost, "= 0"),
        Goal("inbound SMS forwarded and accepted twice", figures.inbound_twice, "= 0"),
        Goal("inbound SMS forwarded with a wrong or incomplete text", figures.inbound_wrong_text, "= 0"),
        Goal("sends the client gave up on (no 200 after its retries)", figures.not_accepted, "= 0"),
        Goal(
            "API 5xx answers or no answer (each attempt)",
            figures.api_5xx,
            f"≤ {crashes_at_send} (crashes injected at send.after_charge)",
            crashes_at_send,
        ),
    ]


def settled(figures: Figures) -> bool:
    """Nothing is still on its way: every accepted message final with its callback, every inbound SMS
    forwarded. (Duplicates never settle; they are what the run counts.)"""
    return (
        figures.not_final == 0
        and figures.callbacks_lost == 0
        and figures.inbound_lost == 0
        and figures.lost == 0
    )
