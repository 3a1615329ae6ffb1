"""The one message lifecycle: random receipt / replay / cancel sequences never move a message backwards."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from smsgw.core import lifecycle

STATUSES = sorted(lifecycle.ALL)


def test_every_status_has_its_moves_and_final_ones_have_none():
    assert set(lifecycle.TRANSITIONS) == lifecycle.ALL
    for status in lifecycle.FINAL:
        assert lifecycle.TRANSITIONS[status] == frozenset()
    assert lifecycle.BEFORE_CARRIER.isdisjoint(lifecycle.HANDED_OVER)


def test_receipt_statuses_only_move_to_a_higher_rank():
    for source, targets in lifecycle.TRANSITIONS.items():
        if source in lifecycle.RANK:
            assert all(lifecycle.RANK[t] > lifecycle.RANK[source] for t in targets)


@given(st.lists(st.sampled_from(STATUSES), max_size=30))
def test_a_random_sequence_applied_through_the_table_never_leaves_a_final_status(events):
    status = lifecycle.SCHEDULED
    seen_final = None
    for target in events:
        if lifecycle.allowed(status, target):
            status = target
        if seen_final is not None:
            assert status == seen_final  # nothing moves a final message
        if lifecycle.is_final(status):
            seen_final = status
    assert status in lifecycle.ALL


@given(st.lists(st.sampled_from(sorted(lifecycle.RANK)), min_size=1, max_size=20))
def test_receipts_in_any_order_end_at_the_highest_rank_seen(receipts):
    status = lifecycle.SUBMITTED
    for target in receipts:
        if lifecycle.allowed(status, target):
            status = target
    assert lifecycle.RANK[status] == max(lifecycle.RANK[r] for r in [lifecycle.SUBMITTED, *receipts])


def test_the_statuses_are_one_enum_whose_members_are_their_strings():
    assert set(lifecycle.Status) == lifecycle.ALL
    assert lifecycle.QUEUED is lifecycle.Status.QUEUED
    assert lifecycle.Status.DELIVERED == "delivered"
    assert f"{lifecycle.Status.DELIVERED}" == "delivered"
    assert json.dumps({"status": lifecycle.Status.FAILED}) == '{"status": "failed"}'
    # Plain strings (as read from DynamoDB) find their entries in the tables.
    assert lifecycle.RANK["buffered"] == 2
    assert "cancelled" in lifecycle.FINAL
    assert lifecycle.allowed("submitted", "delivered")
    assert not lifecycle.allowed("delivered", "submitted")
    assert not lifecycle.allowed("no-such-status", "queued")
