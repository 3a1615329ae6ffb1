"""KPN's demo `POST /communication/nexmo/sms/register` with proof of possession: the first call sends a
code to the phone by SMS, the second (with `code`) registers it (docs/numbers.md). Answers with the
gateway's usual errors (400 naming the field, 403 for a number of another account)."""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import TYPE_CHECKING, Final

from smsgw.config import get_settings
from smsgw.core.addresses import parse_destination
from smsgw.core.clock import now_iso
from smsgw.core.errors import BadRequest, Forbidden, RateLimited
from smsgw.numbers import params as p
from smsgw.numbers import repository
from smsgw.observability import logger, mask_number

if (
    TYPE_CHECKING
):  # the carrier client (and `requests`) loads only when a route calls the carrier: see _carrier_for
    pass
from smsgw.urlsafety import Resolver, check_callback_url

REGISTER_FIELDS: Final = ("to", "callback_url", "code")
CODE_DIGITS: Final = 6


class RegisterOutcome(StrEnum):
    CREATED = "created"  # the code was right: the phone is the account's now
    REPLACED = "replaced"  # a phone the account already holds: its callback replaced
    CODE_SENT = "code_sent"  # a code is on its way to the phone; register again with it


SendCode = Callable[[str, str], object]  # (msisdn, text): sends the SMS, charged to the account


def _code_hash(account_id: str, msisdn: str, code: str) -> str:
    return hashlib.sha256(f"{account_id}|{msisdn}|{code.strip()}".encode()).hexdigest()


def _no_code_sender(msisdn: str, text: str) -> object:
    raise RuntimeError("register_callback needs send_code to send a verification code")


def register_callback(
    account_id: str,
    params: Mapping[str, str],
    resolve: Resolver | None = None,
    *,
    send_code: SendCode = _no_code_sender,
) -> RegisterOutcome:
    """KPN's register, with proof of possession: a phone routes its SMS to the account (and may be a
    `from`) only after a code sent to it by SMS came back in `code` (docs/security.md).

    Without `code`: a phone the account already holds gets its callback replaced; any other phone gets a
    code by SMS (charged as a message). With `code`: the right code registers the phone.
    Raises `BadRequest` (400, nothing stored), `Forbidden` (another account's number, or one the gateway
    receives on), `RateLimited` (too many codes), `PreconditionFailed` (the code SMS cannot be paid).
    """
    unknown = sorted(set(params) - set(REGISTER_FIELDS))
    if unknown:
        raise BadRequest(
            f"unknown parameter {unknown[0]!r}: register takes to, callback_url and code", unknown[0]
        )
    destination = parse_destination(params.get("to") or "")
    settings = get_settings()
    callback_url = check_callback_url(
        (params.get("callback_url") or "").strip(),
        field="callback_url",
        max_length=p.MAX_URL_LENGTH,
        allow_http_hosts=settings.callback_allow_http_hosts,
        resolve=resolve,
    )
    code = (params.get("code") or "").strip()
    if code and not (code.isascii() and code.isdigit() and len(code) == CODE_DIGITS):
        raise BadRequest(f"code must be the {CODE_DIGITS} digits sent to {destination.msisdn} by SMS", "code")
    msisdn = destination.msisdn
    if msisdn in settings.gateway_numbers or msisdn == settings.verification_sender:
        raise Forbidden(f"to {msisdn} is a number the gateway receives SMS on: it cannot be registered")
    held = repository.get_number(msisdn, consistent=True)
    if held is not None and held.get("account_id") != account_id:
        raise Forbidden(f"to {msisdn} is registered by another account: register a number of your own")
    if held is not None:
        _register(account_id, msisdn, destination.country, callback_url)
        return RegisterOutcome.REPLACED
    if not code:
        _send_code(account_id, msisdn, destination.country, callback_url, send_code)
        return RegisterOutcome.CODE_SENT
    _confirm(account_id, msisdn, code)
    _register(account_id, msisdn, destination.country, callback_url)
    return RegisterOutcome.CREATED


def _register(account_id: str, msisdn: str, country: str, callback_url: str) -> None:
    try:
        created = repository.register(account_id, msisdn, country, callback_url, now_iso())
    except repository.NumberTaken:
        raise Forbidden(
            f"to {msisdn} is registered by another account: register a number of your own"
        ) from None
    logger.info(
        "callback registered",
        extra={"account_id": account_id, "msisdn": mask_number(msisdn), "new": created},
    )


def _send_code(account_id: str, msisdn: str, country: str, callback_url: str, send_code: SendCode) -> None:
    settings = get_settings()
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    try:
        repository.start_verification(
            account_id,
            msisdn,
            code_hash=_code_hash(account_id, msisdn, code),
            callback_url=callback_url,
            country=country,
            now=int(time.time()),
            code_seconds=settings.verification_code_seconds,
            window_seconds=86_400,
            max_sends=settings.verification_codes_per_day,
        )
    except repository.TooManyCodes:
        raise RateLimited(
            f"{settings.verification_codes_per_day} codes were sent to {msisdn} for this account in the last "
            "24 h; use the last one or try again tomorrow",
            retry_after=3600,
        ) from None
    minutes = settings.verification_code_seconds // 60
    send_code(
        msisdn,
        f"Your smsgw code is {code}. It links this phone to an account's webhook for {minutes} min; "
        "ignore this SMS if you did not ask for it.",
    )
    logger.info("verification code sent", extra={"account_id": account_id, "msisdn": mask_number(msisdn)})


def _confirm(account_id: str, msisdn: str, code: str) -> None:
    settings = get_settings()
    pending = repository.get_verification(account_id, msisdn)
    if pending is None or not pending.get("code_hash"):
        raise BadRequest(
            f"no code is waiting for {msisdn}: register without code first and a code is sent to it", "code"
        )
    if int(pending.get("code_until", 0)) < time.time():
        raise BadRequest(f"the code for {msisdn} expired: register without code to get a new one", "code")
    if int(pending.get("attempts", 0)) >= settings.verification_max_attempts:
        raise BadRequest(f"too many wrong codes for {msisdn}: register without code to get a new one", "code")
    hashed = _code_hash(account_id, msisdn, code)
    if repository.use_code(account_id, msisdn, hashed, int(time.time()), settings.verification_max_attempts):
        return
    left = repository.count_wrong_code(
        account_id, msisdn, str(pending["code_hash"]), settings.verification_max_attempts
    )
    raise BadRequest(
        f"wrong code for {msisdn}"
        + ("" if left else ": too many wrong codes, register without code for a new one"),
        "code",
    )
