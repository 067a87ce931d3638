"""Where configuration comes from: arguments first, then the environment, then defaults."""

from __future__ import annotations

import os

from warehouse.connection import DEFAULT_URL

WAREHOUSE_ENV = "RXSTAFF_WAREHOUSE_URL"
SECRET_ENV = "RXSTAFF_ID_SECRET"
MIN_GROUP_ENV = "RXSTAFF_MIN_GROUP_SIZE"
DEMO_SECRET = "rxstaff-demo-secret-do-not-use-in-production"
DEFAULT_MIN_GROUP_SIZE = 5


class ConfigurationError(RuntimeError):
    """A setting is missing or unusable."""


def warehouse_url(explicit: str | None = None) -> str:
    return explicit or os.environ.get(WAREHOUSE_ENV) or DEFAULT_URL


def id_secret(explicit: str | None = None) -> str:
    secret = explicit or os.environ.get(SECRET_ENV)
    if not secret:
        raise ConfigurationError(
            f"set {SECRET_ENV} to the pseudonymisation key for employee ids "
            "(keep it out of the repository: environment or a Prefect Secret block)"
        )
    return secret


def min_group_size(explicit: int | None = None) -> int:
    value = (
        explicit
        if explicit is not None
        else int(os.environ.get(MIN_GROUP_ENV, DEFAULT_MIN_GROUP_SIZE))
    )
    if value < 1:
        raise ConfigurationError("the minimum survey group size must be at least 1")
    return value
