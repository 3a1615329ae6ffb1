"""Phone numbers: KPN's demo `register`, the Phone Numbers API (update, list, search, buy, cancel), and
who a number belongs to (`route_for`, `holds_number`) for the inbound intake and the send path.

A number is one item (see `repository`): `registered` (a phone an account registered with
`/sms/register`: SMS *from* it reach the callback; the account may send *from* it) or `owned` (a
virtual number bought through the gateway: SMS *to* it reach its moHttpUrl; the account may send
from it). One msisdn belongs to at most one account.

Errors: `/sms/register` answers with the gateway's usual errors (400 naming the field, 403 for a
number of another account); the Phone Numbers API with `NumbersApiError` (Vonage's shape). A
carrier call that fails changes nothing here.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Final

from smsgw.accounts.models import Account
from smsgw.carrier.base import CarrierError, CarrierRejected, CarrierThrottled
from smsgw.config import get_settings
from smsgw.core.addresses import parse_destination
from smsgw.core.clock import now_iso
from smsgw.core.errors import BadRequest, Forbidden, RateLimited
from smsgw.core.memo import per_process
from smsgw.numbers import params as p
from smsgw.numbers import repository
from smsgw.numbers.errors import NumbersApiError, invalid, not_available, not_found
from smsgw.numbers.models import AvailableNumber, AvailableNumbers, OwnedNumber, OwnedNumbers
from smsgw.observability import logger, mask_number

if (
    TYPE_CHECKING
):  # the carrier client (and `requests`) loads only when a route calls the carrier: see _carrier_for
    from smsgw.carrier.numbers import NumbersCarrier
from smsgw.urlsafety import Resolver, check_callback_url

REGISTER_FIELDS: Final = ("to", "callback_url", "code")
CODE_DIGITS: Final = 6
NUMBER_FIELDS: Final = ("country", "msisdn")
UPDATE_FIELDS: Final = (*NUMBER_FIELDS, *repository.SETTINGS)
LIST_FIELDS: Final = (
    "pattern",
    "search_pattern",
    "size",
    "index",
    "country",
    "application_id",
    "has_application",
)
SEARCH_FIELDS: Final = ("country", "type", "pattern", "search_pattern", "features", "size", "index")


@dataclass(frozen=True)
class NumberRoute:
    """Who a number belongs to: `kind` registered | owned; `callback_url` where its SMS go (None: nowhere yet)."""

    msisdn: str
    account_id: str
    kind: str
    callback_url: str | None


def _digits(value: str | None) -> str | None:
    """An msisdn as stored (E.164 digits), or None when `value` cannot be one."""
    text = (value or "").strip().removeprefix("+")
    return text if text.isascii() and text.isdigit() and 7 <= len(text) <= 15 else None


# --- for the inbound intake and the send path ---------------------------------------------------------------


def route_for(msisdn: str) -> NumberRoute | None:
    """Who registered or owns `msisdn` ('+' and surrounding spaces ignored), and its callback. One GetItem."""
    number = _digits(msisdn)
    item = repository.get_number(number) if number else None
    if item is None:
        return None
    return NumberRoute(
        msisdn=str(item["msisdn"]),
        account_id=str(item["account_id"]),
        kind=str(item["kind"]),
        callback_url=str(item["callback_url"]) if item.get("callback_url") else None,
    )


def holds_number(account_id: str, number: str) -> bool:
    """True when `number` is one `account_id` registered or owns (an alphanumeric sender never is)."""
    route = route_for(number)
    return route is not None and route.account_id == account_id


def owner_of_destination(to: str) -> NumberRoute | None:
    """Who receives SMS sent *to* this number: only an account that owns it (bought through the gateway).
    A registered phone is someone's handset: it never takes SMS addressed to it (issue 11, 1)."""
    route = route_for(to)
    return route if route is not None and route.kind == repository.OWNED else None


def registered_sender(msisdn: str) -> NumberRoute | None:
    """The account that proved it holds this phone (`/sms/register`): SMS *from* it go to its callback."""
    route = route_for(msisdn)
    return route if route is not None and route.kind == repository.REGISTERED else None


def sender_allowed(account: Account, sender: str) -> bool:
    """May `account` send `from` this sender? The one check of every send path (docs/security.md):
    - a number another account holds (owned or registered): never, whatever the allow-list says;
    - a number the account holds: always;
    - another number: only when the operator put it on the account's allow-list;
    - an alphanumeric sender: when the allow-list is empty or lists it.
    """
    route = route_for(sender)
    if route is not None:
        return route.account_id == account.account_id
    if sender.strip().removeprefix("+").isdigit():
        return bool(account.senders) and account.allows_sender(sender)
    return account.allows_sender(sender)


def sender_refusal(sender: str) -> str:
    """What to tell a client whose `from` was refused."""
    return (
        f"sender '{sender}' is not allowed: use a number this account owns or registered (POST "
        "/communication/nexmo/sms/register), or a sender the operator put on the account's allow-list; a "
        "number another account holds is never allowed"
    )


# --- KPN: POST /communication/nexmo/sms/register --------------------------------------------------------------


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


# --- Phone Numbers API ----------------------------------------------------------------------------------------


def _owned_view(item: Mapping[str, Any]) -> OwnedNumber:
    return OwnedNumber(
        country=str(item.get("country") or ""),
        msisdn=str(item["msisdn"]),
        moHttpUrl=item.get("callback_url"),
        type=item.get("number_type"),
        features=[str(f) for f in item.get("features") or []],
        voiceCallbackType=item.get("voice_callback_type"),
        voiceCallbackValue=item.get("voice_callback_value"),
        voiceStatusCallback=item.get("voice_status_callback"),
        moSmppSysType=item.get("mo_smpp_sys_type"),
        app_id=item.get("app_id"),
    )


def list_numbers(account_id: str, params: Mapping[str, str]) -> OwnedNumbers:
    """`GET account/numbers`: the account's bought numbers, filtered, one page; `count` = all matches."""
    p.refuse_unknown(params, LIST_FIELDS)
    pattern = p.pattern(params.get("pattern"))
    search_pattern = p.search_pattern(params.get("search_pattern"))
    size = p.size(params.get("size"))
    index = p.index(params.get("index"))
    country = p.country(params["country"]) if (params.get("country") or "").strip() else None
    application = (
        p.application_id(params["application_id"], "application_id") if params.get("application_id") else None
    )
    has_application = p.has_application(params.get("has_application"))

    items = repository.owned_numbers(account_id, prefix=pattern if search_pattern == 0 else None)
    if pattern and search_pattern == 1:
        items = [item for item in items if pattern in item["msisdn"]]
    elif pattern and search_pattern == 2:
        items = [item for item in items if str(item["msisdn"]).endswith(pattern)]
    if country:
        items = [item for item in items if item.get("country") == country]
    if application:
        items = [item for item in items if item.get("app_id") == application]
    if has_application is not None:
        items = [item for item in items if bool(item.get("app_id")) == has_application]
    items.sort(key=lambda item: str(item["msisdn"]))
    page = items[(index - 1) * size : index * size]
    return OwnedNumbers(count=len(items), numbers=[_owned_view(item) for item in page])


def update_number(account_id: str, params: Mapping[str, str], resolve: Resolver | None = None) -> None:
    """`POST number/update`: change the settings of a number the account owns. A setting left out is
    unchanged; one sent empty is removed. Validates everything before looking the number up."""
    p.refuse_unknown(params, UPDATE_FIELDS)
    country = p.country(params.get("country"))
    msisdn = p.msisdn(params.get("msisdn"), country)
    allow_http = get_settings().callback_allow_http_hosts
    validators: dict[str, Callable[[str], str]] = {
        "moHttpUrl": lambda value: p.callback_url(value, "moHttpUrl", allow_http, resolve),
        "moSmppSysType": p.smpp_system_type,
        "voiceCallbackType": p.voice_callback_type,
        "voiceCallbackValue": p.voice_callback_value,
        "voiceStatusCallback": p.voice_status_callback,
        "app_id": p.application_id,
    }
    set_values: dict[str, str] = {}
    remove: list[str] = []
    for wire, attribute in repository.SETTINGS.items():
        if wire not in params:
            continue
        value = params[wire].strip()
        if value:
            set_values[attribute] = validators[wire](value)
        else:
            remove.append(attribute)

    item = repository.get_number(msisdn, consistent=True)
    if item is None or item.get("account_id") != account_id or item.get("kind") != repository.OWNED:
        raise not_found(msisdn)
    if item.get("country") != country:
        raise invalid("country", f"country {country} is not the country of {msisdn} ({item.get('country')})")
    if not repository.update_settings(account_id, msisdn, set_values, remove, now_iso()):
        raise not_found(msisdn)  # cancelled meanwhile


@per_process
def _carrier_for(provider: str, base_url: str, secret_name: str) -> NumbersCarrier:
    # Imported on first use: 64–87 ms of NumbersFunction's cold start (measured 2026-12-03, after the
    # routes are loaded) that /sms/register and the owned-number routes never need.
    from smsgw.carrier.numbers import make_numbers_carrier
    from smsgw.secrets import carrier_credentials

    return make_numbers_carrier(provider, base_url, carrier_credentials())


def _carrier() -> NumbersCarrier:
    settings = get_settings()
    try:
        return _carrier_for(
            settings.carrier_provider, settings.carrier_base_url, settings.carrier_secret_name
        )
    except ValueError as error:
        logger.error("carrier numbers client not configured", extra={"error": str(error)})
        raise NumbersApiError(
            500,
            "the gateway's carrier settings are incomplete for the Numbers API; the operator must fix them",
        ) from None


def carrier_failure(error: CarrierError, action: str) -> NumbersApiError:
    """Throttled → 503 + Retry-After; refused → the carrier's 4xx and code (default 420); else 502."""
    if isinstance(error, CarrierThrottled):
        retry_after = max(1, round(error.retry_after or 1))
        return NumbersApiError(
            503,
            f"the carrier is throttling requests: retry the {action} in {retry_after} s",
            retry_after=retry_after,
        )
    if isinstance(error, CarrierRejected):
        http = error.http_status if error.http_status and 400 <= error.http_status < 500 else None
        if http is None and error.status and error.status.isdigit() and 400 <= int(error.status) < 500:
            http = int(error.status)
        http = http or 420
        return NumbersApiError(
            http,
            f"the carrier refused the {action}: {error.error_text}",
            error_code=error.status or str(http),
        )
    logger.error("carrier numbers call failed", extra={"action": action, "error": str(error)})
    return NumbersApiError(502, f"the carrier failed on the {action} ({error.error_text}); retry later")


def search_numbers(
    params: Mapping[str, str], carrier: Callable[[], NumbersCarrier] | None = None
) -> AvailableNumbers:
    """`GET number/search`: the carrier's numbers for sale, as it lists them."""
    p.refuse_unknown(params, SEARCH_FIELDS)
    country = p.country(params.get("country"))
    filters: dict[str, str] = {}
    validated: dict[str, Callable[[str | None], object]] = {
        "type": p.number_type,
        "pattern": p.pattern,
        "search_pattern": p.search_pattern,
        "features": p.features,
        "size": p.size,
        "index": p.index,
    }
    for name, check in validated.items():
        if (params.get(name) or "").strip():
            filters[name] = str(check(params[name]))
    try:
        found = (carrier or _carrier)().search(country, **filters)
    except CarrierError as error:
        raise carrier_failure(error, "number search") from None
    return AvailableNumbers(
        count=found.count, numbers=[AvailableNumber.model_validate(dict(number)) for number in found.numbers]
    )


def _details(carrier: NumbersCarrier, country: str, msisdn: str) -> dict[str, Any]:
    """Type and features of a number just bought, from the carrier's list of its numbers (best effort)."""
    try:
        found = carrier.owned(pattern=msisdn, search_pattern="0", country=country)
    except CarrierError as error:
        logger.warning(
            "bought number's details unavailable", extra={"msisdn": mask_number(msisdn), "error": str(error)}
        )
        return {}
    for number in found.numbers:
        if str(number.get("msisdn")) == msisdn:
            features = number.get("features")
            return {
                "number_type": str(number["type"]) if number.get("type") else None,
                "features": [str(f) for f in features] if isinstance(features, list) else None,
            }
    return {}


def buy_number(
    account_id: str, params: Mapping[str, str], carrier: Callable[[], NumbersCarrier] | None = None
) -> None:
    """`POST number/buy`: buy at the carrier, then record the number as the account's.

    Another account's number → 420 without asking the carrier; the account's own → success again
    (nothing bought twice). Should another account claim it between the carrier's sale and the record
    (only `/sms/register` can), the sale is cancelled at the carrier and the answer is 420.
    """
    p.refuse_unknown(params, NUMBER_FIELDS)
    country = p.country(params.get("country"))
    msisdn = p.msisdn(params.get("msisdn"), country)
    item = repository.get_number(msisdn, consistent=True)
    if item is not None and item.get("account_id") != account_id:
        raise not_available(msisdn)
    if item is not None and item.get("kind") == repository.OWNED:
        return
    client = (carrier or _carrier)()
    try:
        client.buy(country, msisdn)
    except CarrierError as error:
        raise carrier_failure(error, f"purchase of {msisdn}") from None
    details = _details(client, country, msisdn)
    try:
        repository.claim_owned(account_id, msisdn, country, details, now_iso())
    except repository.NumberTaken:
        logger.warning(
            "bought number claimed meanwhile; cancelling it", extra={"msisdn": mask_number(msisdn)}
        )
        try:
            client.cancel(country, msisdn)
        except CarrierError as error:
            logger.error(
                "could not cancel a number bought for nobody: cancel it by hand",
                extra={"msisdn": msisdn, "country": country, "error": str(error)},
            )
        raise not_available(msisdn) from None
    logger.info("number bought", extra={"account_id": account_id, "msisdn": mask_number(msisdn)})


def cancel_number(
    account_id: str, params: Mapping[str, str], carrier: Callable[[], NumbersCarrier] | None = None
) -> None:
    """`POST number/cancel`: cancel a number the account owns at the carrier, then forget it."""
    p.refuse_unknown(params, NUMBER_FIELDS)
    country = p.country(params.get("country"))
    msisdn = p.msisdn(params.get("msisdn"), country)
    item = repository.get_number(msisdn, consistent=True)
    if item is None or item.get("account_id") != account_id or item.get("kind") != repository.OWNED:
        raise not_found(msisdn)
    if item.get("country") != country:
        raise invalid("country", f"country {country} is not the country of {msisdn} ({item.get('country')})")
    try:
        (carrier or _carrier)().cancel(country, msisdn)
    except CarrierError as error:
        raise carrier_failure(error, f"cancellation of {msisdn}") from None
    repository.release_owned(account_id, msisdn)
    logger.info("number cancelled", extra={"account_id": account_id, "msisdn": mask_number(msisdn)})
