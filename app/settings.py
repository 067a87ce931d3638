"""Where configuration comes from: arguments first, then the environment, then defaults."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import cast

from rxstaff.warehouse.connection import DEFAULT_URL, postgres_session_settings

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


SUPPORTED_WAREHOUSES = ("duckdb", "postgresql")
# Engines that evaluate the suites (expectations/suite.py); auto picks by the run's size.
VALIDATION_CHOICES = ("auto", "gx", "sql", "vectorised")


def warehouse_url(explicit: str | None = None) -> str:
    """--warehouse, then $RXSTAFF_WAREHOUSE_URL, then the Prefect Secret block named in
    $RXSTAFF_WAREHOUSE_URL_BLOCK (for a URL that carries a password), then DuckDB.

    A value that is not a URL of a supported warehouse is a configuration error, never
    shown with its password.
    """
    url = (
        explicit
        or os.environ.get(WAREHOUSE_ENV)
        or _secret_block(WAREHOUSE_BLOCK_ENV)
        or DEFAULT_URL
    )
    from sqlalchemy.engine import make_url

    try:
        backend = make_url(url).get_backend_name()
    except Exception:
        shown = url if "@" not in url else "(a value that is not a URL)"
        raise ConfigurationError(
            f"{shown} is not a warehouse URL: use duckdb:///path/to/warehouse.duckdb or "
            "postgresql+psycopg://user@host:5432/database"
        ) from None
    if backend not in SUPPORTED_WAREHOUSES:
        raise ConfigurationError(
            f"rxstaff keeps its warehouse in DuckDB or PostgreSQL, not {backend}"
        )
    return url


LANDING_ENV = "RXSTAFF_LANDING"


def landing(explicit: str | None = None) -> str:
    """The landing folder: the parameter, then $RXSTAFF_LANDING (a worker's setting)."""
    found = explicit or os.environ.get(LANDING_ENV)
    if not found:
        raise ConfigurationError(
            f"no landing folder: pass --landing (a deployment's `landing` parameter) or set "
            f"${LANDING_ENV}"
        )
    return found


def relative_duckdb_path(url: str) -> bool:
    """A DuckDB file named relative to the working directory (a worker's is temporary)."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    database = parsed.database or ""
    return (
        parsed.get_backend_name() == "duckdb"
        and database not in ("", ":memory:")
        and not database.startswith("/")
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


RUN_LOCK_WAIT_ENV = "RXSTAFF_RUN_LOCK_WAIT"
DEFAULT_RUN_LOCK_WAIT_SECONDS = 60


def run_lock_wait() -> float:
    """How long a run waits for another run of the same warehouse to finish."""
    return _seconds(RUN_LOCK_WAIT_ENV, DEFAULT_RUN_LOCK_WAIT_SECONDS)


def _seconds(env: str, default: float) -> float:
    """A duration setting: 0 seconds or more, the default when the variable is unset."""
    raw = os.environ.get(env)
    try:
        value = float(raw) if raw is not None else default
    except ValueError:
        raise ConfigurationError(f"${env} must be a number of seconds") from None
    if value < 0:
        raise ConfigurationError(f"${env} must be 0 seconds or more")
    return value


RUN_TIMEOUT_ENV = "RXSTAFF_RUN_TIMEOUT"
DEFAULT_RUN_TIMEOUT_SECONDS = 6 * 3600


def run_timeout_seconds() -> int:
    """How long a run may take before Prefect stops it (read when the flow is defined)."""
    raw = os.environ.get(RUN_TIMEOUT_ENV)
    try:
        return int(raw) if raw else DEFAULT_RUN_TIMEOUT_SECONDS
    except ValueError:
        raise ConfigurationError(f"${RUN_TIMEOUT_ENV} must be a whole number of seconds") from None


GX_DIR_ENV = "RXSTAFF_GX_DIR"
GX_HOME_ENV = "RXSTAFF_GX_HOME"
VALIDATION_DOCS_ENV = "RXSTAFF_VALIDATION_DOCS"


def validation_project(url: str) -> Path | None:
    """Where a run keeps its Great Expectations results and Data Docs: $RXSTAFF_GX_DIR;
    else beside a DuckDB file (``<name>.gx/``); else $RXSTAFF_GX_HOME (default
    ~/.rxstaff/gx) / <database>. None when $RXSTAFF_VALIDATION_DOCS is ``off`` or the
    warehouse is in memory."""
    from sqlalchemy.engine import make_url

    if os.environ.get(VALIDATION_DOCS_ENV, "on").lower() in ("off", "0", "false", "no"):
        return None
    if os.environ.get(GX_DIR_ENV):
        return Path(os.environ[GX_DIR_ENV])
    parsed = make_url(url)
    database = parsed.database or ""
    if parsed.get_backend_name() == "duckdb":
        if database in ("", ":memory:"):
            return None
        target = Path(database)
        return target.with_name(target.stem + ".gx")
    home = Path(os.environ.get(GX_HOME_ENV) or Path.home() / ".rxstaff" / "gx")
    return home / f"{parsed.host or 'local'}_{database}"


SETTLE_ENV = "RXSTAFF_SETTLE_SECONDS"
DEFAULT_SETTLE_SECONDS = 30


def settle_seconds() -> float:
    """How long a landing file must have stayed unmodified before a run loads it (a file
    an SFTP transfer or an export is still writing waits for the next run)."""
    return _seconds(SETTLE_ENV, DEFAULT_SETTLE_SECONDS)


READ_COPY_ENV = "RXSTAFF_READ_COPY"
AUDIT_COPY_ENV = "RXSTAFF_AUDIT_COPY"


def copies(read_copy: str | None, audit_copy: str | None) -> tuple[str | None, str | None]:
    """Where to publish the BI and auditor copies: parameters, then the environment."""
    return (
        read_copy or os.environ.get(READ_COPY_ENV) or None,
        audit_copy or os.environ.get(AUDIT_COPY_ENV) or None,
    )


REPORT_DIR_ENV = "RXSTAFF_REPORT_DIR"


def report_dir(given: str | None) -> str | None:
    """Where a successful run writes the staffing report: the parameter, then the
    environment; none by default."""
    return given or os.environ.get(REPORT_DIR_ENV) or None


@contextmanager
def by_reference(url: str | None) -> Iterator[str | None]:
    """The warehouse as a flow parameter: Prefect records parameters (its database, its
    UI), so a URL carrying a password is handed over through this process's environment
    ($RXSTAFF_WAREHOUSE_URL) while the run lasts, and the parameter stays empty."""
    from sqlalchemy.engine import make_url

    if url is None or make_url(url).password is None:
        yield url
        return
    before = os.environ.get(WAREHOUSE_ENV)
    os.environ[WAREHOUSE_ENV] = url
    try:
        yield None
    finally:
        if before is None:
            os.environ.pop(WAREHOUSE_ENV, None)
        else:
            os.environ[WAREHOUSE_ENV] = before


BOUNDS_ENV = ("RXSTAFF_EARLIEST_DATE", "RXSTAFF_LATEST_DATE")


def date_bounds() -> tuple[date, date] | None:
    """The sanity bounds for dates in extracts ($RXSTAFF_EARLIEST_DATE, $RXSTAFF_LATEST_DATE;
    default 1950-01-01 .. 2099-12-31): a date outside them quarantines its row."""
    raw = [os.environ.get(name) for name in BOUNDS_ENV]
    if not any(raw):
        return None
    try:
        earliest = date.fromisoformat(raw[0]) if raw[0] else date(1950, 1, 1)
        latest = date.fromisoformat(raw[1]) if raw[1] else date(2099, 12, 31)
    except ValueError:
        raise ConfigurationError(f"{' and '.join(BOUNDS_ENV)} take YYYY-MM-DD dates") from None
    if earliest >= latest:
        raise ConfigurationError(f"{BOUNDS_ENV[0]} must come before {BOUNDS_ENV[1]}")
    return earliest, latest


DASK_ENV = "RXSTAFF_DASK"
STAGING_AREA_ENV = "RXSTAFF_STAGING_AREA"
DASK_CHOICES = ("auto", "off", "local")


def dask(given: str | None = None) -> str:
    """Where a history load's staging runs: ``auto`` (a local Dask cluster for a history
    load, in the flow's process otherwise), ``off``, ``local`` (always a local cluster), or
    the address of a running ``dask.distributed`` scheduler (``tcp://host:8786``)."""
    value = (given or os.environ.get(DASK_ENV) or "auto").strip()
    if value not in DASK_CHOICES and "://" not in value:
        raise ConfigurationError(
            f"dask must be one of {', '.join(DASK_CHOICES)} or a scheduler address such as "
            f"tcp://127.0.0.1:8786, not {value!r} (${DASK_ENV})"
        )
    return value


DASK_WORKERS_ENV = "RXSTAFF_DASK_WORKERS"


def dask_workers() -> int:
    """Workers of a local Dask cluster: $RXSTAFF_DASK_WORKERS, or one per core."""
    value = os.environ.get(DASK_WORKERS_ENV, "").strip()
    if not value:
        return os.cpu_count() or 1
    if not value.isdigit() or int(value) < 1:
        raise ConfigurationError(f"${DASK_WORKERS_ENV} must be a whole number of 1 or more")
    return int(value)


def postgres_session(url: str) -> dict[str, str]:
    """What a run of this warehouse sets for its own session (PostgreSQL only); a bad
    $RXSTAFF_PG_WORK_MEM stops the run before anything is read."""
    from sqlalchemy.engine import make_url

    if make_url(url).get_backend_name() != "postgresql":
        return {}
    try:
        return postgres_session_settings()
    except ValueError as error:
        raise ConfigurationError(str(error)) from None


def staging_area(given: str | None = None) -> str | None:
    """Where Dask workers write staged Parquet: a folder or any fsspec URL the cluster's
    workers and the flow share (``s3://bucket/rxstaff``). None: a private temporary folder
    on this machine, which only a local cluster can share."""
    return given or os.environ.get(STAGING_AREA_ENV) or None
