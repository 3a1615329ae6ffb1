"""The Phone Numbers API (update, list, search, buy, cancel) in Vonage's shape: errors are
`NumbersApiError`s. A carrier call that fails changes nothing here. Who a number belongs to is
`smsgw.numbers.routing`; KPN's `register` is `smsgw.numbers.register`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Final

from smsgw.carrier.base import CarrierError, CarrierRejected, CarrierThrottled
from smsgw.config import get_settings
from smsgw.core.clock import now_iso
from smsgw.core.memo import per_process
from smsgw.numbers import params as p
from smsgw.numbers import repository
from smsgw.numbers.errors import NumbersApiError, invalid, not_available, not_found
from smsgw.numbers.views import OwnedNumber, OwnedNumbers, available_numbers
from smsgw.observability import logger, mask_number

if (
    TYPE_CHECKING
):  # the carrier client (and `requests`) loads only when a route calls the carrier: see _carrier_for
    from smsgw.carrier.numbers import NumbersCarrier
from smsgw.urlsafety import Resolver

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
) -> dict[str, Any]:
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
    return available_numbers(found.count, found.numbers)


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
