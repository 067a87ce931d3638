"""Opening the warehouse: clear failures that name the host and the cause, never the password."""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Callable
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine, make_url

DEFAULT_URL = "duckdb:///warehouse.duckdb"
DUCKDB_MEMORY_ENV = "RXSTAFF_DUCKDB_MEMORY_LIMIT"
# DuckDB's buffer pool may otherwise grow to 80% of RAM during a history rebuild; capped,
# it spills to disk and the whole run stays within a few GiB on a modest ETL host.
DUCKDB_MEMORY_DEFAULT = "2GB"
# PostgreSQL: memory per sort or hash of the run's own session. With the server's 4MB the
# roster history's grouping of every snapshot spills 1.5 GB to disk; at 64MB the planner
# sorts all 12M rows on disk instead, slower still (0.6.8 in docs/decisions.md).
# "server" leaves the server's (or the role's) own setting.
POSTGRES_WORK_MEM_ENV = "RXSTAFF_PG_WORK_MEM"
POSTGRES_WORK_MEM_DEFAULT = "256MB"
_MEMORY = re.compile(r"[1-9][0-9]*(kB|MB|GB)")
RETRY_PAUSE_ENV = "RXSTAFF_CONNECT_RETRY_PAUSE"
RETRY_PAUSE_DEFAULT = 2.0
T = TypeVar("T")


class WarehouseUnavailable(RuntimeError):
    """The warehouse could not be reached or refused us."""


def describe_target(url: str | URL) -> str:
    parsed = make_url(url)
    if parsed.get_backend_name() == "duckdb":
        return f"DuckDB file {parsed.database or ':memory:'}"
    host = f"{parsed.host or 'localhost'}:{parsed.port or 5432}"
    return f"{parsed.get_backend_name()} at {host}/{parsed.database}"


def create_engine(url: str, application_name: str | None = None) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        # Fail fast on a dead host: a nightly job should alert, not hang.
        args: dict[str, object] = {"connect_timeout": 10}
        if application_name:  # what pg_stat_activity shows of this session
            args["application_name"] = application_name[:63]
        return sa.create_engine(parsed, connect_args=args, pool_pre_ping=True)
    if parsed.get_backend_name() == "duckdb":
        limit = os.environ.get(DUCKDB_MEMORY_ENV, DUCKDB_MEMORY_DEFAULT)
        return sa.create_engine(parsed, connect_args={"config": {"memory_limit": limit}})
    return sa.create_engine(parsed)


def postgres_session_settings() -> dict[str, str]:
    """What a run's PostgreSQL session sets for itself (``set_config``), by name.

    JIT is off: each large model or mart query spent ~0.7-1.3 s compiling it, more than
    it saved on these queries. ``work_mem`` is $RXSTAFF_PG_WORK_MEM (default 256MB), in
    PostgreSQL's units (kB, MB, GB), or ``server`` to leave it as the server sets it.
    """
    chosen = {"jit": "off"}
    value = os.environ.get(POSTGRES_WORK_MEM_ENV, "").strip() or POSTGRES_WORK_MEM_DEFAULT
    if value.lower() != "server":
        if not _MEMORY.fullmatch(value):
            raise ValueError(
                f"${POSTGRES_WORK_MEM_ENV} must be an amount such as 256MB or 1GB (kB, MB or "
                f"GB, no space), or 'server' for the server's own setting; not {value!r}"
            )
        chosen["work_mem"] = value
    return chosen


log = logging.getLogger("rxstaff.warehouse.connection")


def with_retries(
    action: Callable[[], T], url: str, attempts: int = 3, pause: float | None = None
) -> T:
    """Run a connecting action, retrying transient failures a bounded number of times.

    A refused login or a missing database is not transient: it fails at once. The n-th
    retry waits n x the pause ($RXSTAFF_CONNECT_RETRY_PAUSE seconds, default 2).
    """
    if pause is None:
        pause = float(os.environ.get(RETRY_PAUSE_ENV, RETRY_PAUSE_DEFAULT))
    for attempt in range(1, attempts + 1):
        try:
            return action()
        except sa.exc.OperationalError as error:
            cause = _cause(error)
            if not _transient(cause) or attempt == attempts:
                raise WarehouseUnavailable(
                    f"cannot open the warehouse ({describe_target(url)}): {cause}"
                ) from None
            # Seen in the run's log (Prefect forwards the "rxstaff" loggers): no silent loop.
            log.warning(
                f"cannot reach the warehouse ({describe_target(url)}): {cause}; "
                f"retry {attempt} of {attempts - 1} in {pause * attempt:g} s"
            )
            time.sleep(pause * attempt)
    raise AssertionError("unreachable")


def _cause(error: sa.exc.OperationalError) -> str:
    text = str(error.orig).strip().splitlines()
    return text[0] if text else type(error.orig).__name__


def _transient(cause: str) -> bool:
    lowered = cause.lower()
    permanent = ("password", "authentication", "does not exist", "permission denied", "role")
    if any(word in lowered for word in permanent):
        return False
    return any(
        w in lowered
        for w in (
            "timeout",
            "timed out",
            "refused",
            "reset",
            "temporarily",
            "could not connect",
            "connection",
        )
    )
