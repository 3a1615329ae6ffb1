"""A send's Idempotency-Key: the key's checks and Powertools' record of the first answer (24 h)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)

from smsgw.config import get_settings
from smsgw.core.errors import BadRequest, Conflict
from smsgw.core.memo import per_process

IDEMPOTENCY_KEY_MAX = 255
IDEMPOTENCY_HOURS = 24

Accept = Callable[[dict[str, Any]], dict[str, Any]]


@per_process
def _idempotency_config() -> IdempotencyConfig:
    return IdempotencyConfig(
        event_key_jmespath="[account.account_id, idempotency_key]",
        payload_validation_jmespath="fields",
        raise_on_no_idempotency_key=True,
        expires_after_seconds=IDEMPOTENCY_HOURS * 3600,
    )


@per_process
def _idempotent(accept: Accept) -> Any:
    store = DynamoDBPersistenceLayer(table_name=get_settings().idempotency_table_name)
    return idempotent_function(
        data_keyword_argument="request", config=_idempotency_config(), persistence_store=store
    )(accept)


def accept_once(
    accept: Accept, request: dict[str, Any], idempotency_key: str, lambda_context: Any
) -> dict[str, Any]:
    """`accept(request)` once per (account, key): a retry with the same fields gets the first answer back
    and nothing is done again; the same key with other fields is refused (400), one still running is 409."""
    if not 0 < len(idempotency_key) <= IDEMPOTENCY_KEY_MAX or not idempotency_key.isprintable():
        raise BadRequest(
            f"Idempotency-Key must be 1–{IDEMPOTENCY_KEY_MAX} printable characters", "Idempotency-Key"
        )
    if lambda_context is not None:
        # Lets an in-progress record expire with this invocation if it dies mid-way.
        _idempotency_config().register_lambda_context(lambda_context)
    try:
        return _idempotent(accept)(request={**request, "idempotency_key": idempotency_key})  # type: ignore[no-any-return]
    except IdempotencyValidationError:
        raise BadRequest(
            "this Idempotency-Key was already used with a different request body; use a new key",
            "Idempotency-Key",
        ) from None
    except IdempotencyAlreadyInProgressError:
        raise Conflict(
            "a request with this Idempotency-Key is still being processed; retry shortly"
        ) from None
