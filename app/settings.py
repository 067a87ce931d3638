"""Where configuration comes from: arguments first, then the environment, then defaults."""

from __future__ import annotations

import os
from pathlib import Path
from typing import cast

from rxstaff.warehouse.connection import DEFAULT_URL

WAREHOUSE_ENV = "RXSTAFF_WAREHOUSE_URL"
WAREHOUSE_BLOCK_ENV = "RXSTAFF_WAREHOUSE_URL_BLOCK"
SECRET_ENV = "RXSTAFF_ID_SECRET"
SECRET_BLOCK_ENV = "RXSTAFF_ID_SECRET_BLOCK"
MIN_GROUP_ENV = "RXSTAFF_MIN_GROUP_SIZE"
# The pharmacy's own reference files, replacing the shipped ones (app/reference/).
REFERENCE_ENV = {"catalog": "RXSTAFF_JOB_CATALOG", "paths": "RXSTAFF_CAREER_PATHS"}
DEMO_SECRET = "rxstaff-demo-secret-do-not-use-in-production"
DEFAULT_MIN_GROUP_SIZE = 5
MAX_ROSTER_AGE_ENV = "RXSTAFF_MAX_ROSTER_AGE_DAYS"
DEFAULT_MAX_ROSTER_AGE_DAYS = 10


class ConfigurationError(RuntimeError):
    """A setting is missing or unusable."""


def warehouse_url(explicit: str | None = None) -> str:
    """--warehouse, then $RXSTAFF_WAREHOUSE_URL, then the Prefect Secret block named in
    $RXSTAFF_WAREHOUSE_URL_BLOCK (for a URL that carries a password), then DuckDB."""
    return (
        explicit
        or os.environ.get(WAREHOUSE_ENV)
        or _secret_block(WAREHOUSE_BLOCK_ENV)
        or DEFAULT_URL
    )


def id_secret(explicit: str | None = None) -> str:
    """The pseudonymisation key: $RXSTAFF_ID_SECRET, or the Prefect Secret block named in
    $RXSTAFF_ID_SECRET_BLOCK. Never a flow parameter: Prefect records parameters."""
    secret = explicit or os.environ.get(SECRET_ENV) or _secret_block(SECRET_BLOCK_ENV)
    if not secret:
        raise ConfigurationError(
            f"set {SECRET_ENV} (or {SECRET_BLOCK_ENV} to a Prefect Secret block) to the "
            "pseudonymisation key for employee ids; keep it out of the repository"
        )
    return secret


def _secret_block(variable: str) -> str | None:
    name = os.environ.get(variable)
    if not name:
        return None
    from prefect.blocks.system import Secret

    try:
        # Called from synchronous code, Block.load returns the block, not a coroutine.
        block = cast(Secret, Secret.load(name))
        return str(block.get())
    except ValueError as error:
        raise ConfigurationError(
            f"${variable} names Prefect Secret block {name!r}: {error}"
        ) from None


def min_group_size(explicit: int | None = None) -> int:
    value = (
        explicit
        if explicit is not None
        else int(os.environ.get(MIN_GROUP_ENV, DEFAULT_MIN_GROUP_SIZE))
    )
    if value < 1:
        raise ConfigurationError("the minimum survey group size must be at least 1")
    return value


def reference_file(kind: str, explicit: str | None = None) -> Path | None:
    """--catalog / --paths, then $RXSTAFF_JOB_CATALOG / $RXSTAFF_CAREER_PATHS; None: shipped."""
    value = explicit or os.environ.get(REFERENCE_ENV[kind])
    if not value:
        return None
    path = Path(value)
    if not path.is_file():
        raise ConfigurationError(f"{REFERENCE_ENV[kind]} or --{kind}: {path} is not a file")
    return path


def max_roster_age_days(explicit: int | None = None) -> int:
    """How old the newest roster snapshot may be on the run date before the run fails."""
    raw = explicit if explicit is not None else os.environ.get(MAX_ROSTER_AGE_ENV)
    try:
        value = int(raw) if raw is not None else DEFAULT_MAX_ROSTER_AGE_DAYS
    except ValueError:
        raise ConfigurationError(f"${MAX_ROSTER_AGE_ENV} must be a whole number of days") from None
    if value < 0:
        raise ConfigurationError("the maximum roster age must be 0 days or more")
    return value


READ_COPY_ENV = "RXSTAFF_READ_COPY"
AUDIT_COPY_ENV = "RXSTAFF_AUDIT_COPY"


def copies(read_copy: str | None, audit_copy: str | None) -> tuple[str | None, str | None]:
    """Where to publish the BI and auditor copies: parameters, then the environment."""
    return (
        read_copy or os.environ.get(READ_COPY_ENV) or None,
        audit_copy or os.environ.get(AUDIT_COPY_ENV) or None,
    )


def by_reference(url: str | None) -> str | None:
    """The warehouse as a flow parameter: Prefect records parameters (its database, its
    UI), so a URL carrying a password is handed over through this process's environment
    ($RXSTAFF_WAREHOUSE_URL) and the parameter stays empty."""
    if url is None:
        return None
    from sqlalchemy.engine import make_url

    try:
        has_password = make_url(url).password is not None
    except Exception:  # not a URL: let the flow refuse it with its own message
        return url
    if not has_password:
        return url
    os.environ[WAREHOUSE_ENV] = url
    return None
