"""A send's Idempotency-Key (24 h, per account): claimed before the send runs, its answer kept in the
same charge transaction that accepts the message (item IDEMKEY#…, messages.repository).

- same key, same body → the first answer again, nothing sent; same key, other body → 400 naming
  `Idempotency-Key`; while the first request still runs (its claim not expired) → 409.
- A request that fails (4xx/5xx) gives its claim back: retrying with the same key runs again.
- A request that dies before its transaction leaves a claim that expires with its invocation (the
  Lambda's remaining time); one that dies after it has its answer kept: the retry gets it.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Callable
from typing import Any

from ulid import ULID

from smsgw.core.errors import BadRequest, Conflict
from smsgw.messages import repository
from smsgw.observability import logger

IDEMPOTENCY_KEY_MAX = 255
IDEMPOTENCY_HOURS = 24
# How long a claim holds when the invocation's remaining time is unknown (no Lambda context).
DEFAULT_IN_PROGRESS_SECONDS = 60

Run = Callable[[repository.KeyClaim], dict[str, Any]]


def accept_once(
    run: Run, account_id: str, idempotency_key: str, request_hash: str, lambda_context: Any
) -> dict[str, Any]:
    """`run(claim)` once per (account, key): a retry with the same request (`request_hash`) gets the
    first answer back and nothing is done again; the same key with another request is refused (400),
    one still running is 409. Raises repository.KeyUsed for a key whose item kept no answer (written
    before answers were kept): the caller answers from its message."""
    if not 0 < len(idempotency_key) <= IDEMPOTENCY_KEY_MAX or not idempotency_key.isprintable():
        raise BadRequest(
            f"Idempotency-Key must be 1–{IDEMPOTENCY_KEY_MAX} printable characters", "Idempotency-Key"
        )
    key_hash = hashlib.sha256(idempotency_key.encode()).hexdigest()
    claim = repository.KeyClaim(account_id, key_hash, request_hash, str(ULID()))
    now = int(time.time())
    found = repository.claim_key(
        claim, now + _in_progress_seconds(lambda_context), now + IDEMPOTENCY_HOURS * 3600, now
    )
    if found is not None:
        if found.request_hash != request_hash:
            raise BadRequest(
                "this Idempotency-Key was already used with a different request body; use a new key",
                "Idempotency-Key",
            )
        if found.in_progress:
            raise Conflict("a request with this Idempotency-Key is still being processed; retry shortly")
        if found.response is None:
            raise repository.KeyUsed(found.message_id, found.request_hash)
        logger.info("idempotency key reused: the first answer again", extra={"message_id": found.message_id})
        return dict(json.loads(found.response))
    try:
        return run(claim)
    except Exception:
        _release(claim)
        raise


def _in_progress_seconds(lambda_context: Any) -> int:
    """The invocation's remaining time: a claim outlives a dead invocation only until then."""
    remaining = getattr(lambda_context, "get_remaining_time_in_millis", None)
    if remaining is None:
        return DEFAULT_IN_PROGRESS_SECONDS
    return max(1, math.ceil(remaining() / 1000))


def _release(claim: repository.KeyClaim) -> None:
    try:
        repository.release_key(claim)
    except Exception:  # the claim expires on its own; the request's own error is the answer
        logger.exception("could not release an Idempotency-Key claim")
