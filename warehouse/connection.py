"""The warehouse as one value: its URL parsed once, how to connect, what to call it.

Errors name the host and the cause, never the password.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine, make_url

DEFAULT_URL = "duckdb:///warehouse.duckdb"
SUPPORTED = ("duckdb", "postgresql")
T = TypeVar("T")


class WarehouseUnavailable(RuntimeError):
    """The warehouse could not be reached or refused us."""


class NotAWarehouseUrl(ValueError):
    """The text is not the URL of a warehouse rxstaff can keep."""


@dataclass(frozen=True)
class Warehouse:
    """A DuckDB file (or memory) or a PostgreSQL database, and how a run talks to it.

    ``session`` is what a run's own PostgreSQL session sets for itself (``set_config``:
    JIT, ``work_mem``, ``lock_timeout``); BI sessions are never changed.
    """

    url: URL = field(repr=False)
    duckdb_memory_limit: str = "2GB"
    session: tuple[tuple[str, str], ...] = ()
    lock_timeout: int = 30  # seconds a run waits for a lock another session holds
    retry_pause: float = 2.0  # the n-th of the retries of a connection waits n x this

    @classmethod
    def at(cls, url: str | URL, **settings: object) -> Warehouse:
        """The warehouse at ``url``; ``NotAWarehouseUrl`` (never showing a password)."""
        try:
            parsed = make_url(url)
            backend = parsed.get_backend_name()
        except Exception:
            text = str(url)
            shown = text if "@" not in text else "(a value that is not a URL)"
            raise NotAWarehouseUrl(
                f"{shown} is not a warehouse URL: use duckdb:///path/to/warehouse.duckdb or "
                "postgresql+psycopg://user@host:5432/database"
            ) from None
        if backend not in SUPPORTED:
            raise NotAWarehouseUrl(
                f"rxstaff keeps its warehouse in DuckDB or PostgreSQL, not {backend}"
            )
        return cls(parsed, **settings)  # type: ignore[arg-type]

    @property
    def backend(self) -> str:
        return self.url.get_backend_name()

    @property
    def is_postgres(self) -> bool:
        return self.backend == "postgresql"

    @property
    def file(self) -> Path | None:
        """The DuckDB file; None for PostgreSQL and an in-memory DuckDB."""
        database = self.url.database
        if self.backend != "duckdb" or database in (None, "", ":memory:"):
            return None
        return Path(database)

    @property
    def relative_file(self) -> bool:
        """A DuckDB file named relative to the working folder (a worker's is temporary)."""
        return self.file is not None and not self.file.is_absolute()

    @property
    def has_password(self) -> bool:
        return self.url.password is not None

    @property
    def description(self) -> str:
        if self.backend == "duckdb":
            return f"DuckDB file {self.url.database or ':memory:'}"
        host = f"{self.url.host or 'localhost'}:{self.url.port or 5432}"
        return f"{self.backend} at {host}/{self.url.database}"

    @property
    def url_text(self) -> str:
        """The URL with its password, for a child process or a Prefect parameter's stand-in."""
        return self.url.render_as_string(hide_password=False)

    def on_file(self, path: Path) -> Warehouse:
        """The same settings, on another DuckDB file (a history load's private copy)."""
        return replace(self, url=make_url(f"duckdb:///{path}"))

    def engine(self, application_name: str | None = None) -> Engine:
        if self.is_postgres:
            # Fail fast on a dead host: a nightly job should alert, not hang.
            from rxstaff.warehouse.schemas import SEARCH_PATH

            # Every schema rxstaff keeps (warehouse/schemas.py), searched by every session
            # of rxstaff's own; readers' roles search theirs.
            args: dict[str, object] = {
                "connect_timeout": 10,
                "options": f"-c search_path={SEARCH_PATH}",
            }
            if application_name:  # what pg_stat_activity shows of this session
                args["application_name"] = application_name[:63]
            return sa.create_engine(self.url, connect_args=args, pool_pre_ping=True)
        config = {"memory_limit": self.duckdb_memory_limit}
        return sa.create_engine(self.url, connect_args={"config": config})

    def with_retries(self, action: Callable[[], T], attempts: int = 3) -> T:
        """Run a connecting action, retrying transient failures a bounded number of times.

        A refused login or a missing database is not transient: it fails at once. The n-th
        retry waits n x ``retry_pause``.
        """
        for attempt in range(1, attempts + 1):
            try:
                return action()
            except sa.exc.OperationalError as error:
                cause = _cause(error)
                if not _transient(cause) or attempt == attempts:
                    raise WarehouseUnavailable(
                        f"cannot open the warehouse ({self.description}): {cause}"
                    ) from None
                # Seen in the run's log (Prefect forwards the "rxstaff" loggers).
                log.warning(
                    f"cannot reach the warehouse ({self.description}): {cause}; "
                    f"retry {attempt} of {attempts - 1} in {self.retry_pause * attempt:g} s"
                )
                time.sleep(self.retry_pause * attempt)
        raise AssertionError("unreachable")

    def connect(self, engine: Engine) -> sa.Connection:
        """A connection of ``engine`` (retried), with the run's own session settings."""
        conn = self.with_retries(engine.connect)
        for name, value in self.session if self.is_postgres else ():
            conn.execute(
                sa.text("SELECT set_config(:name, :value, false)"), {"name": name, "value": value}
            )
        return conn


log = logging.getLogger("rxstaff.warehouse.connection")


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
