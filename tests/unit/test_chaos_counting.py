"""The chaos run's counting: lost, duplicated (by cause), not final, callbacks, inbound, goals."""

from __future__ import annotations

from chaos import counting
from chaos.counting import CAUSE_CRASH, CAUSE_OTHER, CAUSE_SLOW, CAUSE_STORED_TWICE, count_all, goals
from chaos.faults import CRASH_POINTS, crashes_by_point, parse_crash_lines
from chaos.workload import message_id_of


def send(ref: str, message_id: str | None = None, answers=(200,), accepted: bool = True) -> dict:
    return {
        "client_ref": ref,
        "message_id": message_id or f"id-{ref}",
        "answers": list(answers),
        "accepted": accepted,
    }


def at_carrier(ref: str, at: float, slow: bool = False) -> dict:
    record = {"client-ref": ref, "received_at": at}
    if slow:
        record["slow_answer_ms"] = 15000
    return record


def message(ref: str, status: str = "delivered", message_id: str | None = None) -> dict:
    return {"message_id": message_id or f"id-{ref}", "status": status, "client-ref": ref}


def callback(
    message_id: str, status: str = "delivered", answered: int = 204, part: int | None = 1, message_status=None
) -> dict:
    return {
        "status": answered,
        "body": {
            "type": "message.status",
            "message_id": message_id,
            "part": part,
            "status": status,
            "message_status": message_status or status,
        },
    }


def forward(msisdn: str, text: str, answered: int = 204) -> dict:
    return {
        "status": answered,
        "body": {"type": "text", "msisdn": msisdn, "text": text, "inbound_id": "x"},
    }


def count(sends=(), carrier=(), messages=(), calls=(), inbound=(), crashes=()):
    crashes = list(crashes)
    return count_all(
        sends=list(sends),
        carrier=list(carrier),
        messages=list(messages),
        calls=list(calls),
        inbound=list(inbound),
        crashes=crashes,
        crash_counts=crashes_by_point(crashes),
    )


def test_a_clean_run_meets_every_goal_and_is_settled():
    figures = count(
        sends=[send("a"), send("b")],
        carrier=[at_carrier("a", 1), at_carrier("b", 2)],
        messages=[message("a"), message("b", "failed")],
        calls=[callback("id-a"), callback("id-b", "failed"), forward("3161", "hi")],
        inbound=[{"msisdn": "3161", "text": "hi"}],
    )
    # The receiver refused the first try; the retry was accepted: nothing lost, nothing twice.
    figures_with_refusal = count(
        sends=[send("a")],
        carrier=[at_carrier("a", 1)],
        messages=[message("a")],
        calls=[callback("id-a", answered=503), callback("id-a")],
    )
    assert all(goal.met for goal in goals(figures))
    assert counting.settled(figures)
    assert (figures.accepted, figures.final_messages, figures.callbacks_accepted) == (2, 2, 2)
    assert (figures_with_refusal.callbacks_refused, figures_with_refusal.callbacks_twice) == (1, 0)
    assert figures_with_refusal.callbacks_lost == 0


def test_an_accepted_send_never_at_the_carrier_is_lost_and_one_refused_is_not():
    figures = count(
        sends=[send("a"), send("b", accepted=False, answers=(500, 500, 400))],
        carrier=[],
        messages=[message("a", "queued")],
    )
    assert (figures.lost, figures.lost_refs) == (1, ["a"])
    assert figures.not_accepted == 1
    assert figures.api_5xx == 2
    assert (figures.not_final, figures.not_final_statuses) == (1, {"queued": 1})
    assert not counting.settled(figures)


def test_duplicates_by_cause():
    crashes = [{"point": "dispatch.after_submit", "key": "id-crashed", "at": 1}]
    figures = count(
        sends=[send("crashed", "id-crashed"), send("slow"), send("twice"), send("odd"), send("once")],
        carrier=[
            at_carrier("crashed", 1),
            at_carrier("crashed", 2),
            at_carrier("slow", 3, slow=True),
            at_carrier("slow", 4),
            at_carrier("slow", 5),  # two extra submissions after a late answer
            at_carrier("twice", 6),
            at_carrier("twice", 7),
            at_carrier("odd", 8),
            at_carrier("odd", 9, slow=True),  # the *last* one was slow: it explains nothing
            at_carrier("once", 10),
        ],
        messages=[
            message("crashed", message_id="id-crashed"),
            message("slow"),
            message("twice"),
            message("twice", "queued", message_id="id-twice-again"),
            message("odd"),
            message("once"),
        ],
        crashes=crashes,
    )
    assert figures.duplicated == 5
    assert figures.duplicated_by_cause[CAUSE_SLOW] == 2
    assert figures.duplicated_by_cause[CAUSE_OTHER] == 1  # "odd": the slow submission came last
    assert figures.duplicated_by_cause[CAUSE_STORED_TWICE] == 1
    assert figures.duplicated_by_cause[CAUSE_CRASH] == 1
    assert (figures.orphans, figures.orphans_not_final) == (1, 1)  # the second "twice" message
    met = {goal.what: goal.met for goal in goals(figures)}
    assert met[f"SMS duplicated: {CAUSE_CRASH}"] is True  # 1 duplicate ≤ 1 crash injected
    assert met[f"SMS duplicated: {CAUSE_SLOW}"] is False


def test_crash_duplicates_beyond_the_crashes_injected_miss_the_goal():
    crashes = [{"point": "dispatch.after_submit", "key": "crashed", "at": 1}]  # keyed by client-ref
    figures = count(
        sends=[send("crashed")],
        carrier=[at_carrier("crashed", 1), at_carrier("crashed", 2), at_carrier("crashed", 3)],
        messages=[message("crashed")],
        crashes=crashes,
    )
    [goal] = [g for g in goals(figures) if g.what.endswith(CAUSE_CRASH)]
    assert (goal.value, goal.limit, goal.met) == (2, 1, False)


def test_callbacks_lost_and_accepted_twice():
    figures = count(
        sends=[send("a"), send("b"), send("c")],
        carrier=[at_carrier("a", 1), at_carrier("b", 2), at_carrier("c", 3)],
        messages=[message("a"), message("b", "expired"), message("c", "submitted")],
        calls=[
            callback("id-a", "accepted", message_status="submitted"),
            callback("id-a"),
            callback("id-a"),  # the same (message, part, status) accepted again
            callback("id-b", "expired", answered=503),  # refused and never accepted: lost
            callback("id-b", "buffered", message_status="submitted"),
            callback("unknown-message"),  # not one of ours: ignored
        ],
    )
    assert figures.callbacks_twice == 1
    assert figures.callbacks_lost == 1  # b; c is not final, so it expects no final callback yet
    assert figures.not_final == 1
    assert figures.callbacks_refused == 1


def test_a_multi_part_message_needs_the_callback_with_its_final_message_status():
    figures = count(
        sends=[send("m")],
        carrier=[at_carrier("m", 1)],
        messages=[message("m", "delivered")],
        calls=[
            callback("id-m", "delivered", part=1, message_status="submitted"),
            callback("id-m", "delivered", part=2, message_status="delivered"),
        ],
    )
    assert (figures.callbacks_lost, figures.callbacks_twice) == (0, 0)


def test_inbound_lost_twice_and_wrong_text():
    planned = [
        {"msisdn": "1", "text": "one"},
        {"msisdn": "2", "text": "two"},
        {"msisdn": "3", "text": "three, long"},
        {"msisdn": "4", "text": "four"},
    ]
    figures = count(
        inbound=planned,
        calls=[
            forward("1", "one"),
            forward("2", "two"),
            forward("2", "two"),  # accepted twice
            forward("3", "three"),  # incomplete
            forward("4", "four", answered=503),  # refused, never accepted: lost
        ],
    )
    assert (
        figures.inbound_sent,
        figures.inbound_lost,
        figures.inbound_twice,
        figures.inbound_wrong_text,
    ) == (
        4,
        1,
        1,
        1,
    )


def test_api_5xx_within_the_crashes_injected_in_the_send_path_meets_its_goal():
    crashes = [{"point": "send.after_charge", "key": "k", "at": 1}]
    figures = count(
        sends=[send("a", answers=(502, 200))],
        carrier=[at_carrier("a", 1)],
        messages=[message("a")],
        calls=[callback("id-a")],
        crashes=crashes,
    )
    [goal] = [g for g in goals(figures) if g.what.startswith("API 5xx")]
    assert (goal.value, goal.limit, goal.met) == (1, 1, True)
    assert figures.api_attempts == 2


def test_crash_lines_are_counted_per_point_and_a_torn_line_is_skipped():
    crashes = parse_crash_lines(
        [
            '{"point": "receipt.apply", "key": "m1", "at": 1}',
            '{"point": "receipt.apply", "key": "m2", "at": 2}',
            '{"point": "inbound.assem',
            '{"point": "other.point", "key": "", "at": 3}',
        ]
    )
    counts = crashes_by_point(crashes)
    assert list(counts)[: len(CRASH_POINTS)] == list(CRASH_POINTS)
    assert counts["receipt.apply"] == 2
    assert counts["inbound.assembly"] == 0
    assert counts["other.point"] == 1


def test_the_message_id_of_a_long_message_is_its_first_part_id_without_the_part_number():
    assert message_id_of("01ABC-1", 3) == "01ABC"
    assert message_id_of("01ABC", 1) == "01ABC"
    assert message_id_of("some-id", 1) == "some-id"
    assert message_id_of(None, 2) is None


def test_a_message_listed_twice_is_one_message_not_a_send_stored_twice():
    figures = count(
        sends=[send("a")],
        carrier=[at_carrier("a", 1, slow=True), at_carrier("a", 2)],
        messages=[message("a"), message("a")],
    )
    assert figures.duplicated_by_cause[CAUSE_SLOW] == 1
    assert figures.duplicated_by_cause[CAUSE_STORED_TWICE] == 0


def test_carrier_submissions_carrying_the_gateways_message_id_count_under_the_clients_ref():
    carrier = [
        {"client-ref": "01MSGA", "received_at": 1},
        {"client-ref": "01MSGA", "received_at": 2},
        {"client-ref": "01MSGB", "received_at": 3},
    ]
    by_ref = counting.carrier_counts(carrier, {"01MSGA": "ref-a", "01MSGB": "ref-b"})
    assert {ref: len(subs) for ref, subs in by_ref.items()} == {"ref-a": 2, "ref-b": 1}
