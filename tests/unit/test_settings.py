"""The settings every function reads from its environment: types, bounds and lists, and a refusal that
names the variable (a misconfigured stack fails at its first request, saying which variable is wrong)."""

from decimal import Decimal

import pytest

from smsgw.config import Settings, SettingsError


def test_unset_variables_take_their_defaults() -> None:
    settings = Settings.from_environ({})

    assert settings.table_name == "smsgw"
    assert settings.token_ttl_seconds == 3600
    assert settings.default_price == Decimal("0.07")
    assert settings.allow_unsigned_carrier_webhooks is False
    assert settings.gateway_numbers == ()


def test_values_are_read_as_their_fields_types() -> None:
    settings = Settings.from_environ(
        {
            "TABLE_NAME": "prod",
            "TOKEN_TTL_SECONDS": "7200",
            "CARRIER_RATE_PER_SECOND": "12.5",
            "DEFAULT_PRICE_PER_PART": "0.0815",
            "ALLOW_UNSIGNED_CARRIER_WEBHOOKS": "True",
        }
    )

    assert settings.table_name == "prod"
    assert settings.token_ttl_seconds == 7200
    assert settings.carrier_rate_per_second == 12.5
    assert settings.default_price == Decimal("0.0815")
    assert settings.allow_unsigned_carrier_webhooks is True


def test_lists_are_split_on_commas_and_normalised() -> None:
    settings = Settings.from_environ(
        {
            "CALLBACK_ALLOW_HTTP_HOSTS": " LocalHost, 127.0.0.1,,",
            "GATEWAY_NUMBERS": "+3197010000001, 3197010000002",
        }
    )

    assert settings.callback_allow_http_hosts == ("localhost", "127.0.0.1")
    assert settings.gateway_numbers == ("3197010000001", "3197010000002")


@pytest.mark.parametrize(
    ("variable", "value", "said"),
    [
        ("TOKEN_TTL_SECONDS", "an hour", "must be a whole number"),
        ("TOKEN_TTL_SECONDS", "1.5", "must be a whole number"),
        ("TOKEN_TTL_SECONDS", "60", "must be > 60"),
        ("CARRIER_RATE_HEADROOM", "0.5", "must be < 0.5"),
        ("CARRIER_RATE_PER_SECOND", "fast", "must be a number"),
        ("INBOUND_CONCAT_TIMEOUT_SECONDS", "901", "must be <= 900"),
        ("ALLOW_UNSIGNED_CARRIER_WEBHOOKS", "maybe", "must be true or false"),
        ("DEFAULT_PRICE_PER_PART", "cheap", "must be a decimal number"),
    ],
)
def test_a_value_it_cannot_use_is_refused_naming_the_variable(variable: str, value: str, said: str) -> None:
    with pytest.raises(SettingsError) as refused:
        Settings.from_environ({variable: value})

    assert str(refused.value) == f"{variable}={value!r}: {said}"


def test_settings_cannot_be_changed_once_read() -> None:
    settings = Settings.from_environ({})

    with pytest.raises(AttributeError):
        settings.table_name = "other"  # type: ignore[misc]
