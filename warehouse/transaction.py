"""All or nothing: the one owner of a run's changes to the warehouse.

Everything a run changes happens inside one ``RunTransaction``: the schema upgrade, the
job catalog (grades decide promotions), staging, the models, the views, comments and
grants, and the run's own audit rows. Either all of it is committed, or none of it is.

PostgreSQL and nightly DuckDB runs use one database transaction. A history load into a
DuckDB file (more than ``HISTORY_LOAD_MIN_BYTES`` of new extracts) works on a private
copy of the file instead, commits chunk by chunk there (one transaction would keep
every uncommitted row in memory) and renames the copy over the warehouse at the end.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType

import pandas as pd
import sqlalchemy as sa

from rxstaff.warehouse import build, schemas
from rxstaff.warehouse.access import apply_grants
from rxstaff.warehouse.batches import FileToLoad, record_failed_files
from rxstaff.warehouse.connection import Warehouse
from rxstaff.warehouse.dictionary import apply_comments
from rxstaff.warehouse.fingerprint import Fingerprints
from rxstaff.warehouse.publish import LoadingCopy
from rxstaff.warehouse.published import keep_published
from rxstaff.warehouse.runs import RunRecord, record_run
from rxstaff.warehouse.schema import (
    current_version,
    ensure_indexes,
    ensure_staging_tables,
    latest_version,
    upgrade,
)
from rxstaff.warehouse.settings import check_secret

HISTORY_LOAD_MIN_BYTES = 64 * 1024 * 1024


class LockWaitTimeout(RuntimeError):
    """The run waited too long for a lock held by another session."""


@dataclass(frozen=True)
class Setup:
    """What a run applies before loading: the key check and the reference data."""

    id_secret: str  # in memory only: never a parameter, never stored (its fingerprint is)
    job_catalog: pd.DataFrame
    career_paths: pd.DataFrame
    min_group_size: int
    create_warehouse: bool = True  # False: a database without the schema is refused


class RunTransaction:
    """A run's connection to the warehouse; commits only in ``commit`` (and, on a
    history copy, ``checkpoint``). Leaving the block by an error undoes everything."""

    def __init__(self, warehouse: Warehouse, new_bytes: int) -> None:
        self.warehouse = warehouse
        target = warehouse.file
        on_copy = target is not None and new_bytes > HISTORY_LOAD_MIN_BYTES
        self.copy: LoadingCopy | None = LoadingCopy.start(target) if on_copy and target else None
        self.engine = (warehouse.on_file(self.copy.work) if self.copy else warehouse).engine()
        self._conn: sa.Connection | None = None
        self.fingerprints: Fingerprints | None = None  # from prepare: the build's, reused
        self.committed = False

    @property
    def conn(self) -> sa.Connection:
        if self._conn is None:
            raise RuntimeError("the run transaction is not open")
        return self._conn

    @property
    def history_load(self) -> bool:
        return self.copy is not None

    def __enter__(self) -> RunTransaction:
        try:
            self._conn = self.warehouse.connect(self.engine)
        except BaseException:
            self._discard()
            raise
        return self

    def prepare(self, setup: Setup) -> bool:
        """Schema, key check and reference data, inside the transaction; whether this
        created the warehouse.

        Views are dropped only when a migration or a changed model table needs it (they
        are recreated at commit): otherwise a BI query reading a view would hold the run.
        """
        schemas.ensure_schemas(self.conn)
        schemas.arrange(self.conn)  # a warehouse of 0.6.x: from public, in place
        version = current_version(self.conn)
        if version < latest_version() or build.tables_to_recreate(self.conn):
            build.drop_views(self.conn)
        upgrade(self.conn, create=setup.create_warehouse)
        ensure_staging_tables(self.conn)
        ensure_indexes(self.conn)
        check_secret(self.conn, setup.id_secret)
        build.ensure_tables(self.conn)
        build.load_seed(self.conn, "dim_job", setup.job_catalog)
        build.load_seed(self.conn, "int_career_path", setup.career_paths)
        schemas.arrange(self.conn)  # what was just created, in its audience's schema
        self.fingerprints = Fingerprints(self.conn, setup.min_group_size)
        return version == 0

    def checkpoint(self) -> None:
        """On a history copy, commit what is loaded so far (the copy is still private)."""
        if self.copy is not None:
            self.conn.commit()

    def publish(self, min_group_size: int, run_id: str, rebuilt: bool) -> None:
        """What the commit will show readers: views; the figures published, when the
        models were rebuilt or a view changed; descriptions and grants. Call it once
        nothing the marts read will be written before the commit."""
        replaced = build.refresh_views(self.conn, min_group_size)
        schemas.arrange(self.conn)
        if rebuilt or replaced:
            prints = self.fingerprints or Fingerprints(self.conn, min_group_size)
            prints.forget_given()  # the model tables' are the build's; the rest read again
            keep_published(self.conn, run_id, prints)
        apply_comments(self.conn)
        apply_grants(self.conn)

    def commit(self) -> None:
        """Commit; a history copy replaces the file."""
        self.conn.commit()
        self.committed = True
        if self.copy is not None:
            self._close()  # DuckDB: the file must be closed before it can be renamed
            self.copy.publish()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._conn is not None and not self.committed:
            self._conn.rollback()
        self._discard()
        if isinstance(error, sa.exc.OperationalError) and "lock timeout" in str(error.orig):
            raise LockWaitTimeout(
                f"waited more than {self.warehouse.lock_timeout} s for a lock; "
                f"{holders(self.warehouse)}"
            ) from None

    def _close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        self.engine.dispose()

    def _discard(self) -> None:
        self._close()
        if self.copy is not None and not self.committed:
            self.copy.abandon()


def record_after_failure(
    warehouse: Warehouse, attempted: Sequence[FileToLoad], run: RunRecord
) -> None:
    """After a rollback, in the warehouse as it was: the files marked failed (the next run
    retries them) and the run. Only the schema is brought up to date, so that the audit
    tables exist; nothing the run attempted is applied.
    """
    engine = warehouse.engine()
    try:
        with engine.begin() as conn:
            schemas.ensure_schemas(conn)
            schemas.arrange(conn)
            upgrade(conn)
            schemas.arrange(conn)
            record_failed_files(conn, attempted, run.run_id, run.started_at, run.error or "")
            record_run(conn, run)
    finally:
        engine.dispose()


def holders(warehouse: Warehouse) -> str:
    """The other sessions of the warehouse's database, for a lock-wait message."""
    engine = warehouse.engine()
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "SELECT pid, usename, application_name, state, "
                    "CAST(EXTRACT(EPOCH FROM now() - xact_start) AS INTEGER) AS seconds "
                    "FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid() AND xact_start IS NOT NULL"
                )
            ).all()
    except sa.exc.SQLAlchemyError as error:
        return f"the sessions holding it could not be listed ({type(error).__name__})"
    finally:
        engine.dispose()
    if not rows:
        return "the session holding it has ended"
    found = [
        f"pid {r.pid} ({r.usename}, {r.application_name or 'no application name'}, "
        f"{r.state}, in a transaction for {r.seconds} s)"
        for r in rows
    ]
    return "sessions holding transactions open: " + "; ".join(found)
