"""Lazily created, cached AWS clients. Nothing here runs at import time, so tests can import under moto."""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.config import Config

from smsgw.config import get_settings

_CLIENT_CONFIG = Config(retries={"mode": "standard", "max_attempts": 4}, connect_timeout=3, read_timeout=10)


@cache
def dynamodb() -> Any:
    return boto3.resource("dynamodb", config=_CLIENT_CONFIG)


def table() -> Any:
    return _table(get_settings().table_name)


@cache
def _table(name: str) -> Any:
    return dynamodb().Table(name)


def dynamodb_client() -> Any:
    """The resource's client: it (de)serialises Python values, also for transactions."""
    return dynamodb().meta.client


@cache
def sqs() -> Any:
    return boto3.client("sqs", config=_CLIENT_CONFIG)


@cache
def scheduler() -> Any:
    return boto3.client("scheduler", config=_CLIENT_CONFIG)


def reset_clients() -> None:
    """Forget cached clients and settings (tests switch environments between cases)."""
    for cached in (dynamodb, _table, sqs, scheduler, get_settings):
        cached.cache_clear()
