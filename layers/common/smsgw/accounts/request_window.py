"""The account's request rate window, kept on the account item itself.

Each second's requests are an attribute of the account item named `requests#<unix second>`; a request
adds one to its second's attribute while it stays within the limit. A send counts it in the charge's
own update of the account item (a window item of its own would be one more transaction item: two write
units per send); the other routes in one UpdateItem. Earlier seconds' attributes are removed by a later
count that knows of them (a send reads the whole account item first; the other routes remember what
the previous count returned), so the item keeps the current second's and a few just written.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

PREFIX = "requests#"
_WINDOW = re.compile(r"requests#(\d+)")


def attribute(second: int) -> str:
    """The attribute that counts the requests of `second`."""
    return f"{PREFIX}{second}"


def second_of(window: str) -> int:
    """The second a window attribute counts."""
    found = _WINDOW.fullmatch(window)
    if found is None:
        raise ValueError(f"{window!r} is not a request window attribute")
    return int(found.group(1))


def stale(item: Mapping[str, Any], second: int) -> tuple[str, ...]:
    """The window attributes of seconds before `second` on an account item."""
    return tuple(
        name
        for name in item
        if (window := _WINDOW.fullmatch(name)) is not None and int(window.group(1)) < second
    )


def counted(
    update: Mapping[str, Any], window: str, amount: Decimal, limit: Decimal, stale_windows: Sequence[str] = ()
) -> dict[str, Any]:
    """`update` (UpdateItem's or a transaction Update's arguments, on the account item) that also adds
    `amount` to the `window` attribute while it stays within `limit`, and removes `stale_windows`. Its
    condition fails when the window is full, as when the update's own condition fails."""
    names = {**update.get("ExpressionAttributeNames", {}), "#window": window}
    values = {
        **update.get("ExpressionAttributeValues", {}),
        ":window_zero": Decimal(0),
        ":window_amount": amount,
        ":window_room": limit - amount,
    }
    sets = [part for part in (str(update.get("UpdateExpression", "")).removeprefix("SET ").strip(),) if part]
    expression = "SET " + ", ".join(
        [*sets, "#window = if_not_exists(#window, :window_zero) + :window_amount"]
    )
    removed = [name for name in stale_windows if name != window]
    for index, name in enumerate(removed):
        names[f"#stale{index}"] = name
    if removed:
        expression += " REMOVE " + ", ".join(f"#stale{index}" for index in range(len(removed)))
    room = "(attribute_not_exists(#window) OR #window <= :window_room)"
    condition = update.get("ConditionExpression")
    return {
        **update,
        "UpdateExpression": expression,
        "ConditionExpression": f"({condition}) AND {room}" if condition else room,
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
    }
